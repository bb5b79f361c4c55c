"""The web console in a real headless Chromium against the real platform (Kafka, PostgreSQL,
the four services and the console as `make run` starts them): an operator signs in and decides a
triage item, which moves; an OPD member answers a complaint from their queue and the citizen's
timeline shows it; a missed deadline appears live on an open page; an OPD member cannot open
another OPD's complaint. Each test leaves screenshots of the pages it saw in
var/screenshots/console/."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from aiokafka import AIOKafkaProducer
from playwright.sync_api import expect, sync_playwright

from contracts import topics
from contracts.envelope import to_record, wrap
from contracts.events import ComplaintSubmittedV1
from devstack.stack import CONSOLE, wait_until
from tests.e2e.browser import FLAGS, chromium_path, shoot
from tests.e2e.journey import submit
from tests.e2e.test_lifecycle import DLH, PUPR, ROAD, citizen, staff, wait_status

pytestmark = pytest.mark.e2e
UNSURE = ("Mohon ditindaklanjuti", "Sudah lama dibiarkan begitu saja di dekat rumah kami.")
WAIT_MS = 30_000
# Playwright's assertions wait 5 s unless told otherwise: too short on a busy 2-core CI machine
# (a cold console, sla's stream getting ready). Every wait here is bounded by this instead.
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def console(platform):
    platform.start_service(CONSOLE)
    try:
        platform.wait_service(CONSOLE)
        yield platform.service_url(CONSOLE)
    finally:
        platform.stop_service(CONSOLE)


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, console):
    context = chromium.new_context(base_url=console, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page, role: str, opd: str | None = None, shot: str | None = None) -> str:
    """The dev sign-in page, with the keyboard as far as a form goes."""
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    if shot:
        shoot(page, shot)
    page.fill("#name", name)
    page.check(f"input[name=role][value={role}]")
    if opd:
        page.select_option("#opd", opd)
    page.press("#name", "Enter")
    expect(page).to_have_url(re.compile("/triage" if role == "operator" else "/queue"))
    return name


def publish_late_report(platform) -> ComplaintSubmittedV1:
    """A report a channel delivered ten days late: its verification deadline is long past, so
    sla breaches it (and escalates) as soon as it hears of it."""
    late = ComplaintSubmittedV1(
        complaint_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc) - timedelta(days=10),
        tracking_number=str(uuid.uuid4().int)[:10], jurisdiction="kota-bandung", channel="web",
        title="Lampu jalan mati", description="Lampu jalan di gang kami mati sejak dua minggu lalu.")

    async def publish():
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{platform.c.kafka_port}")
        await producer.start()
        try:
            key, value, headers = to_record(wrap(late, "/test/late-channel"))
            await producer.send_and_wait(topics.INTAKE_EVENTS.name(platform.c.topic_prefix),
                                         value=value, key=key, headers=headers)
        finally:
            await producer.stop()

    with ThreadPoolExecutor(1) as aside:   # Playwright's own loop runs in this thread
        aside.submit(asyncio.run, publish()).result(timeout=60)
    return late


def test_an_operator_decides_a_triage_item_and_it_moves(page, platform, api):
    receipt = submit(api, *UNSURE)
    tn = receipt["tracking_number"]
    operator = staff(platform, api, "operator")
    wait_status(operator, tn, "triage")
    who = sign_in(page, "operator", shot="signin")
    card = page.locator(f'.triage-item[data-tracking-number="{tn}"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("not sure enough")            # routing's own reason
    shoot(page, "operator-triage")
    choice = card.locator("button[data-assign]").first
    expect(choice).to_be_visible()
    chosen = choice.get_attribute("data-assign")
    choice.focus()                        # keyboard only: focus the button, press Enter
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/triage\?done=assign"))
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator(f'.triage-item[data-tracking-number="{tn}"]')).to_have_count(0)

    after = operator.get(tn)
    assert after["status"] == "disposed" and after["assigned_opd"]["id"] == chosen
    assign = [h for h in after["history"] if h["action"] == "assign" and h["actor_role"] == "operator"]
    assert len(assign) == 1 and assign[0]["actor"] == who
    page.goto(f"/complaints/{tn}")
    expect(page.locator("article.complaint")).to_have_attribute("data-status", "disposed")
    expect(page.locator("#timeline")).to_contain_text(who)
    shoot(page, "operator-complaint-detail")
    page.goto(f"/complaints?q={tn}")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    shoot(page, "operator-search")


def test_an_opd_member_answers_and_the_citizen_timeline_shows_it(page, platform, api):
    receipt = submit(api, *ROAD)
    tn, me = receipt["tracking_number"], citizen(api, receipt)
    wait_status(me, tn, "disposed")
    sign_in(page, "opd", PUPR)
    row = page.locator(f'#queue tr[data-tracking-number="{tn}"]')
    expect(row).to_be_visible()
    shoot(page, "opd-queue")
    row.locator("a").click()
    expect(page).to_have_url(re.compile(f"/complaints/{tn}$"))
    page.locator("#act-respond summary").click()
    answer = f"Tim kami meninjau lokasi besok pagi ({uuid.uuid4().hex[:6]})."
    page.fill("#respond-note", answer)
    page.locator("#act-respond button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"done=respond"))
    expect(page.locator("article.complaint")).to_have_attribute("data-status", "followed_up")
    expect(page.locator("#timeline")).to_contain_text(answer)
    shoot(page, "opd-complaint-answered")

    seen = me.get(tn)   # the citizen, with their own access token
    assert seen["status"] == "followed_up"
    assert [h["note"] for h in seen["history"] if h["action"] == "respond"] == [answer]


def test_a_missed_deadline_appears_live_on_an_open_page(page, platform, console):
    sign_in(page, "operator")
    page.goto("/alerts")
    expect(page.locator("html")).to_have_attribute("data-live-alerts", "open")
    started = datetime.now()
    late = publish_late_report(platform)
    tray = page.locator(f'#live-list li.alert-breach[data-tracking-number="{late.tracking_number}"]')
    expect(tray).to_be_visible()
    expect(page.locator("#alerts-body tr.alert-breach").first).to_contain_text(late.tracking_number)
    print(f"breach shown {(datetime.now() - started).total_seconds():.1f}s after the late report")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload"
    shoot(page, "operator-live-alerts")


def test_an_opd_member_cannot_open_another_opds_complaint(page, platform, api):
    receipt = submit(api, *ROAD)
    tn = receipt["tracking_number"]
    wait_status(citizen(api, receipt), tn, "disposed")   # to Dinas PUPR
    sign_in(page, "opd", DLH)
    answer = page.goto(f"/complaints/{tn}")
    assert answer.status == 404
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(ROAD[0])
    page.goto(f"/complaints?q={tn}")
    expect(page.locator("table.list")).to_have_count(0)
    expect(page.locator(f'#queue tr[data-tracking-number="{tn}"]')).to_have_count(0)
    shoot(page, "opd-other-opds-complaint")


def test_the_dashboard_in_english_on_a_phone_with_its_csv(chromium, console, platform, api):
    context = chromium.new_context(base_url=console, viewport={"width": 390, "height": 844},
                                   accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        sign_in(page, "operator")
        for path in ("/triage", "/complaints", "/duplicates", "/alerts"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
        page.goto("/dashboard")
        page.locator("a[lang=en]").click()
        expect(page.locator("h1")).to_contain_text("OPD performance")
        wait_until(lambda: page.reload() and page.locator("#figures").count(), 60,
                   "figures on the dashboard")
        expect(page.locator("#chart-received svg")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        shoot(page, "dashboard-phone-en")
        with page.expect_download() as download:
            page.locator("#csv").click()
        body = open(download.value.path(), encoding="utf-8").read().splitlines()
        assert body[0].startswith("opd_id,received,")
        assert any(line.startswith(f"{PUPR},") for line in body[1:])
    finally:
        context.close()


def test_live_alerts_come_back_by_themselves_after_sla_is_killed(page, platform, console):
    """Last in the module: it kills the module's sla. The open page's stream breaks, the
    browser keeps reconnecting through the console, and once sla is back a new breach shows
    in the tray of the same page (triage, not the alerts page), never reloaded."""
    sign_in(page, "operator")
    page.goto("/triage")
    expect(page.locator("html")).to_have_attribute("data-live-alerts", "open")
    platform.kill("sla")
    late = publish_late_report(platform)   # waits in Kafka; sla breaches it as it comes back,
    started = datetime.now()               # perhaps before the page's stream reconnects
    platform.restart("sla")
    tray = page.locator(f'#live-list li.alert-breach[data-tracking-number="{late.tracking_number}"]')
    expect(tray).to_be_visible(timeout=60_000)
    print(f"from sla's restart, the breach showed in {(datetime.now() - started).total_seconds():.1f}s")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload"


def test_an_alert_fired_while_the_console_was_down_still_reaches_the_open_page(page, platform, api):
    """The console killed under an open page: a breach fires while it is away; once the console
    is back, the page's stream resumes from where it started (the id the console gave it at
    first) and shows that breach, without a reload."""
    sign_in(page, "operator")
    page.goto("/triage")
    expect(page.locator("html")).to_have_attribute("data-live-alerts", "open")
    platform.kill(CONSOLE)
    late = publish_late_report(platform)
    operator = {"Authorization": f"Bearer {platform.staff_token('operator')}"}

    def fired():
        latest = api.get(f"{platform.service_url('sla')}/v1/alerts", headers=operator,
                         params={"order": "newest", "limit": 20, "type": "breach"}).json()
        return any(a["tracking_number"] == late.tracking_number for a in latest["items"])

    wait_until(fired, 60, "the breach, while the console is down")
    platform.restart(CONSOLE)
    tray = page.locator(f'#live-list li.alert-breach[data-tracking-number="{late.tracking_number}"]')
    expect(tray).to_be_visible(timeout=60_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload"
