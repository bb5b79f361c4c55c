"""intake's complaint repository: the in-memory twin and PostgreSQL behave alike for the whole
lifecycle (every mutable field survives a save and a load, the history keeps who, role, from
and details) and for the staff lists' filters, sorting and paging."""

from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from backbone.pii import PiiCipher
from contracts.lifecycle import Action, Role, Status
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork, IntakePgUnitOfWork
from intake.domain.actions import TakeAction
from intake.domain.actors import Actor
from intake.domain.queries import ComplaintQuery
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest
from tests.integration.helpers import read_ahead, twin_or_postgres

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())
OPERATOR = handlers.Caller(Actor(Role.OPERATOR, subject="op-1"))
PUPR = handlers.Caller(Actor(Role.OPD, subject="s-1", opd_id="dinas-pupr"))


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))


async def submit(make_uow, at: datetime, category: str | None = None) -> str:
    deps = handlers.SubmitDeps(clock=lambda: at, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                               default_jurisdiction="kota-contoh")
    body = {"title": "Jalan berlubang", "category": category,
            "description": "Jalan berlubang besar di depan sekolah, membahayakan.",
            "reporter": {"name": "Siti", "email": "siti@example.id"}}
    async with make_uow() as uow:
        receipt = await handlers.submit_complaint(
            SubmitComplaintRequest.model_validate(body).to_command(), uow, deps)
    return receipt.complaint.tracking_number


async def act(make_uow, tn: str, caller, action: Action, at: datetime, **fields):
    async with make_uow() as uow:
        return await handlers.take_action(tn, TakeAction(action, **fields), caller, uow, lambda: at)


async def test_the_lifecycle_survives_save_and_load(make_uow):
    tn = await submit(make_uow, T0)
    await act(make_uow, tn, OPERATOR, Action.ASSIGN, T0 + timedelta(minutes=1), opd_id="dinas-pupr",
              opd_name="Dinas PUPR")
    await act(make_uow, tn, PUPR, Action.REJECT_NOT_AUTHORITY, T0 + timedelta(minutes=2),
              reason="urusan DLH")
    await act(make_uow, tn, OPERATOR, Action.ASSIGN, T0 + timedelta(minutes=3), opd_id="dlh")
    dlh = handlers.Caller(Actor(Role.OPD, subject="s-2", opd_id="dlh"))
    await act(make_uow, tn, dlh, Action.RESOLVE, T0 + timedelta(minutes=4), evidence="diangkut")
    async with make_uow() as uow:
        stored = await uow.complaints.get_by_tracking_number(tn)
    assert stored.status is Status.RESOLVED and stored.assigned_opd_id == "dlh"
    assert stored.rejected_by == ["dinas-pupr"] and stored.reporter.name == "Siti"
    rejection = next(h for h in stored.history if h.action == "reject_not_authority")
    assert (rejection.actor_role, rejection.actor, rejection.from_status, rejection.status) == (
        "opd", "dinas-pupr/s-1", Status.DISPOSED, Status.RETURNED)
    assert rejection.details["rejected_by"] == ["dinas-pupr"]
    assert [h.action for h in stored.history] == [
        "submit", "assign", "reject_not_authority", "assign", "resolve"]


async def test_lists_filter_sort_and_page_alike(make_uow):
    numbers = [await submit(make_uow, T0 + timedelta(hours=i), category="jalan" if i % 2 else None)
               for i in range(5)]
    for tn in numbers[:3]:
        await act(make_uow, tn, OPERATOR, Action.ASSIGN, T0 + timedelta(days=1), opd_id="dinas-pupr")
    now = T0 + timedelta(days=2)
    async with make_uow() as uow:
        newest = await uow.complaints.search(ComplaintQuery(page_size=2), now)
        second = await uow.complaints.search(ComplaintQuery(page_size=2, page=2), now)
        queue = await uow.complaints.search(ComplaintQuery(opd_id="dinas-pupr", sort="oldest"), now)
        disposed = await uow.complaints.search(ComplaintQuery(statuses=(Status.DISPOSED,)), now)
        roads = await uow.complaints.search(ComplaintQuery(category="jalan"), now)
        window = await uow.complaints.search(ComplaintQuery(
            submitted_from=T0 + timedelta(hours=1), submitted_to=T0 + timedelta(hours=3)), now)
    tns = lambda found: [c.tracking_number for c in found]  # noqa: E731
    assert tns(newest) == [numbers[4], numbers[3], numbers[2]], "a page and one more"
    assert tns(second)[:2] == [numbers[2], numbers[1]]
    assert tns(queue) == numbers[:3] and tns(disposed) == tns(queue)[::-1]
    assert set(tns(roads)) == {numbers[1], numbers[3]}
    assert tns(window) == [numbers[2], numbers[1]]
    assert all(c.reporter is None and c.history == [] for c in newest), "a list decrypts nobody"


