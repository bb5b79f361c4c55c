"""Duplicate detection: the rule on fingerprints (similar text, same category, same place, within
the window), informal rewordings, and the handler on routing's in-memory unit of work (pairs kept,
one event told, replays silent, a merge settles the pair)."""

import math
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from contracts.events import (
    TOPIC_OF, ComplaintMergedV1, ComplaintSubmittedV1, DuplicateCandidatesFoundV1, Location,
)
from contracts.topics import ROUTING_EVENTS
from routing.adapters.decisions import RoutingInMemoryUnitOfWork
from routing.domain.duplicates import (
    BANDS, DuplicateRules, Vicinity, compare as rule, fingerprint, haversine_m, signature,
    similarity, vicinity,
)
from routing.duplicate_handlers import detect_duplicates, main_category, mark_merged

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
RULES = DuplicateRules(jaccard=0.5, radius_m=300, window_days=7)
# Jl. Merdeka, Bandung, and points near and far from it.
HERE = (-6.9147, 107.6098)
NEAR = (-6.9160, 107.6105)          # ~165 m
FAR = (-6.9550, 107.6300)           # ~5 km

ROAD = ("Jalan berlubang di Jl. Merdeka",
        "Mhn diperbaiki, jalan berlubang besar di depan SDN 3 sdh dua minggu.")
ROAD_AGAIN = ("Jalan berlubang Jl Merdeka",
              "Mohon diperbaiki jalan yg berlubang besar depan SDN 3, sudah 2 minggu.")
RUBBISH = ("Sampah menumpuk di TPS",
           "Sampah di TPS dekat pasar tidak diangkut seminggu, bau busuk sekali.")


def fp(text, at=T0, category="pupr", where=HERE, kecamatan=None):
    lat, lon = where if where else (None, None)
    return fingerprint(*text, at, category, lat, lon, kecamatan)


def compare(new, old):
    return rule(new, old, RULES)


def test_the_same_text_reworded_nearby_within_days_is_a_candidate():
    found = compare(fp(ROAD_AGAIN, T0 + timedelta(days=3), where=NEAR), fp(ROAD))
    assert found is not None
    assert found.similarity >= 0.7
    assert 100 < found.distance_m < 200


def test_the_same_text_five_km_away_is_not():
    assert haversine_m(*HERE, *FAR) > 4000
    assert compare(fp(ROAD, where=FAR), fp(ROAD)) is None


def test_the_same_place_in_another_category_is_not():
    assert compare(fp(ROAD, category="lingkungan"), fp(ROAD, category="pupr")) is None


def test_different_text_at_the_same_place_is_not():
    assert similarity(signature(" ".join(ROAD)), signature(" ".join(RUBBISH))) < 0.2
    assert compare(fp(RUBBISH), fp(ROAD)) is None


def test_outside_the_window_is_not():
    assert compare(fp(ROAD_AGAIN, T0 + timedelta(days=8)), fp(ROAD)) is None
    assert compare(fp(ROAD_AGAIN, T0 + timedelta(days=6)), fp(ROAD)) is not None


def test_without_coordinates_the_same_kecamatan_is_the_same_place():
    a = fp(ROAD_AGAIN, where=None, kecamatan="Kecamatan Sumur  Bandung")
    b = fp(ROAD, where=HERE, kecamatan="sumur bandung")
    assert compare(a, b) is not None
    assert compare(a, fp(ROAD, where=None, kecamatan="Coblong")) is None


def test_informal_writing_of_the_same_complaint_is_a_candidate():
    informal = fp(("jln rusak parah dpn SDN 3", ""), where=NEAR)
    formal = fp(("jalan rusak parah di depan SDN 3", ""))
    assert compare(informal, formal) is not None
    stretched = fp(("Sampah numpuk di TPS pasar",
                    "sampah di tps dkt pasar gak diangkut udh seminggu, bau bgt"), category="lingkungan")
    assert compare(stretched, fp(RUBBISH, category="lingkungan")) is not None


def test_what_cannot_be_compared_asks_for_closer_text():
    assert RULES.threshold(True, True) == 0.5
    assert RULES.threshold(False, True) == pytest.approx(0.65)
    assert RULES.threshold(False, False) == pytest.approx(0.8)
    # Unknown category, no place at all: the same text still is; a loose rewording is not.
    same = fp(ROAD, category=None, where=None)
    assert compare(fp(ROAD, T0 + timedelta(hours=1), category=None, where=None), same) is not None
    loose = fp(("Lubang di Jl. Merdeka", "Ada jalan berlubang besar dekat SDN 3, bahaya bagi motor."),
               category=None, where=None)
    assert compare(loose, same) is None


def test_signatures_and_band_keys_are_stable_and_similar_texts_share_a_band():
    a, b = fp(ROAD), fp(ROAD_AGAIN)
    assert signature(" ".join(ROAD)) == signature(" ".join(ROAD))
    assert len(a.bands()) == BANDS and len(set(a.bands())) == BANDS
    assert set(a.bands()) & set(b.bands())
    assert not set(a.bands()) & set(fp(RUBBISH).bands())


