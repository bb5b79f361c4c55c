"""The embedded PostgreSQL started for a folder only its owner may enter (a clone under /root).

As root the server runs as an unprivileged user, so data and binaries must move to the shared
dir; as anyone else the server runs as ourselves and nothing may move. Both are checked for
real: initdb, start, SQL, stop, restart with the data kept, and a kill -9 of the postmaster.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

from devstack import postgres
from devstack.postgres import EmbeddedPostgres, create_database
from devstack.stack import free_port, wait_until

AS_ROOT = os.geteuid() == 0


def psql(dsn: str, sql: str) -> str:
    result = subprocess.run([postgres._bin("psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def shared_dir(monkeypatch):
    """A private shared dir (ours, world-searchable, like /var/lib/lapor-devstack), removed after.
    In /var/tmp because anyone may create one there, and the server user can search it."""
    path = Path(tempfile.mkdtemp(prefix="lapor-devstack-test-", dir="/var/tmp"))
    path.chmod(0o755)
    monkeypatch.setenv("DEVSTACK_PG_SHARED_DIR", str(path))
    monkeypatch.delenv("DEVSTACK_PG_OS_USER", raising=False)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def unreachable_wheel(tmp_path, monkeypatch):
    """The wheel's server files, copied under a 0700 folder, so the copy-to-cache path runs even
    when the real venv happens to be reachable."""
    site = tmp_path / "private-venv" / "site-packages"
    for part in postgres.RUNTIME_DIRS:
        shutil.copytree(postgres.PGINSTALL / part, site / "pgserver" / "pginstall" / part, symlinks=True)
    if postgres.WHEEL_LIBS.is_dir():
        shutil.copytree(postgres.WHEEL_LIBS, site / "pgserver.libs", symlinks=True)
    (tmp_path / "private-venv").chmod(0o700)
    monkeypatch.setattr(postgres, "PGINSTALL", site / "pgserver" / "pginstall")
    monkeypatch.setattr(postgres, "WHEEL_LIBS", site / "pgserver.libs")
    return site


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE  # not reaped yet is gone enough
    except psutil.NoSuchProcess:
        return True


def postmaster(pg: EmbeddedPostgres) -> psutil.Process:
    pid = pg._postmaster_pid()
    assert pid is not None
    return psutil.Process(pid)


def test_a_base_dir_under_a_private_folder_starts_restarts_and_survives_kill_9(
        tmp_path, shared_dir, unreachable_wheel):
    private = tmp_path / "root-home"
    private.mkdir(mode=0o700)
    base = private / "clone" / "var" / "pg"
    port = free_port()
    pg = EmbeddedPostgres(base, port)
    try:
        dsn = create_database(pg.start(), "lapor")
        server = postmaster(pg)
        if AS_ROOT:
            assert pg.relocated and pg.data_dir.parent.parent == shared_dir
            assert os.readlink(base / "data") == str(pg.data_dir)
            assert server.username() == "nobody"
            assert Path(server.exe()).is_relative_to(shared_dir)  # the copied binaries
            assert pg.data_dir.stat().st_uid == server.uids().real and pg.data_dir.stat().st_mode & 0o077 == 0
        else:
            assert not pg.relocated and pg.data_dir == base / "data" and not (base / "data").is_symlink()
            assert server.uids().real == os.getuid()
            assert Path(server.exe()).is_relative_to(postgres.BIN_DIR)  # straight from the wheel
            assert list(shared_dir.iterdir()) == []
        psql(dsn, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before restart')")

        pg.stop()
        assert not pg.is_running() and gone(server)

        again = EmbeddedPostgres(base, port)  # a later `make run`: same data, found from disk
        assert again.data_dir == pg.data_dir
        again.start()
        assert psql(dsn, "SELECT note FROM kept") == "before restart"

        killed = postmaster(again)
        killed.send_signal(signal.SIGKILL)
        wait_until(lambda: not again.is_running(), 30, "postmaster gone after kill -9", 0.05)
        assert (again.data_dir / "postmaster.pid").exists()  # stale, as a crash leaves it
        wait_until(lambda: not postgres._port_open(port), 30, "port released after kill -9", 0.05)
        again.start()
        assert postmaster(again).pid != killed.pid
        assert psql(dsn, "SELECT note FROM kept") == "before restart"
    finally:
        EmbeddedPostgres(base, port).stop()
