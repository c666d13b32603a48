"""The DfE Common Transfer File (CTF 20+) as SIMS, Arbor and Bromcom export it (docs/domain-rules.md section 6).

`CTfile/Header/SourceSchool` (LEA, Estab) names the exporting school; each `CTfile/CTFpupilData/Pupil`
holds UPN, UniqueLearnerNumber, Surname, Forename, DOB, Gender, `BasicDetails` (NCyearActual, Ethnicity),
`LookedAfter/InCare`, `SENhistory/SEN` (StartDate, SENprovision), `Address` (BS7666Address, PostCode)
and `SchoolHistory/School` (LEA, Estab, EntryDate, LeavingDate). No public XSD was found, so unknown
elements are ignored and a few elements are read where exports are known to put them instead.
A file with a DTD is refused before parsing: without one no entity can be declared, so there are no
external entities and no entity-expansion bombs (the same rule as defusedxml's forbid_dtd, checked on
the decoded text so that the standard library's C parser can be used: 5,000 pupils parse in about a
second instead of four).
"""
from __future__ import annotations

import re
from datetime import date
from typing import get_args
from xml.etree.ElementTree import Element, ParseError, fromstring

from schemas.events import Ethnicity
from services.school_exit.imports import Row, UnreadableFile, decode_text, parse_date

ETHNICITIES = frozenset(get_args(Ethnicity))
# SENprovision: E = EHC plan, K = SEN support, N = none; S = statement of SEN (before 2014; all were
# converted to EHC plans by 2018), read as an EHC plan.
EHC_PLAN, SEN_SUPPORT = {"E", "S"}, {"K"}
IN_CARE = {"true", "1"}
FIELD_ELEMENTS = {"upn": "UPN", "uln": "UniqueLearnerNumber", "given_name": "Forename", "family_name": "Surname",
                  "date_of_birth": "DOB", "home_postcode": "Address/PostCode", "address_lines": "Address",
                  "nc_year": "BasicDetails/NCyearActual", "leaving_date": "SchoolHistory/School/LeavingDate",
                  "send": "SENhistory", "gender": "Gender", "ethnicity": "BasicDetails/Ethnicity",
                  "school_laestab": "Header/SourceSchool"}
# XML 1.0 cannot hold C0 control characters (bar tab, newline, carriage return), written or as `&#N;`: the
# parser would refuse the whole file for one bad name. Each is read as a Unicode noncharacter (U+FDD0 +
# its code: never in interchanged text) and given back in the value, so that validation refuses that
# pupil's element by name and the other pupils are imported.
_SHOW = {0xFDD0 + c: c for c in range(0x20) if chr(c) not in "\t\n\r"}
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(?:x0*([0-9a-fA-F]{1,2})|0*([0-9]{1,2}));")


def _hide_control_characters(text: str) -> str:
    def hidden(found: re.Match) -> str:
        code = ord(found[0]) if len(found[0]) == 1 else int(found[1], 16) if found[1] else int(found[2])
        return chr(0xFDD0 + code) if 0xFDD0 + code in _SHOW else found[0]
    return _ILLEGAL.sub(hidden, text)


def _find(el: Element | None, path: str) -> Element | None:
    # Child by child: a plain tag takes the C parser's fast path, a "a/b" path would go through ElementPath.
    for tag in path.split("/"):
        if el is None:
            return None
        el = el.find(tag)
    return el


def _all(el: Element, path: str) -> list[Element]:
    parent, _, tag = path.rpartition("/")
    holder = _find(el, parent)
    return holder.findall(tag) if holder is not None else []


def _text(el: Element | None, *paths: str) -> str | None:
    """The first non-empty text among `paths` (where different exports put the same item)."""
    for path in paths:
        found = _find(el, path)
        if found is not None and found.text and found.text.strip():
            return found.text.strip().translate(_SHOW)
    return None


def _when(el: Element, path: str) -> date | None:
    try:
        return parse_date(_text(el, path))
    except ValueError:
        return None


def address(pupil: Element) -> tuple[list[str], str | None]:
    """Address lines from BS7666 parts (SAON; PAON with Street, as an address is written; Locality; Town;
    AdministrativeArea) or from AddressLines, and the postcode."""
    addr = pupil.find("Address")
    if addr is None:
        return [], None
    postcode = _text(addr, "PostCode", "Postcode")
    bs = addr.find("BS7666Address")
    if bs is not None:
        paon, street = _text(bs, "PAON"), _text(bs, "Street")
        house = f"{paon} {street}" if paon and street and paon[:1].isascii() and paon[:1].isdigit() else None
        parts = [_text(bs, "SAON"), *([house] if house else [paon, street]), _text(bs, "Locality"),
                 _text(bs, "Town"), _text(bs, "AdministrativeArea")]
        lines = [p for p in parts if p]
    else:
        lines = [t.text.strip().translate(_SHOW) for t in addr.iter()
                 if t.tag.startswith("AddressLine") and t.text and t.text.strip()]
    return lines[:6], postcode


