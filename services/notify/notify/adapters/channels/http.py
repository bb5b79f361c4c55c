"""What every HTTP transport shares: one pooled client, and turning an answer or a network
error into a classified SendFailed. Only status codes and the provider's error code reach the
error text, never the recipient.

aiohttp, not httpx: measured on the local gateway sink, httpx spent about 4 ms of CPU per
request and aiohttp about 0.4 ms, and sending is most of what notify's event loop does. The
`HttpPoster` interface keeps the transports independent of it; `FakeHttp` is its twin for unit
tests.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from notify.domain.retry import SendFailed, http_error_class, retry_after_seconds


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Sent:
    """A request as it went on the wire (for FakeHttp's handlers)."""

    url: str
    headers: dict[str, str]
    body: bytes
    auth: tuple[str, str] | None = None
    form: dict[str, str] | None = None


class HttpPoster(Protocol):
    async def post(self, url: str, *, json: Any = None, data: dict[str, str] | None = None,
                   content: bytes | None = None, headers: dict[str, str] | None = None,
                   auth: tuple[str, str] | None = None) -> Answer:
        """POST; raise SendFailed("transient") when the far end cannot be reached in time."""

    async def aclose(self) -> None: ...


class AiohttpPoster:
    """One aiohttp session with `connections` kept-alive connections, made on first use (a
    session belongs to the event loop that runs the service)."""

    def __init__(self, timeout: float, connections: int) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=self._connections))
        return self._session

    async def post(self, url, *, json=None, data=None, content=None, headers=None, auth=None) -> Answer:
        if auth:
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        try:
            async with self._open().post(
                    url, json=json, data=content if content is not None else data,
                    headers=headers) as response:
                body = await response.read()
                return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, body)
        except asyncio.TimeoutError:
            raise SendFailed("transient", "timeout") from None
        except aiohttp.ClientError as exc:
            raise SendFailed("transient", f"unreachable ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass
class FakeHttp:
    """Twin of AiohttpPoster: `handler(Sent) -> (status, headers, json body)`, or it raises
    SendFailed as an unreachable server would. Keeps what was sent."""

    handler: Callable[[Sent], tuple[int, dict[str, str], Any]]
    sent: list[Sent] = field(default_factory=list)

    async def post(self, url, *, json=None, data=None, content=None, headers=None, auth=None) -> Answer:
        body = content if content is not None else jsonlib.dumps(json).encode() if json is not None else b""
        request = Sent(url, {k.lower(): v for k, v in (headers or {}).items()}, body, auth, data)
        self.sent.append(request)
        status, answer_headers, payload = self.handler(request)
        return Answer(status, {k.lower(): v for k, v in answer_headers.items()},
                      jsonlib.dumps(payload).encode() if payload is not None else b"")

    async def aclose(self) -> None:
        return None


def client(timeout: float, connections: int) -> AiohttpPoster:
    return AiohttpPoster(timeout, connections)


async def post(http: HttpPoster, url: str, **kwargs) -> Answer:
    """The answer if it is a 2xx; otherwise SendFailed classed by its status."""
    response = await http.post(url, **kwargs)
    if 200 <= response.status < 300:
        return response
    raise SendFailed(http_error_class(response.status), _detail(response),
                     retry_after=retry_after_seconds(response.headers.get("retry-after")),
                     status=response.status)


def _detail(response: Answer) -> str:
    code = None
    try:
        body = response.json()
        if isinstance(body, dict):
            code = body.get("code") or body.get("error")
    except ValueError:
        pass
    return f"HTTP {response.status}" + (f" ({code})" if code else "")
