"""The console's pages on the in-memory twin of the services: sign-in and its redirects, the
triage queue deciding with one action, the OPD queue and the refusal of another OPD's
complaint, what anonim hides, forms guarded by their CSRF token, the language switch, the
dashboard and its CSV, live alerts passed through, and the pages' security headers."""

import re
from datetime import timedelta

import httpx
import pytest

from console.adapters.dev_tokens import DevTokenIssuer
from console.adapters.memory import MemoryPlatform
from console.adapters.platform import Unavailable
from console.app import create_app
from console.config import ConsoleSettings
from devstack.tokens import SigningKey

pytestmark = pytest.mark.unit
KEY = SigningKey.generate()


@pytest.fixture
def platform() -> MemoryPlatform:
    return MemoryPlatform()


@pytest.fixture
async def browser(platform, tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text(KEY.private_pem)
    settings = ConsoleSettings(
        intake_url="http://intake", routing_url="http://routing", sla_url="http://sla",
        notify_url="http://notify", session_secret="s" * 40, dev_signin_key_file=key_file,
        jwt_public_key=KEY.public_pem, jwt_audience="lapor", jwt_issuer=None)
    app = create_app(settings, platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",
                                 follow_redirects=False) as client:
        yield client


async def sign_in(client, role="operator", opd="", name="Rina") -> None:
    answer = await client.post("/signin", data={"name": name, "role": role, "opd": opd,
                                                "jurisdiction": "kota-bandung", "next": "/"})
    assert answer.status_code == 303


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


async def test_without_a_session_every_page_leads_to_sign_in_and_back(browser):
    answer = await browser.get("/complaints/123?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/complaints/123%3Fx%3D1"
    page = await browser.get("/signin?next=/complaints/123")
    assert page.status_code == 200 and 'value="/complaints/123"' in page.text
    assert "Dinas PUPR" in page.text and "Masuk ke konsol" in page.text
    assert (await browser.get("/alerts/stream")).status_code == 401
    late_form = await browser.post("/complaints/123/act", data={"form": "accept"})
    assert late_form.status_code == 303
    assert late_form.headers["location"] == "/signin?next=/complaints/123"
    assert (await browser.get("/readyz")).status_code == 200


async def test_an_expired_or_forged_session_signs_in_again(browser):
    browser.cookies.set("lapor_console", KEY.mint("operator", ttl=timedelta(hours=-1)))
    answer = await browser.get("/triage")
    assert answer.headers["location"] == "/signin?next=/triage&expired=true"
    page = await browser.get(answer.headers["location"])
    assert "Sesi Anda berakhir" in page.text
    browser.cookies.set("lapor_console", "not.a.token")
    assert (await browser.get("/queue")).headers["location"].startswith("/signin?next=/queue")


async def test_sign_in_never_redirects_off_the_console(browser):
    answer = await browser.post("/signin", data={"name": "Rina", "role": "operator",
                                                 "jurisdiction": "kota-bandung", "next": "//evil.example"})
    assert answer.headers["location"] == "/triage"
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert "samesite=lax" in answer.headers["set-cookie"].lower()


async def test_an_opd_member_must_name_the_opd(browser):
    answer = await browser.post("/signin", data={"name": "Budi", "role": "opd", "opd": "",
                                                 "jurisdiction": "kota-bandung"})
    assert answer.status_code == 303 and "error=opd" in answer.headers["location"]


async def test_an_operator_decides_a_triage_item_with_one_action(browser, platform):
    platform.add("2611230001")
    platform.routing_records["2611230001"] = {"latest": {
        "reason": "not sure enough: pupr.jalan at 0.42", "category": "pupr.jalan", "confidence": 0.42,
        "explanation": ["berlubang", "aspal"], "suggestions": ["dinas-pupr", "dlh"],
        "candidates": [{"category": "pupr.jalan", "confidence": 0.42, "opd_id": "dinas-pupr",
                        "opd_name": "Dinas PUPR", "not_ours": None}]}}
    await sign_in(browser)
    page = await browser.get("/triage")
    assert page.status_code == 200
    assert "not sure enough" in page.text and "berlubang" in page.text and "42%" in page.text
    assert "Tetapkan ke Dinas PUPR" in page.text and "Tetapkan ke DLH" in page.text
    done = await browser.post("/complaints/2611230001/act", data={
        "csrf": csrf(page.text), "form": "assign", "opd_id": "dinas-pupr", "next": "/triage",
        "jurisdiction": "kota-bandung"})
    assert done.status_code == 303 and done.headers["location"] == "/triage?done=assign"
    assert platform.acted == [("operator", "2611230001", {
        "action": "assign", "opd_id": "dinas-pupr", "opd_name": "Dinas PUPR"})]
    after = await browser.get("/triage?done=assign")
    assert "2611230001" not in after.text and "Tindakan tersimpan" in after.text


async def test_duplicates_are_merged_later_into_earlier_or_dismissed(browser, platform):
    platform.add("2611230040", title="Sampah di TPS Cicaheum")
    platform.add("2611230041", title="Sampah menumpuk di TPS Cicaheum")
    pair = {"id": 5, "jurisdiction": "kota-bandung", "status": "open", "similarity": 0.82,
            "distance_m": 40.0, "complaint": {"tracking_number": "2611230041"},
            "candidate": {"tracking_number": "2611230040"}}
    platform.pairs = [pair, {**pair, "id": 6}]
    await sign_in(browser)
    page = await browser.get("/duplicates")
    assert "82%" in page.text and "40 m" in page.text and "Sampah menumpuk di TPS Cicaheum" in page.text
    merged = await browser.post("/complaints/2611230041/act", data={
        "csrf": csrf(page.text), "form": "merge", "into": "2611230040", "next": "/duplicates"})
    assert merged.status_code == 303 and platform.acted[-1] == (
        "operator", "2611230041", {"action": "merge", "into": "2611230040"})
    dismissed = await browser.post("/duplicates/6/dismiss", data={"csrf": csrf(page.text)})
    assert dismissed.headers["location"] == "/duplicates?done=dismissed"
    assert platform.pairs[1]["status"] == "dismissed"
    detail = await browser.get("/complaints/2611230040")
    assert "#2611230041 → #2611230040" in detail.text      # merge offered on the detail too


async def test_a_form_without_its_csrf_token_is_refused(browser, platform):
    platform.add("2611230002")
    await sign_in(browser)
    answer = await browser.post("/complaints/2611230002/act", data={"form": "assign", "opd_id": "dlh"})
    assert answer.status_code == 403 and platform.acted == []
    forged = await browser.post("/complaints/2611230002/act",
                                data={"form": "assign", "opd_id": "dlh", "csrf": "0" * 40})
    assert forged.status_code == 403 and platform.acted == []


async def test_a_refused_action_shows_the_services_words_on_the_page(browser, platform):
    platform.add("2611230003", status="disposed", opd="dinas-pupr")
    await sign_in(browser, "opd", "dinas-pupr")
    page = await browser.get("/complaints/2611230003")
    platform.complaints_by_number["2611230003"]["status"] = "closed"   # someone was quicker
    answer = await browser.post("/complaints/2611230003/act", data={
        "csrf": csrf(page.text), "form": "respond", "note": "Sudah kami tangani"})
    assert answer.status_code == 409 and "not allowed while the complaint is" in answer.text
    empty = await browser.post("/complaints/2611230003/act", data={
        "csrf": csrf(page.text), "form": "resolve", "evidence": ""})
    assert empty.status_code == 422 and "Bukti penyelesaian" in empty.text


async def test_opd_staff_work_their_queue_and_never_open_another_opds_complaint(browser, platform):
    platform.add("2611230010", status="disposed", opd="dinas-pupr", overdue=True,
                 due_at="2026-11-20T16:59:59+00:00")
    platform.add("2611230011", status="accepted", opd="dinas-pupr", due_at="2026-12-20T16:59:59+00:00")
    platform.add("2611230012", status="disposed", opd="dlh", title="Sampah menumpuk")
    await sign_in(browser, "opd", "dinas-pupr")
    assert (await browser.get("/triage")).status_code == 403
    queue = await browser.get("/queue")
    assert queue.status_code == 200
    assert queue.text.index("2611230010") < queue.text.index("2611230011")
    assert "2611230012" not in queue.text and "Terlambat" in queue.text
    other = await browser.get("/complaints/2611230012")
    assert other.status_code == 404 and "Sampah menumpuk" not in other.text
    assert (await browser.get("/complaints/2611230012/attachments/a1")).status_code == 404
    mine = await browser.get("/complaints/2611230010")
    assert mine.status_code == 200
    for label in ("Terima", "Tindak lanjut", "Minta informasi", "Selesaikan", "Bukan wewenang"):
        assert f">{label}</summary>" in mine.text


async def test_an_anonim_reporter_is_never_named(browser, platform):
    platform.add("2611230020", status="disposed", opd="dinas-pupr", anonymous=True)
    await sign_in(browser, "opd", "dinas-pupr")
    page = await browser.get("/complaints/2611230020")
    assert "Siti Aminah" not in page.text and "siti@example.id" not in page.text
    assert "Anonim" in page.text


async def test_the_english_switch_stays_on_the_page(browser, platform):
    platform.add("2611230030")
    await sign_in(browser)
    switched = await browser.get("/lang/en?next=/triage")
    assert switched.status_code == 303 and switched.headers["location"] == "/triage"
    browser.cookies.set("lapor_lang", "en")
    page = await browser.get("/triage")
    assert "Triage queue" in page.text and 'lang="en"' in page.text
    assert (await browser.get("/lang/en?next=https://evil.example")).headers["location"] == "/"


async def test_the_dashboard_draws_each_measure_and_passes_the_csv_on(browser, platform):
    platform.figure_rows = [
        {"opd_id": "dinas-pupr", "received": 12, "first_response_median_hours": 20.5,
         "first_response_p90_hours": 40, "answered": 10, "answered_on_time": 8, "on_time_share": 0.8,
         "open_breaches": 2, "rating_average": 4.2, "ratings": 5},
        {"opd_id": "dlh", "received": 3, "first_response_median_hours": None,
         "first_response_p90_hours": None, "answered": 0, "answered_on_time": 0, "on_time_share": None,
         "open_breaches": 0, "rating_average": None, "ratings": 0}]
    await sign_in(browser)
    page = await browser.get("/dashboard?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5 and "80%" in page.text and "Dinas PUPR" in page.text
    csv_answer = await browser.get("/dashboard.csv?from=2026-11-01&to=2026-11-30")
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text.splitlines() == ["opd_id,received", "dinas-pupr,12", "dlh,3"]


async def test_live_alerts_pass_through_unchanged(browser, platform):
    event = b'event: breach\nid: 7\ndata: {"tracking_number": "1", "clock": "verification"}\n\n'
    platform.stream_chunks = [event]
    await sign_in(browser)
    answer = await browser.get("/alerts/stream")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    # A browser with no event yet is told where it starts: the newest alert in its scope (none: 0).
    assert answer.content == b"retry: 3000\nid: 0\n\n" + event
    assert platform.stream_opened_with == (None, 0)
    platform.alert_rows = [{"id": 9, "type": "breach", "opd_id": "x"}]
    assert (await browser.get("/alerts/stream")).content.startswith(b"retry: 3000\nid: 9\n\n")
    assert platform.stream_opened_with == (None, 9)
    resumed = await browser.get("/alerts/stream?after=41", headers={"last-event-id": "44"})
    assert platform.stream_opened_with == ("44", None)    # its own last id: sla resumes there
    assert resumed.content == b"retry: 3000\n\n" + event
    await browser.get("/alerts/stream?after=41")
    assert platform.stream_opened_with == (None, 41)      # the alerts page's newest listed


async def test_the_alerts_page_lists_the_latest_of_this_persons_scope(browser, platform):
    platform.alert_rows = [
        {"id": 1, "type": "warning", "tracking_number": "11", "clock": "first_response",
         "opd_id": "dinas-pupr", "level": None, "threshold": "elapsed:0.6", "due_at": None},
        {"id": 2, "type": "breach", "tracking_number": "12", "clock": "first_response",
         "opd_id": "dlh", "level": None, "threshold": None, "due_at": None}]
    await sign_in(browser, "opd", "dinas-pupr")
    page = await browser.get("/alerts")
    assert 'data-alert-id="1"' in page.text and 'data-alert-id="2"' not in page.text
    assert 'data-after="1"' in page.text        # the live stream starts after what is listed


async def test_a_service_away_is_a_503_page_with_retry_after(browser, platform):
    async def away(*args, **kwargs):
        raise Unavailable("intake is unreachable")

    await sign_in(browser)
    platform.complaints = away
    answer = await browser.get("/complaints")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "Layanan sedang tidak tersedia" in answer.text


async def test_pages_load_nothing_from_elsewhere_and_cannot_be_framed(browser):
    page = await browser.get("/signin")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert (await browser.get("/static/console.js")).status_code == 200


def test_settings_refuse_a_console_nobody_can_sign_in_to():
    with pytest.raises(ValueError, match="DEV_SIGNIN_KEY_FILE"):
        ConsoleSettings(intake_url="http://i", routing_url="http://r", sla_url="http://s",
                        notify_url="http://n", session_secret="s" * 40, jwt_public_key=KEY.public_pem)


def test_the_dev_issuer_writes_claims_where_the_services_read_them():
    import jwt

    issuer = DevTokenIssuer(KEY.private_pem, audience="lapor", issuer="me",
                            role_claim="realm_access.role", opd_claim="opd")
    claims = jwt.decode(issuer.issue("opd", "budi", opd="dlh", jurisdiction="kota-bandung"),
                        KEY.public_pem, algorithms=["ES256"], audience="lapor", issuer="me")
    assert claims["realm_access"] == {"role": "opd"} and claims["opd"] == "dlh"
    assert claims["sub"] == "budi" and claims["jurisdiction"] == "kota-bandung"


async def test_behind_an_oidc_proxy_the_forwarded_token_signs_in(platform):
    """TOKEN_HEADER mode: no sign-in form; the proxy's header is the session, verified as the
    services verify it; without it, the sign-in page says to use the city's provider."""
    settings = ConsoleSettings(
        intake_url="http://intake", routing_url="http://routing", sla_url="http://sla",
        notify_url="http://notify", session_secret="s" * 40, token_header="X-Forwarded-Access-Token",
        jwt_public_key=KEY.public_pem, jwt_audience="lapor", jwt_issuer=None)
    platform.add("2611230050", status="disposed", opd="dlh")
    app = create_app(settings, platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as c:
        assert (await c.get("/queue")).headers["location"].startswith("/signin")
        page = await c.get("/signin")
        assert "penyedia identitas kota" in page.text and 'name="name"' not in page.text
        assert (await c.post("/signin", data={"name": "x", "role": "operator",
                                               "jurisdiction": "kota-bandung"})).headers["location"] == "/signin"
        forwarded = {"X-Forwarded-Access-Token": KEY.mint("opd", opd="dlh")}
        queue = await c.get("/queue", headers=forwarded)
        assert queue.status_code == 200 and "2611230050" in queue.text
        forged = {"X-Forwarded-Access-Token": SigningKey.generate().mint("operator")}
        assert (await c.get("/triage", headers=forged)).status_code == 303
