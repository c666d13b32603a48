"""Identifiers of English education data, validated exactly (docs/domain-rules.md section 2; DfE specifications).

Each function returns the normalised value or raises ValueError with a message a data manager can act on.
"""
from __future__ import annotations

import re
from functools import cache

# DfE UPN check-letter alphabet: 23 letters, no I, O or S.
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
TEMPORARY_ULN = "9999999999"

# Identifiers are ASCII (docs/domain-rules.md 6): Python's \d and str.isdigit() accept other scripts' digits, so
# every pattern here spells its characters out.
_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_DIGITS = re.compile(r"^[0-9]+$")

# DfE LA numbers retired by reorganisations, still found in UPNs issued before them (the current ones
# are those of data/local_authorities_2025.csv). Sources: docs/domain-rules.md section 6; GIAS reorganisation notices.
RETIRED_LA_NUMBERS = {
    "820": "Bedfordshire (to 2009; now 822 Bedford, 823 Central Bedfordshire)",
    "875": "Cheshire (to 2009; now 895 Cheshire East, 896 Cheshire West and Chester)",
    "835": "Dorset county (to 2019; now 838 Dorset)",
    "836": "Poole (to 2019; now 839 Bournemouth, Christchurch and Poole)",
    "837": "Bournemouth (to 2019; now 839 Bournemouth, Christchurch and Poole)",
    "928": "Northamptonshire (to 2021; now 940 North and 941 West Northamptonshire)",
    "909": "Cumbria (to 2023; now 942 Cumberland, 943 Westmorland and Furness)",
}


@cache
def la_numbers() -> frozenset[str]:
    """Every DfE LA number, past or present, that a UPN's characters 2-4 may hold."""
    from onward.la_data import local_authorities

    return frozenset(local_authorities()) | frozenset(RETIRED_LA_NUMBERS)


def _ascii(value: str, what: str) -> str:
    if not value.isascii():
        raise ValueError(f"{what} must use ASCII letters and digits only")
    return value


def upn_check_letter(body: str) -> str:
    """Check letter for characters 2..13 of a UPN: weights 2..13, sum mod 23 onto UPN_ALPHABET.

    Digits count at face value; a final letter (temporary UPN) by its 0-based index in UPN_ALPHABET.
    """
    total = 0
    for weight, ch in enumerate(body, start=2):
        if "0" <= ch <= "9":
            total += int(ch) * weight
        else:
            total += UPN_ALPHABET.index(ch) * weight
    return UPN_ALPHABET[total % 23]


def validate_upn(value: str) -> str:
    upn = _ascii(value.strip(), "UPN").upper()
    if not _UPN_SHAPE.fullmatch(upn):
        raise ValueError("UPN must be 13 characters: a check letter, 11 digits, then a digit or letter")
    if upn[1:4] not in la_numbers():
        raise ValueError(f"UPN characters 2-4 ({upn[1:4]}) are not a DfE LA number, past or present")
    if upn[12].isalpha() and upn[12] not in UPN_ALPHABET:
        raise ValueError(f"temporary UPN ends in {upn[12]!r}, which is not a UPN letter (I, O and S are never used)")
    if upn[0] != upn_check_letter(upn[1:]):
        raise ValueError(f"UPN check letter is wrong (expected {upn_check_letter(upn[1:])})")
    return upn


def uln_check_digit(first9: str) -> int | None:
    """ULN check digit: weights 10..2 on digits 1..9, r = sum mod 11; r = 0 has no valid ULN."""
    r = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1))) % 11
    return None if r == 0 else 10 - r


def validate_uln(value: str | None) -> str | None:
    """Return the ULN, or None for absent or the temporary ULN 9999999999."""
    if value is None:
        return None
    uln = _ascii(value.strip(), "ULN")
    if uln in ("", TEMPORARY_ULN):
        return None
    if not (len(uln) == 10 and _DIGITS.fullmatch(uln)):
        raise ValueError("ULN must be 10 digits")
    if uln[0] == "0":
        raise ValueError("ULN must not start with 0")
    if uln_check_digit(uln[:9]) != int(uln[9]):
        raise ValueError("ULN check digit is wrong")
    return uln


def validate_laestab(value: str) -> str:
    v = _ascii(value.strip(), "LAESTAB")
    if not (len(v) == 7 and _DIGITS.fullmatch(v)):
        raise ValueError("LAESTAB must be 7 digits (3-digit LA number + 4-digit establishment number)")
    return v


def validate_ukprn(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    v = _ascii(value.strip(), "UKPRN")
    if not (len(v) == 8 and _DIGITS.fullmatch(v) and v[0] == "1"):
        raise ValueError("UKPRN must be 8 digits starting with 1")
    return v


def normalise_postcode(value: str) -> str:
    """UK postcode in ONS form: upper case, one space before the inward code (e.g. 'DE1 2AA')."""
    compact = re.sub(r"[ \t]+", "", _ascii(value, "postcode")).upper()
    m = _POSTCODE.fullmatch(compact)
    if not m:
        raise ValueError("postcode is not a valid UK postcode (e.g. DE1 2AA)")
    return f"{m.group(1)} {m.group(2)}"


def postcode_district(postcode: str) -> str:
    """Outward code only ('DE1'): what the NCS handoff may carry instead of the full postcode."""
    return normalise_postcode(postcode).split(" ")[0]
