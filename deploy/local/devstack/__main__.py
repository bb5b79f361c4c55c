"""`python -m devstack up|down|status|demo`: the local platform, for `make run`, `make stop`,
`make demo`."""

from __future__ import annotations

import argparse
import sys
import time

from devstack.stack import Stack, StackConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    parser.add_argument("command", choices=["up", "down", "status", "demo"])
    args = parser.parse_args(argv)
    stack = Stack(StackConfig())
    if args.command == "up":
        started = time.monotonic()
        try:
            stack.up()
        except Exception as exc:
            print(f"devstack: could not start the platform: {exc}", file=sys.stderr)
            return 1
        print(f"LAPOR platform ready in {time.monotonic() - started:.1f}s")
        print(f"  API           {stack.service_url('intake')}/v1/complaints")
        print(f"  OpenAPI docs  {stack.service_url('intake')}/docs")
        print(f"  Caught mail   {stack.mail_url}/  (JSON: {stack.mail_url}/api/messages)")
        print(f"  Health        routing {stack.service_url('routing')}/readyz,"
              f" sla {stack.service_url('sla')}/readyz, notify {stack.service_url('notify')}/readyz")
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