def test_a_packed_signature_keeps_the_band_keys_and_estimate_of_its_values():
    """Signatures are packed (512 bytes) since migration 0010; complaints kept before, whose
    band keys came from the 128 values as integers, must still share bands with new ones, and
    the estimate is still the share of equal values."""
    import hashlib
    import struct

    def keys_of_values(values):     # how band keys were made from the values, before packing
        return [int.from_bytes(hashlib.blake2b(
            band.to_bytes(2, "big") + b"".join(int(v).to_bytes(8, "big")
                                               for v in values[band * 4:(band + 1) * 4]),
            digest_size=8).digest(), "big", signed=True) for band in range(BANDS)]

    packed = signature(" ".join(ROAD))
    values = struct.unpack(">128I", packed)
    assert len(packed) == 512
    assert fingerprint(*ROAD, T0).bands() == keys_of_values(values)
    nothing = struct.unpack(">128I", signature(""))      # no shingles: every value at its maximum
    assert set(nothing) == {2 ** 32 - 1}, "unsigned, all 32 bits"
    assert fingerprint("", "", T0).bands() == keys_of_values(nothing)
    other = signature(" ".join(ROAD_AGAIN))
    equal = sum(x == y for x, y in zip(values, struct.unpack(">128I", other)))
    assert 0 < equal < 128 and similarity(packed, other) == equal / 128
    assert similarity(packed, packed[:-4]) == 0.0 and similarity(b"", b"") == 0.0


def test_the_vicinity_admits_whatever_the_rule_could_accept():
    """The storage filter must never drop a pair the rule would keep: for earlier complaints of
    one text spread over categories, places (near the equator and far from it), kecamatan and
    missing parts, every one `compare` accepts is admitted; and the filter does drop some."""
    import random
    rnd = random.Random(7)
    categories = ["pupr", "lh", None]
    kecamatans = ["sumur bandung", "coblong", None]
    dropped = 0
    for centre in (HERE, (1.48, 124.84), (-45.0, 170.0), (60.2, 24.9), (-8.5, 179.999)):
        new = fp(ROAD, category=rnd.choice(categories[:2]), where=centre, kecamatan="coblong")
        near = vicinity(new, RULES)
        for _ in range(400):
            metres, bearing = rnd.uniform(0, 2 * RULES.radius_m), rnd.uniform(0, 360)
            dlat = metres * math.cos(math.radians(bearing)) / 111_195
            dlon = metres * math.sin(math.radians(bearing)) / (111_195 * math.cos(math.radians(centre[0])))
            where = rnd.choice([(centre[0] + dlat, centre[1] + dlon), None])
            old = fp(ROAD, at=T0 - timedelta(hours=1), category=rnd.choice(categories),
                     where=where, kecamatan=rnd.choice(kecamatans))
            admitted = near.admits(old.category, old.lat, old.lon, old.kecamatan)
            if rule(new, old, RULES) is not None:
                assert admitted, (centre, old)
            dropped += not admitted
    assert dropped > 500


def test_the_vicinity_drops_another_category_another_place_and_another_kecamatan():
    new = fp(ROAD, category="pupr", kecamatan="coblong")
    near = vicinity(new, RULES)
    assert near.admits("pupr", *NEAR, None) and near.admits(None, *NEAR, "lain")
    assert not near.admits("lh", *NEAR, None), "another main category"
    assert not near.admits("pupr", *FAR, "coblong"), "5 km away: the place beats the kecamatan"
    assert near.admits("pupr", None, None, "coblong") and near.admits("pupr", None, None, None)
    assert not near.admits("pupr", None, None, "sumur bandung"), "unlocated: by kecamatan"
    unlocated = vicinity(fp(ROAD, category=None, where=None), RULES)
    assert unlocated == Vicinity() and unlocated.admits("lh", *FAR, "coblong")


def test_main_category_comes_from_the_taxonomy_or_is_unknown():
    assert main_category("pupr.jalan-rusak") == "pupr"
    assert main_category("pupr") == "pupr"
    assert main_category("jalan rusak") is None and main_category(None) is None


# The handler on routing's in-memory unit of work.
SETTINGS = SimpleNamespace(duplicate_jaccard=0.5, duplicate_radius_m=300, duplicate_window_days=7,
                           duplicate_max_compared=100, duplicate_max_candidates=5)


def submitted(text, at, where=HERE, tn=None, jurisdiction="kota-bandung", category=None):
    return ComplaintSubmittedV1(
        complaint_id=uuid.uuid4(), occurred_at=at, tracking_number=tn or str(uuid.uuid4().int)[:8],
        jurisdiction=jurisdiction, channel="web", title=text[0], description=text[1],
        category=category,
        location=Location(lat=where[0], lon=where[1]) if where else None)


async def handle(uow, event, category=None):
    async with uow:
        await detect_duplicates(event, uow, SETTINGS, lambda: event.occurred_at, category=category)


