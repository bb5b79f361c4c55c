"""Duplicate candidates: the same problem reported again, in other words, at the same place, in
the same days. Pure: the storage that finds earlier complaints by their band keys is an adapter.

How, and why this way:
- Text: normalised first (`domain.normalise`: "jln rusak parah dpn SDN 3" and "jalan rusak parah
  di depan SDN 3" become nearly the same words), very common function words dropped, then
  character 5-grams of the words run together. Character shingles, not word 3-grams: complaints
  are short, and one inserted "di" breaks every word 3-gram around it but only a few 5-grams.
- MinHash (`datasketch`, 128 permutations, fixed seed: the same text gives the same signature in
  every process and after every restart) estimates Jaccard similarity of the shingle sets.
- LSH banding, 32 bands of 4 rows: two complaints become candidates to compare when any band of
  their signatures is equal. The probability is 1-(1-s^4)^32: 0.87 at s=0.5, 0.98 at s=0.6, 0.56
  at s=0.4, 0.10 at s=0.25, so almost every pair above the threshold is looked at while unrelated
  complaints rarely are. Each band is one 64-bit key (band number and values hashed together),
  so storage finds the earlier complaints with one indexed lookup of 32 keys; the full signature
  then gives the estimate that decides.
- The rule (`is_candidate`): estimated Jaccard at least the threshold, the same main category,
  the same place (both located within `radius_m`; or, without coordinates on a side, the same
  kecamatan), submitted within `window_days` of each other. What cannot be compared costs
  certainty, so the text must be closer: `margin` more when either category is unknown, and
  `margin` more again when the place cannot be compared. A place or category known on both
  sides and different is never a duplicate.
Merging stays the operator's decision: this only proposes.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from routing.domain.normalise import normalise

NUM_PERM = 128
BANDS, ROWS = 32, 4
SEED = 1
SCHEME = "affine32"   # datasketch 2's default, named so an upgrade cannot change stored signatures
SHINGLE = 5
_PACKED = np.dtype(">u4")           # a signature's values as stored (`Fingerprint.signature`)
SIGNATURE_BYTES = NUM_PERM * _PACKED.itemsize
EARTH_RADIUS_M = 6_371_008.8

# Words that say nothing about the problem; dropping them makes rewordings closer.
_FILLER = frozenset(
    "di ke dari yang dan atau dengan untuk pada ini itu ada sudah belum sangat sekali mohon "
    "tolong bapak ibu pak bu kami saya kita the a of gan min admin yth terima kasih".split())
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class DuplicateRules:
    jaccard: float = 0.5          # estimated Jaccard at or above: similar enough text
    radius_m: float = 300.0       # both located: this close
    window_days: float = 7.0      # submitted this close in time
    margin: float = 0.15          # added per unknown (category, place)

    def threshold(self, category_known: bool, place_known: bool) -> float:
        return min(1.0, self.jaccard + self.margin * ((not category_known) + (not place_known)))


@dataclass(frozen=True)
class Fingerprint:
    """What is compared of one complaint. `signature`: its NUM_PERM MinHash values, packed as
    big-endian unsigned 32-bit integers (`SIGNATURE_BYTES` bytes): as stored and as compared,
    so reading up to a hundred earlier complaints' signatures for a new one is one copy each,
    not 128 integers each to decode and hold."""

    signature: bytes
    submitted_at: datetime
    category: str | None = None        # main category code, None when unknown
    lat: float | None = None
    lon: float | None = None
    kecamatan: str | None = None       # lower case, single spaces

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    def bands(self) -> list[int]:
        return band_keys(self.signature)


@dataclass(frozen=True)
class Match:
    similarity: float
    distance_m: float | None


def shingles(text: str) -> set[str]:
    """Character 5-grams of the normalised words, fillers dropped, run together with single
    spaces (so a word boundary still counts). A text shorter than one shingle is itself."""
    words = [w for w in normalise(text).split() if w not in _FILLER]
    flat = " ".join(words)
    if len(flat) <= SHINGLE:
        return {flat} if flat else set()
    return {flat[i:i + SHINGLE] for i in range(len(flat) - SHINGLE + 1)}


@lru_cache(maxsize=1)
def _template() -> MinHash:
    """The permutations, computed once: the same for every signature (fixed seed)."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def signature(text: str) -> bytes:
    """The MinHash values of the text's shingles, packed (see `Fingerprint`)."""
    template = _template()
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=template.permutations, scheme=SCHEME)
    m.update_batch(s.encode("utf-8") for s in sorted(shingles(text)))
    return m.hashvalues.astype(_PACKED).tobytes()


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per band (its number and its rows hashed together), for an index.
    Each row is hashed as 8 big-endian bytes: the keys are the ones kept before signatures were
    packed, so complaints kept before and after still find each other."""
    keys = []
    for band in range(BANDS):
        rows = sig[band * ROWS * 4:(band + 1) * ROWS * 4]
        raw = band.to_bytes(2, "big") + b"".join(
            b"\0\0\0\0" + rows[i:i + 4] for i in range(0, len(rows), 4))
        keys.append(int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True))
    return keys


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard: the share of equal MinHash values."""
    if len(a) != len(b) or not a or len(a) % 4:
        return 0.0
    return int(np.count_nonzero(np.frombuffer(a, _PACKED) == np.frombuffer(b, _PACKED))) / (len(a) // 4)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def place_name(name: str | None) -> str | None:
    """A kecamatan as compared: lower case, single spaces, "kecamatan"/"kec." dropped."""
    if not name:
        return None
    flat = _SPACE.sub(" ", re.sub(r"^(kecamatan|kec\.?)\s+", "", name.strip().lower())).strip()
    return flat or None


@dataclass(frozen=True)
class Vicinity:
    """What an earlier complaint must not contradict to be worth comparing with a new one: the
    new complaint's main category, its place as a box around the radius, its kecamatan. Storage
    filters by it before it reads any signature, so the many complaints that share words with a
    new one but are about another kind of problem, or kilometres away, cost an index row each,
    not a signature read and compared. It only leaves out what `compare` would refuse (a box is
    wider than the circle in it); `compare` still decides.
    """

    category: str | None = None
    lat_range: tuple[float, float] | None = None      # both ends inclusive; None: not located
    lon_range: tuple[float, float] | None = None      # None: located, longitude not bounded
    kecamatan: str | None = None

    def admits(self, category: str | None, lat: float | None, lon: float | None,
               kecamatan: str | None) -> bool:
        """Whether an earlier complaint with these could pass `compare` (the twin of the SQL
        filter in `adapters.duplicates`)."""
        if self.category is not None and category is not None and category != self.category:
            return False
        if self.lat_range is not None and lat is not None and lon is not None:
            low, high = self.lat_range
            if not low <= lat <= high:
                return False
            return self.lon_range is None or self.lon_range[0] <= lon <= self.lon_range[1]
        if self.kecamatan is not None and kecamatan is not None:
            return kecamatan == self.kecamatan
        return True


# Degrees of latitude per metre along a meridian, and a little slack so float rounding can never
# put a point the circle holds outside the box.
_DEG_PER_M = 180 / (math.pi * EARTH_RADIUS_M)
_BOX_SLACK = 1.01


def vicinity(new: Fingerprint, rules: DuplicateRules) -> Vicinity:
    """The box around `new` holds every point within `rules.radius_m` of it (haversine): the
    latitude span is exact, the longitude span widens by 1/cos(latitude). Where the box would
    cross a pole or the antimeridian, longitude is left unbounded (never in Indonesia)."""
    lat_range = lon_range = None
    if new.located:
        dlat = rules.radius_m * _DEG_PER_M * _BOX_SLACK
        lat_range = (new.lat - dlat, new.lat + dlat)
        edge = abs(new.lat) + dlat          # the box's latitude farthest from the equator
        if edge < 89.0:
            dlon = dlat / math.cos(math.radians(edge))
            if -180.0 <= new.lon - dlon and new.lon + dlon <= 180.0:
                lon_range = (new.lon - dlon, new.lon + dlon)
    return Vicinity(new.category, lat_range, lon_range, new.kecamatan)


def compare(new: Fingerprint, old: Fingerprint, rules: DuplicateRules) -> Match | None:
    """`Match` when `old` is a duplicate candidate of `new` under `rules`, else None."""
    if abs(new.submitted_at - old.submitted_at) > timedelta(days=rules.window_days):
        return None
    category_known = new.category is not None and old.category is not None
    if category_known and new.category != old.category:
        return None
    distance = None
    if new.located and old.located:
        distance = haversine_m(new.lat, new.lon, old.lat, old.lon)
        if distance > rules.radius_m:
            return None
        place_known = True
    elif new.kecamatan and old.kecamatan:
        if new.kecamatan != old.kecamatan:
            return None
        place_known = True
    else:
        place_known = False
    score = similarity(new.signature, old.signature)
    if score < rules.threshold(category_known, place_known):
        return None
    return Match(similarity=round(score, 3), distance_m=None if distance is None else round(distance, 1))


def fingerprint(title: str, description: str, submitted_at: datetime, category: str | None = None,
                lat: float | None = None, lon: float | None = None,
                kecamatan: str | None = None) -> Fingerprint:
    return Fingerprint(signature(f"{title}\n{description}"), submitted_at, category or None,
                       lat, lon, place_name(kecamatan))
