"""A real S3-compatible server for tests and local trials of `ATTACHMENTS_STORE=s3`, without
Docker: s3proxy (Apache-2.0, github.com/gaul/s3proxy), one self-contained jar from Maven
Central, serving the S3 API from an in-memory (`transient`) or folder (`filesystem`) backend.

Why s3proxy: it installs from a registry this project already uses (Maven Central, as the
Kafka broker does), runs on the JDK the broker needs anyway, and speaks S3 with AWS signature
v2/v4 like MinIO or AWS do. Version 2.6.0 is pinned: its jar was checked to run on the
Java 17 the broker uses (newer lines may need a newer JDK; check before bumping). The jar is fetched with Maven (which checks Central's own .sha1 while
downloading, `-C`) and accepted only if its SHA-256 is the one recorded here, so a jar we did
not expect never runs. It is cached under var/ and started as a detached JVM in its own
session, on a port the caller picks.

Standard library only. Manual use (relative --dir is taken from the repository root):

    python deploy/local/devstack/s3proxy.py fetch|start|stop [--dir var/s3proxy] [--port 9000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.kafka import java_executable, port_open

S3PROXY_VERSION = "2.6.0"
ARTIFACT = f"org.gaul:s3proxy:{S3PROXY_VERSION}:jar:jar-with-dependencies"
JAR_NAME = f"s3proxy-{S3PROXY_VERSION}-jar-with-dependencies.jar"
JAR_SHA256 = "12e5e88d805cfed07f7d88b4a44a0d8ecb9f9d3cebeb544bb34fbc4ded1049d8"

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_LIBS = REPO_ROOT / "var" / "s3proxy-libs"
READY_LINE = "Started Server"
JVM_OPTS = ["-Xms64m", "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_jar(libs_dir: Path = DEFAULT_LIBS) -> Path:
    """The verified jar in libs_dir, fetched from Maven Central when missing or wrong. Fetched
    into a temporary folder, verified, then renamed into place: an interrupted or tampered
    download never looks complete. RuntimeError when Maven fails or the checksum differs."""
    libs_dir = Path(libs_dir).resolve()
    jar = libs_dir / JAR_NAME
    if jar.is_file() and _sha256(jar) == JAR_SHA256:
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is not on PATH; it is needed to fetch s3proxy")
    tmp = libs_dir.with_name(f".{libs_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        result = subprocess.run(
            [mvn, "-B", "-q", "-C", "-Dstyle.color=never", "dependency:copy",
             f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={tmp}"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp)
        if result.returncode != 0:
            raise RuntimeError(f"Maven failed to fetch s3proxy (exit {result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        fetched = tmp / JAR_NAME
        actual = _sha256(fetched) if fetched.is_file() else "(missing)"
        if actual != JAR_SHA256:
            raise RuntimeError(f"s3proxy jar checksum mismatch: got {actual}, want {JAR_SHA256}")
        libs_dir.mkdir(parents=True, exist_ok=True)
        os.replace(fetched, jar)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return jar


class S3Proxy:
    """One s3proxy process whose state lives under base_dir (properties, pid, log, and the
    objects when `backend` is filesystem). Credentials are the S3 access key and secret."""

    def __init__(self, base_dir: Path, port: int, *, jar: Path | None = None,
                 access_key: str = "lapor-test", secret_key: str = "lapor-test-secret",
                 backend: str = "transient") -> None:
        self.base_dir = Path(base_dir).resolve()
        self.port, self.jar = port, jar
        self.access_key, self.secret_key, self.backend = access_key, secret_key, backend
        self.properties = self.base_dir / "s3proxy.conf"
        self.pid_file = self.base_dir / "s3proxy.pid"
        self.log_file = self.base_dir / "s3proxy.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_properties(self) -> None:
        lines = [f"s3proxy.endpoint={self.endpoint_url}",
                 "s3proxy.authorization=aws-v2-or-v4",
                 f"s3proxy.identity={self.access_key}",
                 f"s3proxy.credential={self.secret_key}",
                 f"jclouds.provider={self.backend}"]
        if self.backend == "filesystem":
            (self.base_dir / "data").mkdir(parents=True, exist_ok=True)
            lines.append(f"jclouds.filesystem.basedir={self.base_dir / 'data'}")
        self.properties.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        """Launch detached; call wait_ready() next. Does nothing when already running."""
        if self.is_running():
            return
        jar = self.jar or ensure_jar()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        with open(self.log_file, "wb") as out:
            self._proc = subprocess.Popen(
                [java_executable(), *JVM_OPTS, "-jar", str(jar), "--properties", str(self.properties)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.base_dir, start_new_session=True)
        self.pid_file.write_text(f"{self._proc.pid}\n")

    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        pid = self._pid()
        if pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return str(self.properties).encode() in cmdline

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the server logged its start for this run and accepts connections; RuntimeError
        with the log's tail when it exits or the timeout passes first."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running():
                raise RuntimeError(f"s3proxy exited:\n{self._tail()}")
            text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            if READY_LINE in text and self._port_open():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"s3proxy not ready after {timeout:g}s:\n{self._tail()}")
            time.sleep(0.2)

    def _port_open(self) -> bool:
        return port_open(self.port)

    def _tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the process group, SIGKILL after `timeout`; safe when not running."""
        pid = self._pid()
        if pid is not None and self.is_running():
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while self.is_running() and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not self.is_running():
                    break
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        self.pid_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "start", "stop"])
    parser.add_argument("--dir", type=Path, default=Path("var/s3proxy"))
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--backend", choices=["transient", "filesystem"], default="filesystem")
    args = parser.parse_args(argv)
    base = args.dir if args.dir.is_absolute() else REPO_ROOT / args.dir
    proxy = S3Proxy(base, args.port, backend=args.backend)
    if args.command == "fetch":
        print(f"s3proxy {S3PROXY_VERSION} verified at {ensure_jar()}")
    elif args.command == "start":
        proxy.start()
        proxy.wait_ready()
        print(f"s3proxy on {proxy.endpoint_url} (key {proxy.access_key}, secret "
              f"{proxy.secret_key}, logs {proxy.log_file})")
    else:
        proxy.stop()
        print("s3proxy stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
