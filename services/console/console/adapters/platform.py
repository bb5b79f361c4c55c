"""The services' public HTTP APIs, as the console calls them: always with the signed-in user's
own token, so each service decides what this person may see and do (the console adds no
rights of its own). Problems (RFC 9457) come back as `Refused` with the service's own words;
a 404 is `NotFound` (which is also how a service hides what is not this person's), a lost or
expired token `SignInAgain`, an unreachable or 5xx service `Unavailable`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Protocol

import httpx


class Refused(Exception):
    """The service said no (403, 409, 422, ...): `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: dict) -> None:
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.status = status
        self.problem = problem


class NotFound(Refused):
    pass


class SignInAgain(Refused):
    pass


class Unavailable(Exception):
    """The service could not be reached, or failed: try again shortly."""


class Platform(Protocol):
    """What the console asks of the services; `HttpPlatform` calls them, tests use a twin."""

    async def ping(self) -> None: ...
    async def complaints(self, token: str, **params: Any) -> dict: ...
    async def complaint(self, token: str, tracking_number: str) -> dict: ...
    async def act(self, token: str, tracking_number: str, body: dict) -> dict: ...
    async def attachment(self, token: str, tracking_number: str,
                         attachment_id: str) -> tuple[bytes, str]: ...
    async def routings(self, token: str, tracking_numbers: list[str]) -> dict[str, dict]: ...
    async def duplicates_of(self, token: str, tracking_number: str) -> list[dict]: ...
    async def open_duplicates(self, token: str, page: int) -> dict: ...
    async def dismiss_duplicate(self, token: str, pair_id: int) -> dict: ...
    async def jurisdictions(self) -> list[dict]: ...
    async def jurisdiction(self, jurisdiction_id: str) -> dict | None: ...
    async def clocks(self, token: str, **params: Any) -> dict: ...
    async def alerts(self, token: str, after: int = 0, limit: int = 100,
                     newest: bool = False) -> dict: ...
    async def figures(self, token: str, jurisdiction: str, start: date, end: date) -> dict: ...
    async def figures_csv(self, token: str, jurisdiction: str, start: date,
                          end: date) -> tuple[bytes, str]: ...
    def alert_stream(self, token: str, last_event_id: str | None, after: int | None = None
                     ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]: ...


class HttpPlatform:
    def __init__(self, urls: dict[str, str], timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = {name: httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport,
                                              headers={"user-agent": "lapor-console"})
                      for name, url in urls.items()}

    async def close(self) -> None:
        for client in self._http.values():
            await client.aclose()

    async def _call(self, service: str, method: str, path: str, token: str | None = None,
                    **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._http[service].request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{service} is unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"{service} answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"title": response.reason_phrase}
            body = body if isinstance(body, dict) else {"title": str(body)}
            kind = {404: NotFound, 401: SignInAgain}.get(response.status_code, Refused)
            raise kind(response.status_code, body)
        return response

    async def _json(self, service: str, method: str, path: str, token: str | None = None,
                    **kwargs: Any) -> Any:
        return (await self._call(service, method, path, token, **kwargs)).json()

    async def ping(self) -> None:
        """intake answers at all (its liveness): the console can serve pages."""
        await self._call("intake", "GET", "/livez")

    async def complaints(self, token: str, **params: Any) -> dict:
        query = [(k, v) for k, value in params.items() if value not in (None, "", [])
                 for v in (value if isinstance(value, list) else [value])]
        return await self._json("intake", "GET", "/v1/complaints", token, params=query)

    async def complaint(self, token: str, tracking_number: str) -> dict:
        return await self._json("intake", "GET", f"/v1/complaints/{tracking_number}", token)

    async def act(self, token: str, tracking_number: str, body: dict) -> dict:
        return await self._json("intake", "POST", f"/v1/complaints/{tracking_number}/actions",
                                token, json=body)

    async def attachment(self, token: str, tracking_number: str,
                         attachment_id: str) -> tuple[bytes, str]:
        answer = await self._call(
            "intake", "GET", f"/v1/complaints/{tracking_number}/attachments/{attachment_id}", token)
        return answer.content, answer.headers.get("content-type", "application/octet-stream")

    async def routings(self, token: str, tracking_numbers: list[str]) -> dict[str, dict]:
        """Routing's records of a page of complaints, in one call; by tracking number."""
        if not tracking_numbers:
            return {}
        page = await self._json("routing", "GET", "/v1/routing", token,
                                params=[("tracking_number", n) for n in tracking_numbers])
        return {r["tracking_number"]: r for r in page["items"]}

    async def duplicates_of(self, token: str, tracking_number: str) -> list[dict]:
        return await self._json("routing", "GET",
                                f"/v1/complaints/{tracking_number}/duplicates", token)

    async def open_duplicates(self, token: str, page: int) -> dict:
        return await self._json("routing", "GET", "/v1/duplicates", token,
                                params={"status": "open", "page": page, "page_size": 25})

    async def dismiss_duplicate(self, token: str, pair_id: int) -> dict:
        return await self._json("routing", "POST", f"/v1/duplicates/{pair_id}/dismiss", token)

    async def jurisdictions(self) -> list[dict]:
        return await self._json("routing", "GET", "/v1/jurisdictions")

    async def jurisdiction(self, jurisdiction_id: str) -> dict | None:
        try:
            return await self._json("routing", "GET", f"/v1/jurisdictions/{jurisdiction_id}")
        except NotFound:
            return None

    async def clocks(self, token: str, **params: Any) -> dict:
        return await self._json("sla", "GET", "/v1/clocks", token,
                                params={k: v for k, v in params.items() if v is not None})

    async def alerts(self, token: str, after: int = 0, limit: int = 100,
                     newest: bool = False) -> dict:
        return await self._json("sla", "GET", "/v1/alerts", token, params={
            "after": after, "limit": limit, "order": "newest" if newest else "oldest"})

    async def figures(self, token: str, jurisdiction: str, start: date, end: date) -> dict:
        return await self._json("sla", "GET", "/v1/figures/opds", token, params={
            "jurisdiction": jurisdiction, "from": start.isoformat(), "to": end.isoformat()})

    async def figures_csv(self, token: str, jurisdiction: str, start: date,
                          end: date) -> tuple[bytes, str]:
        answer = await self._call("sla", "GET", "/v1/figures/opds", token, params={
            "jurisdiction": jurisdiction, "from": start.isoformat(), "to": end.isoformat(),
            "format": "csv"})
        return answer.content, answer.headers.get("content-disposition", "")

    @contextlib.asynccontextmanager
    async def alert_stream(self, token: str, last_event_id: str | None, after: int | None = None
                           ) -> AsyncIterator[AsyncIterator[bytes]]:
        """sla's live alerts as raw Server-Sent Event bytes, passed through unchanged (ids
        included, so the browser's reconnect resumes where it stopped); `after`: from this
        alert id on, when the browser has no event id yet (sla prefers Last-Event-ID)."""
        headers = {"authorization": f"Bearer {token}", "accept": "text/event-stream"}
        if last_event_id:
            headers["last-event-id"] = last_event_id
        params = {"after": after} if after is not None else {}
        request = self._http["sla"].build_request("GET", "/v1/alerts/stream", headers=headers,
                                                   params=params, timeout=httpx.Timeout(10, read=60))
        try:
            response = await self._http["sla"].send(request, stream=True)
        except httpx.HTTPError as exc:
            raise Unavailable(f"sla is unreachable: {type(exc).__name__}") from None
        try:
            if response.status_code == 401:
                raise SignInAgain(401, {"title": "Sign in again"})
            if response.status_code != 200:
                raise Unavailable(f"sla answered {response.status_code}")
            yield response.aiter_raw()
        finally:
            await response.aclose()
