"""The demo storefront's back end and the consent switch of /v1/page, without a browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from tests.api.conftest import AUTH
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def demo(demo_models: Path) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(make_settings(demo="true", models_dir=str(demo_models)))) as client:
        yield client


def test_pages_carry_a_nonce_csp_and_the_escaped_page_context(demo: TestClient[Any]) -> None:
    page = demo.get("/demo/products/i00001")
    csp = page.headers["content-security-policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">window.pzConfig = ' in page.text
    assert '"page":{"type":"product","item_id":"i00001"}' in page.text
    assert 'data-pz-slot="product_similar"' in page.text
    assert " on" not in page.text.split("<main>")[1].split("=")[0]  # no inline handlers in the markup
    assert demo.get("/demo/products/nope").status_code == 404
    assert demo.get("/demo/category/no/such").status_code == 404


def test_a_title_with_markup_is_escaped_in_the_page(demo: TestClient[Any]) -> None:
    item = {
        "item_id": "xss-1",
        "title": "<script>alert(1)</script>",
        "brand": "B",
        "category": "women/tops",
        "price": 10,
    }
    demo.put("/v1/catalog/items", json={"items": [item]}, headers=AUTH)
    page = demo.get("/demo/products/xss-1").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cart_login_and_checkout_complete_the_order_server_to_server(demo: TestClient[Any]) -> None:
    demo.post("/demo/login", data={"customer_id": "new"})
    for item in ("i00001", "i00004", "i00009"):
        demo.post("/demo/cart/add", data={"item_id": item})
    cart = demo.get("/demo/cart").text
    assert "$4,290.00" in cart
    assert '"cart":[{"item_id":"i00001","quantity":1}' in cart
    done = demo.post("/demo/checkout")
    assert "is confirmed: $4,290.00" in done.text
    assert "You are now a Bronze member." in done.text
    assert "customerToken" in demo.get("/demo/").text


def test_without_consent_nothing_is_recorded_and_content_is_not_personal(demo: TestClient[Any]) -> None:
    body = {
        "session_id": "no-consent-1",
        "page": {"type": "product", "item_id": "i00001"},
        "consent": False,
        "context": {"utm_source": "facebook"},
    }
    page = demo.post("/v1/page", json=body).json()
    assert page["recommendations"]["product_similar"]
    assert "fb-welcome" in {b["id"] for b in page["banners"]}
    profile = demo.get("/v1/sessions/no-consent-1/profile", headers=AUTH).json()
    assert profile["affinities"]["brand"] == []


def test_the_snippet_is_served_cacheable_with_an_etag(demo: TestClient[Any]) -> None:
    first = demo.get("/snippet.js")
    assert first.headers["content-type"].startswith("text/javascript")
    assert "max-age" in first.headers["cache-control"]
    again = demo.get("/snippet.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert demo.get("/snippet-stub.js").status_code == 200


def _demo_paths(client: TestClient[Any]) -> list[tuple[str, str]]:
    """Every (method, path) the demo mounts, its parameters filled in."""
    fills = {"{path:path}": "women/dresses", "{item_id:str}": "i00001", "{order_id:str}": "o-1", "{name:str}": "x"}
    found = []
    for route in client.app.routes:
        if not route.path.startswith("/demo"):
            continue
        path = route.path
        for placeholder, value in fills.items():
            path = path.replace(placeholder, value)
        found += [(method, path) for method in route.methods if method not in ("HEAD", "OPTIONS")]
    return found


def test_without_the_demo_every_demo_path_is_absent(demo: TestClient[Any]) -> None:
    paths = _demo_paths(demo)
    assert len(paths) >= 10
    assert ("POST", "/demo/checkout") in paths
    forged = {"pz_demo_customer": "c00002", "pz_demo_cart": "i00001:99"}
    with TestClient(create_app(make_settings())) as plain:
        plain.cookies.update(forged)
        answers = {(method, path): plain.request(method, path).status_code for method, path in paths}
        assert set(answers.values()) == {404}, answers
        assert plain.get("/v1/admin/stats", headers=AUTH).json()["orders"] == 0


def test_a_cookie_the_browser_wrote_signs_nobody_in(demo: TestClient[Any]) -> None:
    from personalize import identity
    from tests.conftest import IDENTITY_SECRET

    orders = demo.get("/v1/admin/stats", headers=AUTH).json()["orders"]
    real_token = identity.sign_customer("c00002", IDENTITY_SECRET, int(time.time()) + 3600)
    for cookies in (
        {"pz_demo_customer": "c00002", "pz_demo_cart": "i00001:99"},  # the old, unsigned cookie
        {"pz_demo_session": real_token, "pz_demo_cart": "i00001:99"},  # a customer token is not a demo session
        {"pz_demo_session": real_token[:-2] + "AA", "pz_demo_cart": "i00001:99"},
    ):
        demo.cookies.clear()
        demo.cookies.update(cookies)
        assert "customerToken" not in demo.get("/demo/").text
        checkout = demo.post("/demo/checkout", follow_redirects=False)
        assert checkout.headers["location"] == "/demo/login?next=/demo/cart"
    assert demo.get("/v1/admin/stats", headers=AUTH).json()["orders"] == orders


def test_sign_in_takes_demo_customers_and_new_ones_only(demo: TestClient[Any]) -> None:
    demo.cookies.clear()
    refused = demo.post("/demo/login", data={"customer_id": "ceo"}, follow_redirects=False)
    assert refused.headers["location"] == "/demo/login"
    assert "pz_demo_session" not in demo.cookies
    demo.post("/demo/login", data={"customer_id": "c00002"})
    token = demo.get("/demo/").text.split('"customerToken":"')[1].split('"')[0]
    page = demo.post("/v1/page", json={"customer_token": token, "page": {"type": "home"}}).json()
    assert page["customer"]["id"] == "c00002"
