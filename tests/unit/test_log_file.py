"""Under `make run` the services' logs stay bounded: with LOG_FILE each writes its JSON logs to
a file capped like the traces file (past the cap it becomes `<name>.1`, replacing the one
before), and what a part writes outside logging (a bad setting at start-up) is kept in
`<name>.out`, which `log_tail` shows first."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from backbone.telemetry import setup_logging
from devstack.stack import Stack, StackConfig, wait_until

pytestmark = pytest.mark.unit


@pytest.fixture
def root_logging():
    """setup_logging replaces the root logger's handlers: give the test's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = handlers, level


def test_the_log_file_is_rotated_past_its_cap_and_keeps_the_newest_lines(tmp_path, root_logging):
    path = tmp_path / "log" / "notify.log"
    setup_logging("notify", "INFO", path, file_max_mb=1)
    sent = 6_000
    for n in range(sent):
        logging.getLogger("notify.dispatch").info("notified", extra={"n": n, "pad": "x" * 200})
    logging.getLogger().handlers[0].flush()

    old = path.with_name("notify.log.1")
    assert old.exists(), "the log was never rotated"
    assert path.stat().st_size <= 1024 * 1024 and old.stat().st_size <= 1024 * 1024
    kept = [json.loads(line) for f in (old, path) for line in f.read_text().splitlines()]
    # Only the generation before the last is kept: the lines still there are the newest, in order.
    assert [r["n"] for r in kept] == list(range(sent - len(kept), sent))
    assert {r["service"] for r in kept} == {"notify"} and kept[-1]["message"] == "notified"


def test_a_part_that_logs_to_a_file_keeps_its_other_output_apart_and_log_tail_shows_both(tmp_path):
    stack = Stack(StackConfig.private(tmp_path / "home", prefix="t."))
    log_file = stack.log_dir / "intake.log"
    log_file.parent.mkdir(parents=True)
    log_file.write_text('{"message": "service ready"}\n')
    stack._spawn("intake", [sys.executable, "-c", "import sys; print('DATABASE_URL: missing', file=sys.stderr)"],
                 {"LOG_FILE": str(log_file)})
    wait_until(lambda: not stack._alive("intake"), 10, "the part to exit")

    assert (stack.log_dir / "intake.out").read_text() == "DATABASE_URL: missing\n"
    assert log_file.read_text() == '{"message": "service ready"}\n', "stderr stays out of the log"
    tail = stack.log_tail("intake")
    assert tail.index("DATABASE_URL: missing") < tail.index("service ready")
