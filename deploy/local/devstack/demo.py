"""`make demo`, against the running platform (start it first with `make run`):

1. a few realistic complaints, in Indonesian, each followed until routing has placed it (with an
   OPD, or in the triage queue) and the citizen has been told;
2. the whole life of one complaint, every step through the API as its actors take it: the
   citizen (with the complaint's access token), the OPD's staff and, when routing is unsure, an
   operator (with staff tokens signed by the stack's development key).
"""

from __future__ import annotations

import time

import httpx

from devstack.stack import Stack

COMPLAINTS = [
    {"title": "Jalan berlubang di Jl. Merdeka",
     "description": "Yth. Bapak/Ibu, mhn segera diperbaiki jalan berlubang besar di depan SDN 3 "
                    "Jl. Merdeka. Sdh dua minggu dan kemarin ada pengendara motor jatuh.",
     "location": {"address": "Jl. Merdeka No. 10", "kecamatan": "Sumur Bandung"},
     "reporter": {"name": "Siti Rahayu", "email": "siti.rahayu@example.id"}},
    {"title": "Sampah menumpuk di TPS Pasar Baru",
     "description": "Sampah di TPS dekat Pasar Baru tidak diangkut sejak minggu lalu, bau busuk "
                    "sampai ke rumah warga dan banyak lalat.",
     "reporter": {"name": "Budi Santoso", "email": "budi.santoso@example.id"}, "language": "id"},
    {"title": "E-KTP belum dicetak",
     "description": "Saya sudah rekam e-KTP tiga bulan lalu di kecamatan tapi sampai sekarang KTP "
                    "blm dicetak, katanya blanko habis.",
     "reporter": {"name": "Dewi Lestari", "email": "dewi.lestari@example.id"}, "language": "en"},
    {"title": "Pertanyaan tentang acara 17 Agustus",
     "description": "Mohon informasi kapan jadwal lomba tujuh belasan tingkat kota diumumkan dan "
                    "bagaimana cara mendaftar untuk warga RW 05.",
     "anonymous": True, "reporter": {"email": "warga.rw05@example.id"}},
]

# ---- 2. one complaint, from submission to its second closing

JOURNEY = {
    "title": "Saluran air tersumbat, Jl. Sudirman banjir tiap hujan",
    "description": "Yth. Bapak/Ibu, drainase di Jl. Sudirman depan Pasar Sukajadi tersumbat "
                   "lumpur. Tiap hujan jalan banjir selutut, motor mogok dan air masuk ke toko.",
    "location": {"address": "Jl. Sudirman No. 45", "kecamatan": "Sukajadi"},
    "reporter": {"name": "Rina Wulandari", "email": "rina.wulandari@example.id"},
}
FALLBACK_OPD = {"opd_id": "dinas-pupr", "opd_name": "Dinas Pekerjaan Umum dan Penataan Ruang"}
# (who, what the step is, the action's body)
STEPS = [
    ("opd", "the OPD accepts it", {
        "action": "accept", "note": "Diterima. Tim UPT Drainase survei ke lokasi besok pagi."}),
    ("opd", "the OPD follows up", {
        "action": "respond", "note": "Sudah disurvei: gorong-gorong tersumbat lumpur sepanjang "
                                     "30 m. Pengerukan dijadwalkan hari Kamis."}),
    ("citizen", "the citizen replies", {
        "action": "citizen_reply", "note": "Terima kasih. Mohon saluran di gang sebelah juga "
                                           "dicek, airnya meluap ke sana."}),
    ("opd", "the OPD follows up again", {
        "action": "respond", "note": "Saluran di gang sebelah ikut masuk jadwal pengerukan Kamis."}),
    ("opd", "the OPD resolves it, with evidence", {
        "action": "resolve", "note": "Pengerukan selesai, air mengalir lancar.",
        "evidence": "12 m3 lumpur diangkat dari 45 m saluran (Jl. Sudirman dan gang sebelah); "
                    "foto sebelum/sesudah: https://pupr.kota-contoh.go.id/tindak-lanjut/drainase-sudirman"}),
    ("citizen", "the citizen confirms and closes", {
        "action": "close", "note": "Sudah lancar, terima kasih."}),
    ("citizen", "the citizen rates the handling", {
        "action": "rate", "rating": 5, "comment": "Cepat dan tuntas, petugasnya ramah."}),
    ("citizen", "the citizen reopens it", {
        "action": "reopen", "reason": "Hujan semalam jalan banjir lagi: air tertahan di ujung "
                                      "saluran dekat jembatan."}),
    ("opd", "the OPD responds", {
        "action": "respond", "note": "Ujung saluran dekat jembatan tertutup sedimen; sudah dibuka "
                                     "hari ini dan kami pantau saat hujan berikutnya."}),
    ("citizen", "the citizen closes it again", {
        "action": "close", "note": "Hujan tadi sore air langsung surut. Terima kasih."}),
]


