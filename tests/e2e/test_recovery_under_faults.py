"""Nothing lost, nothing sent twice, under a steady stream of complaints while each part of the
platform is killed with kill -9 in turn and restarted alone: PostgreSQL, the Kafka broker, then
every service. No other part is restarted; the platform must heal by itself. Then the same
stream while PostgreSQL and the broker hang in turn (SIGSTOP, then SIGCONT), as behind a
partition that drops packets instead of refusing them.

Runs on a private stack (its own Kafka, PostgreSQL and mail catcher), since it kills them. The
load is a well-behaved front end: each complaint carries an Idempotency-Key and is retried with
it while intake answers 503 or cannot be reached. A complaint is accepted when intake answered
201; every accepted one must reach its citizen exactly once (one Message-ID; a kill of notify
between sending and settling may repeat that one message with the same Message-ID, which a
mail system drops).
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from devstack.kafka import REPO_ROOT
from devstack.stack import SERVICES, Stack, StackConfig, http_ok, wait_until
from notify.config import NotifySettings
from tests.e2e.journey import COMPLAINTS

RATE = 8.0                      # complaints per second offered, as in the field report
FAULTS = ("postgres", "kafka", *SERVICES)
HANGS = ("postgres", "kafka")   # SIGSTOP: nothing refused, nothing answered
HUNG_SECONDS = 20
REPLICATED = ("routing", "sla", "notify")


@dataclass
class Load:
    """Citizens of a front end submitting at a steady rate, each in a thread of its own, each
    retrying with the same key while intake is away (as a front end's outbox would)."""

    api_url: str
    accepted: dict[str, dict] = field(default_factory=dict)   # email -> receipt
    unavailable: int = 0         # 503 answers (with Retry-After) and refused connections
    server_errors: int = 0       # anything else 5xx: must stay 0
    unexpected: list = field(default_factory=list)   # (status, body) of each: what to fix
    submitted: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.api_url, timeout=10) as client, \
                ThreadPoolExecutor(max_workers=128, thread_name_prefix="citizen") as citizens:
            n, next_at = 0, time.monotonic()
            while not self._stop.is_set():
                next_at += 1 / RATE
                citizens.submit(self._submit_one, client, n)
                self.submitted += 1
                n += 1
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _submit_one(self, client: httpx.Client, n: int) -> None:
        title, description = COMPLAINTS[n % len(COMPLAINTS)]
        email = f"chaos-{n}-{uuid.uuid4().hex[:6]}@example.id"
        body = {"title": title, "description": description, "reporter": {"email": email}}
        headers = {"Idempotency-Key": f"chaos-{uuid.uuid4()}"}
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                response = client.post("/v1/complaints", json=body, headers=headers)
            except httpx.TransportError:
                self.unavailable += 1
                self._stop.wait(0.5)
                continue
            if response.status_code == 201:
                self.accepted[email] = response.json()
                return
            if response.status_code == 503:
                assert response.headers.get("Retry-After"), "503 says when to retry"
                self.unavailable += 1
            else:
                self.server_errors += 1
                self.unexpected.append((response.status_code, response.text[:300]))
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture(scope="module")
def stack():
    home = REPO_ROOT / "var" / f"chaos-{uuid.uuid4().hex[:8]}"
    config = StackConfig.private(home, prefix="chaos.")
    config.extra_env = {"RELAY_POLL_INTERVAL": "0.5", "DISPATCH_POLL_INTERVAL": "0.5",
                        "DISPATCH_LEASE_SECONDS": "20",
                        "RATE_LIMIT_PER_CLIENT": "100000/minute"}  # one load generator
    s = Stack(config)
    try:
        s.up()
        yield s
    finally:
        s.down()
        shutil.rmtree(home, ignore_errors=True)


def all_ready(stack: Stack) -> bool:
    return all(http_ok(f"{stack.service_url(name)}/readyz") for name in SERVICES)


def some_not_ready(stack: Stack) -> bool:
    for name in SERVICES:
        try:
            if not http_ok(f"{stack.service_url(name)}/readyz"):
                return True
        except Exception:  # refused or 503: not ready
            return True
    return False


def test_every_accepted_complaint_reaches_its_citizen_exactly_once_through_kill_9(stack):
    recovery: dict[str, float] = {}
    killed_at: dict[str, str] = {}   # ISO UTC, comparable with the catcher's received_at
    with _running(Load(stack.service_url("intake"))) as load:
        for part in FAULTS:
            before = load.submitted
            killed_at[part] = _utc_now()
            stack.kill(part)
            # The outage lasts while the front end offers a few more complaints.
            wait_until(lambda: load.submitted >= before + 16, 60, f"load during the {part} outage")
            if part in ("postgres", "kafka"):
                wait_until(lambda: some_not_ready(stack), 30, f"readiness reflects the {part} outage")
            restarted = time.monotonic()
            stack.restart(part)
            recovery[part] = _healed(stack, load, part, restarted)

    _assert_told_once_each(stack, load, recovery, killed_at=killed_at["notify"])


