"""The demo storefront's back end and the consent switch of /v1/page, without a browser."""

from __future__ import annotations

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
