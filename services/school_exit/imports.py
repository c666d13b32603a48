"""File import: the LA leaver-template CSV and the DfE Common Transfer File (CTF) XML, to leaver dicts.

Parsing only; validation is intake.validate, the same as for JSON. XML goes through defusedxml with
DTDs forbidden, so external entities and entity-expansion bombs are refused before any expansion.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

CSV_COLUMNS = ("UPN", "ULN", "Forename", "Surname", "DOB", "Postcode", "LeavingDate", "NCYear", "DestinationCode",
               "DestinationStatus", "ConsentNCS")
_YES, _NO = {"y", "yes", "true", "1"}, {"n", "no", "false", "0", ""}


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (wrong format, bad encoding, unsafe XML)."""


def _date(text: str | None) -> str | None:
    """ISO dates as they are; UK DD/MM/YYYY (common in MIS exports) converted to ISO."""
    if text is None or not text.strip():
        return None
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(t, fmt).date().isoformat()
        except ValueError:
            pass
    return t  # left as written: validation names the field


def _flag(text: str | None, field: str) -> bool | str:
    t = (text or "").strip().lower()
    if t in _YES:
        return True
    if t in _NO:
        return False
    return f"not a yes/no value for {field}"


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text") from None


def parse_csv(data: bytes, laestab: str) -> list[dict | str]:
    """One dict per data row (or a problem string); `laestab` is the uploading school's."""
    reader = csv.DictReader(io.StringIO(decode_text(data)))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UnreadableFile("CSV is missing columns: " + ", ".join(missing))
    rows: list[dict | str] = []
    for rec in reader:
        consent = _flag(rec["ConsentNCS"], "ConsentNCS")
        if isinstance(consent, str):
            rows.append(consent)
            continue
        code = (rec["DestinationCode"] or "").strip()
        rows.append({
            "upn": rec["UPN"], "uln": rec["ULN"] or None, "given_name": rec["Forename"], "family_name": rec["Surname"],
            "date_of_birth": _date(rec["DOB"]), "home_postcode": rec["Postcode"], "school_laestab": laestab,
            "nc_year": (rec["NCYear"] or "").strip() or None, "leaving_date": _date(rec["LeavingDate"]),
            "destination": {"activity_code": code, "status": (rec["DestinationStatus"] or "").strip().lower()}
            if code else None,
            "consent": {"share_with_ncs": consent},
        })
    return rows


def _text(el: Element | None, path: str) -> str | None:
    found = el.find(path) if el is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _address(pupil: Element) -> tuple[list[str], str | None]:
    addr = pupil.find("Address")
    if addr is None:
        return [], None
    lines = [t.text.strip() for t in addr.findall("AddressLines/AddressLine") if t.text and t.text.strip()]
    if not lines:
        bs = addr.find("BS7666Address")
        parts = [_text(bs, p) for p in ("SAON", "PAON", "Street", "Locality", "Town", "AdministrativeArea")]
        lines = [p for p in parts if p]
    return lines[:6], _text(addr, "PostCode")


def _send(pupil: Element) -> dict:
    # CTF SEN provision codes: E = EHC plan, K = SEN support, N = no special provision.
    provisions = [_text(s, "SENprovision") for s in pupil.findall("SENhistory/SEN")]
    latest = provisions[-1] if provisions else None
    return {"ehcp": latest == "E", "sen_support": latest == "K"}


def parse_ctf(data: bytes, laestab: str, leaving_date: date | None) -> list[dict | str]:
    """Pupils of a CTF (`CTfile/Header`, `CTfile/CTFpupilData/Pupil`) as leaver dicts."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UnreadableFile("XML with a DTD or entities is refused (external-entity and expansion attacks)") from None
    except Exception:
        raise UnreadableFile("the file is not well-formed XML") from None
    if root.tag != "CTfile" or root.find("Header") is None:
        raise UnreadableFile("not a Common Transfer File: expected CTfile with a Header")
    rows: list[dict | str] = []
    for pupil in root.findall("CTFpupilData/Pupil"):
        lines, postcode = _address(pupil)
        leaving = _date(_text(pupil, "SchoolHistory/School/LeavingDate")) or (
            leaving_date.isoformat() if leaving_date else None)
        looked_after = (_text(pupil, "LookedAfter/InCare") or "").lower() == "true"
        rows.append({
            "upn": _text(pupil, "UPN"), "uln": _text(pupil, "UniqueLearnerNumber"),
            "given_name": _text(pupil, "Forename"), "family_name": _text(pupil, "Surname"),
            "date_of_birth": _date(_text(pupil, "DOB")), "home_postcode": postcode, "address_lines": lines,
            "school_laestab": laestab, "nc_year": _text(pupil, "NCyearActual"), "leaving_date": leaving,
            "send": _send(pupil), "characteristics": ["110"] if looked_after else [],
        })
    return rows
