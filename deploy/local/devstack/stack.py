"""The whole platform on one machine: Kafka, PostgreSQL, the mail catcher and the four services,
each a detached process with its pid and log under one state folder.

`make run` and `make stop` drive it through `python -m devstack`, and the e2e tests start a
private copy of it (own folder, ports and topic prefix), so what is tested is what runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from devstack import tokens
from devstack.kafka import REPO_ROOT, KafkaNode, ensure_jars
from devstack.postgres import EmbeddedPostgres, create_database

SERVICES = ("intake", "routing", "sla", "notify")   # the event-driven services
CONSOLE = "console"                                 # the web console: HTTP only, on top of them


_HANDED_OUT: set[int] = set()


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port to listen on, below the kernel's ephemeral range. A port the kernel hands out
    (bind to 0) is in that range, where any outgoing connection may take it as its source port
    between this check and the service's bind: a bench once lost its console that way."""
    top = min(_ephemeral_floor(), 65536)
    low = 20000 if top > 21000 else 1024
    for _ in range(200):
        port = random.randrange(low, top)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as s:      # a crowded range: fall back on the kernel's choice
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StackConfig:
    home: Path = REPO_ROOT / "var"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    pg_port: int = 55432
    smtp_port: int = 1025
    mail_http_port: int = 8025
    sinks_port: int = 8026          # local SMS/WhatsApp gateways and webhook receivers
    service_ports: dict[str, int] = field(default_factory=lambda: {
        "intake": 8000, "routing": 8001, "sla": 8002, "notify": 8003, "console": 8004})
    topic_prefix: str = ""
    database: str = "lapor"
    # A PostgreSQL of your own (e.g. managed): when set, no embedded server is started and the
    # services keep to their schemas inside this database.
    external_database_url: str | None = field(
        default_factory=lambda: os.environ.get("DATABASE_URL") or None)
    kafka_libs: Path = REPO_ROOT / "var" / "kafka-libs"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def private(cls, home: Path, prefix: str) -> "StackConfig":
        """Ports picked free, so a test stack never collides with `make run`."""
        return cls(home=home, kafka_port=free_port(), kafka_controller_port=free_port(),
                   pg_port=free_port(), smtp_port=free_port(), mail_http_port=free_port(),
                   sinks_port=free_port(),
                   service_ports={name: free_port() for name in (*SERVICES, CONSOLE)},
                   topic_prefix=prefix)


class GaveUp(Exception):
    """Raised by a `wait_until` check when waiting longer cannot help (a process died)."""