class DemoFailed(Exception):
    pass


def run_demo(stack: Stack, timeout: float = 60) -> int:
    api = httpx.Client(base_url=stack.service_url("intake"), timeout=10)
    mail = httpx.Client(base_url=stack.mail_url, timeout=10)
    try:
        api.get("/readyz").raise_for_status()
    except httpx.HTTPError:
        print("The platform is not running: start it with `make run`.")
        return 1
    print("== 1. A few complaints, as citizens send them\n")
    follow_a_few(api, mail, timeout)
    print("== 2. The life of one complaint\n")
    try:
        journey(stack, api, mail, timeout)
    except DemoFailed as exc:
        print(f"\nThe demo stopped: {exc}")
        return 1
    print(f"\nCaught mail: {stack.mail_url}/   API docs: {stack.service_url('intake')}/docs")
    return 0


def follow_a_few(api: httpx.Client, mail: httpx.Client, timeout: float) -> None:
    receipts = []
    for body in COMPLAINTS:
        response = api.post("/v1/complaints", json=body)
        response.raise_for_status()
        receipt = response.json()
        receipts.append((receipt, body, time.monotonic()))
        print(f"→ {receipt['tracking_number']}  submitted  \"{body['title']}\"")
    print()
    for receipt, body, started in receipts:
        auth = _bearer(receipt["access_token"])
        seen = 0
        deadline = time.monotonic() + timeout
        print(f"■ {receipt['tracking_number']}  {body['title']}")
        while time.monotonic() < deadline:
            view = api.get(f"/v1/complaints/{receipt['tracking_number']}", headers=auth).json()
            for entry in view["history"][seen:]:
                print(f"    {entry['at'][11:19]}  {entry['actor']:8} {entry['status']:10} {entry['note']}")
            seen = len(view["history"])
            finished = view["status"] == "triage" or any(
                h["action"] == "citizen_notified" for h in view["history"])
            if finished:
                break
            time.sleep(0.2)
        mails = [m for m in _mails(mail, receipt["tracking_number"])
                 if m["rcpt_tos"] == [body["reporter"]["email"]]]
        if mails:
            print(f"    e-mail to {mails[-1]['rcpt_tos'][0]}: \"{mails[-1]['subject']}\"")
        elif view["status"] == "triage":
            print("    routing was unsure: waiting in the triage queue for an admin")
        print(f"    status {view['status']}, OPD {(view['assigned_opd'] or {}).get('name', '-')},"
              f" first response due {view['first_response_due_at'] or '-'}"
              f"  ({time.monotonic() - started:.1f}s)\n")


def journey(stack: Stack, api: httpx.Client, mail: httpx.Client, timeout: float) -> None:
    response = api.post("/v1/complaints", json=JOURNEY)
    if response.status_code != 201:
        raise DemoFailed(f"submitting failed: {_describe(response)}")
    receipt = response.json()
    tn, citizen = receipt["tracking_number"], receipt["access_token"]
    print(f" 1. the citizen submits \"{JOURNEY['title']}\"")
    print(f"      tracking number {tn}, access token {citizen[:6]}… (shown once, kept by the citizen)")
    timeline = Timeline()

    print(" 2. routing disposes it to an OPD")
    view = _wait_for_routing(api, tn, citizen, timeout)
    if view["status"] == "triage":  # routing was unsure: an operator disposes it by hand
        timeline.show(view)
        print("    routing was unsure, so an operator disposes it by hand")
        view = act(api, tn, _staff(stack, "operator"), {
            "action": "assign", **FALLBACK_OPD, "note": "Saluran air dan banjir: wewenang PUPR."})
    timeline.show(view)
    opd = view["assigned_opd"]
    due = view.get("first_response_due_at")
    print(f"      with {opd['name']} ({opd['id']})"
          + (f", first response due {due}" if due else "; sla sets its deadline in a moment"))
    tokens = {"citizen": citizen, "opd": _staff(stack, "opd", opd["id"])}

    for number, (who, what, body) in enumerate(STEPS, start=3):
        print(f"{number:2}. {what}  [{body['action']}]")
        view = act(api, tn, tokens[who], body)
        timeline.show(view)

    print(f"\n   {tn} is {view['status']}, with {len(view['history'])} entries in its history")
    subjects = _settled_mail(mail, tn, JOURNEY["reporter"]["email"])
    if subjects:
        print(f"   e-mails to {JOURNEY['reporter']['email']}:")
        for subject in subjects:
            print(f"     \"{subject}\"")


