"""The public snippet in headless Chromium against a real server: test pages are served same-origin with
the API (``page.route``) under a strict nonce CSP, with the stub inlined as a shop would paste it; every
assertion reads the rendered DOM, the cookies or the captured network requests."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from personalize import identity
from tests.conftest import API_KEY, IDENTITY_SECRET, wait_until
from tests.serving import running_server

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "personalize" / "static"
NONCE = "abc"
CSP = (
    f"default-src 'self'; script-src 'nonce-{NONCE}' 'self'; style-src 'self' 'nonce-{NONCE}'; "
    "img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)
# a selector, not a JS expression: Playwright evaluates string expressions with eval, which the CSP refuses
READY = "html[data-pz-ready='1']"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# records CSP violations of every document the test opens (Playwright's own scripts are exempt)
WATCH_CSP = """
window.__pzViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__pzViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
ROWS = """
<div data-pz-slot="banner:top_bar"></div>
<div data-pz-slot="banner:hero"></div>
<div data-pz-slot="home_for_you"></div>
<div data-pz-slot="home_trending"></div>
"""
PRODUCT_ROWS = '<div data-pz-slot="product_similar"></div><div data-pz-slot="product_complete_the_look"></div>'


@pytest.fixture(scope="module")
def shop(demo_models: Path) -> Iterator[str]:
    """The demo store with trained models, one server for the module."""
    with running_server(env={"PZ_MODELS_DIR": str(demo_models)}, timeout=120) as base:
        yield base


@pytest.fixture(scope="module")
def stub(shop: str) -> str:
    """The inline loader exactly as the server hands it out for shops to paste."""
    response = httpx.get(f"{shop}/snippet-stub.js")
    assert response.status_code == 200
    return response.text


def page_html(stub: str, config: dict[str, Any], body: str, *, before: str = "", stubs: int = 1) -> str:
    """A shop page: ``pzConfig``, optional page script, the inlined stub (``stubs`` times), the body."""
    data = json.dumps(config).replace("<", "\\u003c")
    loader = f'<script nonce="{NONCE}">{stub}</script>' * stubs
    extra = f'<script nonce="{NONCE}">{before}</script>' if before else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>test shop</title>'
        f'<script nonce="{NONCE}">window.pzConfig = {data};</script>{extra}{loader}</head>'
        f"<body><main>{body}</main></body></html>"
    )


