"""The LA's monthly NCCIS return (XML and CSV) from la_tracker's records, per docs/domain-rules.md section 3."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from schemas import nccis
from services.la_tracker import domain
from services.la_tracker.handlers import DEFAULT_CURRENCY_DAYS

XSD = Path(__file__).with_name("nccis.xsd")
SUPPLIER, VERSION = "Onward", "1.0"


@dataclass(frozen=True)
class Record:
    """One young person's line of the return (flattened for CSV; nested for XML)."""

    fields: dict[str, str]
    characteristics: list[str]


def _d(value) -> str:
    return value.isoformat() if isinstance(value, date) else (value or "")


def record(person, period_end: date) -> Record:
    d, f = person["details"], person["facts"]
    code = person["activity_code"] or "810"
    ascertained = person["activity_ascertained"] or person["updated_at"].date()
    lapse = domain.due_to_lapse(ascertained, code, DEFAULT_CURRENCY_DAYS)
    address = (d.get("address_lines") or []) + [""] * 4
    return Record({
        "YoungPersonsID": f"{person['ypid']:013d}", "CohortStatus": "C", "GivenName": d["given_name"],
        "MiddleName": "", "FamilyName": d["family_name"], "AddressLine1": address[0], "AddressLine2": address[1],
        "AddressLine3": address[2], "AddressLine4": address[3], "Town": "", "County": "",
        "Postcode": d["home_postcode"], "Gender": "", "DOB": d["date_of_birth"], "Ethnicity": "",
        "LeadLEA": person["responsible_la"], "EducatedLEA": d["school_laestab"][:3], "TransferredToLACode": "",
        "LEACodeAtYear11": "", "UniqueLearnerNo": d.get("uln") or "", "UniquePupilNumber": d["upn"],
        "GuaranteeStatusIndicator": "", "PreviousYPIDIdentifier": "",
        "LevelOfNeedCode": "", "SENDFlag": "Y" if f["ehcp"] else "N", "SENSupportFlag": "Y" if f["sen_support"] else "N",
        "ActivityCode": code, "StartDate": _d(person["activity_start"]), "DateAscertained": _d(ascertained),
        "DateVerified": _d(ascertained) if person["activity_status"] == "confirmed" else "",
        "ReviewDate": _d(person["activity_review"]), "DueToLapseDate": _d(lapse),
        "CurrencyLapsed": "Y" if lapse < period_end else "N",
        "EstablishmentNumber": "", "EstablishmentName": "", "UKProviderReferenceNumber": "",
        "NEETStartDate": _d(person["activity_start"] or ascertained) if nccis.is_neet(code) else "",
        "PredictedEndDate": "", "IntendedDestinationYr11": "",
    }, sorted(f["characteristics"]))


def in_return(person, period_end: date) -> bool:
    return domain.in_nccis_cohort(date.fromisoformat(person["details"]["date_of_birth"]), person["facts"]["ehcp"],
                                  period_end)


_PERSONAL = ("YoungPersonsID", "CohortStatus", "GivenName", "MiddleName", "FamilyName", "AddressLine1", "AddressLine2",
             "AddressLine3", "AddressLine4", "Town", "County", "Postcode", "Gender", "DOB", "Ethnicity", "LeadLEA",
             "EducatedLEA", "TransferredToLACode", "LEACodeAtYear11", "UniqueLearnerNo", "UniquePupilNumber",
             "GuaranteeStatusIndicator", "PreviousYPIDIdentifier")
_ACTIVITY = ("ActivityCode", "StartDate", "DateAscertained", "DateVerified", "ReviewDate", "DueToLapseDate",
             "CurrencyLapsed", "EstablishmentNumber", "EstablishmentName", "UKProviderReferenceNumber",
             "NEETStartDate", "PredictedEndDate")


def _add(parent: ET.Element, name: str, text: str = "") -> ET.Element:
    el = ET.SubElement(parent, name)
    el.text = text
    return el


def to_xml(records: list[Record], la: str, period_end: date, sent: date) -> bytes:
    root = ET.Element("NCCIS")
    head = _add(root, "FileHeader")
    _add(_add(head, "Databases"), "DatabaseID", f"ONWARD-{la}")
    _add(_add(head, "SourceLEAs"), "LEACode", la)
    for name, value in (("DateOfSend", sent.isoformat()), ("PeriodEnd", period_end.isoformat()),
                        ("SupplierName", SUPPLIER), ("SupplierXMLVersion", VERSION), ("XMLSchemaVersion", VERSION)):
        _add(head, name, value)
    for r in records:
        yp = _add(root, "YoungPersonsRecord")
        personal = _add(yp, "PersonalDetails")
        for name in _PERSONAL:
            _add(personal, name, r.fields[name])
        need = _add(yp, "LevelOfNeed")
        for name in ("LevelOfNeedCode", "SENDFlag", "SENSupportFlag"):
            _add(need, name, r.fields[name])
        chars = _add(need, "Characteristics")
        for code in r.characteristics:
            _add(chars, "CharacteristicCode", code)
        cohort = _add(_add(yp, "Activities"), "Cohort")
        for name in _ACTIVITY:
            _add(cohort, name, r.fields[name])
        _add(_add(yp, "IntendedDestination"), "IntendedDestinationYr11", r.fields["IntendedDestinationYr11"])
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_csv(records: list[Record]) -> str:
    out = io.StringIO()
    columns = (*_PERSONAL, "LevelOfNeedCode", "SENDFlag", "SENSupportFlag", "CharacteristicCodes", *_ACTIVITY)
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow({**r.fields, "CharacteristicCodes": ";".join(r.characteristics)})
    return out.getvalue()
