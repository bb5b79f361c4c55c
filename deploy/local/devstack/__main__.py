"""`python -m devstack up|down|status|demo|token`: the local platform, for `make run`,
`make stop`, `make demo`, `make token`."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta

from devstack import tokens
from devstack.stack import Stack, StackConfig


def parse_ttl(text: str) -> timedelta:
    """`8h`, `30m`, `90s`, `2d`, or a number of hours; negative for an expired token."""
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 8h, 30m, -5m)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "hours"}[match[2]]
    return timedelta(**{unit: float(match[1])})


def token(stack: Stack, role: str, opd: str | None, subject: str | None, ttl: timedelta) -> int:
    """Print a staff token as the last line of stdout (what it is goes to stderr before it)."""
    if role not in tokens.STAFF_ROLES:
        print("devstack token: say which role: make token ROLE=operator, or make token ROLE=opd "
              "OPD=<opd id>", file=sys.stderr)
        return 2
    if role == "opd" and not opd:
        print(f"devstack token: an OPD token needs the OPD's id: make token ROLE=opd OPD=<opd id>"
              f"{_known_opds()}", file=sys.stderr)
        return 2
    if role == "operator" and opd:
        print("devstack token: OPD= is only for ROLE=opd (an operator acts for every OPD)",
              file=sys.stderr)
        return 2
    key_existed = (stack.c.home / "secrets" / tokens.PRIVATE_KEY_FILE).exists()
    try:
        signed = stack.staff_token(role, opd, subject, ttl)
    except RuntimeError as exc:
        print(f"devstack token: {exc}", file=sys.stderr)
        return 1
    if not key_existed and stack.status().get("intake"):
        print("devstack token: the signing key was just made, after intake started: restart the "
              "platform (make stop && make run) so intake accepts it", file=sys.stderr)
    who = f"OPD {opd}" if role == "opd" else "operator"
    until = (datetime.now(UTC) + ttl).strftime("%Y-%m-%d %H:%M UTC")
    state = f"valid for {_human(ttl)}, until {until}" if ttl > timedelta(0) else f"expired at {until}"
    print(f"Staff token ({who}) for {stack.service_url('intake')}, {state}; "
          f"send it as 'Authorization: Bearer <token>':", file=sys.stderr, flush=True)
    print(signed, flush=True)
    return 0


def _human(ttl: timedelta) -> str:
    seconds = int(ttl.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _known_opds() -> str:
    try:
        from routing.domain.rules import OPD_RULES
    except ImportError:
        return ""
    return " (routing knows: " + ", ".join(OPD_RULES) + ")"


def _open311_demo_key(stack: Stack) -> str:
    """A fresh Open311 API key for trying POST requests (intake.open311.keys), shown once."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "intake.open311.keys", "create", "--name", "demo"],
                          env=stack.service_env("intake"), capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else f"(not issued: {done.stderr.strip()[-200:]})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    parser.add_argument("command", choices=["up", "down", "status", "demo", "token"])
    staff = parser.add_argument_group("token", "a staff JWT the running (or next) intake accepts")
    staff.add_argument("--role", default="", help="operator or opd")
    staff.add_argument("--opd", default=None, help="the OPD's id, for --role opd (e.g. dinas-pupr)")
    staff.add_argument("--subject", default=None, help="the staff member's id (sub)")
    staff.add_argument("--ttl", type=parse_ttl, default=tokens.DEFAULT_TTL,
                       help="how long it is valid: 8h (default), 30m, 90s; negative for expired")
    args = parser.parse_args(argv)
    stack = Stack(StackConfig())
    if args.command == "token":
        return token(stack, args.role.strip(), (args.opd or "").strip() or None, args.subject, args.ttl)
    if args.command == "up":
        started = time.monotonic()
        try:
            stack.up()
        except Exception as exc:
            print(f"devstack: could not start the platform: {exc}", file=sys.stderr)
            return 1
        print(f"LAPOR platform ready in {time.monotonic() - started:.1f}s")
        print(f"  Console       {stack.service_url('console')}/  (dev sign-in: pick a role and OPD)")
        print(f"  API           {stack.service_url('intake')}/v1/complaints")
        print(f"  OpenAPI docs  {stack.service_url('intake')}/docs")
        print(f"  Caught mail   {stack.mail_url}/  (JSON: {stack.mail_url}/api/messages)")
        print(f"  SMS/WhatsApp  {stack.sinks_url}/api/messages  (local gateways and webhook receivers)")
        print(f"  Health        routing {stack.service_url('routing')}/readyz,"
              f" sla {stack.service_url('sla')}/readyz, notify {stack.service_url('notify')}/readyz")
        print(f"  Open311       {stack.service_url('intake')}/open311/v2/discovery.json"
              f"   demo api_key: {_open311_demo_key(stack)}")
        sla = stack.service_url("sla")
        print(f"  Deadlines     {sla}/v1/calendars/kota-bandung/deadline?start=<ISO 8601>&working_days=3"
              f"   alerts: {sla}/v1/alerts/stream?access_token=<make token ROLE=operator>")
        notify = stack.service_url("notify")
        print(f"  Notify        {notify}/docs   preferences: {notify}/v1/complaints/<tracking_number>"
              "/notification-preferences (citizen's access token)")
        print(f"  Logs          {stack.log_dir}/   traces: {stack.c.home / 'traces'}/")
        print("  Stop with     make stop")
    elif args.command == "down":
        stack.down()
        print("LAPOR platform stopped")
    elif args.command == "status":
        for name, alive in stack.status().items():
            print(f"  {name:12} {'running' if alive else 'stopped'}")
    elif args.command == "demo":
        from devstack.demo import run_demo

        return run_demo(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
