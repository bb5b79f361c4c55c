"""intake's Open311 store keeps one contract on the in-memory twin and on PostgreSQL: API keys
by digest (revoked ones no longer found), the Open311 extras of a request and its token, and
the public history read as updates (rahasia complaints never in it), and a front end's retry
with an Idempotency-Key answered from what the first POST stored."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.pii import PiiCipher
from contracts.lifecycle import Action, Role
from intake import handlers
from intake.adapters.open311 import ApiKey, Open311Request
from intake.adapters.uow import IntakeInMemoryUnitOfWork, IntakePgUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.commands import SubmitComplaint
from intake.domain.tokens import AccessTokens
from tests.integration.helpers import twin_or_postgres

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
DEPS = handlers.SubmitDeps(clock=lambda: T0, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                           default_jurisdiction="kota-contoh")


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))


def _key(name="fms") -> ApiKey:
    return ApiKey(id=uuid.uuid4(), name=name, key_sha256=uuid.uuid4().hex, created_at=T0)


async def test_keys_are_found_by_digest_until_revoked(make_uow):
    key = _key()
    async with make_uow() as uow:
        await uow.open311.add_key(key)
    async with make_uow() as uow:
        assert await uow.open311.key_by_digest(key.key_sha256) == key
        assert key in await uow.open311.list_keys()
        assert await uow.open311.revoke_key(key.id, T0 + timedelta(hours=1))
        assert not await uow.open311.revoke_key(uuid.uuid4(), T0)
    async with make_uow() as uow:
        assert await uow.open311.key_by_digest(key.key_sha256) is None
        [listed] = [k for k in await uow.open311.list_keys() if k.id == key.id]
        assert listed.revoked_at == T0 + timedelta(hours=1)


async def _submit(uow, key: ApiKey, confidential=False, idempotency_key=None, size="besar"):
    token = uuid.uuid4().hex
    receipt = await handlers.submit_open311(SubmitComplaint(
        title="Jalan berlubang", description="Jalan berlubang besar di depan sekolah.",
        category="pupr.jalan-rusak", channel="open311", confidential=confidential), Open311Request(
        complaint_id=uuid.UUID(int=0), api_key_id=key.id, token=token, created_at=T0,
        attributes={"ukuran": size}, media_url="https://fms.example/1.jpg", address_id="A-1"),
        uow, DEPS, idempotency_key)
    return receipt.complaint, receipt.token


async def test_a_request_keeps_its_extras_and_token_and_history_reads_as_updates(make_uow):
    key = _key()
    async with make_uow() as uow:
        await uow.open311.add_key(key)
        public, token = await _submit(uow, key)
        secret, _ = await _submit(uow, key, confidential=True)
    async with make_uow() as uow:
        extra = await uow.open311.request_for(public.id)
        assert (extra.api_key_id, extra.attributes, extra.address_id) == (key.id, {"ukuran": "besar"}, "A-1")
        assert await uow.open311.tracking_number_for_token(token) == public.tracking_number
        assert await uow.open311.tracking_number_for_token("nope") is None
        assert set(await uow.open311.requests_for([public.id, secret.id, uuid.uuid4()])) == {public.id, secret.id}
        await handlers._apply_system(uow, public.id, TakeAction(Action.ASSIGN, opd_id="dinas-pupr"),
                                     "routing", T0 + timedelta(minutes=1))
    async with make_uow() as uow:
        rows = await uow.open311.history(actions=("submit", "assign"), start=T0, end=None,
                                         jurisdiction="kota-contoh", limit=100)
        mine = [r for r in rows if r.complaint_id in (public.id, secret.id)]
        assert [(r.tracking_number, r.action) for r in mine] == [
            (public.tracking_number, "submit"), (public.tracking_number, "assign")]
        assert mine[0].update_id < mine[1].update_id
        assert await uow.open311.last_update_id(public.id) == mine[1].update_id
        latest = await uow.open311.latest_history([public.id, secret.id], ("assign",))
        assert set(latest) == {public.id} and latest[public.id].action == "assign"
        assert await uow.open311.history(actions=("assign",), start=T0 + timedelta(minutes=2),
                                         end=None, jurisdiction=None, limit=100) == []


async def test_a_citizens_update_answers_the_id_of_the_entry_it_wrote(make_uow):
    """The update_id a front end gets back is the citizen's own new entry, newer than every
    earlier one, not the entry before it (the change is written before the id is read)."""
    key = _key()
    async with make_uow() as uow:
        await uow.open311.add_key(key)
        public, _ = await _submit(uow, key)
        await handlers._apply_system(uow, public.id, TakeAction(Action.ASSIGN, opd_id="dinas-pupr"),
                                     "routing", T0 + timedelta(minutes=1))
    pupr = handlers.Caller(Actor(Role.OPD, subject="s-1", opd_id="dinas-pupr"))
    async with make_uow() as uow:
        await handlers.take_action(public.tracking_number, TakeAction(Action.RESPOND, note="Ditinjau."),
                                   pupr, uow, lambda: T0 + timedelta(minutes=2))
    async with make_uow() as uow:
        before = await uow.open311.last_update_id(public.id)
    async with make_uow() as uow:
        _, update_id = await handlers.post_open311_update(
            public.tracking_number, key.id,
            TakeAction(Action.CITIZEN_REPLY, note="Lubangnya makin besar."), uow,
            lambda: T0 + timedelta(minutes=3))
    async with make_uow() as uow:
        assert update_id > before
        assert update_id == await uow.open311.last_update_id(public.id)


async def test_a_retry_with_an_idempotency_key_is_answered_from_the_first_request(make_uow):
    fms, other = _key(), _key("lapor-app")
    async with make_uow() as uow:
        await uow.open311.add_key(fms)
        await uow.open311.add_key(other)
    async with make_uow() as uow:
        first, token = await _submit(uow, fms, idempotency_key="fms-report-1")
    async with make_uow() as uow:
        again, token_again = await _submit(uow, fms, idempotency_key="fms-report-1")
        assert (again.id, token_again) == (first.id, token)
        with pytest.raises(handlers.IdempotencyKeyReused):
            await _submit(uow, fms, idempotency_key="fms-report-1", size="kecil")
    async with make_uow() as uow:
        theirs, _ = await _submit(uow, other, idempotency_key="fms-report-1")
        plain, _ = await _submit(uow, fms, idempotency_key="fms-report-1-different")
    assert len({first.id, theirs.id, plain.id}) == 3
    async with make_uow() as uow:
        assert (await uow.open311.request_for(first.id)).token == token
        assert await uow.open311.tracking_number_for_token(token) == first.tracking_number
