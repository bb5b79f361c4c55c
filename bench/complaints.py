"""What the benchmark submits: realistic complaint bodies, each with its own reporter e-mail.

The reporter address is how a caught e-mail is matched back to the submission that caused it
(notify sends exactly one e-mail per complaint, to the reporter), so it must be unique across
the whole run: run id, phase and sequence number are all in it.

The texts are composed from a problem, a street, a landmark and how long it has lasted, so, as
in a city's real intake, most complaints are unlike each other and only some repeat one. (With
four fixed texts every complaint was a duplicate of every earlier one, which measured a
5,000-copy campaign rather than a city's day; `--copies` keeps that case measurable.)
"""

from __future__ import annotations

import random

PROBLEMS = [
    ("Jalan berlubang di {street}",
     "Mohon diperbaiki, jalan berlubang besar di {street} depan {place}, {since}."),
    ("Sampah menumpuk di {street}",
     "Sampah di TPS dekat {place} tidak diangkut, bau busuk sekali, {since}."),
    ("Parkir liar {street}",
     "Banyak parkir liar di depan {place} sehingga {street} macet setiap sore, {since}."),
    ("Antrian puskesmas dekat {place}",
     "Antrian di puskesmas dekat {place} sangat lama dan dokter sering terlambat, {since}."),
    ("Lampu jalan mati di {street}",
     "Lampu penerangan jalan di {street} dekat {place} mati, gelap dan rawan, {since}."),
    ("Saluran air tersumbat {street}",
     "Got di {street} samping {place} tersumbat, kalau hujan air meluap ke rumah warga, {since}."),
    ("Pohon tumbang di {street}",
     "Ada pohon besar tumbang menutup sebagian {street} dekat {place}, mohon segera dipotong."),
    ("Lampu lalu lintas mati di {street}",
     "Lampu merah di perempatan {street} dekat {place} mati, kendaraan saling serobot, {since}."),
    ("Air PDAM tidak mengalir",
     "Air PDAM di rumah kami di {street} tidak mengalir, {since}, mohon dicek."),
    ("Trotoar dipakai PKL di {street}",
     "Trotoar di {street} depan {place} penuh pedagang, pejalan kaki turun ke jalan, {since}."),
    ("Jembatan rusak di {street}",
     "Jembatan kecil di {street} dekat {place} papannya lapuk dan berlubang, bahaya, {since}."),
    ("Limbah dibuang ke sungai dekat {place}",
     "Limbah pabrik dekat {place} dibuang ke sungai, airnya hitam dan bau menyengat, {since}."),
    ("KTP elektronik belum jadi",
     "Saya rekam KTP-el di kecamatan dekat {place} tapi belum jadi juga, {since}."),
]
STREETS = ["Jl. Merdeka", "Jl. Asia Afrika", "Jl. Braga", "Jl. Dago", "Jl. Cihampelas",
           "Jl. Riau", "Jl. Sukajadi", "Jl. Pasteur", "Jl. Soekarno-Hatta", "Jl. Buah Batu",
           "Jl. Gatot Subroto", "Jl. Ahmad Yani", "Jl. Kiaracondong", "Jl. Setiabudi",
           "Jl. Cikutra", "Jl. Jakarta", "Jl. Pajajaran", "Jl. Kopo", "Jl. Antapani",
           "Jl. Cicaheum", "Jl. Sudirman", "Jl. Veteran", "Jl. Ciumbuleuit", "Jl. Lengkong"]
PLACES = ["SDN 3", "pasar Kosambi", "masjid Al-Ikhlas", "kantor pos", "terminal",
          "SMPN 5", "puskesmas Garuda", "gereja", "alun-alun", "stasiun", "RSUD",
          "bank BJB", "minimarket", "pom bensin", "kampus", "taman kota"]
SINCE = ["sudah dua minggu", "sejak bulan lalu", "sudah tiga hari", "dari kemarin",
         "sudah seminggu lebih", "berbulan-bulan", "sejak awal tahun", "hampir sebulan"]


OPENINGS = ["Selamat siang, saya mau melapor.", "Mohon perhatiannya Bapak/Ibu.", "Lapor min,",
            "Assalamualaikum, izin menyampaikan keluhan warga.", "Tolong ditindaklanjuti.",
            "Kami warga sekitar sudah resah.", "Permisi, mau tanya sekaligus lapor.", ""]
CLOSINGS = ["Terima kasih.", "Mohon segera ditangani.", "Sudah lapor ke RT tapi belum ada hasil.",
            "Kasihan anak-anak sekolah.", "Tolong jangan cuma dijanji.", "Nuhun.",
            "Semoga cepat direspon.", ""]


def complaint_text(n: int, copies: bool = False) -> tuple[str, str]:
    """The n-th complaint's title and description: problem, street, landmark, duration, the
    citizen's own opening and closing and their RT/RW, mixed by a seeded generator, so texts
    rarely repeat; `copies`: one of four fixed texts."""
    if copies:
        title, body = PROBLEMS[n % 4]
        slots = {"street": STREETS[0], "place": PLACES[0], "since": SINCE[0]}
        return title.format(**slots), body.format(**slots)
    pick = random.Random(n)
    title, body = pick.choice(PROBLEMS)
    slots = {"street": pick.choice(STREETS), "place": pick.choice(PLACES),
             "since": pick.choice(SINCE)}
    where = f"RT {pick.randint(1, 15):02d}/RW {pick.randint(1, 12):02d}"
    text = " ".join(part for part in (pick.choice(OPENINGS), body.format(**slots),
                                      f"Lokasi {where}.", pick.choice(CLOSINGS)) if part)
    return title.format(**slots), text


def complaint_location(n: int) -> dict:
    """Where the n-th complaint is: a point within about 2 km of the middle of Kota Bandung, as a
    front end's map pin sends it."""
    pick = random.Random(-n - 1)
    return {"lat": round(-6.914 + pick.uniform(-0.018, 0.018), 6),
            "lon": round(107.609 + pick.uniform(-0.018, 0.018), 6)}


def reporter_email(run_id: str, phase: str, n: int) -> str:
    return f"bench-{run_id}-{phase}-{n}@example.id"


#: `--copies`: every complaint one of four fixed texts without a place (a campaign's burst)
COPIES = {"on": False}


def complaint_body(email: str, n: int) -> dict:
    """A POST /v1/complaints body like a citizen's front end sends."""
    copies = COPIES["on"]
    title, description = complaint_text(n, copies)
    body = {"title": title, "description": description,
            "reporter": {"name": "Warga Bench", "email": email}}
    if not copies:
        body["location"] = complaint_location(n)
    return body
