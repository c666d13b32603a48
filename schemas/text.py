"""Free text from outside (names, addresses, notes, query parameters): no control characters.

NUL and the other C0 control characters (U+0000-U+001F) and DEL are refused wherever they appear, as a
422 naming the field: they break CSV and XML exports, PostgreSQL refuses NUL in text (and would log
the statement quoting it), and they can forge log lines. Notes may keep tab and newline."""
from __future__ import annotations

from pydantic import BaseModel, ValidationInfo, field_validator

# Fields the pages show as text areas (a note, the handoff's words): they may keep tab and newlines.
MULTILINE_FIELDS = frozenset({"note", "text", "wants", "access_needs", "contact_notes"})
_CONTROL = frozenset(chr(c) for c in range(0x20)) | {"\x7f"}
_NOTE_ALLOWED = frozenset("\t\n\r")
MESSAGE = "contains a control character (such as NUL); remove it"


def has_control_character(value: str, *, multiline: bool = False) -> bool:
    """True when `value` holds a C0 control character or DEL (a note may hold tab and newlines)."""
    bad = _CONTROL - _NOTE_ALLOWED if multiline else _CONTROL
    return not bad.isdisjoint(value)


def check_plain_text(value, *, multiline: bool = False):
    """A validator for any body field: a string, or a list of strings, with no control characters (nested
    bodies check their own fields, so that the error names the nested field)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, str) and has_control_character(item, multiline=multiline):
            raise ValueError(MESSAGE)
    return value


class PlainTextBody(BaseModel):
    """Base of every HTTP body: each text field (names, addresses, codes, notes, nested parts) is checked
    for control characters and refused by name; MULTILINE_FIELDS may keep tab and newlines."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value, info: ValidationInfo):
        return check_plain_text(value, multiline=info.field_name in MULTILINE_FIELDS)
