"""The attachments table: the in-memory twin and PostgreSQL keep the same rows, list a
complaint's files oldest first, count them, find one only under its own complaint, and roll
back with the rest of the unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from backbone.pii import PiiCipher
from intake import handlers
from intake.adapters.uow import IntakeInMemoryUnitOfWork, IntakePgUnitOfWork
from intake.domain.attachments import Attachment
from intake.domain.tokens import AccessTokens
from intake.schemas import SubmitComplaintRequest
from tests.integration.helpers import twin_or_postgres

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CIPHER = PiiCipher(PiiCipher.new_key())


@pytest.fixture(params=["memory", "postgres"])
async def make_uow(request, pool, prefix):
    return await twin_or_postgres(request.param, pool, prefix, "intake", IntakeInMemoryUnitOfWork,
                                  lambda schema: IntakePgUnitOfWork(pool, CIPHER, prefix, schema))


async def complaint_id(make_uow) -> uuid.UUID:
    deps = handlers.SubmitDeps(clock=lambda: T0, cipher=CIPHER, tokens=AccessTokens(b"k" * 32),
                               default_jurisdiction="kota-contoh")
    body = {"title": "Sampah menumpuk", "anonymous": True,
            "description": "Sampah menumpuk di TPS pasar sudah seminggu tidak diangkut."}
    async with make_uow() as uow:
        receipt = await handlers.submit_complaint(
            SubmitComplaintRequest.model_validate(body).to_command(), uow, deps)
    return receipt.complaint.id


def attachment(cid: uuid.UUID, minutes: int, **fields) -> Attachment:
    values = dict(id=uuid.uuid4(), complaint_id=cid, sha256=f"{minutes:064x}",
                  content_type="image/jpeg", size=1000 + minutes,
                  uploaded_at=T0 + timedelta(minutes=minutes), uploaded_by_role="citizen",
                  uploaded_by="citizen")
    return Attachment(**(values | fields))


async def test_rows_survive_and_list_oldest_first(make_uow):
    cid = await complaint_id(make_uow)
    later = attachment(cid, 5, uploaded_by_role="opd", uploaded_by="dlh/s-1", note="sudah diangkut",
                       content_type="video/mp4", filename="bukti.mp4")
    first = attachment(cid, 1, history_action="submit")
    async with make_uow() as uow:
        await uow.attachments.add(later)
        await uow.attachments.add(first)
    async with make_uow() as uow:
        assert await uow.attachments.list_for(cid) == [first, later]
        assert await uow.attachments.count_for(cid) == 2
        assert await uow.attachments.get(cid, later.id) == later


async def test_an_attachment_is_found_only_under_its_own_complaint(make_uow):
    mine, other = await complaint_id(make_uow), await complaint_id(make_uow)
    row = attachment(mine, 1)
    async with make_uow() as uow:
        await uow.attachments.add(row)
    async with make_uow() as uow:
        assert await uow.attachments.get(other, row.id) is None
        assert await uow.attachments.list_for(other) == []
        assert await uow.attachments.count_for(other) == 0


async def test_a_rolled_back_unit_of_work_keeps_no_row(make_uow):
    cid = await complaint_id(make_uow)
    with pytest.raises(RuntimeError):
        async with make_uow() as uow:
            await uow.attachments.add(attachment(cid, 1))
            raise RuntimeError("the request failed after the row was written")
    async with make_uow() as uow:
        assert await uow.attachments.list_for(cid) == []
