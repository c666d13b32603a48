"""England's 153 upper-tier LAs (DfE 2025 figures, OGL): DfE code, GSS code, name, region = NCS area."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "local_authorities_2025.csv"


@dataclass(frozen=True, slots=True)
class LocalAuthority:
    dfe_code: str
    gss_code: str
    name: str
    region: str
    cohort_16_17: int | None
    neet_percent: float | None
    not_known_percent: float | None


def _num(text: str, kind):
    return kind(text) if text.strip() else None


@lru_cache
def local_authorities() -> dict[str, LocalAuthority]:
    """All LAs keyed by DfE 3-digit code, loaded once."""
    with DATA.open(newline="", encoding="utf-8") as fh:
        return {
            row["dfe_la_code"]: LocalAuthority(
                row["dfe_la_code"], row["gss_code"], row["la_name"], row["region_name"],
                _num(row["cohort_16_17"], int), _num(row["neet_percent"], float), _num(row["not_known_percent"], float),
            )
            for row in csv.DictReader(fh)
        }


def ncs_areas() -> frozenset[str]:
    return frozenset(la.region for la in local_authorities().values())


def la_of_laestab(laestab: str) -> str:
    return laestab[:3]