async def submit_body(make_uow, at: datetime, **body) -> str:
    deps = handlers.SubmitDeps(clock=lambda: at, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                               default_jurisdiction="kota-contoh")
    async with make_uow() as uow:
        receipt = await handlers.submit_complaint(
            SubmitComplaintRequest.model_validate(body).to_command(), uow, deps)
    return receipt.complaint.tracking_number


async def test_public_search_by_words_kecamatan_and_numbers_alike(make_uow):
    road = await submit_body(make_uow, T0, title="Jalan berlubang di Jl. Merdeka",
                             description="Lubang besar di depan SDN 3 membahayakan pengendara.",
                             location={"kecamatan": "Sumur Bandung"})
    trash = await submit_body(make_uow, T0 + timedelta(hours=1), title="Sampah menumpuk",
                              description="Sampah di pasar tidak diangkut selama seminggu, bau.",
                              location={"kecamatan": "Coblong"})
    secret = await submit_body(make_uow, T0 + timedelta(hours=2), title="Pungli di kantor jalan",
                               description="Petugas meminta uang untuk layanan jalan rusak.",
                               confidential=True, location={"kecamatan": "Coblong"})
    now = T0 + timedelta(days=1)

    async def found(**fields) -> list[str]:
        async with make_uow() as uow:
            return [c.tracking_number for c in await uow.complaints.search(ComplaintQuery(**fields), now)]

    assert await found(text="jalan", public=True) == [road], "rahasia never public"
    assert await found(text="jalan") == [secret, road], "staff lists see everything"
    assert await found(text="Lubang MEMBAHAYA") == [road], "words are case-free prefixes"
    assert await found(text="lubang sampah") == [], "every word required"
    assert await found(text="!!!") == [], "no words: nothing"
    assert await found(kecamatan="coblong", public=True) == [trash]
    assert await found(tracking_numbers=(road, secret), public=True) == [road]
    async with make_uow() as uow:
        stored = await uow.complaints.get_by_tracking_number(trash)
    assert stored.updated_at == T0 + timedelta(hours=1)
    await act(make_uow, trash, OPERATOR, Action.ASSIGN, T0 + timedelta(hours=5), opd_id="dlh")
    async with make_uow() as uow:
        listed = await uow.complaints.search(ComplaintQuery(tracking_numbers=(trash,)), now)
    assert listed[0].updated_at == T0 + timedelta(hours=5), "updated with its latest step"


async def test_a_batch_locks_its_complaints_at_once_and_writes_them_together(make_uow, pool):
    """A consumer batch about several complaints: its read ahead locks them all at once, with its inbox claim, and the
    changes of all, with their timelines, are written together on commit; a later read sees
    each as it was left, rejections included."""
    one, two = await submit(make_uow, T0), await submit(make_uow, T0)
    await act(make_uow, two, OPERATOR, Action.ASSIGN, T0 + timedelta(minutes=1),
              opd_id="dinas-pupr", opd_name="Dinas PUPR")
    await act(make_uow, two, PUPR, Action.REJECT_NOT_AUTHORITY, T0 + timedelta(minutes=2),
              reason="urusan DLH")
    async with make_uow() as uow:
        ids = [(await uow.complaints.get_by_tracking_number(tn)).id for tn in (one, two)]
    async with make_uow() as uow:
        await read_ahead(uow, uow.complaints.reads_ahead([*ids, ids[0]]))
        if isinstance(uow, IntakePgUnitOfWork):     # both rows are held for this transaction
            async with pool.acquire() as other:
                for complaint_id in ids:
                    with pytest.raises(asyncpg.LockNotAvailableError):
                        await other.execute(f"SELECT 1 FROM {uow.schema}.complaints WHERE id = $1"
                                            " FOR UPDATE NOWAIT", complaint_id)
        first, second = [await uow.complaints.get(i) for i in ids]
        first.take(TakeAction(Action.ASSIGN, opd_id="dlh", opd_name="DLH"),
                   Actor.system("routing"), T0 + timedelta(minutes=3))
        second.take(TakeAction(Action.ASSIGN, opd_id="dlh", opd_name="DLH"),
                    Actor.system("routing"), T0 + timedelta(minutes=3))
        await uow.complaints.save(first)
        await uow.complaints.save(second)
    async with make_uow() as uow:
        a = await uow.complaints.get_by_tracking_number(one)
        b = await uow.complaints.get_by_tracking_number(two)
    assert (a.status, a.assigned_opd_id, a.rejected_by) == (Status.DISPOSED, "dlh", [])
    assert (b.status, b.assigned_opd_id, b.rejected_by) == (Status.DISPOSED, "dlh", ["dinas-pupr"])
    assert [h.action for h in a.history] == ["submit", "assign"]
    assert [h.action for h in b.history] == ["submit", "assign", "reject_not_authority", "assign"]


