"""The LA's monthly NCCIS return (XML and CSV), laid out as the NCCIS MIR and LA suppliers' files do.

Element names and nesting follow docs/domain-rules.md section 3 (and the suppliers' 2019-20 files): a
`<!DOCTYPE NCCIS2019>` line before the `NCCIS` root, a FileHeader with the LA's numeric DatabaseID,
one YoungPersonsRecord per young person with PersonalDetails, SeptemberGuarantee, LevelOfNeed,
Activities/Cohort and IntendedDestination; dates YYYY-MM-DD, flags Y/N, empty optional elements
written empty. The state is as at PeriodEnd (services/la_tracker/activity_history.py). Onward does
not collect September Guarantee offers: the node is written empty and GuaranteeStatusIndicator is N.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import schemas
from services.la_tracker import nccis_ids
from services.la_tracker.activity_history import Activity, Placement

XSD = Path(schemas.__file__).with_name("nccis.xsd")
SUPPLIER, VERSION, SCHEMA_VERSION = "Onward", "1.0", "2019"
DOCTYPE = "<!DOCTYPE NCCIS2019>"


@dataclass(frozen=True)
class Record:
    """One young person's line of the return (flattened for CSV; nested for XML)."""

    fields: dict[str, str]
    characteristics: list[str]
    person_key: str = ""


def _d(value) -> str:
    return value.isoformat() if isinstance(value, date) else (value or "")


def _flag(value: bool) -> str:
    return "Y" if value else "N"


def _personal(person, placement: Placement, database: str, previous_ypid: str) -> dict[str, str]:
    d, f = person["details"], person["facts"]
    address = [*(d.get("address_lines") or [])[:4], "", "", "", ""]
    school_la = d["school_laestab"][:3]
    return {
        "YoungPersonsID": nccis_ids.ypid(database, person["ypid"]), "CohortStatus": placement.status,
        "GivenName": d["given_name"], "MiddleName": "", "FamilyName": d["family_name"],
        "AddressLine1": address[0], "AddressLine2": address[1], "AddressLine3": address[2],
        "AddressLine4": address[3], "Town": "", "County": "", "Postcode": d["home_postcode"],
        "Gender": d.get("gender") or "", "DOB": d["date_of_birth"], "Ethnicity": d.get("ethnicity") or "",
        "LeadLEA": person["lead_la"], "EducatedLEA": school_la, "TransferredToLACode": placement.transferred_to,
        "LEACodeAtYear11": school_la if f.get("nc_year") == 11 else "", "UniqueLearnerNo": d.get("uln") or "",
        "UniquePupilNumber": d["upn"], "GuaranteeStatusIndicator": "N", "PreviousYPIDIdentifier": previous_ypid,
    }


def _activity(a: Activity) -> dict[str, str]:
    return {
        "ActivityCode": a.code, "StartDate": _d(a.start), "DateAscertained": _d(a.ascertained),
        "DateVerified": _d(a.verified), "ReviewDate": _d(a.review), "DueToLapseDate": _d(a.lapse),
        "CurrencyLapsed": _flag(a.lapsed), "EstablishmentNumber": "", "EstablishmentName": "",
        "UKProviderReferenceNumber": "", "NEETStartDate": _d(a.neet_start), "PredictedEndDate": _d(a.predicted_end),
    }


def record(person, activity: Activity, placement: Placement, *, database: str, level_of_need: int,
           previous_ypid: str = "") -> Record:
    """One young person's record. `person` is a young_people row plus `lead_la` (the LA as at PeriodEnd)."""
    f = person["facts"]
    need = {"LevelOfNeedCode": str(person.get("level_of_need") or level_of_need), "SENDFlag": _flag(f["ehcp"]),
            "SENSupportFlag": _flag(f["sen_support"])}
    fields = {**_personal(person, placement, database, previous_ypid), **need, **_activity(activity),
              "GuaranteeStatusY11": "", "GuaranteeLEACodeY11": "", "GuaranteeStatusY12": "",
              "GuaranteeLEACodeY12": "", "IntendedDestinationYr11": ""}
    return Record(fields, sorted(set(f["characteristics"])), person["person_key"])