def send(pupil: Element) -> dict:
    """The SEN provision of the latest SENhistory/SEN by StartDate (files list them in any order)."""
    entries = [(_when(s, "StartDate") or date.min, i, _text(s, "SENprovision") or "N")
               for i, s in enumerate(_all(pupil, "SENhistory/SEN"))]
    latest = max(entries)[2].upper() if entries else "N"
    return {"ehcp": latest in EHC_PLAN, "sen_support": latest in SEN_SUPPORT}


def leaving_date(pupil: Element, laestab: str) -> date | None:
    """The leaving date in the uploading school's own SchoolHistory entry (LEA + Estab match); earlier
    schools come first in the history and their dates are not this school's. If the pupil joined this
    school twice, the latest entry counts."""
    own = [s for s in _all(pupil, "SchoolHistory/School")
           if _text(s, "LEA") == laestab[:3] and (_text(s, "Estab") or "").zfill(4) == laestab[3:]]
    own.sort(key=lambda s: _when(s, "EntryDate") or date.min)
    return _when(own[-1], "LeavingDate") if own else None


def _pupil(pupil: Element, number: int, laestab: str, default_leaving: date | None) -> Row:
    row = Row(number=number, leaver={}, names=FIELD_ELEMENTS, kind="element")
    lines, postcode = address(pupil)
    leaving = leaving_date(pupil, laestab) or default_leaving
    if leaving is None:
        row.problem("SchoolHistory/School/LeavingDate", f"no SchoolHistory/School for LEA {laestab[:3]} Estab"
                    f" {laestab[3:]} with a LeavingDate; give a leaving date with the upload")
    ethnicity = (_text(pupil, "BasicDetails/Ethnicity", "Ethnicity") or "").upper() or None
    if ethnicity and ethnicity not in ETHNICITIES:
        # Extended codes (e.g. WENG) have no main code here; the leaver is kept without one.
        row.notes.append(f"BasicDetails/Ethnicity {ethnicity} is not a DfE main code; left out")
        ethnicity = None
    dob = _text(pupil, "DOB", "BasicDetails/DOB")
    try:
        dob = parse_date(dob).isoformat() if dob else None
    except ValueError as exc:
        row.problem("DOB", f"DOB {exc}")
    in_care = (_text(pupil, "LookedAfter/InCare") or "").lower() in IN_CARE
    row.leaver = {
        "upn": _text(pupil, "UPN"), "uln": _text(pupil, "UniqueLearnerNumber"),
        "given_name": _text(pupil, "Forename", "BasicDetails/Forename"),
        "family_name": _text(pupil, "Surname", "BasicDetails/Surname"),
        "date_of_birth": dob, "home_postcode": postcode, "address_lines": lines, "school_laestab": laestab,
        "nc_year": _text(pupil, "BasicDetails/NCyearActual", "NCyearActual"),
        "leaving_date": leaving.isoformat() if leaving else None, "send": send(pupil),
        "characteristics": ["110"] if in_care else [],
        "gender": (_text(pupil, "Gender", "BasicDetails/Gender") or "").upper() or None, "ethnicity": ethnicity,
    }
    return row


def parse(data: bytes, laestab: str, default_leaving: date | None) -> list[Row]:
    """One Row per pupil; refuses a file exported by another school than the uploader."""
    text = decode_text(data)  # UTF-8, byte-order mark removed: the text the parser will read
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise UnreadableFile("XML with a DTD or entities is refused (external-entity and expansion attacks)")
    try:
        root = fromstring(_hide_control_characters(text))
    except ParseError:
        raise UnreadableFile("the file is not well-formed XML") from None
    header = root.find("Header")
    if root.tag != "CTfile" or header is None:
        raise UnreadableFile("not a Common Transfer File: expected CTfile with a Header")
    lea, estab = _text(header, "SourceSchool/LEA"), _text(header, "SourceSchool/Estab")
    if lea and estab and lea + estab.zfill(4) != laestab:
        raise UnreadableFile(f"this CTF was exported by LAESTAB {lea}{estab.zfill(4)}, not by your school"
                             f" ({laestab})")
    return [_pupil(p, n, laestab, default_leaving)
            for n, p in enumerate(_all(root, "CTFpupilData/Pupil"), start=1)]