async def test_tracking_numbers_come_in_blocks_and_each_is_handed_out_once(pool, prefix):
    """Two replicas, each taking blocks of 5 from the sequence, hand out 24 numbers between them
    at once: all different, and the sequence asked once per block (not per number), however
    many ask a replica at the same moment."""
    import asyncio

    from intake.adapters.repository import TrackingNumbers

    schema = prefix.rstrip(".")
    replicas = [TrackingNumbers(block=5), TrackingNumbers(block=5)]
    make = await twin_or_postgres("postgres", pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda s: IntakePgUnitOfWork(pool, CIPHER, prefix, s))
    async with make() as uow:
        first = int(await uow.complaints.next_tracking_number())

    async def take(numbers: TrackingNumbers) -> str:
        async with IntakePgUnitOfWork(pool, CIPHER, prefix, schema, numbers) as uow:
            return await uow.complaints.next_tracking_number()

    got = await asyncio.gather(*(take(replicas[i % 2]) for i in range(24)))
    assert len(set(got)) == 24 and all(int(n) > first for n in got)
    async with make() as uow:
        after = int(await uow.complaints.next_tracking_number())
    assert after == first + 2 * 3 * 5 + 1, "12 numbers per replica: 3 blocks of 5 each"


async def test_a_plain_submission_is_one_statement_all_or_nothing(pool, prefix):
    """A submission sends nothing before its commit, so the complaint, its first timeline entry
    and its outbox rows go in one statement with no BEGIN or COMMIT; one that fails (its
    tracking number taken) leaves none of them. A unit of work that reads first still runs in a
    transaction of its own."""
    import uuid

    from intake.adapters.repository import TrackingNumbers
    from intake.domain.complaint import Complaint

    schema = prefix.rstrip(".")
    await twin_or_postgres("postgres", pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                           lambda s: IntakePgUnitOfWork(pool, CIPHER, prefix, s))
    sent: list[str] = []

    def log(query) -> None:         # (asyncpg's own type lookups are logged too)
        sent.append(" ".join(query.query.split()))

    def writes() -> list[str]:
        return [q for q in sent if q.split()[0].upper().rstrip(";") in ("BEGIN", "COMMIT")
                or "INSERT INTO" in q]

    async def submitted(numbers=None, read_first=False) -> Complaint:
        sent.clear()
        async with IntakePgUnitOfWork(pool, CIPHER, prefix, schema, numbers) as uow:
            uow.conn.add_query_logger(log)     # stays with the pooled connection: harmless here
            if read_first:
                await uow.complaints.search(ComplaintQuery(), T0)
            complaint = Complaint.submit(
                id=uuid.uuid4(), tracking_number=await uow.complaints.next_tracking_number(),
                jurisdiction="kota-contoh", channel="web", title="Jalan berlubang",
                description="Jalan berlubang besar di depan sekolah.", category=None,
                location=None, anonymous=False, confidential=False, language="id",
                reporter=None, access_token_hash="ab" * 32, now=T0, sealed_contact="")
            await uow.complaints.add(complaint)
            for event in complaint.events:
                await uow.outbox.record(event)
        return complaint

    async def count(table: str) -> int:
        async with pool.acquire() as conn:
            return await conn.fetchval(f"SELECT count(*) FROM {schema}.{table}")

    first = await submitted(TrackingNumbers(block=5))
    [one] = writes()
    assert "INSERT INTO complaints" in one and "INSERT INTO complaint_history" in one \
        and "INSERT INTO outbox" in one, "one statement, no BEGIN or COMMIT"
    async with IntakePgUnitOfWork(pool, CIPHER, prefix, schema) as uow:
        stored = await uow.complaints.get(first.id)
    assert stored.tracking_number == first.tracking_number and len(stored.history) == 1
    outbox = await count("outbox")
    assert outbox == len(first.events) > 0

    class Taken:                    # hands out the first complaint's number again
        async def next(self, conn) -> str:
            return first.tracking_number

    with pytest.raises(asyncpg.UniqueViolationError):
        await submitted(Taken())
    assert len(writes()) == 1
    assert (await count("complaints"), await count("complaint_history"),
            await count("outbox")) == (1, 1, outbox), "none of the failed one is written"

    await submitted(TrackingNumbers(block=5), read_first=True)
    assert writes()[0] == "BEGIN;" and writes()[-1] == "COMMIT;", writes()
    assert (await count("complaints"), await count("outbox")) == (2, 2 * outbox)
