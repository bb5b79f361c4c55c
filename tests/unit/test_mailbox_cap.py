"""The local mail catcher stays bounded under a long `make run`: it keeps the newest messages
(in memory and in its store), and readers that follow it by id neither miss nor re-read one
across the drops, a restart or a DELETE."""

from __future__ import annotations

import email.message
import json

import pytest

from devstack.mailcatcher import Mailbox

pytestmark = pytest.mark.unit


def _raw(n: int) -> bytes:
    msg = email.message.EmailMessage()
    msg["Subject"] = f"Laporan {n} diterima"
    msg["Message-ID"] = f"<{n}@lapor.local>"
    msg.set_content(f"Nomor {n}")
    return bytes(msg)


def _add(box: Mailbox, first: int, count: int) -> None:
    for n in range(first, first + count):
        box.add("noreply@lapor.local", [f"warga-{n}@example.id"], _raw(n))


def _ids(messages) -> list[int]:
    return [m["id"] for m in messages]


def test_past_the_cap_the_oldest_go_and_a_reader_by_id_misses_none_of_the_rest():
    box = Mailbox(max_messages=100)
    _add(box, 1, 60)
    seen = _ids(box.since(0))
    _add(box, 61, 51)   # the 111th passes the cap by a tenth: the oldest go, down to 100
    assert _ids(box.messages) == list(range(12, 112))
    assert box.get(11) is None and box.get(12)["subject"] == "Laporan 12 diterima"
    seen += _ids(box.since(seen[-1]))
    assert seen == list(range(1, 112)), "the reader got every message once"
    assert _ids(box.since(5, limit=3)) == [12, 13, 14], "a reader left far behind resumes at the oldest kept"
    assert box.stats()["count"] == 100 and box.stats()["last_id"] == 111


def test_the_store_is_rewritten_with_its_newest_lines_and_a_restart_keeps_counting(tmp_path):
    store = tmp_path / "mail" / "messages.jsonl"
    box = Mailbox(store, max_messages=10)
    _add(box, 1, 45)
    box.close()

    lines = store.read_text(encoding="utf-8").splitlines()
    assert 10 <= len(lines) < 20, "compacted once it held twice the cap"
    assert [json.loads(line)["id"] for line in lines] == list(range(46 - len(lines), 46))

    again = Mailbox(store, max_messages=10)
    assert _ids(again.messages) == list(range(36, 46))
    assert len(store.read_text(encoding="utf-8").splitlines()) == 10, "an oversized store shrinks at start"
    _add(again, 46, 1)
    assert _ids(again.since(45)) == [46]


def test_after_a_delete_ids_start_again_at_one():
    box = Mailbox(max_messages=10)
    _add(box, 1, 5)
    box.clear()
    _add(box, 6, 2)
    assert _ids(box.since(0)) == [1, 2] and box.get(1)["subject"] == "Laporan 6 diterima"
