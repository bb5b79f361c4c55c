"""Rate limits per client address and per token: 429 with Retry-After once spent."""

import httpx

from backbone.rate_limits import RateLimits


async def ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def client(app, peer="203.0.113.9") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 5000)),
                             base_url="http://intake")


async def test_a_client_over_its_limit_gets_429_with_retry_after():
    app = RateLimits(ok, per_client="3/minute", per_token="")
    async with client(app) as http:
        codes = [(await http.get("/v1/complaints/1")).status_code for _ in range(4)]
        refused = await http.get("/v1/complaints/1")
        health = await http.get("/readyz")
    assert codes == [200, 200, 200, 429]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["status"] == 429
    assert health.status_code == 200, "health checks are never limited"
    async with client(app, peer="198.51.100.4") as other:
        assert (await other.get("/v1/complaints/1")).status_code == 200, "another client is not"


async def test_each_token_has_its_own_budget():
    app = RateLimits(ok, per_client="", per_token="2/minute")
    async with client(app) as http:
        first = [(await http.get("/", headers={"Authorization": "Bearer a"})).status_code
                 for _ in range(3)]
        second = (await http.get("/", headers={"Authorization": "Bearer b"})).status_code
    assert first == [200, 200, 429] and second == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy():
    trusting = RateLimits(ok, per_client="1/minute", per_token="", trusted_proxies="10.0.0.2")
    async with client(trusting, peer="10.0.0.2") as proxy:
        a = await proxy.get("/", headers={"X-Forwarded-For": "203.0.113.1"})
        b = await proxy.get("/", headers={"X-Forwarded-For": "203.0.113.2"})
        a_again = await proxy.get("/", headers={"X-Forwarded-For": "203.0.113.1"})
    assert (a.status_code, b.status_code, a_again.status_code) == (200, 200, 429)
    untrusting = RateLimits(ok, per_client="1/minute", per_token="")
    async with client(untrusting) as direct:
        codes = [(await direct.get("/", headers={"X-Forwarded-For": f"1.2.3.{i}"})).status_code
                 for i in range(2)]
    assert codes == [200, 429], "a client cannot choose its own key"
