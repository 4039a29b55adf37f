"""The ``browser`` fixture: the Debian Chromium driven by Playwright, one per test module.

Playwright's own browser download never runs here; without ``/usr/bin/chromium`` (or when it cannot be
launched) the browser tests skip with the reason, unless ``PZ_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium per test module (tests open their own contexts and close them). Not per session:
    Playwright's sync API keeps an event loop on this thread while it runs, which the async tests of other
    modules cannot share."""
    if not Path(CHROMIUM).exists():
        require_or_skip("PZ_REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("PZ_REQUIRE_BROWSER", "Python Playwright is not installed")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    except Exception as error:
        playwright.stop()
        require_or_skip("PZ_REQUIRE_BROWSER", f"Playwright cannot launch {CHROMIUM}: {error}")
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()
