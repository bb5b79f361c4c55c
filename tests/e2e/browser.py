"""A real headless Chromium for the console's browser tests, driven by Playwright: Debian's
`chromium` package (installed by `make test`, see deploy/local/install-browser.sh), never a
browser downloaded by the test tool. Screenshots go to var/screenshots/console/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from devstack.kafka import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "var" / "screenshots" / "console"
# Without the background-networking flags Chromium keeps calling Google's hosts, which a closed
# network refuses many times a second; --no-sandbox because CI runs as root.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    raise RuntimeError("no Chromium: run deploy/local/install-browser.sh (make test does)")


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