def wait_until(check, timeout: float, what: str, interval: float = 0.2):
    """Poll `check` until it returns a truthy value or `timeout` passes (then TimeoutError)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except GaveUp:
            raise
        except Exception as exc:  # the thing is not up yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s" + (f": {last_error}" if last_error else ""))


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.c = config
        self.run_dir = config.home / "run"
        self.log_dir = config.home / "log"
        self.kafka = KafkaNode(config.home / "kafka", config.kafka_port,
                               config.kafka_controller_port, config.kafka_libs)
        self.postgres = EmbeddedPostgres(config.home / "pg", config.pg_port)
        self.dsn: str | None = None
        self._children: dict[str, subprocess.Popen] = {}
        self._signing_key: tokens.SigningKey | None = None

    # ---- infrastructure

    def start_infrastructure(self) -> None:
        for folder in (self.run_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        ensure_jars(self.c.kafka_libs)
        if not self.kafka.is_running():
            self.kafka.start()
        self.dsn = self.database()
        self._start_mailcatcher()
        self._start_sinks()
        self.kafka.wait_ready(timeout=120)
        wait_until(lambda: http_ok(f"{self.mail_url}/healthz"), 30, "mail catcher")
        wait_until(lambda: http_ok(f"{self.sinks_url}/healthz"), 30, "messaging sinks")

    def database(self) -> str:
        """The DSN services use: the external one if configured, else the embedded server's."""
        if self.c.external_database_url:
            return self.c.external_database_url
        return create_database(self.postgres.start(), self.c.database)

    def _start_mailcatcher(self) -> None:
        if self._alive("mailcatcher"):
            return
        (self.c.home / "mail").mkdir(parents=True, exist_ok=True)
        self._spawn("mailcatcher", [
            sys.executable, str(Path(__file__).with_name("mailcatcher.py")),
            "--smtp-port", str(self.c.smtp_port), "--http-port", str(self.c.mail_http_port),
            "--store", str(self.c.home / "mail" / "messages.jsonl"),
        ], os.environ.copy())

    def _start_sinks(self) -> None:
        if self._alive("sinks"):
            return
        (self.c.home / "sinks").mkdir(parents=True, exist_ok=True)
        self._spawn("sinks", [
            sys.executable, str(Path(__file__).with_name("sinks.py")),
            "--port", str(self.c.sinks_port),
            "--store", str(self.c.home / "sinks" / "messages.jsonl"),
        ], os.environ.copy())

    @property
    def sinks_url(self) -> str:
        return f"http://127.0.0.1:{self.c.sinks_port}"

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.c.mail_http_port}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.c.service_ports[name]}"

    # ---- services

    def pii_key(self) -> str:
        """One key per stack folder, made on first use and kept (0600) with its data."""
        from cryptography.fernet import Fernet

        return self._secret("pii.key", lambda: Fernet.generate_key().decode())

    def _secret(self, name: str, make=None) -> str:
        """A secret kept (0600) in the stack folder's secrets/, made on first use (`make`;
        default: 48 random URL-safe bytes)."""
        path = self.c.home / "secrets" / name
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(make() if make else secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    # ---- staff tokens: a development signing key, unless the caller names a real issuer's key

    def signing_key(self) -> tokens.SigningKey:
        """One key pair per stack folder (`secrets/jwt-signing.pem`, 0600), made on first use."""
        if self._signing_key is None:
            self._signing_key = tokens.load_or_create(self.c.home / "secrets")[0]
        return self._signing_key

    def _configured_jwt_key(self) -> dict[str, str]:
        configured = {**os.environ, **self.c.extra_env}
        return {k: configured[k] for k in ("JWT_PUBLIC_KEY", "JWT_JWKS_URL") if configured.get(k)}

    def jwt_env(self) -> dict[str, str]:
        """How intake verifies staff tokens: with the caller's JWT_PUBLIC_KEY or JWT_JWKS_URL
        when the environment (or extra_env) has one, else with this stack's development key."""
        if self._configured_jwt_key():
            return {}
        return {"JWT_PUBLIC_KEY": self.signing_key().public_pem,
                "JWT_ISSUER": tokens.ISSUER, "JWT_AUDIENCE": tokens.AUDIENCE}

    def staff_token(self, role: str, opd: str | None = None, subject: str | None = None,
                    ttl: timedelta = tokens.DEFAULT_TTL, **claims) -> str:
        """A JWT for an operator (`role="operator"`) or a member of OPD `opd` (`role="opd"`)
        that this stack's intake accepts; a negative `ttl` makes one that has already expired.
        Extra claims (e.g. `jurisdiction`, or `aud`/`iss` to get a token refused) are added."""
        configured = self._configured_jwt_key()
        key = self.signing_key()
        if configured and not tokens.same_public_key(configured.get("JWT_PUBLIC_KEY", ""), key.public_pem):
            raise RuntimeError(
                f"intake verifies staff tokens with your {' / '.join(configured)}, not the devstack "
                "key: get tokens from that issuer, or unset it to use the development key")
        env = {**os.environ, **self.jwt_env(), **self.c.extra_env}  # what intake is given
        return key.mint(role, opd, subject, ttl, issuer=env.get("JWT_ISSUER") or None,
                        audience=env.get("JWT_AUDIENCE") or tokens.AUDIENCE,
                        role_claim=env.get("JWT_ROLE_CLAIM") or "role",
                        opd_claim=env.get("JWT_OPD_CLAIM") or "opd", **claims)

    def service_env(self, name: str) -> dict[str, str]:
        assert self.dsn, "infrastructure not started"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACES_"))}
        env.update({
            "DATABASE_URL": self.dsn,
            "DB_SCHEMA": f"{self.c.topic_prefix.replace('.', '_').replace('-', '_')}{name}",
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.c.kafka_port}",
            "TOPIC_PREFIX": self.c.topic_prefix,
            "HTTP_PORT": str(self.c.service_ports[name]),
            "TRACES_FILE": str(self.c.home / "traces" / f"{name}.jsonl"),
            "LOG_FILE": str(self.log_dir / f"{name}.log"),
            "PII_KEY": self.pii_key(),
            "SMTP_PORT": str(self.c.smtp_port),
            "PUBLIC_BASE_URL": self.service_url("intake"),
        })
        if name in ("intake", "routing", "sla", "notify"):   # the services with staff routes
            env.update(self.jwt_env())
        if name == "notify":
            env.update(self.notify_env(env))
        if name == CONSOLE:
            env.update(self.console_env(env))
        if name == "intake":
            env["ATTACHMENTS_DIR"] = str(self.c.home / "attachments")
            # The first of routing's sample jurisdictions (routing/jurisdictions/*.yaml).
            env.setdefault("DEFAULT_JURISDICTION", "kota-bandung")
        env.update(self.c.extra_env)
        return env

    def console_env(self, env: dict[str, str]) -> dict[str, str]:
        """The console on this stack's services; its dev sign-in page signs with the stack's
        development key, unless the services verify a real issuer's tokens (then it expects
        them from an OIDC proxy in X-Forwarded-Access-Token)."""
        wired = {f"{name.upper()}_URL": self.service_url(name) for name in SERVICES}
        wired.update(self.jwt_env())
        wired["SESSION_SECRET"] = self._secret("console-session.key")
        if self._configured_jwt_key():
            wired["TOKEN_HEADER"] = "X-Forwarded-Access-Token"
        else:
            self.signing_key()
            wired["DEV_SIGNIN_KEY_FILE"] = str(self.c.home / "secrets" / tokens.PRIVATE_KEY_FILE)
        return {k: v for k, v in wired.items() if k not in self.c.extra_env}

    def notify_env(self, env: dict[str, str]) -> dict[str, str]:
        """notify's channels on the local sinks: SMS through the Twilio look-alike, WhatsApp
        through the generic gateway, links to this stack's intake. A transport configured in
        the environment (a real provider) is kept."""
        sinks, intake = self.sinks_url, self.service_url("intake")
        wired = {"STATUS_URL": f"{intake}/v1/public/complaints/{{tracking_number}}",
                 "CONSOLE_URL": f"{self.service_url(CONSOLE)}/complaints/{{tracking_number}}"}
        if "SMS_TRANSPORT" not in env:
            wired.update({"SMS_TRANSPORT": "twilio", "TWILIO_BASE_URL": f"{sinks}/twilio",
                          "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
                          "TWILIO_AUTH_TOKEN": "local", "TWILIO_SMS_FROM": "LAPOR",
                          "TWILIO_WHATSAPP_FROM": "+14155238886"})
        if "WHATSAPP_TRANSPORT" not in env:
            wired.update({"WHATSAPP_TRANSPORT": "gateway", "GATEWAY_URL": f"{sinks}/gateway/messages",
                          "GATEWAY_TOKEN": "local", "GATEWAY_SENDER": "LAPOR"})
        return {k: v for k, v in wired.items() if k not in env}

    def start_service(self, name: str) -> None:
        if not self._alive(name):
            self._spawn(name, [sys.executable, "-m", name], self.service_env(name))

    def start_replica(self, name: str, timeout: float = 90) -> str:
        """Start a second replica of a service, as the Kubernetes manifests run two: the same
        database schema, consumer groups and outbox, its own port, traces file and log. Returns
        its part name (`<name>-2`) for `kill` and `stop_service`, and waits until it is ready."""
        replica = f"{name}-2"
        if not self._alive(replica):
            env = self.service_env(name)
            port = free_port()
            env.update({"HTTP_PORT": str(port),
                        "TRACES_FILE": str(self.c.home / "traces" / f"{replica}.jsonl"),
                        "LOG_FILE": str(self.log_dir / f"{replica}.log")})
            self._spawn(replica, [sys.executable, "-m", name], env)
            self.c.service_ports[replica] = port
        self.wait_service(replica, timeout)
        return replica

    def wait_service(self, name: str, timeout: float = 90) -> None:
        def ready() -> bool:
            if not self._alive(name):
                raise GaveUp(f"{name} exited; see {self.log_dir / (name + '.log')}:\n"
                             + self.log_tail(name))
            return http_ok(f"{self.service_url(name)}/readyz")
        wait_until(ready, timeout, name)

    def stop_service(self, name: str, timeout: float = 30) -> None:
        pid = self._pid(name)
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            wait_until(lambda: not self._pid_alive(pid), timeout, f"{name} stop", 0.1)
        except TimeoutError:
            os.killpg(pid, signal.SIGKILL)
        (self.run_dir / f"{name}.pid").unlink(missing_ok=True)

    def up(self) -> None:
        self.start_infrastructure()
        for name in (*SERVICES, CONSOLE):
            self.start_service(name)
        for name in (*SERVICES, CONSOLE):
            self.wait_service(name)

    def down(self) -> None:
        for name in (CONSOLE, *SERVICES, "mailcatcher", "sinks"):
            self.stop_service(name)
        if self.kafka.is_running():
            self.kafka.stop()
        if self.postgres.is_running():
            self.postgres.stop()

    # ---- faults, for the recovery tests: a crash, then a restart of that one part alone

    def _processes(self, name: str) -> list:
        """The processes of one part (`postgres`, `kafka` or a service): its main process and
        every child, or none when it is gone."""
        import psutil

        if name == "kafka":
            pid = self.kafka._pid()  # noqa: SLF001 - the node's own pid file
        elif name == "postgres":
            pid = self.postgres._postmaster_pid()  # noqa: SLF001
        else:
            pid = self._pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running")
        try:
            return [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self, name: str) -> None:
        """kill -9 one part (`postgres`, `kafka` or a service) and its children, as a crash or
        the OOM killer would, and wait until it is gone."""
        import psutil

        victims = _each(self._processes(name), "kill")
        psutil.wait_procs(victims, timeout=10)
        if name in self._children:
            self._children[name].poll()
        if name == "kafka" and self.kafka._proc is not None:  # noqa: SLF001
            self.kafka._proc.poll()  # noqa: SLF001

    def freeze(self, name: str) -> list:
        """Stop one part and its children with SIGSTOP, as a network partition that drops
        packets (rather than refusing them) or a hung host looks to its clients: connections
        stay open and nothing answers. Give what it returns to `thaw`."""
        return _each(self._processes(name), "suspend")

    @staticmethod
    def thaw(frozen: list) -> None:
        """Let what `freeze` stopped run again (SIGCONT)."""
        _each(frozen, "resume")

    def restart(self, name: str, timeout: float = 120) -> None:
        """Start one part again, alone, and wait until it is ready."""
        if name == "kafka":
            self.kafka.start()
            self.kafka.wait_ready(timeout=timeout)
        elif name == "postgres":
            wait_until(lambda: self.postgres.start(), timeout, "postgres restart", interval=0.5)
        else:
            self.start_service(name)
            self.wait_service(name, timeout)

    def status(self) -> dict[str, bool]:
        state = {name: self._alive(name) for name in (*SERVICES, CONSOLE, "mailcatcher", "sinks")}
        state["kafka"] = self.kafka.is_running()
        state["postgres"] = self.postgres.is_running()
        return state

    # ---- processes

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """A part that writes its own capped log (LOG_FILE, the services and the console) has
        its stdout and stderr in `<name>.out`, for what comes before logging is set up or
        around it (a bad setting, a crash); the others' output is their log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        output = self.log_dir / f"{name}.out" if "LOG_FILE" in env else self.log_dir / f"{name}.log"
        with open(output, "ab") as log:
            process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       cwd=REPO_ROOT)
        (self.run_dir / f"{name}.pid").write_text(str(process.pid))
        self._children[name] = process

    def _pid(self, name: str) -> int | None:
        try:
            return int((self.run_dir / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _pid_alive(self, pid: int) -> bool:
        for process in self._children.values():
            if process.pid == pid:
                return process.poll() is None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:  # a zombie is not alive
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    def _alive(self, name: str) -> bool:
        pid = self._pid(name)
        return pid is not None and self._pid_alive(pid)

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last `lines` of the part's log, after the last of its other output (`.out`)
        if it wrote any: a start-up that failed before logging says why there."""
        tails = []
        for path in (self.log_dir / f"{name}.out", self.log_dir / f"{name}.log"):
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except FileNotFoundError:
                continue
            if tail:
                tails.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(tails)


def _each(processes: list, action: str) -> list:
    """Call psutil's `action` (kill, suspend, resume) on each process that still exists."""
    import psutil

    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            getattr(process, action)()
    return processes


def read_spans(home: Path) -> list[dict]:
    """Every span the services wrote to their trace files."""
    spans = []
    for path in (home / "traces").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                spans.append(json.loads(line))
    return spans
