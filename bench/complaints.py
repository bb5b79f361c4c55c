"""What the benchmark submits: realistic complaint bodies, each with its own reporter e-mail.

The reporter address is how a caught e-mail is matched back to the submission that caused it
(notify sends exactly one e-mail per complaint, to the reporter), so it must be unique across
the whole run: run id, phase and sequence number are all in it.
"""

from __future__ import annotations

TEXTS = [
    ("Jalan berlubang di Jl. Merdeka",
     "Mohon diperbaiki, jalan berlubang besar di depan SDN 3 sudah dua minggu."),
    ("Sampah menumpuk di TPS",
     "Sampah di TPS dekat pasar tidak diangkut seminggu, bau busuk sekali."),
    ("Parkir liar depan pasar",
     "Banyak parkir liar di depan pasar sehingga jalan macet setiap sore."),
    ("Antrian puskesmas",
     "Antrian di puskesmas sangat lama dan dokter sering datang terlambat."),
]


def reporter_email(run_id: str, phase: str, n: int) -> str:
    return f"bench-{run_id}-{phase}-{n}@example.id"


def complaint_body(email: str, n: int) -> dict:
    """A POST /v1/complaints body like a citizen's front end sends."""
    title, description = TEXTS[n % len(TEXTS)]
    return {"title": title, "description": description,
            "reporter": {"name": "Warga Bench", "email": email}}
