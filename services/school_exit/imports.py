"""File import: what the two readers (leaver_csv, ctf) share (queries.read_file chooses the reader).

Parsing only; validation is intake.validate, the same as for JSON. Each row keeps the names its file
uses (CSV columns, CTF elements), so a problem is reported in the words of the file, not the API's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (wrong format, bad encoding, unsafe XML, missing columns)."""


@dataclass
class Row:
    """One leaver as read from a file: `number` counts data rows (CSV) or pupils (CTF) from 1; `line` is the
    file's own line number (CSV: line 1 is the header). `names` maps API fields to the file's names."""

    number: int
    leaver: dict
    problems: list[dict] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = "column"  # what the file calls a name: a CSV "column" or a CTF "element"

    def problem(self, name: str, message: str) -> None:
        self.problems.append({self.kind: name, "message": message})

    def in_file_terms(self, api_problems: list[dict]) -> list[dict]:
        """Validation problems (named by API field) renamed to the file's column or element."""
        out = list(self.problems)
        named = {p[self.kind] for p in out}  # a value already reported is not reported again as missing
        for p in api_problems:
            name = self.names.get(p["field"]) or self.names.get(p["field"].split(".")[0]) or p["field"]
            if name not in named:
                out.append({self.kind: name, "field": p["field"], "message": f"{name}: {p['message']}"})
        return out


def parse_date(text: str | None) -> date | None:
    """ISO `YYYY-MM-DD` or UK `DD/MM/YYYY` (as MIS exports and spreadsheets write it); ValueError otherwise."""
    if text is None or not text.strip():
        return None
    t = text.strip()
    try:
        if len(t) == 10 and t[4] == "-" and t[7] == "-":
            return date.fromisoformat(t)
        day, month, year = t.split("/")
        if len(year) == 4 and year.isascii() and (day + month).isascii():
            return date(int(year), int(month), int(day))
    except ValueError:
        pass
    raise ValueError("is not a date: write it as YYYY-MM-DD or DD/MM/YYYY")


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark (Excel and several MIS write one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text") from None


def is_xml(data: bytes) -> bool:
    """A CTF starts with `<` once a byte-order mark and white space are set aside."""
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"
