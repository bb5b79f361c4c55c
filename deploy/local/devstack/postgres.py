"""A real PostgreSQL server for local development, without Docker or a system install.

Why: dev and CI machines for this project have no Docker, and whatever PostgreSQL
the machine may have is not ours to rely on (version, config, owner). The
``pgserver`` wheel from PyPI ships the PostgreSQL server binaries, so pinning it
pins the server version for everyone. This module drives only those bundled
binaries (initdb, pg_ctl, pg_isready, psql) and never anything on PATH.

The server is started detached (``pg_ctl start``), so it outlives the process
that started it, listens on 127.0.0.1 only (no unix socket), trusts every local
connection as user ``postgres``, and logs to ``<base_dir>/postgres.log``.
PostgreSQL refuses to run as root; when we are root, the server runs as the
owner of an existing data directory, else as ``nobody`` (override with the
DEVSTACK_PG_OS_USER environment variable).

CLI: python deploy/local/devstack/postgres.py start|stop|status [--dir var/pg] [--port 55432]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import pwd
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import psutil

# Locate the wheel's binaries without importing pgserver (its import has side effects we don't need).
_PGSERVER_SPEC = importlib.util.find_spec("pgserver")
if _PGSERVER_SPEC is None or not _PGSERVER_SPEC.submodule_search_locations:
    raise ImportError("pgserver is not installed: pip install pgserver")
BIN_DIR = pathlib.Path(_PGSERVER_SPEC.submodule_search_locations[0]) / "pginstall" / "bin"

# Sized for a 2-core dev box; fsync stays on so crash behaviour matches production.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",  # TCP only: no socket path length or /tmp clashes
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "on",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "timezone": "UTC",
    "log_timezone": "UTC",
}
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def _bin(name: str) -> str:
    return str(BIN_DIR / name)


def _env() -> dict[str, str]:
    # PG* variables from the caller's shell (PGHOST, PGDATA, ...) must not leak in.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``base_dir/data``, served on 127.0.0.1:``port``."""

    def __init__(self, base_dir: pathlib.Path, port: int) -> None:
        self.base_dir = pathlib.Path(base_dir).resolve()
        self.port = port
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "postgres.log"
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    # -- public API -------------------------------------------------------

    def start(self) -> str:
        """Start the server (initdb on first start) and return its DSN once it accepts connections."""
        pid = self._postmaster_pid()
        if pid is not None:
            running_port = (self._pid_file_lines()[3:4] or ["?"])[0]
            if running_port != str(self.port):
                raise RuntimeError(f"{self.data_dir} is already served by pid {pid} on port {running_port}")
            self._wait_ready()
            return self.dsn
        self._remove_stale_pid_file()
        if _port_open(self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is already in use by another process")
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        options = " ".join(f"-c {k}='{v}'" for k, v in SERVER_SETTINGS.items())
        try:
            # -w: pg_ctl waits (bounded by -t) and fails fast if the postmaster dies during startup.
            self._run_as_server_user(
                [_bin("pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT_S), "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", f"-p {self.port} {options}"],
                timeout=START_TIMEOUT_S + 5,
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{exc}\n--- {self.log_file} (tail) ---\n{self._log_tail()}") from exc
        self._wait_ready()
        return self.dsn

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions); escalates to immediate if it hangs."""
        if self._postmaster_pid() is None:
            self._remove_stale_pid_file()
            return
        base = [_bin("pg_ctl"), "stop", "-w", "-t", str(STOP_TIMEOUT_S), "-D", str(self.data_dir)]
        try:
            self._run_as_server_user([*base, "-m", "fast"], timeout=STOP_TIMEOUT_S + 5)
        except (RuntimeError, subprocess.TimeoutExpired):
            self._run_as_server_user([*base, "-m", "immediate"], timeout=STOP_TIMEOUT_S + 5)

    def is_running(self) -> bool:
        return self._postmaster_pid() is not None

    # -- internals --------------------------------------------------------

    def _pid_file_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return []

    def _postmaster_pid(self) -> int | None:
        """PID of our live postmaster, or None. Guards against PIDs reused after a crash."""
        lines = self._pid_file_lines()
        if not lines or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or str(self.data_dir) not in proc.cmdline():
                return None
        except psutil.Error:
            return None
        return pid

    def _remove_stale_pid_file(self) -> None:
        # Left behind by a crash or kill -9; postgres would refuse to start if its PID got reused.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _server_user(self) -> pwd.struct_passwd | None:
        """The OS user to run server binaries as, or None to run as ourselves (non-root)."""
        if os.geteuid() != 0:
            return None
        if self.data_dir.exists() and self.data_dir.stat().st_uid != 0:
            return pwd.getpwuid(self.data_dir.stat().st_uid)
        return pwd.getpwnam(os.environ.get("DEVSTACK_PG_OS_USER", "nobody"))

    def _prepare_dirs(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        user = self._server_user()
        if user is not None:
            for path in (self.data_dir, self.log_file):
                os.chown(path, user.pw_uid, user.pw_gid)
            if not _traversable(self.base_dir):
                raise RuntimeError(f"{self.base_dir} is not reachable by user {user.pw_name}; use a dir outside /root")

    def _initdb(self) -> None:
        self._run_as_server_user(
            [_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--no-locale", "--no-instructions"],
            timeout=120,
        )

    def _run_as_server_user(self, cmd: list[str], timeout: float) -> None:
        user = self._server_user()
        extra = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        # Output goes to a file, not a pipe: the detached postmaster must not hold our pipe open.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                               cwd=self.base_dir, env=_env(), timeout=timeout, check=True, **extra)
            except subprocess.CalledProcessError as exc:
                out.seek(0)
                raise RuntimeError(f"{' '.join(cmd[:2])} failed ({exc.returncode}): {out.read().strip()}") from exc

    def _wait_ready(self) -> None:
        """Poll pg_isready until our postmaster accepts TCP connections (bounded)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._postmaster_pid() is not None and subprocess.run(
                [_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                 "-t", "2"],
                env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ).returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError(f"postgres on port {self.port} not ready after {START_TIMEOUT_S}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _traversable(path: pathlib.Path) -> bool:
    """True if every ancestor of path is searchable by other users (needed when the server runs as nobody)."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def create_database(dsn: str, name: str) -> str:
    """Create database ``name`` on the server behind ``dsn`` unless it exists; return a DSN for it."""
    sql = ("SELECT format('CREATE DATABASE %I', :'newdb') "
           "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'newdb') \\gexec\n")
    result = subprocess.run(
        [_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"newdb={name}", "-d", dsn],
        input=sql, text=True, env=_env(), timeout=60, capture_output=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"creating database {name!r} failed: {result.stderr.strip()}")
    return urllib.parse.urlsplit(dsn)._replace(path="/" + urllib.parse.quote(name, safe="")).geturl()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Embedded PostgreSQL for local development")
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", default="var/pg", type=pathlib.Path)
    parser.add_argument("--port", default=55432, type=int)
    args = parser.parse_args(argv)
    pg = EmbeddedPostgres(args.dir, args.port)
    if args.command == "start":
        print(pg.start())
    elif args.command == "stop":
        pg.stop()
    else:
        print("running" if pg.is_running() else "stopped")
        return 0 if pg.is_running() else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
