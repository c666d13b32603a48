"""HTTP bodies of school_exit (v1). Every rule names the field it failed on (422)."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas import identifiers as ids
from schemas import nccis
from schemas.events import Ethnicity, Gender
from schemas.text import PlainTextBody
from services.school_exit import domain

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AddressLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{10,20}$")


def _email(v: str | None) -> str | None:
    if v is None or not v.strip():
        return None
    if not _EMAIL.match(v.strip()) or len(v) > 254:
        raise ValueError("email address is not valid")
    return v.strip()


def _phone(v: str | None) -> str | None:
    if v is None or not v.strip():
        return None
    if not _PHONE.match(v.strip()):
        raise ValueError("phone number must be 10 to 20 digits, spaces, brackets or hyphens")
    return v.strip()


def _characteristics(v: list[str]) -> list[str]:
    return sorted({nccis.validate_characteristic_code(c) for c in v})


class Strict(PlainTextBody):
    model_config = ConfigDict(extra="forbid", str_max_length=200)


class DestinationIn(Strict):
    activity_code: Annotated[str, AfterValidator(nccis.validate_activity_code)]
    status: Literal["confirmed", "intended"]
    provider_ukprn: Annotated[str | None, AfterValidator(ids.validate_ukprn)] = None


class SendIn(Strict):
    ehcp: bool = False
    sen_support: bool = False

    @model_validator(mode="after")
    def _not_both(self) -> "SendIn":
        if self.ehcp and self.sen_support:
            raise PydanticCustomError("send_both", "an EHC plan and SEN support cannot both be set")
        return self


class ConsentIn(Strict):
    share_with_ncs: bool = False
    objects_to_sharing: bool = False


class LeaverIn(Strict):
    upn: Annotated[str, AfterValidator(ids.validate_upn)]
    uln: Annotated[str | None, AfterValidator(ids.validate_uln)] = None
    given_name: Name
    family_name: Name
    date_of_birth: date
    home_postcode: Annotated[str, AfterValidator(ids.normalise_postcode)]
    address_lines: Annotated[list[AddressLine], Field(max_length=6)] = []
    email: Annotated[str | None, AfterValidator(_email)] = None
    phone: Annotated[str | None, AfterValidator(_phone)] = None
    school_laestab: Annotated[str, AfterValidator(ids.validate_laestab)]
    nc_year: Annotated[int, Field(ge=7, le=14)]
    leaving_date: date
    destination: DestinationIn | None = None
    send: SendIn = SendIn()
    characteristics: Annotated[list[str], Field(max_length=20), AfterValidator(_characteristics)] = []
    consent: ConsentIn = ConsentIn()
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None

    def date_problems(self, today: date) -> dict[str, str]:
        return domain.check_dates(self.date_of_birth, self.leaving_date, today)


class LeaverAccepted(BaseModel):
    leaver_id: UUID
    person_key: str
    status: Literal["accepted", "unchanged", "updated"]
    onward_status: str



class ErasureIn(Strict):
    """Erase a young person's personal data in all three services: name them by UPN or person key."""
    upn: Annotated[str, AfterValidator(ids.validate_upn)] | None = None
    person_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    reason: Literal["subject_request", "objection_upheld", "court_order", "recorded_in_error"]

    @model_validator(mode="after")
    def _one_identifier(self) -> "ErasureIn":
        if (self.upn is None) == (self.person_key is None):
            raise ValueError("give exactly one of upn or person_key")
        return self
