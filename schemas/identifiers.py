"""Identifiers of English education data, validated exactly (docs/domain-rules.md section 2; DfE specifications).

Each function returns the normalised value or raises ValueError with a message a data manager can act on.
"""
from __future__ import annotations

import re

# DfE UPN check-letter alphabet: 23 letters, no I, O or S.
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
TEMPORARY_ULN = "9999999999"

_UPN_SHAPE = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$")


def upn_check_letter(body: str) -> str:
    """Check letter for characters 2..13 of a UPN: weights 2..13, sum mod 23 onto UPN_ALPHABET.

    Digits count at face value; a final letter (temporary UPN) by its 0-based index in UPN_ALPHABET.
    """
    total = 0
    for weight, ch in enumerate(body, start=2):
        if ch.isdigit():
            total += int(ch) * weight
        else:
            total += UPN_ALPHABET.index(ch) * weight
    return UPN_ALPHABET[total % 23]


def validate_upn(value: str) -> str:
    upn = value.strip().upper()
    if not _UPN_SHAPE.match(upn):
        raise ValueError("UPN must be 13 characters: a check letter, 11 digits, then a digit or letter")
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
    uln = value.strip()
    if uln in ("", TEMPORARY_ULN):
        return None
    if not (len(uln) == 10 and uln.isdigit()):
        raise ValueError("ULN must be 10 digits")
    if uln_check_digit(uln[:9]) != int(uln[9]):
        raise ValueError("ULN check digit is wrong")
    return uln


def validate_laestab(value: str) -> str:
    v = value.strip()
    if not (len(v) == 7 and v.isdigit()):
        raise ValueError("LAESTAB must be 7 digits (3-digit LA number + 4-digit establishment number)")
    return v


def validate_ukprn(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    v = value.strip()
    if not (len(v) == 8 and v.isdigit() and v[0] == "1"):
        raise ValueError("UKPRN must be 8 digits starting with 1")
    return v


def normalise_postcode(value: str) -> str:
    """UK postcode in ONS form: upper case, one space before the inward code (e.g. 'DE1 2AA')."""
    compact = re.sub(r"\s+", "", value).upper()
    m = _POSTCODE.match(compact)
    if not m:
        raise ValueError("postcode is not a valid UK postcode (e.g. DE1 2AA)")
    return f"{m.group(1)} {m.group(2)}"


def postcode_district(postcode: str) -> str:
    """Outward code only ('DE1'): what the NCS handoff may carry instead of the full postcode."""
    return normalise_postcode(postcode).split(" ")[0]
