"""Run a single-node Apache Kafka (KRaft) broker for local development, without Docker.

Why this exists: the platform needs a real Kafka for local runs and integration
tests, but the dev machines have no Docker, only a JDK and Maven. So the broker
jars are fetched from Maven Central at the version pinned in
deploy/kafka/pom.xml, checked against deploy/kafka/checksums.sha256 (a jar we
did not expect never gets on the classpath), and `kafka.Kafka` is started as a
plain detached JVM process that outlives the Python process that started it.

Standard library only, so it runs before any virtualenv exists.

Manual use (relative --dir/--libs are taken from the repository root):

    python deploy/local/devstack/kafka.py fetch|start|stop|status \
        [--dir var/kafka] [--port 9092] [--controller-port 9093]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from pathlib import Path

KAFKA_VERSION: str = "4.1.2"  # must match <kafka.version> in deploy/kafka/pom.xml

REPO_ROOT = Path(__file__).resolve().parents[3]
KAFKA_DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
POM = KAFKA_DEPLOY_DIR / "pom.xml"
CHECKSUMS = KAFKA_DEPLOY_DIR / "checksums.sha256"
PROPERTIES_TEMPLATE = KAFKA_DEPLOY_DIR / "server.properties.template"
LOG4J_CONFIG = KAFKA_DEPLOY_DIR / "log4j2.yaml"

# Logged by KafkaRaftServer once both the controller and the broker are up
# (after the broker is unfenced), i.e. when clients can actually use it.
READY_LINE = "Kafka Server started"
# Small heap: the dev machine has 2 cores and shares them with everything else.
# The quick (C1) compiler only: with the optimizing one, the broker's compiler threads kept 8-9%
# of a core busy for minutes after every start, recompiling as the load shifted, and the broker
# took 8-10 ms of CPU per complaint at 50/s offered against 4.5-5 ms with C1 alone (`make bench`,
# two runs each). A dev broker never lives long enough to repay the optimizing compiler, and
# its peak (tens of thousands of records a second) is far above what the platform sends it.
JVM_OPTS = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]


# --------------------------------------------------------------------------- jars


def _expected_checksums() -> dict[str, str]:
    """Parse checksums.sha256 (sha256sum format) into {jar name: hex digest}."""
    expected = {}
    for line in CHECKSUMS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            expected[name.lstrip("*")] = digest.lower()
    if f"kafka_2.13-{KAFKA_VERSION}.jar" not in expected:
        # Catches a version bump in one place but not the other.
        raise RuntimeError(f"{CHECKSUMS} has no kafka_2.13-{KAFKA_VERSION}.jar; KAFKA_VERSION and pom.xml disagree?")
    return expected


def _jar_problems(libs_dir: Path) -> list[str]:
    """Compare the jars in libs_dir with checksums.sha256; an empty list means an exact match."""
    expected = _expected_checksums()
    present = {p.name: p for p in libs_dir.glob("*.jar")} if libs_dir.is_dir() else {}
    problems = [f"missing: {name}" for name in sorted(expected.keys() - present.keys())]
    problems += [f"unexpected: {name}" for name in sorted(present.keys() - expected.keys())]
    for name in sorted(expected.keys() & present.keys()):
        actual = hashlib.sha256(present[name].read_bytes()).hexdigest()
        if actual != expected[name]:
            problems.append(f"checksum mismatch: {name} (got {actual}, want {expected[name]})")
    return problems


def ensure_jars(libs_dir: Path) -> Path:
    """Make libs_dir hold exactly the pinned, checksum-verified Kafka jars; return it.

    Cheap when the jars are already there (hashes ~45 MB, no Maven run). Otherwise
    Maven copies the dependencies into a sibling temp dir which is verified and
    only then renamed into place, so an interrupted or tampered download never
    looks complete. Raises RuntimeError if Maven fails or any jar is missing,
    unexpected or has the wrong SHA-256.
    """
    libs_dir = Path(libs_dir).resolve()
    if libs_dir.is_dir() and not _jar_problems(libs_dir):
        return libs_dir

    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is not on PATH; it is needed to fetch the Kafka jars")
    tmp = libs_dir.with_name(f".{libs_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    # -C: also fail on a mismatch with Maven Central's own .sha1 files while downloading.
    cmd = [mvn, "-B", "-q", "-C", "-Dstyle.color=never", "-f", str(POM), "dependency:copy-dependencies",
           f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"]
    try:
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"Maven failed to fetch the Kafka jars (exit {result.returncode}):\n{output}")
        problems = _jar_problems(tmp)
        if problems:
            raise RuntimeError(f"Kafka jars fetched by Maven do not match {CHECKSUMS}:\n  " + "\n  ".join(problems))
        if libs_dir.exists():
            old = libs_dir.with_name(f".{libs_dir.name}.old-{os.getpid()}")
            libs_dir.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(libs_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return libs_dir


# --------------------------------------------------------------------------- node


def port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def java_executable() -> str:
    """The java executable: $JAVA_HOME/bin/java if set, else the one on PATH (Kafka 4 and
    s3proxy both need Java 17+)."""
    if os.environ.get("JAVA_HOME"):
        return str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not on PATH and JAVA_HOME is not set (Java 17+ is needed)")
    return java


def _new_cluster_id() -> str:
    """A random Kafka cluster id (16 bytes, URL-safe base64, unpadded), like `kafka-storage random-uuid`.

    Ids starting with '-' are skipped because the CLI would parse them as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaNode:
    """One combined broker+controller KRaft node whose state lives under base_dir.

    Layout: server.properties, kafka.pid, data/ (log.dirs, keeps topics across
    restarts), logs/ (kafka.out = JVM stdout/stderr, server.log = log4j2).
    The JVM runs in its own session, so it survives the caller and can be
    stopped later from another process via the pid file.
    """

    def __init__(self, base_dir: Path, port: int, controller_port: int, libs_dir: Path) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.controller_port = controller_port
        self.libs_dir = Path(libs_dir).resolve()
        self.data_dir = self.base_dir / "data"
        self.logs_dir = self.base_dir / "logs"
        self.properties_file = self.base_dir / "server.properties"
        self.pid_file = self.base_dir / "kafka.pid"
        self.out_file = self.logs_dir / "kafka.out"
        self._proc: subprocess.Popen[bytes] | None = None

    def _java_cmd(self, main_class: str, *args: str) -> list[str]:
        logging = [f"-Dkafka.logs.dir={self.logs_dir}", f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"]
        return [java_executable(), *JVM_OPTS, *logging, "-cp", str(self.libs_dir / "*"), main_class, *args]

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _is_our_process(self, pid: int) -> bool:
        """True if pid is alive and is this node's JVM (not a zombie, not a reused pid)."""
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists but belongs to another user: cmdline check below decides
        if not Path("/proc/self").exists():
            return True  # no /proc (e.g. macOS): trust the pid
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False  # exited in the meantime
        # Zombies have an empty cmdline; a recycled pid has someone else's.
        return b"kafka.Kafka\0" in cmdline and str(self.properties_file).encode() in cmdline

    def is_running(self) -> bool:
        """Whether the JVM recorded in the pid file is alive; a stale pid file counts as not running."""
        pid = self._pid()
        if pid is None:
            return False
        if self._proc is not None and self._proc.pid == pid:
            # Our own child: poll() is authoritative (and reaps it). /proc is not
            # usable here: right after spawn the exec may not have published the
            # new cmdline yet, so it reads as empty.
            return self._proc.poll() is None
        return self._is_our_process(pid)

    def _write_properties(self) -> None:
        template = string.Template(PROPERTIES_TEMPLATE.read_text())
        text = template.substitute(port=self.port, controller_port=self.controller_port, data_dir=self.data_dir)
        self.properties_file.write_text(text)

    def _format_storage_once(self) -> None:
        """Format data/ with a fresh cluster id, only if it was never formatted (keeps data on restarts)."""
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = _new_cluster_id()
        cmd = self._java_cmd("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.properties_file))
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.base_dir)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"Kafka storage format failed (exit {result.returncode}):\n{output}")

    def start(self) -> None:
        """Write server.properties, format storage on first start, and launch the broker detached.

        Returns as soon as the JVM is spawned; call wait_ready() to wait for it.
        Does nothing if this node is already running; a stale pid file is replaced.
        """
        if self.is_running():
            return
        self.pid_file.unlink(missing_ok=True)
        for d in (self.base_dir, self.data_dir, self.logs_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        self._format_storage_once()
        with open(self.out_file, "wb") as out:  # truncated: wait_ready only sees this run
            self._proc = subprocess.Popen(
                self._java_cmd("kafka.Kafka", str(self.properties_file)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                start_new_session=True,  # own session + process group: survives us, stop() signals the group
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")

    def _log_tail(self, lines: int = 40) -> str:
        tails = []
        for path in (self.out_file, self.logs_dir / "server.log"):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                tails.append(f"--- {path} (last {len(text)} lines) ---\n" + "\n".join(text))
        return "\n".join(tails) or "(no logs)"

    def _port_open(self) -> bool:
        return port_open(self.port)

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the broker has logged READY_LINE for this run and accepts TCP connections.

        Raises RuntimeError, with the tail of the logs, if the JVM dies or the
        timeout passes first.
        """
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running():
                raise RuntimeError(f"Kafka on port {self.port} is not running (exited?)\n{self._log_tail()}")
            started = self.out_file.exists() and READY_LINE in self.out_file.read_text(errors="replace")
            if started and self._port_open():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kafka on port {self.port} not ready after {timeout:g}s\n{self._log_tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the node's process group (clean shutdown), SIGKILL it after timeout seconds.

        Safe to call when not running or with a stale pid file.
        """
        pid = self._pid()
        if pid is not None and self.is_running():
            self._signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.is_running() and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.is_running():
                self._signal_group(pid, signal.SIGKILL)
                while self.is_running() and time.monotonic() < deadline + 10:
                    time.sleep(0.1)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        self.pid_file.unlink(missing_ok=True)

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)  # start_new_session=True made the JVM its own group leader
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command line for manual use: fetch jars, start (and wait), stop, status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "start", "stop", "status"])
    parser.add_argument("--dir", type=Path, default=Path("var/kafka"), help="node state dir (default: var/kafka)")
    parser.add_argument("--libs", type=Path, default=None, help="jar dir (default: <dir>/libs)")
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--controller-port", type=int, default=9093)
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for readiness")
    args = parser.parse_args(argv)

    base_dir = args.dir if args.dir.is_absolute() else REPO_ROOT / args.dir
    libs_dir = args.libs or base_dir / "libs"
    libs_dir = libs_dir if libs_dir.is_absolute() else REPO_ROOT / libs_dir
    node = KafkaNode(base_dir, args.port, args.controller_port, libs_dir)

    if args.command == "fetch":
        print(f"Kafka {KAFKA_VERSION} jars verified in {ensure_jars(libs_dir)}")
    elif args.command == "start":
        if node.is_running():
            print(f"Kafka already running (pid {node._pid()}) in {base_dir}")
            return 0
        ensure_jars(libs_dir)
        started = time.monotonic()
        node.start()
        node.wait_ready(args.timeout)
        elapsed = time.monotonic() - started
        print(f"Kafka {KAFKA_VERSION} ready on 127.0.0.1:{args.port} in {elapsed:.1f}s (pid {node._pid()}, "
              f"logs in {node.logs_dir})")
    elif args.command == "stop":
        node.stop()
        print("Kafka stopped")
    else:
        running = node.is_running()
        print(f"Kafka {'running (pid %d)' % node._pid() if running else 'not running'} in {base_dir}")
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
