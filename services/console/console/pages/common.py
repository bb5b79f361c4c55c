"""What every page shares: the templates, the words of the person's language, the navigation of
their role, and one way to draw a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console.domain.i18n import MESSAGES, Words, language
from console.session import LANG_COOKIE, Session

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))

NAV = {
    "operator": (("nav.triage", "/triage"), ("nav.complaints", "/complaints"),
                 ("nav.duplicates", "/duplicates"), ("nav.alerts", "/alerts"),
                 ("nav.dashboard", "/dashboard")),
    "opd": (("nav.queue", "/queue"), ("nav.complaints", "/complaints"),
            ("nav.alerts", "/alerts"), ("nav.dashboard", "/dashboard")),
}
# What the live-alert script writes, in the page's language.
_SCRIPT_KEYS = ("alert.warning", "alert.breach", "alert.escalation", "live.none",
                "clock.verification", "clock.first_response", "clock.resolution",
                "clock.auto_close", "clock.reopen_window", "level.opd_admin", "level.opd_head",
                "level.coordinator", "level.inspektorat")


def lang_of(request: Request) -> str:
    return language(request.cookies.get(LANG_COOKIE))


async def words_for(request: Request, session: Session | None) -> Words:
    directory = request.app.state.directory
    place = await directory.place(session.who.jurisdiction if session else None)
    return Words(lang_of(request), place.timezone)


async def render(request: Request, template: str, session: Session | None, *,
                 status: int = 200, title_key: str = "brand", **context: Any) -> HTMLResponse:
    t = await words_for(request, session)
    script_words = json.dumps({**{k: MESSAGES[t.lang][k] for k in _SCRIPT_KEYS},
                               "_locale": "id-ID" if t.lang == "id" else "en-GB",
                               "_zone": t.zone.key})
    return TEMPLATES.TemplateResponse(request, template, {
        "t": t, "lang": t.lang, "session": session, "title_key": title_key,
        "nav": NAV.get(session.role, ()) if session else (), "path": request.url.path,
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        "script_words": script_words, "done": request.query_params.get("done"),
        **context}, status_code=status)
