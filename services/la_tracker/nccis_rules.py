"""The NCCIS error rules, run over a return file before it is sent ("check before you send").

Written from the DfE's NCCIS Management Information Requirement 2019-20, appendix D (error report
definitions, file validation and rejection errors), as LA suppliers' validators apply them: each
rule has the MIR's number and priority. Priority 1 errors are counted in the DfE's monthly error
reports; priority 2 are data-quality errors; 908 (suspected duplicate) is priority 3. File errors
reject the whole file (a CohortStatus outside the recognised values, 904, is one). Runs over the
XML itself, so it checks what would be sent. Pure: standard library and the vocabulary only.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from schemas import nccis
from services.la_tracker import currency, domain

COHORT_STATUSES = frozenset("ATMGDELP")
ETHNICITIES = frozenset("WBRI WIRI WROM WOTH MWBC MWBA MWAS MOTH AIND APKN ABAN CHNE AOTH BCRB BAFR BOTH OARA OOTH "
                        "REFU NOBT".split())
SPECIAL_LA = frozenset({"000", "001", "002", "003", "004"})  # MIR appendix B: outside England, unknown, ...
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
_ULN = re.compile(r"^[1-9][0-9]{9}$")
_DIGITS = re.compile(r"^[0-9]+$")
NEET_CODES = frozenset(c for c in nccis.ACTIVITY_CODES if nccis.is_neet(c))
REVIEW_NEEDED = frozenset({"260", "290", "350", "616", "710"})
_SUPPORTING = {"620": "140", "630": "120", "650": "180"}


@dataclass(frozen=True)
class Breach:
    rule: int
    priority: int          # 1, 2 or 3; 0 = the file is rejected
    message: str
    ypid: str = ""


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _before(a: str, b: str) -> bool:
    """Both dates present and a < b."""
    da, db = _date(a), _date(b)
    return da is not None and db is not None and da < db


def _age(r: dict, period_end: date) -> int | None:
    born = _date(r["DOB"])
    return domain.academic_age_on(born, period_end) if born else None


def _la(code: str, las: frozenset[str]) -> bool:
    return code in las or code in SPECIAL_LA


# (rule, priority, description, breached(record, context)). Descriptions follow the MIR's wording.
RULES = [
    (1, 1, "YoungPersonsID not 13 digits", lambda r, c: not (len(r["YoungPersonsID"]) == 13 and _DIGITS.match(r["YoungPersonsID"]))),
    (903, 1, "YoungPersonsID does not start with the DatabaseID", lambda r, c: not r["YoungPersonsID"].startswith(c["database"])),
    (2, 1, "GivenName has no value", lambda r, c: not r["GivenName"]),
    (3, 1, "FamilyName has no value", lambda r, c: not r["FamilyName"]),
    (4, 2, "Gender has no value", lambda r, c: not r["Gender"]),
    (5, 2, "Gender not F, M, U or W", lambda r, c: bool(r["Gender"]) and r["Gender"] not in ("F", "M", "U", "W")),
    (6, 2, "Ethnicity has no value", lambda r, c: not r["Ethnicity"]),
    (7, 2, "Ethnicity not a DfE code", lambda r, c: bool(r["Ethnicity"]) and r["Ethnicity"] not in ETHNICITIES),
    (8, 1, "DOB has no value", lambda r, c: _date(r["DOB"]) is None),
    (11, 1, "CohortStatus has no value", lambda r, c: not r["CohortStatus"]),
    (13, 2, "CohortStatus T without TransferredToLACode", lambda r, c: r["CohortStatus"] == "T" and not r["TransferredToLACode"]),
    (14, 1, "LeadLEA has no value", lambda r, c: not r["LeadLEA"]),
    (15, 1, "LeadLEA not a recognised LA code", lambda r, c: bool(r["LeadLEA"]) and r["LeadLEA"] not in c["las"]),
    (19, 2, "EducatedLEA not a recognised LA code", lambda r, c: bool(r["EducatedLEA"]) and not _la(r["EducatedLEA"], c["las"])),
    (24, 2, "LEACodeAtYear11 not a recognised LA code", lambda r, c: bool(r["LEACodeAtYear11"]) and not _la(r["LEACodeAtYear11"], c["las"])),
    (26, 2, "LeadLEA is not an LA of the file header", lambda r, c: r["LeadLEA"] not in c["source_las"] and r["CohortStatus"] != "T"),
    (30, 2, "UniqueLearnerNo not 10 digits", lambda r, c: bool(r["UniqueLearnerNo"]) and not _ULN.match(r["UniqueLearnerNo"])),
    (31, 1, "No address field has a value", lambda r, c: not any(r[k] for k in ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4", "Town", "County"))),
    (32, 1, "Postcode has no value", lambda r, c: not r["Postcode"]),
    (34, 2, "TransferredToLACode given but CohortStatus is not T", lambda r, c: bool(r["TransferredToLACode"]) and r["CohortStatus"] not in ("T", "E")),
    (35, 2, "TransferredToLACode not a recognised LA code", lambda r, c: r["CohortStatus"] == "T" and bool(r["TransferredToLACode"]) and r["TransferredToLACode"] not in c["las"]),
    (37, 1, "PreviousYPIDIdentifier not 13 digits", lambda r, c: bool(r["PreviousYPIDIdentifier"]) and not (len(r["PreviousYPIDIdentifier"]) == 13 and _DIGITS.match(r["PreviousYPIDIdentifier"]))),
    (38, 2, "UniquePupilNumber not 13 characters", lambda r, c: bool(r["UniquePupilNumber"]) and len(r["UniquePupilNumber"]) != 13),
    (39, 2, "UKProviderReferenceNumber not 8 digits starting with 1", lambda r, c: bool(r["UKProviderReferenceNumber"]) and not re.match(r"^1[0-9]{7}$", r["UKProviderReferenceNumber"])),
    (40, 1, "Aged 18 or over without an EHC plan (SENDFlag Y)", lambda r, c: r["CohortStatus"] == "P" and (_age(r, c["period_end"]) or 0) >= 18 and r["SENDFlag"] != "Y"),
    (41, 1, "TransferredToLACode is 004 (unknown LA)", lambda r, c: r["TransferredToLACode"] == "004"),
    (42, 1, "TransferredToLACode is the LeadLEA", lambda r, c: bool(r["TransferredToLACode"]) and r["TransferredToLACode"] == r["LeadLEA"]),
    (43, 2, "Postcode not in a recognised format", lambda r, c: bool(r["Postcode"]) and not _POSTCODE.match(r["Postcode"])),
    (100, 1, "LevelOfNeedCode has no value", lambda r, c: not r["LevelOfNeedCode"]),
    (101, 2, "LevelOfNeedCode not 1, 2 or 3", lambda r, c: bool(r["LevelOfNeedCode"]) and r["LevelOfNeedCode"] not in ("1", "2", "3")),
    (102, 2, "SENDFlag not Y or N", lambda r, c: bool(r["SENDFlag"]) and r["SENDFlag"] not in ("Y", "N")),
    (103, 2, "SENDFlag has no value", lambda r, c: not r["SENDFlag"]),
    (104, 2, "CharacteristicCode not recognised", lambda r, c: any(x not in nccis.CHARACTERISTIC_CODES for x in r["characteristics"])),
    (200, 1, "ActivityCode has no value", lambda r, c: not r["ActivityCode"]),
    (201, 1, "ActivityCode not recognised", lambda r, c: bool(r["ActivityCode"]) and r["ActivityCode"] not in nccis.ACTIVITY_CODES),
    (202, 1, "StartDate has no value", lambda r, c: not r["StartDate"]),
    (203, 1, "DateAscertained has no value", lambda r, c: not r["DateAscertained"]),
    (220, 1, "CurrencyLapsed has no value", lambda r, c: not r["CurrencyLapsed"]),
    (221, 1, "CurrencyLapsed not Y or N", lambda r, c: bool(r["CurrencyLapsed"]) and r["CurrencyLapsed"] not in ("Y", "N")),
    (224, 1, "NEET activity without NEETStartDate", lambda r, c: r["ActivityCode"] in NEET_CODES and not r["NEETStartDate"]),
    (225, 1, "NEETStartDate after the activity StartDate", lambda r, c: _before(r["StartDate"], r["NEETStartDate"])),
    (226, 1, "NEETStartDate for an activity that is not NEET", lambda r, c: bool(r["NEETStartDate"]) and r["ActivityCode"] not in NEET_CODES),
    (228, 1, "EstablishmentNumber not 7 digits starting with an LA code", lambda r, c: bool(r["EstablishmentNumber"]) and not (len(r["EstablishmentNumber"]) == 7 and _DIGITS.match(r["EstablishmentNumber"]) and _la(r["EstablishmentNumber"][:3], c["las"]))),
    (231, 2, "CurrencyLapsed Y but DueToLapseDate is after the period end", lambda r, c: r["CurrencyLapsed"] == "Y" and _before(c["period_end"].isoformat(), r["DueToLapseDate"])),
    (232, 2, "CurrencyLapsed N but DueToLapseDate is before the period end", lambda r, c: r["CurrencyLapsed"] == "N" and _before(r["DueToLapseDate"], c["period_end"].isoformat())),
    (233, 2, "Activity 620 (young carer) without characteristic 140", lambda r, c: r["ActivityCode"] == "620" and "140" not in r["characteristics"]),
    (234, 2, "Activity 630 (teenage parent) without characteristic 120", lambda r, c: r["ActivityCode"] == "630" and "120" not in r["characteristics"]),
    (235, 2, "Activity 650 (pregnancy) without characteristic 180", lambda r, c: r["ActivityCode"] == "650" and "180" not in r["characteristics"]),
    (237, 2, "DateAscertained after DateVerified", lambda r, c: _before(r["DateVerified"], r["DateAscertained"])),
    (238, 2, "DueToLapseDate after PredictedEndDate", lambda r, c: _before(r["PredictedEndDate"], r["DueToLapseDate"])),
    (242, 2, "DateAscertained before StartDate", lambda r, c: _before(r["DateAscertained"], r["StartDate"])),
    (243, 2, "DueToLapseDate has no value", lambda r, c: not r["DueToLapseDate"] and r["ActivityCode"] in nccis.ACTIVITY_CODES and currency.default_rule(r["ActivityCode"]) != currency.NO_LAPSE),
    (254, 1, "Activity 280 (special post-16 institution) without SENDFlag Y", lambda r, c: r["ActivityCode"] == "280" and r["SENDFlag"] != "Y"),
    (255, 1, "Activity 460 (supported internship) without SENDFlag Y", lambda r, c: r["ActivityCode"] == "460" and r["SENDFlag"] != "Y"),
    (256, 1, "DateVerified before StartDate", lambda r, c: _before(r["DateVerified"], r["StartDate"])),
    (257, 2, "ReviewDate after PredictedEndDate", lambda r, c: _before(r["PredictedEndDate"], r["ReviewDate"])),
    (259, 1, "Education or training without PredictedEndDate", lambda r, c: r["ActivityCode"] in currency.EDUCATION_OR_TRAINING and not r["PredictedEndDate"]),
    (260, 2, "Characteristic 180 (pregnant) with Gender M", lambda r, c: "180" in r["characteristics"] and r["Gender"] == "M"),
    (262, 1, "Activity 260, 290, 350, 616 or 710 without ReviewDate", lambda r, c: r["ActivityCode"] in REVIEW_NEEDED and not r["ReviewDate"]),
    (303, 2, "SENSupportFlag has no value", lambda r, c: not r["SENSupportFlag"]),
    (304, 2, "SENSupportFlag not Y or N", lambda r, c: bool(r["SENSupportFlag"]) and r["SENSupportFlag"] not in ("Y", "N")),
    (305, 2, "DateVerified after the period end", lambda r, c: _before(c["period_end"].isoformat(), r["DateVerified"])),
]
RULE_TEXT = {number: (priority, text) for number, priority, text, _ in RULES} | {
    902: (1, "YoungPersonsID appears more than once"), 907: (1, "ULN used by more than one young person"),
    908: (3, "Suspected duplicate: same GivenName, FamilyName and DOB"), 904: (0, "CohortStatus not recognised: the file fails"),
    240: (0, "Activities node missing: the file fails")}


def _flat(yp: ET.Element) -> dict:
    """A YoungPersonsRecord as one dict of element name -> text ('' when empty or absent)."""
    r: dict = defaultdict(str)
    for el in yp.iter():
        if len(el) == 0 and el.tag != "CharacteristicCode":
            r[el.tag] = (el.text or "").strip()
    r["characteristics"] = [(c.text or "").strip() for c in yp.iter("CharacteristicCode")]
    r["has_activities"] = yp.find("Activities/Cohort") is not None
    return r


def _file_errors(root: ET.Element | None, header: dict) -> list[Breach]:
    if root is None or root.tag != "NCCIS" or root.find("FileHeader") is None:
        return [Breach(0, 0, "No NCCIS root with a FileHeader: the file fails")]
    errors = []
    if not re.match(r"^[0-9]{3}$", header["database"]):
        errors.append(Breach(0, 0, "DatabaseID is not the LA's 3-digit NCCIS database id: the file fails"))
    if not header["source_las"]:
        errors.append(Breach(0, 0, "No LEACode in the FileHeader: the file fails"))
    for name in ("DateOfSend", "PeriodEnd"):
        if _date(header[name]) is None:
            errors.append(Breach(0, 0, f"{name} is not a date: the file fails"))
    return errors


def _cross_record(records: list[dict]) -> list[Breach]:
    """902 duplicate YPIDs, 907 a ULN on two young people (merged records aside), 908 suspected duplicates."""
    out: list[Breach] = []
    groups = {902: defaultdict(list), 907: defaultdict(list), 908: defaultdict(list)}
    for r in records:
        groups[902][r["YoungPersonsID"]].append(r)
        if r["UniqueLearnerNo"] and r["CohortStatus"] != "M":
            groups[907][r["UniqueLearnerNo"]].append(r)
        if r["CohortStatus"] != "M":
            groups[908][(r["GivenName"].casefold(), r["FamilyName"].casefold(), r["DOB"])].append(r)
    for rule, by_key in groups.items():
        priority, text = RULE_TEXT[rule]
        for same in by_key.values():
            if len({x["YoungPersonsID"] for x in same}) > 1 or (rule == 902 and len(same) > 1):
                out += [Breach(rule, priority, text, x["YoungPersonsID"]) for x in same]
    return out


def check(xml: bytes, las: frozenset[str]) -> list[Breach]:
    """Every breach of the MIR's error rules in a return file; priority 0 = the whole file fails."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        return [Breach(0, 0, f"Not well-formed XML: {exc}")]
    header = {"database": (root.findtext("FileHeader/Databases/DatabaseID") or "").strip(),
              "source_las": {(e.text or "").strip() for e in root.iterfind("FileHeader/SourceLEAs/LEACode")},
              "DateOfSend": root.findtext("FileHeader/DateOfSend") or "",
              "PeriodEnd": root.findtext("FileHeader/PeriodEnd") or ""}
    errors = _file_errors(root, header)
    if errors:
        return errors
    context = {**header, "las": las, "period_end": date.fromisoformat(header["PeriodEnd"])}
    records = [_flat(yp) for yp in root.iterfind("YoungPersonsRecord")]
    breaches: list[Breach] = []
    for r in records:
        if r["CohortStatus"] and r["CohortStatus"] not in COHORT_STATUSES:
            breaches.append(Breach(904, 0, RULE_TEXT[904][1], r["YoungPersonsID"]))
        if not r["has_activities"]:
            breaches.append(Breach(240, 0, RULE_TEXT[240][1], r["YoungPersonsID"]))
        breaches += [Breach(n, p, text, r["YoungPersonsID"]) for n, p, text, breached in RULES if breached(r, context)]
    return breaches + _cross_record(records)


def counts(breaches: list[Breach]) -> dict[str, int]:
    """Breaches per priority: `file` (the file fails), `1`, `2`, `3`."""
    totals = {"file": 0, "1": 0, "2": 0, "3": 0}
    for b in breaches:
        totals["file" if b.priority == 0 else str(b.priority)] += 1
    return totals
