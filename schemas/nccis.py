"""NCCIS vocabulary (DfE NCCIS management information requirement): activity and characteristic codes."""
from __future__ import annotations

from enum import Enum


class ActivityGroup(str, Enum):
    EET = "eet"
    EDUCATION_NOT_PARTICIPATING = "education_not_participating"
    NOT_PARTICIPATING = "not_participating"
    NEET_ACTIVE = "neet_active"
    NEET_INACTIVE = "neet_inactive"
    NEET = "neet"
    OTHER = "other"
    NOT_KNOWN = "not_known"


ACTIVITY_CODES: dict[str, tuple[str, ActivityGroup]] = {
    "210": ("Full-time education: school sixth form", ActivityGroup.EET),
    "220": ("Full-time education: sixth-form college", ActivityGroup.EET),
    "230": ("Full-time education: further education", ActivityGroup.EET),
    "240": ("Full-time education: higher education", ActivityGroup.EET),
    "250": ("Part-time education", ActivityGroup.EET),
    "260": ("Gap year", ActivityGroup.EDUCATION_NOT_PARTICIPATING),
    "270": ("Full-time education: other", ActivityGroup.EET),
    "280": ("Full-time education: special post-16 institution", ActivityGroup.EET),
    "290": ("Full-time education: custodial institution (juvenile)", ActivityGroup.EET),
    "310": ("Apprenticeship", ActivityGroup.EET),
    "320": ("Full-time employment with study", ActivityGroup.EET),
    "330": ("Employment without training", ActivityGroup.EET),
    "340": ("Employment with other training", ActivityGroup.EET),
    "350": ("Temporary employment", ActivityGroup.EET),
    "360": ("Part-time employment", ActivityGroup.EET),
    "380": ("Self-employment", ActivityGroup.EET),
    "381": ("Self-employment with study", ActivityGroup.EET),
    "410": ("Work-based learning", ActivityGroup.EET),
    "430": ("Other training", ActivityGroup.EET),
    "440": ("DWP training programme", ActivityGroup.EET),
    "450": ("Traineeship", ActivityGroup.EET),
    "460": ("Supported internship", ActivityGroup.EET),
    "530": ("Re-engagement provision", ActivityGroup.NOT_PARTICIPATING),
    "540": ("Working not for reward", ActivityGroup.NEET),
    # Sources disagree on 550; treated as EET and flagged for review (docs/domain-rules.md section 3).
    "550": ("Working not for reward with part-time study", ActivityGroup.EET),
    "610": ("NEET: not yet ready for work or learning", ActivityGroup.NEET_ACTIVE),
    "615": ("NEET: start date agreed", ActivityGroup.NEET_ACTIVE),
    "616": ("NEET: start date agreed (RPA compliant)", ActivityGroup.NEET_ACTIVE),
    "619": ("NEET: seeking employment, education or training", ActivityGroup.NEET_ACTIVE),
    "620": ("NEET: not available, young carer", ActivityGroup.NEET_INACTIVE),
    "630": ("NEET: not available, teenage parent", ActivityGroup.NEET_INACTIVE),
    "640": ("NEET: not available, illness", ActivityGroup.NEET_INACTIVE),
    "650": ("NEET: not available, pregnancy", ActivityGroup.NEET_INACTIVE),
    "660": ("NEET: not available, religious grounds", ActivityGroup.NEET_INACTIVE),
    "670": ("NEET: not available, unlikely ever to be economically active", ActivityGroup.NEET_INACTIVE),
    "680": ("NEET: not available, other reason", ActivityGroup.NEET_INACTIVE),
    "710": ("Custody (young adult offender)", ActivityGroup.OTHER),
    "810": ("Current situation not known", ActivityGroup.NOT_KNOWN),
    "820": ("Cannot be contacted", ActivityGroup.NOT_KNOWN),
    "830": ("Refused to disclose activity", ActivityGroup.NOT_KNOWN),
}

FLAGGED_ACTIVITY_CODES = frozenset({"550"})
CANNOT_BE_CONTACTED = "820"

CHARACTERISTIC_CODES: dict[str, str] = {
    "110": "Looked after",
    "120": "Parent caring for own child",
    "130": "Refugee or asylum seeker",
    "140": "Carer",
    "150": "Substance misuse",
    "160": "Care leaver",
    "170": "Supervised by youth offending team",
    "180": "Pregnant",
    "190": "Parent not caring for own child",
    "200": "Alternative provision",
    "210": "Mental health",
}
LOOKED_AFTER, CARE_LEAVER = "110", "160"


def activity_group(code: str) -> ActivityGroup:
    return ACTIVITY_CODES[code][1]


def is_eet(code: str) -> bool:
    return activity_group(code) is ActivityGroup.EET


def is_neet(code: str) -> bool:
    return activity_group(code) in (ActivityGroup.NEET, ActivityGroup.NEET_ACTIVE, ActivityGroup.NEET_INACTIVE)


def is_not_known(code: str) -> bool:
    return activity_group(code) is ActivityGroup.NOT_KNOWN


def validate_activity_code(value: str) -> str:
    code = value.strip()
    if code not in ACTIVITY_CODES:
        raise ValueError(f"{code!r} is not a post-16 NCCIS activity code")
    return code


def validate_characteristic_code(value: str) -> str:
    code = value.strip()
    if code not in CHARACTERISTIC_CODES:
        raise ValueError(f"{code!r} is not an NCCIS characteristic code")
    return code