class Visit:
    """One browser context on the shop: serves test pages, records requests, dialogs, errors and console."""

    def __init__(self, browser: Any, base: str, stub: str) -> None:
        self.base, self.stub = base, stub
        self.context = browser.new_context(base_url=base)
        self.context.add_init_script(WATCH_CSP)
        self.pages: dict[str, str] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.context.route(f"{base}/__test__/**", self._serve)
        self.context.on("request", lambda r: self.requests.append((r.method, r.url, r.post_data)))
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(message.text))

    def _serve(self, route: Any) -> None:
        path = route.request.url.removeprefix(self.base).split("?")[0]
        headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}
        route.fulfill(status=200, content_type="text/html", headers=headers, body=self.pages[path])

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, name: str, config: dict[str, Any], body: str, *, query: str = "", **kwargs: Any) -> Any:
        """Serve a page at ``/__test__/NAME``, open it and wait for the snippet's ready marker."""
        path = f"/__test__/{name}"
        self.pages[path] = page_html(self.stub, config, body, **kwargs)
        self.page.goto(path + query)
        self.page.wait_for_selector(READY, state="attached", timeout=15_000)
        return self.page

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """JSON bodies of the POSTs to ``path`` so far."""
        return [
            json.loads(data or "null")
            for method, url, data in self.requests
            if method == "POST" and url.split("?")[0].endswith(path)
        ]

    def events(self) -> list[dict[str, Any]]:
        return [
            dict(event, session_id=body["session_id"]) for body in self.bodies("/v1/events") for event in body["events"]
        ]

    def until(self, check: Callable[[], bool], what: str, timeout: float = 5) -> None:
        """Poll while letting Playwright deliver its events (a plain sleep would not)."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.page.wait_for_timeout(50)

    def items(self, slot: str) -> list[str]:
        return list(
            self.page.eval_on_selector_all(
                f'[data-pz-slot="{slot}"] [data-pz-item]', "els => els.map(e => e.dataset.pzItem)"
            )
        )

    def pz_cookies(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.context.cookies() if c["name"].startswith("pz_")}

    def assert_clean(self) -> None:
        """No CSP violation, no uncaught error, no dialog on the current page or in the console."""
        violations = self.page.evaluate("window.__pzViolations || []")
        assert violations == []
        assert [m for m in self.console if "Content Security Policy" in m] == []
        assert self.errors == []
        assert self.dialogs == []

    def close(self) -> None:
        self.context.close()


def trending(base: str) -> list[str]:
    body = {"page": {"type": "home"}, "placements": ["home_trending"], "limit": 50, "consent": False}
    answer = httpx.post(f"{base}/v1/page", json=body).json()
    return [item["item_id"] for item in answer["recommendations"]["home_trending"]]


@pytest.fixture
def visit(browser: Any, shop: str, stub: str) -> Iterator[Visit]:
    opened = Visit(browser, shop, stub)
    yield opened
    opened.close()


def test_sizes_and_forbidden_constructs() -> None:
    main = (STATIC / "snippet.js").read_bytes()
    stub = (STATIC / "snippet-stub.js").read_bytes()
    n = len(gzip.compress(main, compresslevel=9))
    print(f"snippet.js: {n} bytes gzipped ({len(main)} raw); snippet-stub.js: {len(stub)} bytes")
    assert n <= 20 * 1024
    assert len(stub) <= 1024
    code = main.decode()
    for forbidden in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in code, forbidden
    assert not re.search(r"""setAttribute\(\s*["']on""", code)
    assert not re.search(r"""setTimeout\(\s*["']""", code)
    assert not re.search(r"""\.style\b|setAttribute\(\s*["']style""", code)  # classes only: style-src stays strict
    # the stub is inlined as it is: ES5 only
    assert not re.search(r"=>|\blet\b|\bconst\b|`", stub.decode())


@pytest.mark.slow
def test_before_consent_no_cookie_no_event_but_trending_renders(visit: Visit) -> None:
    token = identity.sign_customer("c00001", IDENTITY_SECRET, int(time.time()) + 600)
    config = {"api": "", "page": {"type": "home"}, "customerToken": token, "currency": "USD"}
    page = visit.open("home", config, ROWS, query="?utm_source=newsletter")

    [call] = visit.bodies("/v1/page")
    assert call["consent"] is False
    assert "session_id" not in call
    assert "customer_token" not in call
    assert "returning" not in call["context"]
    assert call["context"]["utm_source"] == "newsletter"
    assert call["context"]["landing_url"].endswith("/__test__/home?utm_source=newsletter")
    assert call["placements"] == ["home_for_you", "home_trending"]
    trending = visit.items("home_trending")
    assert len(trending) >= 4
    assert page.locator('[data-pz-slot="home_trending"]').is_visible()
    assert page.evaluate("window.pz.loaded") is True

    page.evaluate("pz.push(['track', {type: 'add_to_cart', item_id: 'i00001'}])")
    visit.assert_clean()
    first = page.locator('[data-pz-slot="home_trending"] a.pz-link').first
    href = first.get_attribute("href")
    first.click()
    page.wait_for_url(href)  # the click was not held up
    page.wait_for_selector(READY, state="attached")
    page.wait_for_timeout(300)
    assert visit.bodies("/v1/events") == []
    assert visit.context.cookies() == []


@pytest.mark.slow
def test_with_consent_one_session_and_tracked_clicks(visit: Visit) -> None:
    consent = "window.pz = window.pz || []; pz.push(['consent', true]);"
    page = visit.open("home", {"page": {"type": "home"}}, ROWS, before=consent)
    [first] = visit.bodies("/v1/page")
    assert first["consent"] is True
    assert "session_id" not in first
    cookies = visit.pz_cookies()
    assert set(cookies) == {"pz_sid", "pz_consent", "pz_ret"}
    session = cookies["pz_sid"]["value"]
    assert cookies["pz_sid"]["sameSite"] == "Lax"
    assert cookies["pz_sid"]["path"] == "/"
    assert 1700 < cookies["pz_sid"]["expires"] - time.time() <= 1800
    assert cookies["pz_consent"]["value"] == "1"
    assert cookies["pz_ret"]["value"] == "0"  # the first session: not a returning visitor yet

    # the next page continues the session: one call, same id (consent now comes from its cookie)
    config = {"page": {"type": "product", "item_id": "i00001"}, "currency": "USD"}
    page = visit.open("product", config, PRODUCT_ROWS)
    calls = visit.bodies("/v1/page")
    assert len(calls) == 2
    assert calls[1]["session_id"] == session
    assert calls[1]["consent"] is True
    assert calls[1]["placements"] == ["product_similar", "product_complete_the_look"]
    assert "returning" not in calls[1]["context"]
    assert visit.items("product_similar")

    page.evaluate("pz.push(['track', {type: 'add_to_cart', item_id: 'i00001'}])")
    visit.until(lambda: any(e["type"] == "add_to_cart" for e in visit.events()), "the add_to_cart event")
    [added] = visit.events()
    assert added["item_id"] == "i00001"
    assert added["session_id"] == session
    assert added["event_id"]
    visit.assert_clean()

    link = page.locator('[data-pz-slot="product_similar"] a.pz-link').first
    clicked = link.locator("xpath=..").get_attribute("data-pz-item")
    href = link.get_attribute("href")
    link.click()
    visit.until(lambda: any(e["type"] == "click" for e in visit.events()), "the click event")
    click = next(e for e in visit.events() if e["type"] == "click")
    assert click == {
        "type": "click",
        "item_id": clicked,
        "placement": "product_similar",
        "event_id": click["event_id"],
        "ts": click["ts"],
        "session_id": session,
    }
    page.wait_for_url(href)
    page.wait_for_selector(READY, state="attached")
    assert visit.bodies("/v1/page")[-1]["session_id"] == session
    assert len(visit.bodies("/v1/events")) == 2  # no product_view event: the page call records the view

    # withdrawing consent deletes the snippet's cookies and stops the events
    page.evaluate("pz.push(['consent', false]); pz.push(['track', {type: 'search', query: 'dress'}])")
    page.wait_for_timeout(200)
    assert visit.pz_cookies() == {}
    assert len(visit.bodies("/v1/events")) == 2
    visit.assert_clean()


@pytest.mark.slow
def test_consent_given_on_the_page_applies_at_once(visit: Visit) -> None:
    page = visit.open("late-consent", {"page": {"type": "home"}}, ROWS)
    assert visit.context.cookies() == []
    page.evaluate("pz.push(['consent', true]); pz.push(['track', {type: 'search', query: 'red dress'}])")
    visit.until(lambda: bool(visit.events()), "the search event")
    [search] = visit.events()
    assert search["query"] == "red dress"
    assert visit.pz_cookies()["pz_sid"]["value"] == search["session_id"]
    assert visit.pz_cookies()["pz_consent"]["value"] == "1"
    assert len(visit.bodies("/v1/page")) == 1  # no second page call for the same view
    visit.open("late-consent-next", {"page": {"type": "home"}}, ROWS)
    assert visit.bodies("/v1/page")[-1]["session_id"] == search["session_id"]
    visit.assert_clean()


@pytest.mark.slow
def test_a_later_session_is_returning(visit: Visit) -> None:
    consent = "window.pz = window.pz || []; pz.push(['consent', true]);"
    visit.open("home", {"page": {"type": "home"}}, ROWS, before=consent)
    visit.context.clear_cookies(name="pz_sid")  # 30 idle minutes later
    visit.open("home", {"page": {"type": "home"}}, ROWS)
    first, later = visit.bodies("/v1/page")
    assert "returning" not in first["context"]
    assert later["context"]["returning"] is True
    assert "session_id" not in later
    assert visit.pz_cookies()["pz_ret"]["value"] == "1"


@pytest.mark.slow
def test_empty_slots_stay_hidden_filled_ones_show(visit: Visit) -> None:
    body = (
        '<div data-pz-slot="home_trending" data-pz-limit="3"></div>'
        '<div data-pz-slot="product_similar"></div>'  # not asked for: the page gets none
        '<div data-pz-slot="banner:nowhere"></div><div data-pz-slot="nudge"></div>'
    )
    page = visit.open("slots", {"page": {"type": "home"}, "placements": ["home_trending"]}, body)
    [call] = visit.bodies("/v1/page")
    assert call["placements"] == ["home_trending"]
    assert len(visit.items("home_trending")) == 3
    assert page.locator('[data-pz-slot="home_trending"]').is_visible()
    for slot in ("product_similar", "banner:nowhere", "nudge"):
        assert page.eval_on_selector(f'[data-pz-slot="{slot}"]', "el => el.hidden && !el.firstChild"), slot
    visit.assert_clean()


@pytest.mark.slow
def test_a_failed_page_call_leaves_slots_hidden_and_throws_nothing(visit: Visit) -> None:
    visit.context.route(f"{visit.base}/v1/page", lambda route: route.fulfill(status=503, body="down"))
    page = visit.open("down", {"page": {"type": "home"}}, ROWS)
    assert page.eval_on_selector_all("[data-pz-slot]", "els => els.every(el => el.hidden && !el.firstChild)")
    page.evaluate("pz.push(['nonsense']); pz.push(null); pz.push(['track', {type: 'click'}])")
    visit.context.route(f"{visit.base}/v1/page", lambda route: route.abort())
    page.evaluate("pz.push(['page', {type: 'home'}])")
    page.wait_for_selector(READY, state="attached")
    assert page.eval_on_selector_all("[data-pz-slot]", "els => els.every(el => el.hidden)")
    visit.assert_clean()


@pytest.mark.slow
def test_markup_contract_under_csp(visit: Visit) -> None:
    answer = {
        "session_id": "s-fixed",
        "customer": None,
        "banners": [
            {"id": "b1", "slot": "hero", "title": "Hello", "text": "Ten off", "link": "/demo/", "image": None,
             "coupon_code": "SAVE10ABCD", "arm": "variant_a"},
        ],
        "recommendations": {
            "home_trending": [
                {"item_id": "i00001", "title": "Red dress", "price": 1750.0, "url": "/demo/products/i00001",
                 "image": "/demo/images/i00001.svg", "score": 1.0, "reason": "trending"},
            ]
        },
        "nudges": [
            {"kind": "next_tier", "tier": "bronze", "remaining": 500.0, "currency": "USD",
             "text": "Spend $500.00 more to reach Bronze",
             "items": [{"item_id": "i00023", "title": "Belt", "price": 500.0, "url": "/demo/products/i00023",
                        "image": "/demo/images/i00023.svg", "score": 1.0, "reason": "gap_filler"}]},
        ],
    }  # fmt: skip
    visit.context.route(f"{visit.base}/v1/page", lambda route: route.fulfill(json=answer))
    body = ROWS + '<div data-pz-slot="nudge"></div>'
    page = visit.open("markup", {"page": {"type": "cart"}, "currency": "USD", "locale": "en-US"}, body)
    item = page.locator('[data-pz-slot="home_trending"] ul.pz-recs > li.pz-item[data-pz-item="i00001"]')
    assert item.locator("a.pz-link").get_attribute("href") == f"{visit.base}/demo/products/i00001"
    assert item.locator("img.pz-img").get_attribute("alt") == "Red dress"
    assert item.locator("img.pz-img").get_attribute("src") == f"{visit.base}/demo/images/i00001.svg"
    assert item.locator(".pz-title").inner_text() == "Red dress"
    assert item.locator(".pz-price").inner_text() == "$1,750.00"
    banner = page.locator('[data-pz-slot="banner:hero"] div.pz-banner[data-pz-banner="b1"][data-pz-arm="variant_a"]')
    assert banner.locator("strong.pz-banner-title").inner_text() == "Hello"
    assert banner.locator("p.pz-banner-text").inner_text() == "Ten off"
    assert banner.locator("a.pz-banner-link").get_attribute("href") == f"{visit.base}/demo/"
    assert banner.locator("code.pz-coupon").inner_text() == "SAVE10ABCD"
    nudge = page.locator('[data-pz-slot="nudge"] div.pz-nudge[data-pz-nudge="next_tier"]')
    assert nudge.locator("p.pz-nudge-text").inner_text() == "Spend $500.00 more to reach Bronze"
    assert visit.items("nudge") == ["i00023"]
    assert page.locator('[data-pz-slot="banner:top_bar"]').is_hidden()
    assert page.locator('[data-pz-slot="home_for_you"]').is_hidden()
    assert page.locator("[style]").count() == 0
    visit.assert_clean()


@pytest.mark.slow
def test_single_page_app_page_command_rerenders(visit: Visit) -> None:
    page = visit.open("spa", {"page": {"type": "home"}}, ROWS)
    home = visit.items("home_trending")
    assert home
    # the app "navigates": a new URL, new placeholders, then one page command
    page.evaluate(
        """rows => {
            history.pushState({}, '', '/__test__/spa/product');
            const main = document.querySelector('main');
            main.replaceChildren();
            for (const name of rows) {
                const slot = document.createElement('div');
                slot.dataset.pzSlot = name;
                main.append(slot);
            }
            pz.push(['page', {type: 'product', item_id: 'i00001'}]);
        }""",
        ["banner:hero", "product_similar", "product_complete_the_look"],
    )
    page.wait_for_selector(READY, state="attached")
    _, second = visit.bodies("/v1/page")
    assert second["page"] == {"type": "product", "item_id": "i00001"}
    assert second["context"]["referrer"].endswith("/__test__/spa")
    assert second["context"]["landing_url"].endswith("/__test__/spa/product")
    assert second["placements"] == ["product_similar", "product_complete_the_look"]
    assert visit.items("product_similar")
    assert "i00001" not in visit.items("product_similar")
    visit.assert_clean()


@pytest.mark.slow
def test_hostile_titles_render_as_text(visit: Visit) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    item = {
        "item_id": "xss-1",
        "title": hostile,
        "brand": "Nobody",
        "category": "women/dresses",
        "color": "red",
        "price": 100.0,
        "in_stock": True,
        "url": "/demo/products/xss-1",
        "image": "/demo/images/xss-1.svg",
        "tags": [],
    }
    response = httpx.put(f"{visit.base}/v1/catalog/items", json={"items": [item]}, headers=AUTH)
    assert response.status_code == 200, response.text
    for n in range(6):  # it trends: several sessions put it in their carts
        events = [{"type": "add_to_cart", "item_id": "xss-1", "event_id": f"x{n}-{k}"} for k in range(5)]
        response = httpx.post(f"{visit.base}/v1/events", json={"session_id": f"xss-buyer-{n}", "events": events})
        assert response.status_code == 202, response.text

    wait_until(lambda: "xss-1" in trending(visit.base), 10, "xss-1 trending (the process caches the list 1 s)")

    page = visit.open("xss", {"page": {"type": "home"}, "placements": ["home_trending"], "limit": 50}, ROWS)
    assert "xss-1" in visit.items("home_trending")
    title = page.locator('[data-pz-item="xss-1"] .pz-title')
    assert title.inner_text() == hostile
    assert page.locator('[data-pz-item="xss-1"] img.pz-img').get_attribute("alt") == hostile
    assert page.locator('img[src="x"]').count() == 0
    page.wait_for_timeout(200)
    assert visit.dialogs == []
    visit.assert_clean()


@pytest.mark.slow
def test_only_http_links_and_images_are_rendered(visit: Visit) -> None:
    def item(item_id: str, url: str, image: str) -> dict[str, Any]:
        title = "<script>alert(2)</script>"
        return {"item_id": item_id, "title": title, "price": 1.0, "url": url, "image": image, "score": 1, "reason": "x"}

    answer = {
        "session_id": "s-fixed",
        "customer": None,
        "banners": [
            {"id": "evil", "slot": "hero", "title": "<img src=x onerror=alert(3)>", "text": "t",
             "link": "javascript:alert(4)", "image": "javascript:alert(5)", "coupon_code": None, "arm": "control"},
        ],
        "recommendations": {
            "home_trending": [
                item("js", "javascript:alert(6)", "javascript:alert(7)"),
                item("js-mixed", " JaVa\tScRiPt:alert(8)", "data:image/svg+xml,<svg onload=alert(9)>"),
                item("vb", "vbscript:msgbox(1)", "blob:https://x/1"),
                item("ok", "https://shop.example/p/1", "https://shop.example/i/1.jpg"),
            ]
        },
        "nudges": [],
    }  # fmt: skip
    visit.context.route(f"{visit.base}/v1/page", lambda route: route.fulfill(json=answer))
    page = visit.open("links", {"page": {"type": "home"}}, ROWS)
    assert visit.items("home_trending") == ["js", "js-mixed", "vb", "ok"]
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://shop.example/p/1"]
    assert page.locator("a.pz-link").count() == 4  # the others are there, but link nowhere
    images = page.eval_on_selector_all("img[src]", "els => els.map(i => i.getAttribute('src'))")
    assert images == ["https://shop.example/i/1.jpg"]
    assert page.locator('[data-pz-banner="evil"] .pz-banner-title').inner_text() == "<img src=x onerror=alert(3)>"
    assert page.locator("script:not([nonce])").count() == 0
    page.click('[data-pz-item="js"] a.pz-link')
    page.wait_for_timeout(200)
    assert visit.dialogs == []
    visit.assert_clean()


@pytest.mark.slow
def test_links_to_another_host_in_disguise_are_not_rendered(visit: Visit) -> None:
    def item(item_id: str, url: str) -> dict[str, Any]:
        return {"item_id": item_id, "title": item_id, "price": 1.0, "url": url, "image": url, "score": 1, "reason": "x"}

    rows = [item("slashes", "//evil.example/phish"), item("backslash", "/\\evil.example"), item("own", "/p/2")]
    answer = {"session_id": "s-fixed", "customer": None, "banners": [], "nudges": [],
              "recommendations": {"home_trending": rows}}  # fmt: skip
    visit.context.route(f"{visit.base}/v1/page", lambda route: route.fulfill(json=answer))
    page = visit.open("disguised", {"page": {"type": "home"}}, ROWS)
    assert visit.items("home_trending") == ["slashes", "backslash", "own"]
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    assert hrefs == [f"{visit.base}/p/2"]
    images = page.eval_on_selector_all("img[src]", "els => els.map(i => i.src)")
    assert images == [f"{visit.base}/p/2"]
    visit.assert_clean()


@pytest.mark.slow
def test_double_include_loads_once(visit: Visit) -> None:
    page = visit.open("twice", {"page": {"type": "home"}}, ROWS, stubs=2)
    page.wait_for_timeout(200)
    assert [url for _, url, _ in visit.requests if url.endswith("/snippet.js")] == [f"{visit.base}/snippet.js"]
    assert len(visit.bodies("/v1/page")) == 1
    assert page.locator('[data-pz-slot="home_trending"] ul.pz-recs').count() == 1

    # the main script itself included a second time (beside the stub) does nothing either
    direct = f'<script nonce="{NONCE}" src="/snippet.js" async></script>'
    page = visit.open("twice-direct", {"page": {"type": "home"}}, ROWS + direct)
    page.wait_for_timeout(300)
    assert len(visit.bodies("/v1/page")) == 2
    assert page.locator('[data-pz-slot="home_trending"] ul.pz-recs').count() == 1
    visit.assert_clean()
