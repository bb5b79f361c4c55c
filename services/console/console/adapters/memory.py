"""The in-memory twin of the services as the console sees them, for unit tests: complaints
scoped the way intake scopes them (an OPD sees its own, a 404 otherwise; an anonim reporter is
never shown), actions checked against the lifecycle in contracts, routing records, duplicate
pairs, alerts and figures. Tokens are only read for their role and OPD (the real services
verify them; the console verified them already)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from typing import Any

import jwt

from console.adapters.platform import NotFound, Refused
from contracts.lifecycle import ACTORS, TRANSITIONS, Action, Role, Status, allowed_actions


def _who(token: str) -> tuple[str, str | None]:
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims["role"], claims.get("opd")


class MemoryPlatform:
    def __init__(self) -> None:
        self.complaints_by_number: dict[str, dict] = {}
        self.routing_records: dict[str, dict] = {}
        self.pairs: list[dict] = []
        self.alert_rows: list[dict] = []
        self.figure_rows: list[dict] = []
        self.places = [{"id": "kota-bandung", "name": "Kota Bandung", "timezone": "Asia/Jakarta"}]
        self.configs = {"kota-bandung": {
            "id": "kota-bandung", "name": "Kota Bandung", "timezone": "Asia/Jakarta",
            "opds": [{"id": "dinas-pupr", "name": "Dinas PUPR"}, {"id": "dlh", "name": "DLH"}]}}
        self.acted: list[tuple[str, str, dict]] = []     # (token's role, tracking number, body)
        self.stream_chunks: list[bytes] = []
        self.stream_opened_with: tuple[str | None, int | None] | None = None

    def add(self, tracking_number: str, status: str = "triage", opd: str | None = None,
            anonymous: bool = False, title: str = "Jalan berlubang", **extra: Any) -> dict:
        now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc).isoformat()
        complaint = {
            "tracking_number": tracking_number, "status": status, "title": title,
            "description": "Jalan berlubang besar di depan sekolah, mohon segera diperbaiki.",
            "category": None, "channel": "web", "jurisdiction": "kota-bandung", "location": None,
            "anonymous": anonymous, "confidential": False, "submitted_at": now,
            "assigned_opd": {"id": opd, "name": opd} if opd else None,
            "first_response_due_at": None, "due_at": extra.pop("due_at", None),
            "overdue": extra.pop("overdue", False), "rejected_by": [], "reopen_until": None,
            "rating": None, "rating_comment": None, "merged_into": None,
            "reporter": {"name": "Siti Aminah", "email": "siti@example.id", "phone": None, "nik": None},
            "history": [{"at": now, "action": "submit", "from_status": None, "status": "submitted",
                         "actor_role": "citizen", "actor": "citizen", "note": "", "details": {}}],
            "attachments": [], **extra}
        self.complaints_by_number[tracking_number] = complaint
        return complaint

    def _visible(self, token: str, c: dict) -> bool:
        role, opd = _who(token)
        return role == "operator" or (c["assigned_opd"] or {}).get("id") == opd

    def _view(self, token: str, c: dict) -> dict:
        role, _ = _who(token)
        return {**c, "reporter": None if c["anonymous"] else c["reporter"],
                "allowed_actions": [a.value for a in allowed_actions(Status(c["status"]), Role(role))]}

    async def ping(self) -> None:
        return None

    async def complaints(self, token: str, **params: Any) -> dict:
        role, opd = _who(token)
        statuses = params.get("status")
        statuses = [statuses] if isinstance(statuses, str) else statuses
        items = [c for c in self.complaints_by_number.values() if self._visible(token, c)
                 and (not statuses or c["status"] in statuses)
                 and (not params.get("q") or params["q"] in (c["tracking_number"], *c["title"].split()))]
        return {"items": [{k: c[k] for k in ("tracking_number", "status", "title", "category",
                                             "jurisdiction", "assigned_opd", "submitted_at",
                                             "due_at", "overdue", "anonymous")} for c in items],
                "page": 1, "page_size": 25, "has_more": False, "next": None}

    async def complaint(self, token: str, tracking_number: str) -> dict:
        c = self.complaints_by_number.get(tracking_number)
        if c is None or not self._visible(token, c):
            raise NotFound(404, {"title": "Not Found"})
        return self._view(token, c)

    async def act(self, token: str, tracking_number: str, body: dict) -> dict:
        c = self.complaints_by_number.get(tracking_number)
        if c is None or not self._visible(token, c):
            raise NotFound(404, {"title": "Not Found"})
        role, _ = _who(token)
        action = Action(body["action"])
        if Role(role) not in ACTORS[action]:
            raise Refused(403, {"title": "Your role may not take this action"})
        allowed_from, to = TRANSITIONS[action]
        if Status(c["status"]) not in allowed_from:
            raise Refused(409, {"title": "Not allowed in the complaint's status",
                                "detail": f"'{action}' is not allowed while the complaint is '{c['status']}'."})
        self.acted.append((role, tracking_number, body))
        c["status"] = to.value
        if "opd_id" in body:
            c["assigned_opd"] = {"id": body["opd_id"], "name": body.get("opd_name", body["opd_id"])}
        c["history"].append({"at": datetime.now(timezone.utc).isoformat(), "action": action.value,
                             "from_status": None, "status": to.value, "actor_role": role,
                             "actor": "x", "note": body.get("note", ""), "details": {}})
        return self._view(token, c)

    async def attachment(self, token: str, tracking_number: str,
                         attachment_id: str) -> tuple[bytes, str]:
        await self.complaint(token, tracking_number)
        return b"\x89PNG", "image/png"

    async def routings(self, token: str, tracking_numbers: list[str]) -> dict[str, dict]:
        return {n: self.routing_records[n] for n in tracking_numbers if n in self.routing_records}

    async def duplicates_of(self, token: str, tracking_number: str) -> list[dict]:
        return [p for p in self.pairs if tracking_number in (
            p["complaint"]["tracking_number"], p["candidate"]["tracking_number"])]

    async def open_duplicates(self, token: str, page: int) -> dict:
        found = [p for p in self.pairs if p["status"] == "open"]
        return {"items": found, "page": page, "page_size": 25, "total": len(found)}

    async def dismiss_duplicate(self, token: str, pair_id: int) -> dict:
        for pair in self.pairs:
            if pair["id"] == pair_id:
                pair["status"] = "dismissed"
                return pair
        raise NotFound(404, {"title": "No such pair"})

    async def jurisdictions(self) -> list[dict]:
        return self.places

    async def jurisdiction(self, jurisdiction_id: str) -> dict | None:
        return self.configs.get(jurisdiction_id)

    async def clocks(self, token: str, **params: Any) -> dict:
        return {"items": [], "next_cursor": None, "counts": {}}

    async def alerts(self, token: str, after: int = 0, limit: int = 100,
                     newest: bool = False) -> dict:
        role, opd = _who(token)
        rows = [a for a in self.alert_rows if role == "operator" or a.get("opd_id") == opd]
        rows = sorted(rows, key=lambda a: a["id"], reverse=newest)[:limit]
        return {"items": rows, "last_id": rows[0]["id"] if rows else after}

    async def figures(self, token: str, jurisdiction: str, start: date, end: date) -> dict:
        role, opd = _who(token)
        rows = [r for r in self.figure_rows if role == "operator" or r["opd_id"] == opd]
        return {"jurisdiction": jurisdiction, "from": start.isoformat(), "to": end.isoformat(),
                "timezone": "Asia/Jakarta", "opds": rows}

    async def figures_csv(self, token: str, jurisdiction: str, start: date,
                          end: date) -> tuple[bytes, str]:
        rows = (await self.figures(token, jurisdiction, start, end))["opds"]
        lines = ["opd_id,received"] + [f"{r['opd_id']},{r['received']}" for r in rows]
        return ("\n".join(lines) + "\n").encode(), f'attachment; filename="sla-{jurisdiction}.csv"'

    @contextlib.asynccontextmanager
    async def alert_stream(self, token: str, last_event_id: str | None, after: int | None = None
                           ) -> AsyncIterator[AsyncIterator[bytes]]:
        self.stream_opened_with = (last_event_id, after)
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self.stream_chunks:
                yield chunk

        yield chunks()