class Timeline:
    """Prints the history entries a complaint gained since the last look, once each (other
    services add theirs asynchronously, so they may arrive a step late)."""

    def __init__(self) -> None:
        self.seen: set[tuple] = set()

    def show(self, view: dict) -> None:
        for entry in view["history"]:
            key = (entry["at"], entry["action"], entry.get("actor"), entry.get("note"))
            if key in self.seen:
                continue
            self.seen.add(key)
            who = entry.get("actor_role") or entry.get("actor") or "?"
            if entry.get("actor") and entry.get("actor") != who:
                who = f"{who} {entry['actor']}"
            change = entry["status"]
            if entry.get("from_status") and entry["from_status"] != entry["status"]:
                change = f"{entry['from_status']} → {entry['status']}"
            note = f"  \"{entry['note']}\"" if entry.get("note") else ""
            print(f"      {entry['at'][11:19]}  {entry['action']:<16} {change:<30} {who}{note}")
            for name in ("evidence", "comment"):
                if (entry.get("details") or {}).get(name):
                    print(f"      {'':8}  {name}: {entry['details'][name]}")


def act(api: httpx.Client, tn: str, token: str, body: dict) -> dict:
    """One action through `POST /v1/complaints/{tn}/actions`; the complaint as it is after."""
    for attempt in range(4):
        response = api.post(f"/v1/complaints/{tn}/actions", json=body, headers=_bearer(token))
        if response.status_code != 429 or attempt == 3:
            break
        time.sleep(_retry_after(response))
    if response.status_code != 200:
        hint = ""
        if response.status_code == 401 and "expired" not in response.text:
            hint = " (does intake verify the devstack key? restart it: make stop && make run)"
        elif response.status_code in (404, 405) and "problem" not in response.headers.get("content-type", ""):
            hint = " (is this intake older than the actions API? restart it: make stop && make run)"
        raise DemoFailed(f"'{body['action']}' was refused: {_describe(response)}{hint}")
    return response.json()


def _wait_for_routing(api: httpx.Client, tn: str, citizen: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = api.get(f"/v1/complaints/{tn}", headers=_bearer(citizen))
        if response.status_code != 200:
            raise DemoFailed(f"reading {tn} failed: {_describe(response)}")
        view = response.json()
        if view["status"] != "submitted":
            if view["status"] in ("disposed", "triage"):
                return view
            raise DemoFailed(f"routing left {tn} {view['status']}, not with an OPD")
        if time.monotonic() > deadline:
            raise DemoFailed(f"routing did not dispose {tn} within {timeout:.0f}s "
                             "(is it running? make status)")
        time.sleep(0.2)


def _staff(stack: Stack, role: str, opd: str | None = None) -> str:
    try:
        return stack.staff_token(role, opd)
    except RuntimeError as exc:
        raise DemoFailed(str(exc)) from None


def _settled_mail(mail: httpx.Client, tn: str, to: str, quiet: float = 1.5, limit: float = 10) -> list[str]:
    """The subjects of the mail this citizen got about `tn`, once no more has come for a moment."""
    deadline, last, last_change = time.monotonic() + limit, -1, time.monotonic()
    subjects: list[str] = []
    while time.monotonic() < deadline:
        subjects = [m["subject"] for m in _mails(mail, tn) if m["rcpt_tos"] == [to]]
        if len(subjects) != last:
            last, last_change = len(subjects), time.monotonic()
        elif time.monotonic() - last_change > quiet:
            break
        time.sleep(0.3)
    return subjects


def _mails(mail: httpx.Client, tn: str) -> list[dict]:
    return [m for m in mail.get("/api/messages").json()
            if m["headers"].get("X-Lapor-Tracking-Number") == tn]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.2), 5)
    except ValueError:
        return 1


def _describe(response: httpx.Response) -> str:
    """A problem document (or whatever came back) in one line."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
    if isinstance(body, dict) and ("title" in body or "detail" in body):
        title, detail = body.get("title") or "", body.get("detail") or ""
        text = f"{response.status_code} {title}" + (f": {detail}" if detail and detail != title else "")
        if body.get("allowed_actions") is not None:
            text += f" (allowed now: {', '.join(body['allowed_actions']) or 'nothing'})"
        return text
    return f"{response.status_code} {str(body)[:200]}"