def test_a_hung_database_or_broker_heals_once_it_answers_again(stack):
    """SIGSTOP rather than kill: a partition that drops packets, or a hung host. Connections
    stay open and nothing answers, so no client sees a reset; each must notice by its own
    timeouts (commands, pool, requests, the group's session), say so on /readyz, and carry on
    where it stopped once the part answers again, with nothing lost or sent twice."""
    recovery: dict[str, float] = {}
    with _running(Load(stack.service_url("intake"))) as load:
        for part in HANGS:
            before = load.submitted
            frozen = stack.freeze(part)
            try:
                wait_until(lambda: some_not_ready(stack), 30, f"readiness reflects the hung {part}")
                # Hung past the longest client timeout (a database command's 15 s), while
                # the front end offers complaints all along.
                wait_until(lambda: load.submitted >= before + int(RATE * HUNG_SECONDS), 60,
                           f"load while {part} hangs")
            finally:
                stack.thaw(frozen)
            recovery[part] = _healed(stack, load, part, time.monotonic())

    # A send whose settling hung with the database may go again when its lease ends.
    _assert_told_once_each(stack, load, recovery)


def test_with_two_replicas_the_survivor_of_a_kill_carries_on_alone(stack):
    """The manifests run two replicas of each service. kill -9 one of routing, sla and notify
    each under the stream, restart none: the other replica takes over the dead one's partitions
    (after the group's session timeout) and its leased deliveries (after the lease), and every
    accepted complaint still reaches its citizen once."""
    replicas = [stack.start_replica(name) for name in REPLICATED]
    try:
        with _running(Load(stack.service_url("intake"))) as load:
            killed_at = _utc_now()
            for name in REPLICATED:
                stack.kill(name)
            before = load.submitted
            # Past the session timeout (15 s), so the partitions move while complaints arrive.
            wait_until(lambda: load.submitted >= before + int(RATE * 25), 60, "load after the kills")
            wait_until(lambda: all(http_ok(f"{stack.service_url(r)}/readyz") for r in replicas),
                       30, "the surviving replicas ready")
        _assert_told_once_each(stack, load, {}, killed_at=killed_at)
    finally:   # leave the module's stack as it found it: one replica each
        for name, replica in zip(REPLICATED, replicas):
            stack.stop_service(replica)
            stack.start_service(name)


@contextlib.contextmanager
def _running(load: Load) -> Iterator[Load]:
    """The front end's stream, from 20 accepted complaints on until the block ends."""
    worker = threading.Thread(target=load.run, name="load", daemon=True)
    worker.start()
    try:
        wait_until(lambda: len(load.accepted) >= 20, 60, "load running")
        yield load
    finally:
        load.stop()
        worker.join(timeout=30)


def _healed(stack: Stack, load: Load, part: str, since: float) -> float:
    """Seconds from `since` (the part back) until every service is ready and intake accepts
    again."""
    wait_until(lambda: all_ready(stack), 90, f"every service ready after {part}")
    count = len(load.accepted)
    wait_until(lambda: len(load.accepted) >= count + 4, 60, f"accepting after {part}")
    return time.monotonic() - since


def _assert_told_once_each(stack: Stack, load: Load, recovery: dict[str, float],
                           killed_at: str | None = None) -> None:
    """No outage answered other than 503 with Retry-After; every accepted complaint's citizen
    was told where it went (waited for), with one Message-ID and the right tracking number.
    A repeat is a send caught between sending and settling (a kill of notify at `killed_at`:
    its first copy arrived before, the next after; or a database that hung under the settle),
    and there are no more of them than notify has sends in flight."""
    accepted = dict(load.accepted)
    assert load.server_errors == 0, f"outages answer 503 with Retry-After, never {load.unexpected}"
    assert len(accepted) >= 150
    mail = httpx.Client(base_url=stack.mail_url, timeout=30)
    started = time.monotonic()

    def routed_mail() -> list[dict]:
        """The message saying where each complaint went (each also gets a receipt at once)."""
        return [m for m in mail.get("/api/messages").json()
                if m["headers"].get("X-Lapor-Template") == "complaint_assigned"]

    def delivered() -> list[dict] | None:
        messages = routed_mail()
        ours = [m for m in messages if m["rcpt_tos"][0] in accepted]
        return messages if {m["rcpt_tos"][0] for m in ours} >= set(accepted) else None

    try:
        messages = wait_until(delivered, 240, "every accepted complaint's e-mail")
    except TimeoutError:
        messages = routed_mail()
        missing = set(accepted) - {m["rcpt_tos"][0] for m in messages}
        raise AssertionError(f"{len(missing)} of {len(accepted)} citizens never told; "
                             f"recovery times {recovery}") from None
    drained = time.monotonic() - started
    print(f"\nrecovery (s): { {k: round(v, 1) for k, v in recovery.items()} }; "
          f"backlog drained {drained:.1f}s after the load stopped; {len(accepted)} complaints, "
          f"{load.unavailable} unavailable answers")

    ours = [m for m in messages if m["rcpt_tos"][0] in accepted]
    ids: dict[str, set[str]] = {}
    for m in ours:
        ids.setdefault(m["rcpt_tos"][0], set()).add(m["headers"]["Message-ID"])
        assert m["headers"]["X-Lapor-Tracking-Number"] == accepted[m["rcpt_tos"][0]]["tracking_number"]
    assert all(len(v) == 1 for v in ids.values()), "one message per complaint, one Message-ID"
    per_citizen = Counter(m["rcpt_tos"][0] for m in ours)
    repeated = [email for email, n in per_citizen.items() if n > 1]
    if killed_at is not None:
        for email in repeated:
            times = sorted(m["received_at"] for m in ours if m["rcpt_tos"][0] == email)
            assert times[0] < killed_at < times[-1], \
                f"{email} was sent again ({times}) though notify was killed at {killed_at}"
    repeats = sum(per_citizen[email] - 1 for email in repeated)
    assert repeats <= NotifySettings.model_fields["dispatch_concurrency"].default, \
        f"{repeats} repeated sends: more than notify's sends in flight"


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