async def test_the_handler_keeps_the_pair_and_tells_it_once():
    uow = RoutingInMemoryUnitOfWork()
    first = submitted(ROAD, T0, tn="1001")
    second = submitted(ROAD_AGAIN, T0 + timedelta(days=1), where=NEAR, tn="1002")
    elsewhere = submitted(ROAD_AGAIN, T0 + timedelta(days=1), tn="1003", jurisdiction="kota-makassar")
    await handle(uow, first)
    await handle(uow, elsewhere)
    assert uow.outbox.events == [], "nothing earlier: nothing to tell; other jurisdictions never match"
    await handle(uow, second, category="pupr.jalan-rusak")
    [told] = uow.outbox.events
    assert isinstance(told, DuplicateCandidatesFoundV1) and TOPIC_OF[type(told)] == ROUTING_EVENTS
    assert (told.complaint_id, told.tracking_number) == (second.complaint_id, "1002")
    [candidate] = told.candidates
    assert (candidate.complaint_id, candidate.tracking_number) == (first.complaint_id, "1001")
    assert candidate.similarity >= 0.65 and candidate.distance_m < 300
    assert candidate.submitted_at == T0

    await handle(uow, second)                       # a replay
    assert len(uow.outbox.events) == 1
    pairs, total = await uow.duplicates.listing("kota-bandung", "open", 10, 0)
    assert total == 1 and pairs[0].tracking_number == "1002"
    assert [p.id for p in await uow.duplicates.of_complaint("1001")] == [pairs[0].id]

    async with uow:
        await mark_merged(ComplaintMergedV1(
            complaint_id=second.complaint_id, occurred_at=T0 + timedelta(days=2),
            tracking_number="1002", jurisdiction="kota-bandung", action="merge",
            from_status="disposed", to_status="merged", actor_role="operator", actor="op-1",
            into_complaint_id=first.complaint_id, into_tracking_number="1001"), uow)
    [merged] = await uow.duplicates.of_complaint("1002")
    assert (merged.status, merged.decided_by) == ("merged", "op-1")


async def test_read_in_the_other_order_the_later_one_is_still_the_complaint():
    """Two submissions on different partitions reach routing in either order: the pair and
    what is told are about the later one, with the earlier as its candidate, either way."""
    uow = RoutingInMemoryUnitOfWork()
    first = submitted(ROAD, T0, tn="1001")
    second = submitted(ROAD_AGAIN, T0 + timedelta(minutes=1), where=NEAR, tn="1002")
    await handle(uow, second)
    await handle(uow, first)
    [told] = uow.outbox.events
    assert (told.complaint_id, told.tracking_number) == (second.complaint_id, "1002")
    assert [(c.complaint_id, c.submitted_at) for c in told.candidates] == [(first.complaint_id, T0)]
    [pair] = await uow.duplicates.of_complaint("1002")
    assert (pair.tracking_number, pair.candidate_tracking_number) == ("1002", "1001")


async def test_a_complaint_far_away_or_about_something_else_tells_nothing():
    uow = RoutingInMemoryUnitOfWork()
    await handle(uow, submitted(ROAD, T0))
    await handle(uow, submitted(ROAD_AGAIN, T0 + timedelta(hours=2), where=FAR))
    await handle(uow, submitted(RUBBISH, T0 + timedelta(hours=3)))
    await handle(uow, submitted(ROAD_AGAIN, T0 + timedelta(days=9)))
    assert uow.outbox.events == []


async def test_a_burst_of_copies_tells_only_the_closest_few_and_compares_a_bounded_number():
    """A campaign: 40 copies of one text. Each new copy is told with at most
    `duplicate_max_candidates` earlier ones (the most similar, then the newest), and no more than
    `duplicate_max_compared` earlier complaints are read for it, however long the burst."""
    settings = SimpleNamespace(**{**vars(SETTINGS), "duplicate_max_compared": 12,
                                  "duplicate_max_candidates": 3})
    uow = RoutingInMemoryUnitOfWork()
    read: list[int] = []
    looked_up = uow.duplicates.sharing_a_band

    async def counting(*args, **kwargs):
        found = await looked_up(*args, **kwargs)
        read.append(len(found))
        return found

    uow.duplicates.sharing_a_band = counting
    copies = [submitted(ROAD, T0 + timedelta(minutes=i), tn=str(5000 + i)) for i in range(40)]
    for event in copies:
        async with uow:
            await detect_duplicates(event, uow, settings, lambda: event.occurred_at)
    assert max(read) == 12 and read[:13] == list(range(13))
    told = uow.outbox.events
    assert len(told) == 39 and all(len(e.candidates) <= 3 for e in told)
    last = told[-1]
    assert [c.tracking_number for c in last.candidates] == ["5038", "5037", "5036"], \
        "identical copies: the newest earlier ones"
    _, total = await uow.duplicates.listing("kota-bandung", "open", 1, 0)
    assert total == 1 + 2 + 3 * 37
