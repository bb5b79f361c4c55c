"""The public transparency view on the real platform: what a city's portal shows to anyone,
and what it must never show (rahasia reports, reporters' identity, an anonim reporter's
address, phone numbers written into the text)."""

from __future__ import annotations

import uuid

import pytest

from devstack.stack import wait_until

pytestmark = pytest.mark.e2e


def submit(api, **body) -> dict:
    response = api.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_public_sees_what_is_public_and_nobody(api):
    word = f"tiang{uuid.uuid4().hex[:6]}"   # this test's own word, so other tests' data never match
    name, email = "Siti Rahayu", f"siti-{uuid.uuid4().hex[:6]}@example.id"
    reporter = {"name": name, "email": email, "phone": "+6281234567890"}
    anon = submit(api, title=f"Lampu {word} jalan mati",
                  description=f"Lampu pada {word} di gang kami mati sebulan, hubungi 0812-3456-7890.",
                  anonymous=True, reporter={"email": email},
                  location={"address": "Gang Mawar 7 rumah pojok", "kecamatan": "Coblong",
                            "lat": -6.89, "lon": 107.61})
    named = submit(api, title=f"Jalan rusak dekat {word}",
                   description=f"Jalan berlubang besar di dekat {word} listrik, membahayakan.",
                   reporter=reporter, location={"address": "Jl. Dago 10", "kecamatan": "Coblong"})
    secret = submit(api, title=f"Pungli petugas {word}",
                    description=f"Petugas meminta uang pelicin untuk urusan {word}.",
                    confidential=True, reporter=reporter)

    def listed(**params):
        response = api.get("/v1/public/complaints", params={"q": word, **params})
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"].startswith("public")
        return response.json()

    page = listed()   # a receipt means committed: listed at once
    numbers = [c["tracking_number"] for c in page["items"]]
    assert numbers == [named["tracking_number"], anon["tracking_number"]], "newest first, no rahasia"
    text = str(page)
    for private in (name, email, "81234567890", "3456-7890", "Gang Mawar", "-6.89"):
        assert private not in text
    by_number = {c["tracking_number"]: c for c in page["items"]}
    assert by_number[anon["tracking_number"]]["reporter"] == "anonim"
    assert by_number[anon["tracking_number"]]["location"] == {
        "kecamatan": "Coblong", "kelurahan": None, "address": None, "lat": None, "lon": None}
    assert by_number[named["tracking_number"]]["location"]["address"] == "Jl. Dago 10"

    assert [c["tracking_number"] for c in listed(q=f"{word} lampu")["items"]] == [anon["tracking_number"]]
    assert listed(kecamatan="coblong", page_size=1)["has_more"] is True
    assert listed(kecamatan="Sukajadi")["items"] == []

    secret_view = api.get(f"/v1/public/complaints/{secret['tracking_number']}")
    assert secret_view.status_code == 404
    assert secret_view.headers["content-type"].startswith("application/problem+json")

    def routed():
        detail = api.get(f"/v1/public/complaints/{named['tracking_number']}").json()
        return detail if detail["assigned_opd"] else None
    detail = wait_until(routed, 60, "routed and public")
    assert detail["timeline"][0]["by"] == "pelapor" and detail["timeline"][0]["note"] is None
    assert any(step["by"] == "system" and step["status"] == "disposed" for step in detail["timeline"])
    assert name not in str(detail) and email not in str(detail)
