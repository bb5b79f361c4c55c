"""Per-client and per-token request rate limits for every service's HTTP API, with the `limits`
library: a sliding window per client address and per bearer token, answered with 429, a
Retry-After header and a problem document once spent.

Sliding window counter, not moving window: two counters per key (this window and the last,
weighted by how much of it is still inside) instead of one timestamp per request in the window.
So a key costs the same memory at 600/minute as at 10, and a hit does no per-key scan. In
memory, the moving window's expiry also sent every key's scan to a worker thread after each
request: that thread hop was about a tenth of intake's samples under load (0.25 ms of its CPU
per complaint at 50/s).

The client is the peer address, or, when the peer is a trusted proxy, the nearest untrusted
address in X-Forwarded-For (a client cannot pick its own key by sending the header itself).
The token key is a digest of the Authorization header: no token is kept in memory in clear,
and an invalid token is limited like a valid one (guessing is throttled too). Storage is in
memory by default (a limit per replica); `RATE_LIMIT_STORAGE=redis://...` shares it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

import limits
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

EXEMPT = ("/healthz", "/readyz", "/livez", "/metrics")


class RateLimits:
    """Pure ASGI middleware; installed by build_app inside the edge (so a 429 has a trace id)."""

    def __init__(self, app: Any, *, per_client: str, per_token: str, storage: str = "memory://",
                 trusted_proxies: str = "") -> None:
        self.app = app
        self.per_client = limits.parse_many(per_client) if per_client.strip() else []
        self.per_token = limits.parse_many(per_token) if per_token.strip() else []
        uri = storage if storage.startswith("async+") else "async+" + storage
        self.limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri))
        self.trusted = {p.strip() for p in trusted_proxies.split(",") if p.strip()}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT or not (self.per_client or self.per_token):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        checks = [(item, "client", self.client(scope, headers)) for item in self.per_client]
        authorization = headers.get(b"authorization")
        if authorization:
            digest = hashlib.sha256(authorization).hexdigest()[:32]
            checks += [(item, "token", digest) for item in self.per_token]
        for item, kind, key in checks:
            if not await self.limiter.hit(item, kind, key):
                stats = await self.limiter.get_window_stats(item, kind, key)
                await self.refuse(send, kind, item, max(1, math.ceil(stats.reset_time - time.time())))
                return
        await self.app(scope, receive, send)

    def client(self, scope: dict, headers: dict[bytes, bytes]) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        forwarded = headers.get(b"x-forwarded-for")
        if peer not in self.trusted or not forwarded:
            return peer
        hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops):
            if hop not in self.trusted:
                return hop[:64]
        return peer

    @staticmethod
    async def refuse(send: Any, kind: str, item: limits.RateLimitItem, retry_after: int) -> None:
        body = json.dumps({
            "type": "https://lapor.example/problems/too-many-requests",
            "title": "Too many requests", "status": 429,
            "detail": f"The limit of {item} per {kind} is spent; try again in {retry_after} s.",
        }).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})
