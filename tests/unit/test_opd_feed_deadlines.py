"""sla's deadlines on OPD feeds: the OPD holding a complaint hears its own first-response and
resolution deadlines set and moved, warnings, breaches and escalations; the operators' own
verification clock, and notices for an OPD the complaint has left, reach no feed."""

from datetime import timedelta

import pytest

from contracts import events as ev
from tests.unit.test_opd_feed import DLH, PUPR, Feeds

pytestmark = pytest.mark.unit


def sla_fact(f: Feeds, model, clock="first_response", opd="dinas-pupr", **fields):
    f.at += timedelta(minutes=1)
    base = dict(complaint_id=f.cid, occurred_at=f.at, tracking_number="1000001", clock=clock,
                jurisdiction="kota-bandung", opd_id=opd, due_at=f.at + timedelta(days=5))
    return model(**{**base, **fields})


async def test_the_holding_opd_hears_its_deadlines_and_alerts():
    f = Feeds()
    await f.submit(anonymous=True)
    await f.dispose("dinas-pupr")
    await f.deliver(sla_fact(f, ev.SlaClockStartedV1, started_at=f.at, working_days=5,
                             timezone="Asia/Jakarta"))
    await f.deliver(sla_fact(f, ev.SlaWarningIssuedV1, threshold="elapsed:0.6",
                             elapsed_share=0.6, working_seconds_left=3600))
    await f.deliver(sla_fact(f, ev.SlaBreachedV1))
    await f.deliver(sla_fact(f, ev.SlaEscalatedV1, level="opd_head", step=2))
    await f.deliver(sla_fact(f, ev.SlaClockResumedV1, clock="resolution", reason="r"))
    notices = [e for e in f.on(PUPR) if isinstance(e, ev.OpdDeadlineNoticeV1)]
    assert [(n.notice, n.clock) for n in notices] == [
        ("deadline_set", "first_response"), ("warning", "first_response"),
        ("breach", "first_response"), ("escalation", "first_response"),
        ("deadline_moved", "resolution")]
    assert notices[1].threshold == "elapsed:0.6" and (notices[3].level, notices[3].step) == ("opd_head", 2)


async def test_no_notice_for_verification_or_for_an_opd_the_complaint_left():
    f = Feeds()
    await f.submit(anonymous=False)
    await f.deliver(sla_fact(f, ev.SlaBreachedV1, clock="verification", opd=None))
    await f.dispose("dinas-pupr")
    await f.dispose("dlh", previous="dinas-pupr", frm="disposed")
    await f.deliver(sla_fact(f, ev.SlaBreachedV1, opd="dinas-pupr"))      # a late alert
    assert not [e for e in f.on(PUPR) if isinstance(e, ev.OpdDeadlineNoticeV1)]
    assert not [e for e in f.on(DLH) if isinstance(e, ev.OpdDeadlineNoticeV1)]


async def test_the_verification_clock_reads_no_complaint():
    """Every complaint's verification clock starts and stops: the feed tells it from the fact
    alone, without reading the complaint (one query less per complaint)."""
    f = Feeds()
    await f.submit(anonymous=False)
    reads = []
    get = f.uow.complaints.get

    async def counting(complaint_id):
        reads.append(complaint_id)
        return await get(complaint_id)

    f.uow.complaints.get = counting
    await f.deliver(sla_fact(f, ev.SlaClockStartedV1, clock="verification", opd=None,
                             started_at=f.at, working_days=3, timezone="Asia/Jakarta"))
    assert reads == []
    await f.deliver(sla_fact(f, ev.SlaBreachedV1, opd="dinas-pupr"))
    assert reads == [f.cid], "an OPD's deadline still checks who holds the complaint"
