"""notify alone, per channel: deliveries per second and the lag from the event to the message
at its sink (e-mail at the mail catcher; SMS at the Twilio look-alike; WhatsApp at the generic
gateway; webhooks at the signature-checking receiver).

Run from `python -m bench` on its stack (notify wired to the local sinks, quiet hours off). For
each channel, --per-channel complaints are made known to notify straight on its topics (the
submission and the sealed contact, shaped so the routed message goes to that channel alone),
then their dispositions are produced in one burst: each owes one `complaint_assigned` message
on that channel. The clock starts when the burst is on the broker; a channel's rate is its
messages over the time to its last one; the lag is sink arrival minus the disposition's
instant (p50/p90/p99/max). Intake, routing and sla are stopped first: these complaints are
unknown to them, and notify is what is measured (this phase comes last among the platform's).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from backbone.pii import PiiCipher
from bench.stats import rate, spread_ms
from contracts import topics
from contracts.envelope import to_record, wrap
from contracts.events import CitizenContactProvidedV2, ComplaintDisposedV1, ComplaintSubmittedV1

CHANNELS = ("email", "sms", "whatsapp", "webhook")
_TRACKING = re.compile(r"\b9[0-9]{10}\b")


def _events(channel: str, n: int, run: str, cipher: PiiCipher, frontend: str):
    """(the profile and contact, the disposition) for one complaint of `channel`."""
    cid, tn = uuid.uuid4(), f"9{abs(hash((run, channel, n))) % 10**10:010d}"
    email = f"bench-{run}-{n}@example.id" if channel == "email" else None
    phone = f"+62819{n:07d}" if channel in ("sms", "whatsapp") else None
    now = datetime.now(timezone.utc)
    submitted = ComplaintSubmittedV1(
        complaint_id=cid, occurred_at=now, tracking_number=tn, jurisdiction="kota-bandung",
        channel=channel if channel in ("sms", "whatsapp") else "web", title="Bench",
        description="Sampah menumpuk di TPS.", frontend=frontend if channel == "webhook" else None)
    contact = CitizenContactProvidedV2(
        complaint_id=cid, occurred_at=now, tracking_number=tn, has_email=bool(email),
        has_phone=bool(phone), sealed_contact=cipher.seal({"name": None, "email": email,
                                                            "phone": phone}).decode())
    return (submitted, contact), lambda at: ComplaintDisposedV1(
        complaint_id=cid, occurred_at=at, tracking_number=tn, jurisdiction="kota-bandung",
        action="assign", from_status="submitted", to_status="disposed", actor_role="system",
        opd_id="dlh", opd_name="Dinas Lingkungan Hidup")


async def _produce(producer: AIOKafkaProducer, prefix: str, events) -> None:
    futures = []
    for event in events:
        topic = topics.INTAKE_CONTACTS if isinstance(event, CitizenContactProvidedV2) else topics.INTAKE_EVENTS
        key, value, headers = to_record(wrap(event, "/bench"))
        futures.append(await producer.send(topic.name(prefix), value=value, key=key, headers=headers))
    await asyncio.gather(*futures)


async def _arrivals(sinks: httpx.AsyncClient, mail: httpx.AsyncClient, frontend: str,
                    wanted: dict[str, set[str]], seen: dict[str, int],
                    out: dict[str, dict[str, float]]) -> None:
    """Adds what arrived since the last call to `out` (channel -> tracking number -> arrival,
    epoch s) and moves `seen` on, so each record is read once (the sinks and the catcher are
    part of the machine being measured)."""
    def at(text: str) -> float:
        return datetime.fromisoformat(text).timestamp()

    msgs = (await mail.get("/api/messages", params={"since": seen["mail"], "limit": 5000})).json()
    seen["mail"] = msgs[-1]["id"] if msgs else seen["mail"]
    for m in msgs:
        tn = m["headers"].get("X-Lapor-Tracking-Number")
        if m["headers"].get("X-Lapor-Template") == "complaint_assigned" and tn in wanted["email"]:
            out["email"].setdefault(tn, at(m["received_at"]))
    records = (await sinks.get("/api/messages", params={"since": seen["sinks"], "limit": 5000})).json()
    seen["sinks"] += len(records)
    for r in records:
        if not r.get("accepted"):
            continue
        if r["target"] == "twilio":
            channel = "whatsapp" if r.get("channel") == "whatsapp" else "sms"
        elif r["target"] == "gateway":
            channel = r.get("channel") or "sms"
        elif r["target"] == f"webhooks.{frontend}" and (r.get("payload") or {}).get("type") == "complaint.assigned":
            channel = "webhook"
        else:
            continue
        text = r.get("text") or ""
        tn = (r.get("payload") or {}).get("data", {}).get("tracking_number") if channel == "webhook" \
            else _TRACKING.search(text).group(0) if _TRACKING.search(text) else None
        if tn in wanted[channel]:
            out[channel].setdefault(tn, at(r["received_at"]))


async def _owed_lag(stack, burst_at: datetime) -> dict[str, float]:
    """How long the consumer took to turn each disposition into its delivery row: the part of
    the lag before the dispatcher could send."""
    schema = f"{stack.c.topic_prefix.replace('.', '_').replace('-', '_')}notify"
    conn = await asyncpg.connect(stack.dsn)
    try:
        rows = await conn.fetch(
            f"SELECT EXTRACT(EPOCH FROM created_at - fact_at) AS s FROM {schema}.deliveries"
            " WHERE template = 'complaint_assigned' AND fact_at >= $1", burst_at)
    finally:
        await conn.close()
    return spread_ms([float(r["s"]) for r in rows])


async def run(stack, per_channel: int, say: Callable[[str], None], timeout: float = 300) -> dict:
    for name in ("intake", "routing", "sla"):
        stack.stop_service(name)
    run_id = uuid.uuid4().hex[:6]
    cipher = PiiCipher(stack.pii_key())
    frontend = f"bench-{run_id}"
    operator = {"Authorization": f"Bearer {stack.staff_token('operator', subject='bench')}"}
    async with httpx.AsyncClient(base_url=stack.service_url("notify"), timeout=30) as notify, \
            httpx.AsyncClient(base_url=stack.sinks_url, timeout=60) as sinks, \
            httpx.AsyncClient(base_url=stack.mail_url, timeout=60) as mail:
        hook = (await notify.post("/v1/webhooks", headers=operator, json={
            "frontend": frontend, "url": f"{stack.sinks_url}/webhooks/{frontend}"})).raise_for_status().json()
        (await sinks.put(f"/api/webhook-secrets/{frontend}", json={"secret": hook["secret"]})).raise_for_status()
        seen = {"mail": (await mail.get("/api/stats")).json()["last_id"] or 0,
                "sinks": (await sinks.get("/api/stats")).json()["count"]}
        made = {c: [_events(c, n, run_id, cipher, frontend) for n in range(per_channel)] for c in CHANNELS}
        wanted = {c: {pair[0][0].tracking_number for pair in made[c]} for c in CHANNELS}
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{stack.c.kafka_port}", linger_ms=5)
        await producer.start()
        try:
            await _produce(producer, stack.c.topic_prefix,
                           [e for c in CHANNELS for (first, _) in made[c] for e in first])
            burst_at = datetime.now(timezone.utc)
            await _produce(producer, stack.c.topic_prefix,
                           [later(burst_at) for c in CHANNELS for (_, later) in made[c]])
        finally:
            await producer.stop()
        started = burst_at.timestamp()
        deadline = time.monotonic() + timeout
        arrivals: dict[str, dict[str, float]] = {c: {} for c in CHANNELS}
        while time.monotonic() < deadline:
            await _arrivals(sinks, mail, frontend, wanted, seen, arrivals)
            if all(len(arrivals[c]) >= per_channel for c in CHANNELS):
                break
            await asyncio.sleep(0.5)
    results = {"owed_lag_ms": await _owed_lag(stack, burst_at)}
    for c in CHANNELS:
        times = sorted(arrivals[c].values())
        results[c] = {"messages": len(times), "of": per_channel,
                      "per_second": rate(len(times), (times[-1] - started) if times else 0),
                      "lag_ms": spread_ms([t - started for t in times])}
    total = sum(len(arrivals[c]) for c in CHANNELS)
    last = max((max(v.values()) for v in arrivals.values() if v), default=started)
    results["all"] = {"messages": total, "per_second": rate(total, last - started)}
    say("\nnotify deliveries (one burst of dispositions, each owing one message):")
    say(f"  {'channel':<9} {'messages':>9} {'per s':>8}   event->delivery ms (p50 p90 p99 max)")
    for c in CHANNELS:
        r = results[c]
        lag = r["lag_ms"]
        say(f"  {c:<9} {r['messages']:>5}/{r['of']:<4}{r['per_second']:>8}   "
            f"{lag['p50']:.0f} {lag['p90']:.0f} {lag['p99']:.0f} {lag['max']:.0f}")
    say(f"  all       {total:>9} {results['all']['per_second']:>8}")
    owed = results["owed_lag_ms"]
    say(f"  owed (consumer: event -> delivery row) ms: p50 {owed['p50']:.0f} p90 {owed['p90']:.0f}"
        f" p99 {owed['p99']:.0f} max {owed['max']:.0f}")
    return results
