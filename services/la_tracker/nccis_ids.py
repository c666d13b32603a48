"""Each LA's NCCIS DatabaseID (issued by the DfE, 3 digits) and the YoungPersonsIDs built on it.

Setting `ONWARD_NCCIS_DATABASE_IDS`, e.g. `831:123,873:456`. In production every LA that sends a
return must be listed, and la_tracker refuses to start without the setting; in development and test
an LA without an entry uses its own DfE code as a test DatabaseID. A YoungPersonsID is 13 digits:
the DatabaseID followed by the young person's 10-digit local number (stable per person), so every
YPID starts with the file's DatabaseID (NCCIS error 903).
"""
from __future__ import annotations

import re

YPID_BASE = 1_000_000_000_000  # young_people.ypid starts here (migration 002); the local number is the offset
_ENTRY = re.compile(r"^([0-9]{3}):([0-9]{3})$")


class MissingDatabaseIds(RuntimeError):
    """Production without ONWARD_NCCIS_DATABASE_IDS: the return would carry no valid DatabaseID."""


def parse(value: str) -> dict[str, str]:
    """`831:123,873:456` -> {"831": "123", "873": "456"}; a malformed entry is an error naming it."""
    ids: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in value.split(","))):
        match = _ENTRY.match(entry)
        if not match:
            raise ValueError(f"ONWARD_NCCIS_DATABASE_IDS: {entry!r} is not LA:DatabaseID (3 digits each)")
        ids[match.group(1)] = match.group(2)
    return ids


def configured(env: str, value: str) -> dict[str, str]:
    """The configured ids; refuses production without any (call at start-up)."""
    ids = parse(value)
    if env == "production" and not ids:
        raise MissingDatabaseIds("ONWARD_NCCIS_DATABASE_IDS must be set in production (e.g. 831:123,873:456)")
    return ids


def database_id(ids: dict[str, str], la: str, env: str) -> str:
    """The LA's DatabaseID; outside production an unlisted LA uses its DfE code as a test id."""
    if la in ids:
        return ids[la]
    if env == "production":
        raise MissingDatabaseIds(f"no NCCIS DatabaseID configured for LA {la}")
    return la


def ypid(database: str, local_ypid: int) -> str:
    """DatabaseID + the 10-digit local number."""
    return f"{database}{local_ypid - YPID_BASE:010d}"
