"""What anyone can send intake that is not a complaint: text the database cannot store, a body
too big to hold, a body that never finishes. Each gets a problem document, never a 500, and
none costs intake much memory or holds a connection for long."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import psutil

VALID = {"title": "Jalan berlubang di Jl. Merdeka",
         "description": "Mohon diperbaiki, jalan berlubang besar di depan SDN 3.",
         "reporter": {"name": "Siti Rahayu", "email": "siti@example.id"}}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    return problem


def test_nul_in_text_is_a_422_naming_each_field(api):
    response = api.post("/v1/complaints", json=VALID | {
        "title": "Jalan\x00berlubang", "location": {"address": "Jl. Merdeka\x00"},
        "reporter": {"name": "Siti\x00Rahayu"}})
    problem = problem_of(response, 422)
    fields = {e["field"]: e["code"] for e in problem["errors"]}
    assert fields == {"title": "unstorable_character", "location.address": "unstorable_character",
                      "reporter.name": "unstorable_character"}
    assert "Siti" not in response.text, "submitted values are never echoed back"


def test_a_lone_surrogate_escape_is_a_422(api):
    body = ('{"title": "Jalan berlubang di Jl. Merdeka", '
            '"description": "Mohon diperbaiki \\ud800 jalan berlubang besar di depan SDN 3."}')
    response = api.post("/v1/complaints", content=body.encode(),
                        headers={"content-type": "application/json"})
    problem = problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["description"]


def test_a_chunked_body_over_the_limit_is_refused_at_once_and_costs_no_memory(platform, api):
    intake = psutil.Process(platform._pid("intake"))
    before = intake.memory_info().rss

    def two_megabytes():  # no Content-Length: httpx sends it chunked
        yield b'{"title": "'
        for _ in range(32):
            yield b"a" * 65536
        yield b'"}'

    started = time.monotonic()
    response = api.post("/v1/complaints", content=two_megabytes(),
                        headers={"content-type": "application/json"})
    assert time.monotonic() - started < 5
    problem = problem_of(response, 413)
    assert problem["type"].endswith("/payload-too-large")
    assert response.headers["connection"] == "close"
    assert intake.memory_info().rss - before < 16 * 2**20
    assert api.get("/healthz").status_code == 200


def test_a_body_shorter_than_declared_times_out_with_408(platform):
    url = urlsplit(platform.service_url("intake"))
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(b"POST /v1/complaints HTTP/1.1\r\nHost: intake\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     b'{"title":"')
        answer = b""
        while chunk := conn.recv(65536):  # until intake closes the connection
            answer += chunk
    assert time.monotonic() - started < 30, "bounded well under the 90 s it used to hold"
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert b"/request-timeout" in body


def test_a_nul_in_the_tracking_number_is_refused_not_a_500(api):
    response = api.get("/v1/complaints/12%0034", headers={"Authorization": "Bearer x"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
