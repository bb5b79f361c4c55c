"""A real PostgreSQL server for local development, without Docker or a system install.

Why: dev and CI machines for this project have no Docker, and whatever PostgreSQL
the machine may have is not ours to rely on (version, config, owner). The
``pgserver`` wheel from PyPI ships the PostgreSQL server binaries, so pinning it
pins the server version for everyone. This module drives only those bundled
binaries (initdb, pg_ctl, postgres, pg_isready, psql) and never anything on PATH.

The server is started detached (``pg_ctl start``), so it outlives the process
that started it, listens on 127.0.0.1 only (no unix socket), trusts every local
connection as user ``postgres``, and logs to ``<base_dir>/postgres.log``.

PostgreSQL refuses to run as root; when we are root, the server runs as the
owner of an existing data directory, else as ``nobody`` (override with the
DEVSTACK_PG_OS_USER environment variable). That user must reach the server
binaries and the data, which fails when the clone sits somewhere only root may
enter (``/root`` is 0700). Rather than asking people to move their clone, we then
keep what the server user needs under a root-owned, world-traversable folder,
``/var/lib/lapor-devstack`` (override with DEVSTACK_PG_SHARED_DIR). /var/lib, not
/var/tmp: a cluster left idle for a month must not be pruned by a tmp cleaner
(systemd-tmpfiles ages /var/tmp at 30 days on many distributions).

- ``pgserver-<version>-<hash of the wheel path>/``: a copy of the wheel's
  ``pginstall`` (bin, lib, share) and of ``pgserver.libs`` (the libpq that
  auditwheel moved out, which initdb finds through ``$ORIGIN/../../../pgserver.libs``).
  The binaries locate lib/ and share/ relative to themselves, so the copy works
  as is. It is made once, atomically (temp dir + rename) and reused while its
  manifest still matches (else it is made again).
- ``pg-<hash of base_dir>/``: ``data/`` (0700, server user) and ``postgres.log``.
  ``<base_dir>/data`` and ``<base_dir>/postgres.log`` become symlinks to them, so
  the data is still found where people look, and the link is what ties the two
  together: a home whose base_dir no longer links to it (``make clean``, a test
  folder removed) is stale and gets deleted, so old data never comes back and
  test sessions don't pile up.

psql and pg_isready run as ourselves from the wheel, so they need none of this.
Non-root runs, and root runs in folders the server user can reach, use the wheel
and ``base_dir`` directly, exactly as before.

CLI: python deploy/local/devstack/postgres.py start|stop|status [--dir var/pg] [--port 55432]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator

import psutil

# Locate the wheel's binaries without importing pgserver (its import has side effects we don't need).
_PGSERVER_SPEC = importlib.util.find_spec("pgserver")
if _PGSERVER_SPEC is None or not _PGSERVER_SPEC.submodule_search_locations:
    raise ImportError("pgserver is not installed: pip install pgserver")
_PGSERVER_DIR = pathlib.Path(_PGSERVER_SPEC.submodule_search_locations[0]).resolve()
PGINSTALL = _PGSERVER_DIR / "pginstall"
BIN_DIR = PGINSTALL / "bin"
# Shared libraries auditwheel moved out of pginstall; initdb (and psql) load libpq from here.
WHEEL_LIBS = _PGSERVER_DIR.parent / "pgserver.libs"
# What running a server needs from pginstall (include/ holds only C headers).
RUNTIME_DIRS = ("bin", "lib", "share")
DEFAULT_SHARED_DIR = "/var/lib/lapor-devstack"
MANIFEST = "MANIFEST.json"

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
LOCK_TIMEOUT_S = 180  # long enough for another process to finish copying the binaries


def _bin(name: str) -> str:
    """A client binary (psql, pg_isready), run as ourselves straight from the wheel."""
    return str(BIN_DIR / name)


def _env() -> dict[str, str]:
    # PG* variables from the caller's shell (PGHOST, PGDATA, ...) must not leak in.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class EmbeddedPostgres:
    """One PostgreSQL cluster for ``base_dir``, served on 127.0.0.1:``port``.

    The cluster lives in ``base_dir/data`` unless the server user cannot reach
    ``base_dir`` (see the module docstring); ``data_dir`` and ``log_file`` say
    where it really is.
    """

    def __init__(self, base_dir: pathlib.Path, port: int) -> None:
        self.base_dir = pathlib.Path(base_dir).resolve()
        self.port = port
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self.shared_dir = pathlib.Path(os.environ.get("DEVSTACK_PG_SHARED_DIR") or DEFAULT_SHARED_DIR).resolve()
        self._server_bin_dir: pathlib.Path | None = None
        self._place()

    # -- public API -------------------------------------------------------

    def start(self) -> str:
        """Start the server (initdb on first start) and return its DSN once it accepts connections."""
        self._place()
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
                [self._server_bin("pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT_S), "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", f"-p {self.port} {options}"],
                timeout=START_TIMEOUT_S + 5,
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{exc}\n--- {self.log_file} (tail) ---\n{self._log_tail()}") from exc
        self._wait_ready()
        return self.dsn

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions); escalates to immediate if it hangs."""
        self._place()
        if self._postmaster_pid() is None:
            self._remove_stale_pid_file()
            return
        base = [self._server_bin("pg_ctl"), "stop", "-w", "-t", str(STOP_TIMEOUT_S), "-D", str(self.data_dir)]
        try:
            self._run_as_server_user([*base, "-m", "fast"], timeout=STOP_TIMEOUT_S + 5)
        except (RuntimeError, subprocess.TimeoutExpired):
            self._run_as_server_user([*base, "-m", "immediate"], timeout=STOP_TIMEOUT_S + 5)

    def is_running(self) -> bool:
        self._place()
        return self._postmaster_pid() is not None

    @property
    def relocated(self) -> bool:
        """True when data and log live under the shared dir instead of ``base_dir``."""
        return self.home != self.base_dir

    # -- placement --------------------------------------------------------

    def _place(self) -> None:
        """Decide where data/ and postgres.log live, from what is on disk.

        Redone by every public call, so that separate processes (`make run`, then
        `make stop`) reach the same answer, and so that folders created between
        construction and start() (Stack makes var/ with the caller's umask) count.
        """
        relocated = relocated_home(self.shared_dir, self.base_dir)
        as_root = os.geteuid() == 0
        linked = initialised = reachable = False
        if as_root:
            linked = _readlink(self.base_dir / "data") == str(relocated / "data")
            initialised = not linked and (self.base_dir / "data" / "PG_VERSION").exists()
            if not (linked or initialised):
                try:
                    user = _server_user_for(self.base_dir / "data")
                except RuntimeError:  # no such user: start() says so; is_running() must not fail on it
                    reachable = True
                else:
                    reachable = _reachable(self.base_dir, user.pw_uid, user.pw_gid, _umask())
        self.home = choose_home(self.base_dir, relocated, as_root=as_root, linked=linked,
                                initialised_in_place=initialised, reachable=reachable)
        self.data_dir = self.home / "data"
        self.log_file = self.home / "postgres.log"

    def _prepare_dirs(self) -> None:
        user = self._server_user()
        if self.relocated:
            self._prepare_relocated_home()
        else:
            self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if user is not None:
            for path in (self.data_dir, self.log_file):
                os.chown(path, user.pw_uid, user.pw_gid)
            if not _reachable(self.home, user.pw_uid, user.pw_gid, _umask()):
                if self.relocated:
                    raise RuntimeError(f"{self.home} is not reachable by user {user.pw_name}; "
                                       f"point DEVSTACK_PG_SHARED_DIR to a folder it can search")
                # An existing cluster is never moved for you (choose_home): that is for a human to decide.
                raise RuntimeError(f"{self.base_dir} is not reachable by user {user.pw_name}: make the folders "
                                   f"above it searchable (chmod o+x), or move {self.data_dir} away to have a "
                                   f"new cluster kept under {self.shared_dir}")

    def _prepare_relocated_home(self) -> None:
        """Create the shared home and link ``base_dir`` to it (under the shared dir's lock)."""
        _owned_dir(self.shared_dir)
        with _locked(self.shared_dir):
            _owned_dir(self.home)
            link = self.base_dir / "data"
            if _readlink(link) != str(self.data_dir):
                # base_dir was removed (make clean) or is new: data left in this home belongs to no one.
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self.log_file.unlink(missing_ok=True)
                self.base_dir.mkdir(parents=True, exist_ok=True)
                _link(link, self.data_dir)
            _link(self.base_dir / "postgres.log", self.log_file)
            (self.home / "origin").write_text(f"{self.base_dir}\n")
            _remove_orphan_homes(self.shared_dir, keep=self.home)

    # -- internals --------------------------------------------------------

    def _pid_file_lines(self) -> list[str]:
        return _pid_file_lines(self.data_dir)

    def _postmaster_pid(self) -> int | None:
        return _live_postmaster(self.data_dir)

    def _remove_stale_pid_file(self) -> None:
        # Left behind by a crash or kill -9; postgres would refuse to start if its PID got reused.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _server_user(self) -> pwd.struct_passwd | None:
        """The OS user to run server binaries as, or None to run as ourselves (non-root)."""
        if os.geteuid() != 0:
            return None
        return _server_user_for(self.data_dir)

    def _server_bin(self, name: str) -> str:
        """A server binary (initdb, pg_ctl), from wherever the server user can run it."""
        if self._server_bin_dir is None:
            user = self._server_user()
            if user is None or _tree_problem(_wheel_roots(), user.pw_uid, user.pw_gid) is None:
                self._server_bin_dir = BIN_DIR
            else:
                self._server_bin_dir = ensure_binary_cache(self.shared_dir, PGINSTALL, WHEEL_LIBS,
                                                           _pgserver_version(), user)
        return str(self._server_bin_dir / name)

    def _initdb(self) -> None:
        self._run_as_server_user(
            [self._server_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--no-locale", "--no-instructions"],
            timeout=120,
        )

    def _run_as_server_user(self, cmd: list[str], timeout: float) -> None:
        user = self._server_user()
        extra = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        # Output goes to a file, not a pipe: the detached postmaster must not hold our pipe open.
        # cwd is home, not base_dir: the postmaster keeps its cwd and the server user must reach it.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                               cwd=self.home, env=_env(), timeout=timeout, check=True, **extra)
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


# -- placement decisions (pure) -------------------------------------------


def choose_home(base_dir: pathlib.Path, relocated: pathlib.Path, *, as_root: bool, linked: bool,
                initialised_in_place: bool, reachable: bool) -> pathlib.Path:
    """The folder that holds ``data/`` and ``postgres.log``: ``base_dir`` or its ``relocated`` home.

    Non-root runs never relocate (the server runs as ourselves). A link left by an
    earlier relocation wins, so a clone made reachable later keeps its data. An
    existing cluster in ``base_dir`` stays where it is. Otherwise relocate only if
    the server user cannot reach ``base_dir``.
    """
    if not as_root:
        return base_dir
    if linked:
        return relocated
    if initialised_in_place or reachable:
        return base_dir
    return relocated


def relocated_home(shared_dir: pathlib.Path, base_dir: pathlib.Path) -> pathlib.Path:
    """The home for ``base_dir`` under the shared dir: the same every time, distinct per base_dir."""
    return shared_dir / f"pg-{hashlib.sha256(str(base_dir).encode()).hexdigest()[:16]}"


def binary_cache_dir(shared_dir: pathlib.Path, pginstall: pathlib.Path, version: str) -> pathlib.Path:
    """Where the copy of ``pginstall`` goes: one per pgserver version and venv."""
    return shared_dir / f"pgserver-{version}-{hashlib.sha256(str(pginstall).encode()).hexdigest()[:12]}"


def _permits(mode: int, owner: int, group: int, uid: int, gid: int, bits: int) -> bool:
    """Whether uid:gid gets ``bits`` (rwx as 4/2/1) on a file: owner, else group, else other class.

    No supplementary groups: the server is started with none (extra_groups=[]).
    """
    shift = 6 if owner == uid else 3 if group == gid else 0
    return (mode >> shift) & bits == bits


def _reachable(path: pathlib.Path, uid: int, gid: int, umask: int) -> bool:
    """True if uid:gid can search every folder from / down to ``path``.

    Folders that don't exist yet will be made by us (root) with our umask, so they count as such.
    """
    for folder in reversed([path, *path.parents]):
        try:
            st = os.stat(folder)
        except FileNotFoundError:
            return _permits(0o777 & ~umask, 0, 0, uid, gid, 0o1)
        if not stat.S_ISDIR(st.st_mode) or not _permits(st.st_mode, st.st_uid, st.st_gid, uid, gid, 0o1):
            return False
    return True


def _tree_problem(roots: list[pathlib.Path], uid: int, gid: int) -> str | None:
    """The first path under ``roots`` that uid:gid could not use, or None.

    Folders need r and x, files r, and files executable by anyone x too.
    """
    for root in roots:
        if not root.is_dir():
            return f"{root} (missing)"
        if not _reachable(root.parent, uid, gid, umask=0o777):
            return f"{root.parent} (not searchable)"
        for folder, _dirs, files in os.walk(root):
            st = os.stat(folder)
            if not _permits(st.st_mode, st.st_uid, st.st_gid, uid, gid, 0o5):
                return folder
            for name in files:
                try:
                    st = os.stat(os.path.join(folder, name))
                except FileNotFoundError:  # a dangling symlink: no one's to use, not a permission matter
                    continue
                need = 0o5 if st.st_mode & 0o111 else 0o4
                if not _permits(st.st_mode, st.st_uid, st.st_gid, uid, gid, need):
                    return os.path.join(folder, name)
    return None


def _wheel_roots() -> list[pathlib.Path]:
    return [PGINSTALL / part for part in RUNTIME_DIRS] + ([WHEEL_LIBS] if WHEEL_LIBS.is_dir() else [])


def _umask() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # reading it means setting it: restore at once
    os.umask(mask)
    return mask


# -- the shared dir ----------------------------------------------------------


def _owned_dir(path: pathlib.Path) -> None:
    """Create ``path`` (0755) or accept it only if it is a real folder of ours that no one else can write.

    What is in it runs as the server user and holds our data, and it may be put in a
    world-writable place (DEVSTACK_PG_SHARED_DIR=/var/tmp/...): a folder someone else
    made there must not be trusted.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)  # whatever our umask: the server user must search it
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise RuntimeError(f"{path} is not a folder owned by uid {os.geteuid()} and writable only by it; "
                           f"remove it or set DEVSTACK_PG_SHARED_DIR")


@contextlib.contextmanager
def _locked(shared_dir: pathlib.Path) -> Iterator[None]:
    """Exclusive lock on the shared dir (make run and make test may start at once)."""
    fd = os.open(shared_dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{shared_dir}/.lock still held after {LOCK_TIMEOUT_S}s") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


def _readlink(path: pathlib.Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:  # missing, or not a symlink
        return None


def _link(path: pathlib.Path, target: pathlib.Path) -> None:
    """Make ``path`` a symlink to ``target``, replacing a file or an empty folder but never data."""
    if _readlink(path) == str(target):
        return
    if path.is_dir() and not path.is_symlink():
        try:
            path.rmdir()  # left empty by a start that failed before this relocation existed
        except OSError:
            raise RuntimeError(f"{path} holds files but no cluster the server user can reach; "
                               f"move it away and start again") from None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, path)


def _remove_orphan_homes(shared_dir: pathlib.Path, keep: pathlib.Path) -> None:
    """Delete homes whose base_dir no longer links to them and whose server is down.

    Their base_dir was removed (make clean, a finished test session), so nothing can
    reach this data through EmbeddedPostgres any more; keeping it only fills the disk.
    """
    for home in shared_dir.glob("pg-*"):
        if home == keep or home.is_symlink() or not home.is_dir():
            continue
        try:
            origin = pathlib.Path((home / "origin").read_text().strip())
        except OSError:
            continue  # not made by this code, or not finished: leave it
        if _readlink(origin / "data") == str(home / "data") or _live_postmaster(home / "data") is not None:
            continue
        shutil.rmtree(home, ignore_errors=True)


# -- the binary cache -----------------------------------------------------


def ensure_binary_cache(shared_dir: pathlib.Path, pginstall: pathlib.Path, wheel_libs: pathlib.Path,
                        version: str, user: pwd.struct_passwd) -> pathlib.Path:
    """The bin/ folder of a complete copy of the server binaries that ``user`` can run.

    Copied once per pgserver version and venv into a temp folder, checked, then
    renamed into place, so a copy interrupted half way is never used; reused
    while its manifest matches what is on disk.
    """
    dest = binary_cache_dir(shared_dir, pginstall, version)
    roots = [dest / "pgserver" / "pginstall" / part for part in RUNTIME_DIRS] + [dest / "pgserver.libs"]
    _owned_dir(shared_dir)
    with _locked(shared_dir):
        if _manifest_matches(dest) and _tree_problem(roots, user.pw_uid, user.pw_gid) is None:
            return roots[0]
        for leftover in shared_dir.glob(f".{dest.name}.*"):  # we hold the lock: no one is still writing it
            shutil.rmtree(leftover, ignore_errors=True)
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=shared_dir))
        try:
            for part in RUNTIME_DIRS:
                shutil.copytree(pginstall / part, tmp / "pgserver" / "pginstall" / part, symlinks=True)
            libs = tmp / "pgserver.libs"
            if wheel_libs.is_dir():
                shutil.copytree(wheel_libs, libs, symlinks=True)
            else:
                libs.mkdir()
            _open_up(tmp)
            tmp_roots = [tmp / root.relative_to(dest) for root in roots]
            problem = _tree_problem(tmp_roots, user.pw_uid, user.pw_gid)
            if problem is not None:
                raise RuntimeError(f"copied PostgreSQL binaries, but {user.pw_name} cannot use {problem}")
            _write_manifest(tmp, source=pginstall, version=version)
            if dest.exists():  # incomplete or unusable: swap it out
                os.rename(dest, tmp.with_name(tmp.name + ".old"))
            os.rename(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(tmp.with_name(tmp.name + ".old"), ignore_errors=True)
    return roots[0]


def _open_up(root: pathlib.Path) -> None:
    """Folders 0755, files 0755 or 0644: readable by the server user whatever the copied modes were."""
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o111 else 0o644)


def _write_manifest(root: pathlib.Path, source: pathlib.Path, version: str) -> None:
    entries: dict[str, int | str] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            entries[rel] = ("->" + os.readlink(path)) if os.path.islink(path) else os.path.getsize(path)
    text = json.dumps({"source": str(source), "version": version, "files": entries}, indent=0, sort_keys=True)
    (root / MANIFEST).write_text(text)
    os.chmod(root / MANIFEST, 0o644)


def _manifest_matches(root: pathlib.Path) -> bool:
    """True if ``root`` has its manifest and every file it lists, with the same size or link target."""
    try:
        entries = json.loads((root / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for rel, expected in entries.items():
        path = root / rel
        try:
            if isinstance(expected, str):
                if "->" + os.readlink(path) != expected:
                    return False
            elif os.lstat(path).st_size != expected or path.is_symlink():
                return False
        except OSError:
            return False
    return bool(entries)


def _pgserver_version() -> str:
    try:
        return importlib.metadata.version("pgserver")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# -- processes and users ----------------------------------------------------


def _server_user_for(data_dir: pathlib.Path) -> pwd.struct_passwd:
    """The owner of an existing data dir (not root), else DEVSTACK_PG_OS_USER, else nobody."""
    try:
        owner = os.stat(data_dir).st_uid
    except OSError:
        owner = 0
    if owner != 0:
        return pwd.getpwuid(owner)
    name = os.environ.get("DEVSTACK_PG_OS_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"no OS user {name!r} to run PostgreSQL as; set DEVSTACK_PG_OS_USER") from None


def _pid_file_lines(data_dir: pathlib.Path) -> list[str]:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return []


def _live_postmaster(data_dir: pathlib.Path) -> int | None:
    """PID of a live postmaster serving ``data_dir``, or None. Guards against PIDs reused after a crash."""
    lines = _pid_file_lines(data_dir)
    if not lines or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or str(data_dir) not in proc.cmdline():
            return None
    except psutil.Error:
        return None
    return pid


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


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
