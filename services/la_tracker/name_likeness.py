"""When two normalised names are "near-identical" (docs/domain-rules.md, rule 5.8): a review item, never a merge.

Pure: standard library only. Names arrive as `domain.normalise_name` leaves them (NFKC, case-folded, single
spaces), so the comparison is by Unicode character whatever the script: "josé" and "jose" are one edit
apart, as are "дмитрий" and "дмитрии".
"""
from __future__ import annotations

import re

MIN_LETTERS = 4  # below this one edit is another name (Ian, Ivan; Ann, Anna): too many false alarms
_PARTS = re.compile(r"[\s\-]+")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest one-character insertions, deletions or substitutions from a to b."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def letters(name: str) -> int:
    """How many letters a name has (spaces, hyphens and apostrophes do not count)."""
    return sum(ch.isalpha() for ch in name)


def one_edit_apart(a: str, b: str) -> bool:
    """One edit between names of 4+ letters: Aidan/Aiden, Smith/Smyth, José/Jose (Ian/Jan are too short)."""
    return a != b and min(letters(a), letters(b)) >= MIN_LETTERS and edit_distance(a, b) == 1


def one_contains_the_other(a: str, b: str) -> bool:
    """A double or hyphenated name and one of its parts (Smith-Jones / Smith, Garcia Lopez / Garcia), or the
    same parts written otherwise (Smith Jones / Jones-Smith)."""
    pa, pb = set(_PARTS.split(a)) - {""}, set(_PARTS.split(b)) - {""}
    return a != b and bool(pa) and bool(pb) and (pa <= pb or pb <= pa)


def near_identical(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """Two different names that may be one young person's written twice: given and family name swapped;
    or one of them the same and the other one edit apart (4+ letters) or a double name holding the other."""
    if (given_a, family_a) == (given_b, family_b):
        return False  # identical names are rule 5.8's own tests, not this one
    if (given_a, family_a) == (family_b, given_b):
        return True

    def alike(x: str, y: str) -> bool:
        return one_edit_apart(x, y) or one_contains_the_other(x, y)
    return (given_a == given_b and alike(family_a, family_b)) or (family_a == family_b and alike(given_a, given_b))
