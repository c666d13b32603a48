"""The leaver CSV: the LA leaver-template columns (docs/contracts.md) plus optional address, gender, ethnicity,
SEN and care columns. Headers match whatever their case, spacing or underscores; dates are YYYY-MM-DD or
DD/MM/YYYY; a byte-order mark is fine. Each row reports every problem it has, by column and file line.
"""
from __future__ import annotations

import csv
import io
import re

from services.school_exit.imports import Row, UnreadableFile, decode_text, parse_date

# Column -> what it is, in the order of the downloadable template. The first seven must be present.
COLUMNS: dict[str, str] = {
    "UPN": "Unique pupil number (13 characters)",
    "Forename": "Given name",
    "Surname": "Family name",
    "DOB": "Date of birth",
    "Postcode": "Home postcode",
    "LeavingDate": "Date they left",
    "NCYear": "National curriculum year (7 to 14)",
    "ULN": "Unique learner number (optional)",
    "DestinationCode": "NCCIS activity code of their destination (optional)",
    "DestinationStatus": "confirmed or intended (optional; intended when a code is given without it)",
    "DestinationUKPRN": "UKPRN of the college, university or training provider (optional)",
    "ConsentNCS": "Y when they agreed to be referred to the National Careers Service",
    "ObjectsToSharing": "Y when they object to sharing more than name, address and date of birth",
    "AddressLine1": "Address (optional)", "AddressLine2": "", "AddressLine3": "", "Town": "",
    "Email": "Their email address (optional)", "Phone": "Their phone number (optional)",
    "Gender": "F, M, U (unknown) or W (withheld) (optional)",
    "Ethnicity": "DfE ethnicity code, e.g. WBRI (optional)",
    "EHCPlan": "Y when they have an education, health and care plan",
    "SENSupport": "Y when they have SEN support (not with an EHC plan)",
    "LookedAfter": "Y when they are looked after by an LA", "CareLeaver": "Y when they are a care leaver",
}
REQUIRED = ("UPN", "Forename", "Surname", "DOB", "Postcode", "LeavingDate", "NCYear")
ALIASES = {"givenname": "Forename", "firstname": "Forename", "familyname": "Surname", "lastname": "Surname",
           "dateofbirth": "DOB", "homepostcode": "Postcode", "yeargroup": "NCYear", "ehcp": "EHCPlan",
           "incare": "LookedAfter", "address1": "AddressLine1", "address2": "AddressLine2",
           "address3": "AddressLine3"}
# API field -> column, so that validation problems name the column.
FIELD_COLUMNS = {"upn": "UPN", "uln": "ULN", "given_name": "Forename", "family_name": "Surname",
                 "date_of_birth": "DOB", "home_postcode": "Postcode", "address_lines": "AddressLine1",
                 "school_laestab": "your school's LAESTAB", "nc_year": "NCYear", "leaving_date": "LeavingDate",
                 "destination": "DestinationCode", "destination.activity_code": "DestinationCode",
                 "destination.status": "DestinationStatus", "destination.provider_ukprn": "DestinationUKPRN",
                 "send": "EHCPlan", "email": "Email", "phone": "Phone", "gender": "Gender", "ethnicity": "Ethnicity",
                 "consent.share_with_ncs": "ConsentNCS", "consent.objects_to_sharing": "ObjectsToSharing"}
_YES, _NO = {"y", "yes", "true", "1"}, {"n", "no", "false", "0", ""}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


_CANONICAL = {_key(c): c for c in COLUMNS} | ALIASES


def template() -> str:
    """The downloadable template: the header row only, so nobody uploads an example pupil by mistake."""
    return ",".join(COLUMNS) + "\r\n"


def _columns(header: list[str]) -> dict[str, int]:
    """Canonical column -> its index; refuses a file that lacks a required column."""
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        name = _CANONICAL.get(_key(h))
        if name and name not in found:
            found[name] = i
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise UnreadableFile("the CSV has no column " + ", ".join(missing) + " (line 1 must be the header row;"
                             " download the template to see every column)")
    return found


def parse(data: bytes, laestab: str) -> list[Row]:
    """One Row per data row; `laestab` is the uploading school's."""
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    header = next(reader, None)
    if not header:
        raise UnreadableFile("the file is empty")
    cols = _columns(header)
    written = {c: header[i].strip() for c, i in cols.items()}  # as the file spells them
    names = {f: written.get(c, c) for f, c in FIELD_COLUMNS.items()} | written
    rows: list[Row] = []
    line = reader.line_num + 1
    for record in reader:
        if any(v.strip() for v in record):
            values = {c: (record[i].strip() if i < len(record) else "") for c, i in cols.items()}
            row = Row(number=len(rows) + 1, leaver={}, names=names, line=line)
            row.leaver = _leaver(values, laestab, row)
            rows.append(row)
        line = reader.line_num + 1
    return rows


def _flag(values: dict, column: str, row: Row) -> bool:
    text = values.get(column, "").lower()
    if text in _YES or text in _NO:
        return text in _YES
    name = row.names.get(column, column)
    row.problem(name, f"{name} must be Y or N, not {values[column]!r}")
    return False


def _date(values: dict, column: str, row: Row) -> str | None:
    try:
        d = parse_date(values.get(column))
    except ValueError as exc:
        name = row.names.get(column, column)
        row.problem(name, f"{name} {exc}")
        return None
    return d.isoformat() if d else None


def _leaver(v: dict, laestab: str, row: Row) -> dict:
    code, status = v.get("DestinationCode", ""), v.get("DestinationStatus", "").lower()
    flags = {c: _flag(v, c, row) for c in ("ConsentNCS", "ObjectsToSharing", "EHCPlan", "SENSupport",
                                           "LookedAfter", "CareLeaver")}
    dates = {c: _date(v, c, row) for c in ("DOB", "LeavingDate")}
    leaver = {
        "upn": v["UPN"].upper(), "uln": v.get("ULN") or None, "given_name": v["Forename"],
        "family_name": v["Surname"], "date_of_birth": dates["DOB"], "home_postcode": v["Postcode"],
        "address_lines": [v[c] for c in ("AddressLine1", "AddressLine2", "AddressLine3", "Town") if v.get(c)],
        "email": v.get("Email") or None, "phone": v.get("Phone") or None,
        "school_laestab": laestab, "nc_year": v["NCYear"] or None, "leaving_date": dates["LeavingDate"],
        "destination": {"activity_code": code, "status": status or "intended",
                        "provider_ukprn": v.get("DestinationUKPRN") or None} if code or status else None,
        "send": {"ehcp": flags["EHCPlan"], "sen_support": flags["SENSupport"]},
        "characteristics": [c for c, col in (("110", "LookedAfter"), ("160", "CareLeaver")) if flags[col]],
        "consent": {"share_with_ncs": flags["ConsentNCS"], "objects_to_sharing": flags["ObjectsToSharing"]},
        "gender": v.get("Gender", "").upper() or None, "ethnicity": v.get("Ethnicity", "").upper() or None,
    }
    return leaver
