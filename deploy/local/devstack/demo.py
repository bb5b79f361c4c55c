"""`make demo`: a few realistic complaints, in Indonesian, followed step by step through the
running platform (start it first with `make run`)."""

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


def run_demo(stack: Stack, timeout: float = 60) -> int:
    api = httpx.Client(base_url=stack.service_url("intake"), timeout=10)
    mail = httpx.Client(base_url=stack.mail_url, timeout=10)
    try:
        api.get("/readyz").raise_for_status()
    except httpx.HTTPError:
        print("The platform is not running: start it with `make run`.")
        return 1
    receipts = []
    for body in COMPLAINTS:
        response = api.post("/v1/complaints", json=body)
        response.raise_for_status()
        receipt = response.json()
        receipts.append((receipt, body, time.monotonic()))
        print(f"→ {receipt['tracking_number']}  submitted  \"{body['title']}\"")
    print()
    for receipt, body, started in receipts:
        auth = {"Authorization": f"Bearer {receipt['access_token']}"}
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
        mails = [m for m in mail.get("/api/messages").json()
                 if m["headers"].get("X-Lapor-Tracking-Number") == receipt["tracking_number"]
                 and m["rcpt_tos"] == [body["reporter"]["email"]]]
        if mails:
            print(f"    e-mail to {mails[-1]['rcpt_tos'][0]}: \"{mails[-1]['subject']}\"")
        elif view["status"] == "triage":
            print("    routing was unsure: waiting in the triage queue for an admin")
        print(f"    status {view['status']}, OPD {(view['assigned_opd'] or {}).get('name', '-')},"
              f" first response due {view['first_response_due_at'] or '-'}"
              f"  ({time.monotonic() - started:.1f}s)\n")
    print(f"Caught mail: {stack.mail_url}/   API docs: {stack.service_url('intake')}/docs")
    return 0