PERSONAL = ("YoungPersonsID", "CohortStatus", "GivenName", "MiddleName", "FamilyName", "AddressLine1", "AddressLine2",
            "AddressLine3", "AddressLine4", "Town", "County", "Postcode", "Gender", "DOB", "Ethnicity", "LeadLEA",
            "EducatedLEA", "TransferredToLACode", "LEACodeAtYear11", "UniqueLearnerNo", "UniquePupilNumber",
            "GuaranteeStatusIndicator", "PreviousYPIDIdentifier")
ACTIVITY = ("ActivityCode", "StartDate", "DateAscertained", "DateVerified", "ReviewDate", "DueToLapseDate",
            "CurrencyLapsed", "EstablishmentNumber", "EstablishmentName", "UKProviderReferenceNumber",
            "NEETStartDate", "PredictedEndDate")
_GUARANTEE = (("Year11", "GuaranteeStatusY11", "GuaranteeLEACodeY11"),
              ("Year12", "GuaranteeStatusY12", "GuaranteeLEACodeY12"))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def _el(name: str, text: str = "") -> str:
    return f"<{name}>{escape(_NOT_XML.sub('', text))}</{name}>" if text else f"<{name}/>"


def _group(name: str, children: list[str]) -> str:
    return f"<{name}>{''.join(children)}</{name}>"


def _header(database: str, la: str, period_end: date, sent: date) -> str:
    return _group("FileHeader", [
        _group("Databases", [_el("DatabaseID", database)]), _group("SourceLEAs", [_el("LEACode", la)]),
        _el("DateOfSend", sent.isoformat()), _el("PeriodEnd", period_end.isoformat()), _el("SupplierName", SUPPLIER),
        _el("SupplierXMLVersion", VERSION), _el("XMLSchemaVersion", SCHEMA_VERSION)])


def _young_person(r: Record) -> str:
    f = r.fields
    guarantee = [_group(year, [_el("GuaranteeStatus", f[status]), _el("LEACode", f[la])])
                 for year, status, la in _GUARANTEE]
    need = [_el(name, f[name]) for name in ("LevelOfNeedCode", "SENDFlag", "SENSupportFlag")]
    need.append(_group("Characteristics", [_el("CharacteristicCode", code) for code in r.characteristics]))
    return _group("YoungPersonsRecord", [
        _group("PersonalDetails", [_el(name, f[name]) for name in PERSONAL]),
        _group("SeptemberGuarantee", guarantee), _group("LevelOfNeed", need),
        _group("Activities", [_group("Cohort", [_el(name, f[name]) for name in ACTIVITY])]),
        _group("IntendedDestination", [_el("IntendedDestinationYr11", f["IntendedDestinationYr11"])])])


def to_xml(records: list[Record], *, database: str, la: str, period_end: date, sent: date) -> bytes:
    """The return as suppliers' files lay it out, DOCTYPE line included (written directly: 10,000 young
    people take a fraction of a second, a tree and its serialiser several seconds)."""
    body = "\n".join(_young_person(r) for r in records)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{DOCTYPE}\n<NCCIS>{_header(database, la, period_end, sent)}\n'
            f"{body}\n</NCCIS>\n").encode()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with a quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


CSV_COLUMNS = (*PERSONAL, "LevelOfNeedCode", "SENDFlag", "SENSupportFlag", "CharacteristicCodes", *ACTIVITY)


def to_csv(records: list[Record]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        row = {**r.fields, "CharacteristicCodes": ";".join(r.characteristics)}
        writer.writerow({k: formula_safe(v) for k, v in row.items()})
    return out.getvalue()
