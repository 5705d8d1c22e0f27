"""Launch Debian's Chromium for the browser tests (no browser download, ever)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Root in a container needs --no-sandbox; the rest keeps Chromium from calling home on a
# machine whose network is closed.
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)

# Screenshots of every page the browser tests open.  They go to an ignored folder so that a
# test run leaves the work tree clean; STATIONS_SCREENSHOTS=docs/img refreshes the pictures
# in the documentation.
SCREENSHOTS = Path(os.environ.get("STATIONS_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """A headless Chromium for the length of a block."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=[*CHROMIUM_ARGS, *extra_args])
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            yield browser
        finally:
            browser.close()
