"""Local messaging sinks: stand-ins for the SMS and WhatsApp gateways and for front ends'
webhook receivers, with a JSON API to read back what arrived and to inject faults.

Why: notify sends SMS and WhatsApp through HTTP gateways and signs webhooks; local runs,
end-to-end tests and `make bench` need something real on the other end of the wire (HTTP, the
providers' request shapes, signature checks) that can also fail on purpose. One process, one
port (127.0.0.1:8026 by default), one event loop:

  POST /gateway/messages        the generic gateway: JSON {to, text, channel, message_id, ...},
                                optional bearer token and Idempotency-Key; 201 {"id", "status"};
                                400 for a `to` that is not E.164 or a body that is not JSON
  POST /twilio/2010-04-01/Accounts/{sid}/Messages.json
                                a Twilio look-alike (Messages resource, as Twilio documents it):
                                form To, From, Body; HTTP Basic auth with the account SID as user
                                (else 401, code 20003); an invalid To is 400 with code 21211;
                                201 with a resource-shaped JSON (sid "SM…", status "queued", …)
  POST /webhooks/{receiver}     a front end's receiver: checks the Standard Webhooks signature
                                (webhook-id, webhook-timestamp within 5 minutes, webhook-signature
                                "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>") with its own
                                few lines of HMAC, independent of the sender's library; 204 when
                                valid, 401 otherwise (recorded either way, with `verified`)
  PUT  /api/webhook-secrets/{receiver}   {"secret": "whsec_…"}: the receiver's secret
  PUT  /api/faults/{target}     target gateway, twilio or webhooks.<receiver>; {"status": 503,
                                "times": 3 | null (until cleared), "retry_after": 2, "delay": 5.0}:
                                answer that status (after `delay` seconds) the next `times` times
  DELETE /api/faults[/{target}] clear all faults, or one
  GET  /api/messages?target=&since=N&limit=M   what arrived, oldest first (`since`: how many the
                                reader has seen, like the mail catcher): {seq, target,
                                received_at, accepted, status, channel, to, text, message_id,
                                headers, payload, verified, reason}
  GET  /api/stats               {"count", "accepted", "by_target"}
  DELETE /api/messages          forget everything
  GET  /healthz

Run: python deploy/local/devstack/sinks.py [--port 8026] [--store var/sinks/messages.jsonl]
With --store, accepted records are appended as JSON lines (buffered) and reloaded at start.
SIGTERM/SIGINT stop it with exit code 0. A dev tool: no TLS, no persistence guarantees.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import pathlib
import re
import secrets
import signal
import sys
import time
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

HOST = "127.0.0.1"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
TOLERANCE_S = 300
FLUSH_AFTER_S = 0.5


class Sinks:
    def __init__(self, store: pathlib.Path | None) -> None:
        self.records: list[dict[str, Any]] = []
        self.faults: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, str] = {}
        self._store = store
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        if store is not None and store.exists():
            for line in store.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self.records.append(json.loads(line))

    def record(self, **fields: Any) -> dict[str, Any]:
        entry = {"seq": len(self.records) + 1,
                 "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                 "accepted": True, "status": 201, "channel": None, "to": None, "text": None,
                 "message_id": None, "headers": {}, "payload": None, "verified": None,
                 "reason": None, **fields}
        self.records.append(entry)
        if self._store is not None and entry["accepted"]:
            self._pending.append(json.dumps(entry, ensure_ascii=False))
            if time.monotonic() - self._last_flush > FLUSH_AFTER_S:
                self.flush()
        return entry

    def flush(self) -> None:
        if self._store is not None and self._pending:
            self._store.parent.mkdir(parents=True, exist_ok=True)
            with self._store.open("a", encoding="utf-8") as out:
                out.write("\n".join(self._pending) + "\n")
            self._pending.clear()
        self._last_flush = time.monotonic()

    async def fault(self, target: str) -> dict[str, Any] | None:
        """The fault to answer with now, if one is set for `target` (and count it down)."""
        fault = self.faults.get(target)
        if fault is None:
            return None
        if fault.get("times") is not None:
            fault["times"] -= 1
            if fault["times"] <= 0:
                del self.faults[target]
        if fault.get("delay"):
            await asyncio.sleep(float(fault["delay"]))
        return fault


def _fault_response(fault: dict[str, Any]) -> Response:
    headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
    return JSONResponse({"error": "injected fault", "code": fault["status"]},
                        status_code=int(fault["status"]), headers=headers)


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> str | None:
    """None if the Standard Webhooks signature is valid, else why not."""
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent = int(stamp)
    except ValueError:
        return "webhook-timestamp is not a number"
    if abs(time.time() - sent) > TOLERANCE_S:
        return "webhook-timestamp outside the tolerance"
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError:
        return "the receiver's secret is not base64"
    expected = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        try:
            if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected):
                return None
        except ValueError:
            continue
    return "no matching signature"


def build_app(sinks: Sinks) -> FastAPI:
    app = FastAPI(title="LAPOR local messaging sinks", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/gateway/messages")
    async def gateway(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = json.loads(await request.body())
            to, text = body["to"], body["text"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad_request", "detail": "JSON with to and text expected"}, 400)
        base = dict(target="gateway", channel=body.get("channel") or "sms", to=to, text=text,
                    message_id=body.get("message_id") or headers.get("idempotency-key"),
                    headers=headers)
        fault = await sinks.fault("gateway")
        if fault is not None:
            sinks.record(**base, accepted=False, status=int(fault["status"]))
            return _fault_response(fault)
        if not isinstance(to, str) or not E164.match(to):
            sinks.record(**base, accepted=False, status=400, reason="invalid_recipient")
            return JSONResponse({"error": "invalid_recipient", "detail": "to must be E.164"}, 400)
        entry = sinks.record(**base)
        return JSONResponse({"id": f"gw-{entry['seq']}", "status": "queued"}, 201)

    @app.post("/twilio/2010-04-01/Accounts/{sid}/Messages.json")
    async def twilio(sid: str, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        auth = headers.get("authorization", "")
        user = ""
        if auth.lower().startswith("basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().partition(":")[0]
            except ValueError:
                user = ""
        if user != sid:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401,
                                 "more_info": "https://www.twilio.com/docs/errors/20003"}, 401)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        to = form.get("To", "")
        channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
        number = to.removeprefix("whatsapp:")
        base = dict(target="twilio", channel=channel, to=number, text=form.get("Body"),
                    headers=headers)
        fault = await sinks.fault("twilio")
        if fault is not None:
            sinks.record(**base, accepted=False, status=int(fault["status"]))
            return _fault_response(fault)
        if not E164.match(number):
            sinks.record(**base, accepted=False, status=400, reason="21211")
            return JSONResponse({"code": 21211, "status": 400,
                                 "message": f"The 'To' number {to} is not a valid phone number.",
                                 "more_info": "https://www.twilio.com/docs/errors/21211"}, 400)
        message_sid = "SM" + secrets.token_hex(16)
        sinks.record(**base, message_id=message_sid)
        body = form.get("Body") or ""
        return JSONResponse({
            "sid": message_sid, "account_sid": sid, "status": "queued", "to": to,
            "from": form.get("From"), "body": body, "num_segments": str(max(1, -(-len(body) // 160))),
            "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json"}, 201)

    @app.post("/webhooks/{receiver}")
    async def webhook(receiver: str, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = await request.body()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        base = dict(target=f"webhooks.{receiver}", channel="webhook", to=str(request.url),
                    message_id=headers.get("webhook-id"), headers=headers, payload=payload)
        fault = await sinks.fault(f"webhooks.{receiver}")
        if fault is not None:
            sinks.record(**base, accepted=False, status=int(fault["status"]), verified=None)
            return _fault_response(fault)
        secret = sinks.secrets.get(receiver)
        reason = verify_signature(secret, headers, body) if secret else "no secret set for this receiver"
        if reason is not None:
            sinks.record(**base, accepted=False, status=401, verified=False, reason=reason)
            return JSONResponse({"error": "invalid_signature", "detail": reason}, 401)
        sinks.record(**base, status=204, verified=True)
        return Response(status_code=204)

    @app.put("/api/webhook-secrets/{receiver}")
    async def set_secret(receiver: str, request: Request) -> dict:
        sinks.secrets[receiver] = (await request.json())["secret"]
        return {"receiver": receiver}

    @app.put("/api/faults/{target}")
    async def set_fault(target: str, request: Request) -> dict:
        fault = await request.json()
        fault.setdefault("status", 503)
        fault.setdefault("times", 1)
        sinks.faults[target] = fault
        return {"target": target, **fault}

    @app.delete("/api/faults")
    async def clear_faults() -> Response:
        sinks.faults.clear()
        return Response(status_code=204)

    @app.delete("/api/faults/{target}")
    async def clear_fault(target: str) -> Response:
        sinks.faults.pop(target, None)
        return Response(status_code=204)

    @app.get("/api/messages")
    async def messages(target: str | None = None, since: int = 0, limit: int = 100000) -> list[dict]:
        window = sinks.records[max(since, 0):]
        picked = [r for r in window if target is None or r["target"] == target]
        return picked[:max(limit, 0)]

    @app.get("/api/stats")
    async def stats() -> dict:
        by: dict[str, int] = {}
        for r in sinks.records:
            by[r["target"]] = by.get(r["target"], 0) + 1
        return {"count": len(sinks.records), "accepted": sum(r["accepted"] for r in sinks.records),
                "by_target": by}

    @app.delete("/api/messages")
    async def forget() -> Response:
        sinks.records.clear()
        if sinks._store is not None and sinks._store.exists():   # noqa: SLF001
            sinks._store.write_text("", encoding="utf-8")          # noqa: SLF001
        return Response(status_code=204)

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--store", type=pathlib.Path, default=None)
    args = parser.parse_args()
    sinks = Sinks(args.store)
    config = uvicorn.Config(build_app(sinks), host=HOST, port=args.port, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def stop(*_: Any) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"sinks: http://{HOST}:{args.port}", file=sys.stderr, flush=True)
    try:
        server.run()
    finally:
        sinks.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
