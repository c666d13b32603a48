"""JSON logs on stderr. Callers log ids and counts only: never a name, DOB, UPN, ULN, contact or postcode."""
from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from onward import telemetry

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        trace_id = telemetry.trace_id()
        if trace_id:
            doc["trace_id"] = trace_id
        doc.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info and record.exc_info[1] is not None:
            doc["exc"] = _exception(record.exc_info[1])
        return json.dumps(doc, default=str)


def _exception(exc: BaseException) -> dict:
    """Type and frames only: an exception's message can quote a row's values (personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    out = {"type": type(exc).__name__,
           "at": [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-8:]]}
    if isinstance(exc, BaseExceptionGroup):
        out["causes"] = [_exception(e) for e in exc.exceptions[:5]]
    elif exc.__cause__ is not None or exc.__context__ is not None:
        out["cause"] = type(exc.__cause__ or exc.__context__).__name__
    return out


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs carry URL paths only (ids, never personal data); keep them at warning to cut noise.
    for noisy in ("uvicorn.access", "aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
