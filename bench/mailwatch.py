"""Following the mail catcher while the platform delivers.

The catcher stamps each message with received_at when its SMTP DATA completes; that stamp, not
the moment this process happens to look, is the end of a complaint's journey. So polling can be
lazy (a few times a second) without blurring any number. It reads incrementally with
GET /api/messages?since=<the last id seen>, so a run of thousands of e-mails costs the catcher
O(n) work in total, not O(n^2) as re-reading the whole mailbox on every poll would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

import httpx


class MailWatch:
    """Use as `async with MailWatch(url) as watch:`; it follows from the moment it is entered."""

    def __init__(self, mail_url: str) -> None:
        self._mail = httpx.AsyncClient(base_url=mail_url, timeout=30)
        self._seen = 0  # the last message id read from the catcher's mailbox
        self.received: dict[str, float] = {}  # recipient -> epoch seconds of their first e-mail

    async def __aenter__(self) -> "MailWatch":
        # Whatever is already in the mailbox is not ours.
        self._seen = (await self._mail.get("/api/stats")).raise_for_status().json()["last_id"] or 0
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._mail.aclose()

    async def poll(self) -> int:
        """Read what arrived since the last poll; returns how many messages that was."""
        response = await self._mail.get("/api/messages", params={"since": self._seen, "limit": 5000})
        batch = response.raise_for_status().json()
        for message in batch:
            if message["headers"].get("X-Lapor-Template", "complaint_assigned") != "complaint_assigned":
                continue    # the receipt at submission: the bench times the routed message
            at = datetime.fromisoformat(message["received_at"]).timestamp()
            for rcpt in message["rcpt_tos"]:
                self.received.setdefault(rcpt, at)
        if batch:
            self._seen = batch[-1]["id"]
        return len(batch)

    async def wait_for(self, emails: Iterable[str], stall_timeout: float, overall_timeout: float,
                       interval: float = 0.25, on_progress: Callable[[], None] | None = None,
                       excused: Callable[[set[str]], Awaitable[set[str]]] | None = None,
                       ask_after: float = 3.0) -> set[str]:
        """Poll until every address has mail, or nothing new arrived for `stall_timeout` seconds,
        or `overall_timeout` passed; `on_progress` is called whenever one of them got mail.
        Once no mail has come for `ask_after` seconds (and after each such pause again),
        `excused` is asked which of the addresses still waiting are not to be waited for.
        Returns the addresses still without mail and not excused (empty = done)."""
        missing = set(emails) - self.received.keys()
        deadline = time.monotonic() + overall_timeout
        last_progress = last_asked = time.monotonic()
        while missing and time.monotonic() < deadline and time.monotonic() - last_progress < stall_timeout:
            await asyncio.sleep(interval)
            while await self.poll() == 5000:  # a full page: more is waiting
                pass
            before = len(missing)
            missing -= self.received.keys()
            now = time.monotonic()
            if len(missing) < before:
                last_progress = now
                if on_progress is not None:
                    on_progress()
            elif excused is not None and missing and now - max(last_progress, last_asked) >= ask_after:
                last_asked = now
                missing -= await excused(missing)
        return missing
