"""Banners over HTTP with the demo rules: landing source, country, tier, file replacement, exposures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from personalize.settings import Settings
from tests.api.conftest import AUTH
from tests.api.test_loyalty_api import order, post_order, token
from tests.conftest import make_settings


@pytest.fixture
def shop(backend_url: str) -> Iterator[TestClient[Any]]:
    settings: Settings = make_settings(store_url=backend_url, banners_file=_demo_file())
    with TestClient(create_app(settings)) as client:
        yield client


def _demo_file() -> str:
    from importlib import resources

    return str(resources.files("banners") / "demo_banners.toml")


def banners(client: TestClient[Any], headers: dict[str, str] | None = None, **body: Any) -> dict[str, str]:
    response = client.post("/v1/page", json={"page": {"type": "home"}, **body}, headers=headers or {})
    assert response.status_code == 200, response.text
    return {b["id"]: b["title"] for b in response.json()["banners"]}


def test_a_facebook_visitor_from_the_us_sees_both_welcomes_all_session(shop: TestClient[Any]) -> None:
    first = banners(shop, session_id="fb-1", context={"utm_source": "facebook", "country": "US"})
    assert {"fb-welcome", "us-free-shipping"} <= set(first)
    later = banners(shop, session_id="fb-1", context={"referrer": "http://testserver.local/women", "country": "US"})
    assert "fb-welcome" in later
    via_referrer = banners(
        shop,
        session_id="fb-2",
        context={"referrer": "https://l.facebook.com/l.php?u=x"},
        headers={"CF-IPCountry": "US"},
    )
    assert {"fb-welcome", "us-free-shipping"} <= set(via_referrer)
    german = banners(shop, session_id="de-1", context={"country": "DE", "referrer": "https://www.google.de/"})
    assert not {"fb-welcome", "us-free-shipping"} & set(german)


def test_a_bronze_customer_is_greeted_with_her_discount_and_an_anonymous_visitor_is_not(shop: TestClient[Any]) -> None:
    post_order(shop, order("o-b", "bea", [("x", 1, "4100")]))
    greeted = banners(shop, session_id="bea-2", customer_token=token("bea"))
    assert greeted["tier-welcome-back"] == "Welcome back, Bronze member: 10% off"
    assert "tier-welcome-back" not in banners(shop, session_id="anon-2")


def test_a_bad_file_is_refused_by_name_and_the_old_rules_keep_serving(shop: TestClient[Any]) -> None:
    before = shop.get("/v1/admin/banners", headers=AUTH).json()
    unknown = '[[banners]]\nid = "x"\nslot = "hero"\ntitle = "t"\ntext = "t"\ncolour = "red"\n'
    impossible = (
        '[[banners]]\nid = "sale"\nslot = "hero"\ntitle = "t"\ntext = "t"\n'
        'starts_at = "2026-12-31T00:00:00Z"\nends_at = "2026-12-01T00:00:00Z"\n'
    )
    for content, words in ((unknown, "colour"), (impossible, "sale")):
        response = shop.put("/v1/admin/banners", content=content, headers={**AUTH, "content-type": "application/toml"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_banners"
        assert words in response.json()["error"]["message"]
    assert shop.get("/v1/admin/banners", headers=AUTH).json() == before
    assert "us-free-shipping" in banners(shop, context={"country": "US"})


def test_a_request_without_a_file_is_400_and_the_rules_keep_serving(shop: TestClient[Any]) -> None:
    before = shop.get("/v1/admin/banners", headers=AUTH).json()
    response = shop.put("/v1/admin/banners", content=b"", headers={**AUTH, "content-type": "application/toml"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
    assert shop.get("/v1/admin/banners", headers=AUTH).json() == before


def test_a_new_file_is_versioned_and_served_at_once(shop: TestClient[Any]) -> None:
    rules = {"banners": [{"id": "winter", "slot": "hero", "title": "Winter sale", "text": "Up to 50% off"}]}
    import json

    response = shop.put(
        "/v1/admin/banners", content=json.dumps(rules), headers={**AUTH, "content-type": "application/json"}
    )
    assert (response.status_code, response.json()["version"], response.json()["banners"]) == (200, 2, 1)
    assert banners(shop, context={"country": "US"}) == {"winter": "Winter sale"}
    assert shop.put("/v1/admin/banners", content="x", headers={"content-type": "application/toml"}).status_code == 401


def test_arms_are_stable_and_exposures_are_counted(shop: TestClient[Any]) -> None:
    arms = set()
    for _ in range(3):
        body = shop.post(
            "/v1/page", json={"session_id": "arm-1", "page": {"type": "home"}, "context": {"country": "US"}}
        )
        arms |= {(b["id"], b["arm"]) for b in body.json()["banners"]}
    assert arms == {("us-free-shipping", "control")}
    metrics = shop.get("/metrics").text
    assert 'pz_banner_exposures_total{arm="control",banner="us-free-shipping"} 3.0' in metrics


@pytest.mark.slow
def test_a_50_percent_holdout_splits_10000_sessions_evenly_and_stably() -> None:
    rules = '[[banners]]\nid = "test-me"\nslot = "hero"\ntitle = "t"\ntext = "t"\nholdout_pct = 50\n'
    with TestClient(create_app(make_settings())) as client:
        client.put("/v1/admin/banners", content=rules, headers={**AUTH, "content-type": "application/toml"})

        def shown(session: str) -> bool:
            body = client.post("/v1/page", json={"session_id": session, "page": {"type": "other"}, "placements": []})
            return bool(body.json()["banners"])

        first = {n: shown(f"synthetic-{n}") for n in range(10_000)}
        again = {n: shown(f"synthetic-{n}") for n in range(0, 10_000, 10)}
        metrics = client.get("/metrics").text
    share = sum(first.values()) / len(first)
    assert 0.48 <= share <= 0.52
    assert all(again[n] == first[n] for n in again)
    held = sum(not first[n] for n in first) + sum(not again[n] for n in again)
    assert f'pz_banner_exposures_total{{arm="holdout",banner="test-me"}} {held}.0' in metrics
