"""The public transparency view's rules: what citizens write about themselves is masked, a
rahasia report never shows, and the timeline names OPDs and roles, never a person."""

from datetime import datetime, timedelta, timezone

import pytest

from backbone.pii import PiiCipher
from contracts.lifecycle import Action, Role
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.public import REDACTED, matches_words, public_timeline, redact, search_words
from intake.domain.queries import ComplaintQuery
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
DEPS = handlers.SubmitDeps(clock=lambda: NOW, cipher=PiiCipher(PiiCipher.new_key()),
                           tokens=AccessTokens(b"s" * 32), default_jurisdiction="kota-contoh")


@pytest.mark.parametrize("written", [
    "hubungi saya di 0812-3456-7890 ya", "WA +62 812 3456 7890", "no hp 6281234567890.",
    "email siti.rahayu+lapor@example.co.id", "NIK 3273012345678901 saya",
    "hp:081234567890", "(0857)12345678",
])
def test_what_citizens_write_about_themselves_is_masked(written):
    masked = redact(written)
    assert REDACTED in masked
    assert "3456" not in masked and "example" not in masked and "3273" not in masked


@pytest.mark.parametrize("kept", [
    "Laporan 1000123 belum ditanggapi", "Jl. Merdeka No. 10, RT 03/RW 05",
    "sejak 12-11-2026 pukul 08.30", "biaya Rp 150.000", "SDN 3 Bandung, 2 minggu",
])
def test_ordinary_numbers_stay(kept):
    assert redact(kept) == kept


def test_search_words_are_what_the_database_splits():
    assert search_words("Jalan  RUSAK, di-depan sekolah!!") == ("jalan", "rusak", "di", "depan", "sekolah")
    assert search_words("a " * 20) == ("a",)
    assert matches_words(("jal", "sekol"), "Jalan rusak", "depan sekolah")
    assert not matches_words(("alan",), "Jalan rusak"), "prefixes, not substrings"


async def submit(uow, **fields) -> str:
    body = {"title": "Jalan berlubang", "description": "Jalan berlubang besar di depan sekolah.",
            "reporter": {"name": "Siti", "email": "siti@example.id"}, **fields}
    async with uow:
        receipt = await handlers.submit_complaint(
            SubmitComplaintRequest.model_validate(body).to_command(), uow, DEPS)
    return receipt.complaint.tracking_number


async def test_rahasia_is_neither_listed_nor_readable():
    uow = IntakeInMemoryUnitOfWork()
    open_tn = await submit(uow)
    secret_tn = await submit(uow, confidential=True)
    async with uow:
        listed = await handlers.list_public(ComplaintQuery(public=False), uow, lambda: NOW)
        with pytest.raises(handlers.NotFound):
            await handlers.read_public(secret_tn, uow)
        complaint, _ = await handlers.read_public(open_tn, uow)
    assert [c.tracking_number for c in listed] == [open_tn], "public forced, whatever was asked"
    assert complaint.tracking_number == open_tn


async def test_the_public_timeline_names_opds_and_roles_and_hides_citizens_words():
    uow = IntakeInMemoryUnitOfWork()
    tn = await submit(uow, anonymous=True)
    at = iter(NOW + timedelta(minutes=i) for i in range(1, 10))
    staff = handlers.Caller(Actor(Role.OPD, subject="budi.santoso", opd_id="dinas-pupr"))
    operator = handlers.Caller(Actor(Role.OPERATOR, subject="ani@kominfo"))
    async with uow:
        await handlers.take_action(tn, TakeAction(Action.ASSIGN, opd_id="dinas-pupr"), operator,
                                   uow, lambda: next(at))
    async with uow:
        await handlers.take_action(tn, TakeAction(
            Action.RESPOND, note="Sudah kami cek, hubungi petugas 0812-1111-2222."), staff, uow,
            lambda: next(at))
    async with uow:
        complaint, _ = await handlers.read_public(tn, uow)
    steps = public_timeline(complaint)
    assert [s.by for s in steps] == ["anonim", "operator", "dinas-pupr"]
    assert steps[0].note is None, "the citizen's words stay private"
    assert "0812" not in steps[-1].note and REDACTED in steps[-1].note
    assert all("budi" not in s.by and "ani" not in s.by for s in steps)
