"""The API docs page (``/schema``) renders in headless Chromium with nothing fetched from outside the server: its
script is vendored into the package. Screenshot in ``test-output/schema.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.serving import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[2] / "test-output"


def test_the_api_docs_render_offline(browser: Any) -> None:
    with running_server("--no-demo") as base:
        context = browser.new_context()
        outside: list[str] = []
        failed: list[str] = []

        def only_here(route: Any) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_here)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(f"{base}/schema")
        page.wait_for_selector("text=Storefront personalization API", timeout=30_000)
        page.wait_for_selector('text="/v1/page"', timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "schema.png"))
        assert outside == []
        assert failed == []
        assert errors == []
        assert page.locator("text=POST").count() > 0
        context.close()
