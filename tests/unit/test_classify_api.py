"""`POST /v1/classify` (routing.classify_api) on its own router: what a text reads as, where
the jurisdiction sends it, auto or triage by the threshold, and RFC 9457 problems for bad
input. The classifier is the keyword twin (predictable, no model file); the trained model's
own behaviour is tests/unit/test_classifier.py's."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backbone import problems
from routing import classify_api
from routing.domain.keyword_classifier import KeywordClassifier
from routing.jurisdiction_registry import FixedJurisdictions

pytestmark = pytest.mark.unit


def client(threshold: float = 0.5) -> TestClient:
    app = FastAPI()
    app.include_router(classify_api.router)
    app.state.classifier = KeywordClassifier()
    app.state.jurisdictions = FixedJurisdictions()
    app.state.min_confidence = threshold
    problems.install(app)
    return TestClient(app)


ROAD = {"title": "Jalan berlubang", "description": "jln berlubang besar di depan sekolah, tlg",
        "jurisdiction": "kota-bandung"}


def test_a_clear_text_is_read_and_sent_to_its_opd():
    answer = client().post("/v1/classify", json=ROAD)
    assert answer.status_code == 200
    body = answer.json()
    assert body["main_category"] == {"code": "pupr", "name": "Pekerjaan Umum dan Penataan Ruang"}
    assert body["subcategory"]["code"].startswith("pupr.") and body["subcategory"]["name"]
    assert body["opd"]["opd_id"] == "dinas-pupr"
    assert body["decision"] == "auto"
    assert 0 <= body["confidence"] <= 1
    assert body["alternatives"][0]["subcategory"]["code"] == body["subcategory"]["code"]
    assert len(body["alternatives"]) <= 3 and body["explanation"]
    assert body["report_type"] in ("pengaduan", "aspirasi", "permintaan_informasi")
    assert body["urgency"] in ("rendah", "sedang", "tinggi")


def test_below_the_threshold_it_goes_to_triage():
    mixed = {**ROAD, "description": "jalan berlubang dan sampah menumpuk"}
    assert client(threshold=0.99).post("/v1/classify", json=mixed).json()["decision"] == "triage"


def test_without_a_jurisdiction_there_is_no_opd():
    body = client().post("/v1/classify", json={k: v for k, v in ROAD.items()
                                               if k != "jurisdiction"}).json()
    assert body["opd"] is None and body["jurisdiction"] is None


def test_an_unknown_jurisdiction_is_a_problem():
    answer = client().post("/v1/classify", json={**ROAD, "jurisdiction": "kota-atlantis"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/unknown-jurisdiction")


@pytest.mark.parametrize("body", [
    {"title": ""},
    {"title": "x", "description": ""},
    {"title": "x" * 201, "description": "y"},
    {"title": "x", "description": "y", "jurisdiction": "Kota Bandung!"},
    {"title": "x", "description": "y", "extra": 1},
    [],
])
def test_bad_input_gets_a_validation_problem(body):
    answer = client().post("/v1/classify", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 422
