"""Open a local HTML file in headless Chromium with the network off, and see what happened.

Debian's `chromium` (/usr/bin/chromium; `make pytest` installs it when missing) is driven by
Playwright from PyPI. The browser gets a new, empty profile directory, runs offline, and every
request other than the file itself is aborted and recorded, so a test can assert that a page
needs nothing outside itself. Console errors and uncaught page errors are recorded as well.

    with open_offline(path, profile_dir=tmp_path / "profile") as visit:
        visit.page.locator("svg").count()
        assert not visit.console_errors and not visit.outside_requests

There is deliberately no skip when Chromium is missing: the launch fails with a message saying
how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
SCREENSHOTS_ENV = "DECISIONARY_SCREENSHOTS"


@dataclass
class Visit:
    """One page opened from a file: the live page, and what it tried to do."""

    page: Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def screenshot(self, path: Path) -> list[Path]:
        """A full-page PNG at `path`, and a copy in $DECISIONARY_SCREENSHOTS when it is set."""
        path.parent.mkdir(parents=True, exist_ok=True)
        png = self.page.screenshot(path=str(path), full_page=True)
        written = [path]
        folder = os.environ.get(SCREENSHOTS_ENV)
        if folder:
            copy = Path(folder) / path.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(png)
            written.append(copy)
        return written


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
            "(`make pytest` installs it; or `sudo apt-get install chromium`)")


@contextmanager
def open_offline(path: Path, *, profile_dir: Path, width: int = 1280, height: int = 900) -> Iterator[Visit]:
    """Open `path` (a local file) in headless Chromium, offline, and yield the loaded page."""
    _require_chromium()
    path = path.resolve()
    url = path.as_uri()
    profile_dir.mkdir(parents=True, exist_ok=False)  # a new, empty profile every time
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS),
            offline=True, viewport={"width": width, "height": height}, service_workers="block")
        try:
            context.set_offline(True)
            page = context.pages[0] if context.pages else context.new_page()
            visit = Visit(page, url)

            def only_the_file(route: Route) -> None:
                if route.request.url == url:
                    route.continue_()
                else:
                    visit.outside_requests.append(route.request.url)
                    route.abort()

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    visit.console_errors.append(message.text)

            context.route("**/*", only_the_file)
            page.on("console", on_console)
            page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
            page.goto(url, wait_until="load")
            yield visit
        finally:
            context.close()
