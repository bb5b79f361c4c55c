"""The platform phases: warm-up, throughput (closed loop) and paced latency (open loop).

Each phase submits complaints with addresses of its own, then waits (bounded) until every
accepted complaint's e-mail is in the catcher, so the next phase starts on an empty pipeline
and measures only itself. Latency of one complaint = catcher's received_at - its scheduled
submit time (for the closed loop, the moment its request went out).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench import load
from bench.complaints import reporter_email
from bench.footprint import Footprint
from bench.mailwatch import MailWatch
from bench.procs import CpuMeter
from bench.stats import rate, spread_ms
from contracts.lifecycle import Status

TRIAGE = Status.TRIAGE.value


@dataclass
class Context:
    intake_url: str
    watch: MailWatch
    meter: CpuMeter
    footprint: Footprint
    run_id: str
    stall_timeout: float  # give up waiting for e-mail after this long without a new one
    drain_timeout: float  # ... or after this long in total


async def warm_up(ctx: Context, count: int) -> dict:
    """A few complaints first: connections, consumer group joins and caches are then ready."""
    started = time.monotonic()
    emails = [reporter_email(ctx.run_id, "warmup", n) for n in range(count)]
    async with load.client(ctx.intake_url, 8) as api:
        subs = await load.closed_loop(api, emails, concurrency=4)
    missing, _ = await _wait_for_mail(ctx, [s for s in subs if s.accepted], 60, 120)
    return {"complaints": count, "accepted": sum(s.accepted for s in subs), "missing": len(missing),
            "seconds": round(time.monotonic() - started, 1)}


async def throughput(ctx: Context, complaints: int, concurrency: int) -> dict:
    emails = [reporter_email(ctx.run_id, "tput", n) for n in range(complaints)]
    before = await ctx.footprint.snapshot()
    ctx.meter.start()
    async with load.client(ctx.intake_url, concurrency) as api:
        subs = await load.closed_loop(api, emails, concurrency)
    result = await _outcome(ctx, subs)
    result.update(complaints=complaints, concurrency=concurrency,
                  per_complaint=await ctx.footprint.per_complaint(before, result["accepted"]))
    return result


async def paced(ctx: Context, per_second: float, duration: float) -> dict:
    ctx.meter.start()
    # Pool large enough for every request that can be in flight, so none waits client-side.
    async with load.client(ctx.intake_url, max(64, int(per_second * 10))) as api:
        subs, lag = await load.open_loop(
            api, lambda n: reporter_email(ctx.run_id, "paced", n), per_second, duration)
    result = await _outcome(ctx, subs)
    result.update(rate=per_second, duration=duration, offered=len(subs),
                  sender_worst_lag_ms=round(lag * 1000, 1))
    return result


TRIAGE_CHECK_S = 3.0   # without new mail this long, ask intake which complaints are in triage
TRIAGE_CHECK_MAX = 100  # ... if no more than this many are still waiting (a stall, not the end)


async def _wait_for_mail(ctx: Context, accepted: list[load.Submission], stall_timeout: float,
                         drain_timeout: float, on_progress: Callable[[], None] | None = None,
                         ) -> tuple[set[str], set[str]]:
    """Wait for each accepted complaint's assignment e-mail. A complaint routing was unsure of
    goes to triage and gets none until an operator assigns it, so it is not waited for (and not
    counted missing): whenever mail stops coming for a moment, intake is asked which of those
    still waiting are in triage. Returns (missing, in triage) addresses."""
    by_email = {s.email: s for s in accepted}
    triaged: set[str] = set()

    async def in_triage(waiting: set[str]) -> set[str]:
        if len(waiting) > TRIAGE_CHECK_MAX:
            return set()
        async with load.client(ctx.intake_url, 8) as api:
            status = await load.statuses(api, [by_email[e] for e in waiting])
        found = {e for e in waiting if status.get(e) == TRIAGE}
        triaged.update(found)
        return found

    missing = await ctx.watch.wait_for(by_email, stall_timeout, drain_timeout,
                                       on_progress=on_progress, excused=in_triage,
                                       ask_after=TRIAGE_CHECK_S)
    return missing, triaged


async def _outcome(ctx: Context, subs: list[load.Submission]) -> dict:
    """Wait for the e-mails of the accepted submissions, then compute the phase's numbers."""
    accepted = [s for s in subs if s.accepted]
    missing, triaged = await _wait_for_mail(ctx, accepted, ctx.stall_timeout, ctx.drain_timeout,
                                            on_progress=ctx.meter.mark)
    cpu = ctx.meter.stop()   # up to the last e-mail, not the waiting after it
    received = ctx.watch.received
    delivered = [s for s in accepted if s.email in received]
    first_submit = min((s.started for s in subs), default=0.0)
    last_answer = max((s.finished for s in subs), default=0.0)
    last_mail = max((received[s.email] for s in delivered), default=first_submit)
    errors = [s for s in subs if s.status is None]
    return {
        "accepted": len(accepted),
        "rejected": dict(Counter(str(s.status) for s in subs if s.status not in (None, 201))),
        "errors": len(errors),
        "first_error": errors[0].error if errors else None,
        # When failures happened (seconds into the phase) tells a burst at start-up from a
        # steady trickle, e.g. keep-alive connections closed by the server under load.
        "errors_at_s": [round(s.started - first_submit, 2) for s in errors[:20]],
        "submit_seconds": round(last_answer - first_submit, 3),
        "accepted_per_s": rate(len(accepted), last_answer - first_submit),
        "http_ms": spread_ms([s.http_seconds for s in accepted]),
        "delivered": len(delivered),
        "missing": len(missing),
        "in_triage": len(triaged),
        "e2e_seconds": round(last_mail - first_submit, 3),
        "e2e_per_s": rate(len(delivered), last_mail - first_submit),
        "submit_to_email_ms": spread_ms([received[s.email] - s.scheduled for s in delivered]),
        "accept_to_email_ms": spread_ms([received[s.email] - s.finished for s in delivered]),
        "cpu_percent": cpu,
    }

