"""What every HTTP transport shares: one pooled client, and turning a response or a network
error into a Receipt or a classified SendFailed. Only status codes and the provider's error
code reach the error text, never the recipient."""

from __future__ import annotations

import httpx

from notify.domain.retry import SendFailed, http_error_class, retry_after_seconds


def client(timeout: float, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                             limits=httpx.Limits(max_connections=connections,
                                                 max_keepalive_connections=connections))


async def post(http: httpx.AsyncClient, url: str, **kwargs) -> httpx.Response:
    try:
        response = await http.post(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise SendFailed("transient", f"timeout ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise SendFailed("transient", f"unreachable ({type(exc).__name__})") from None
    if response.is_success:
        return response
    raise SendFailed(http_error_class(response.status_code), _detail(response),
                     retry_after=retry_after_seconds(response.headers.get("retry-after")),
                     status=response.status_code)


def _detail(response: httpx.Response) -> str:
    code = None
    try:
        body = response.json()
        if isinstance(body, dict):
            code = body.get("code") or body.get("error")
    except ValueError:
        pass
    return f"HTTP {response.status_code}" + (f" ({code})" if code else "")
