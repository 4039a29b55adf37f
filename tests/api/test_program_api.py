"""``PUT /v1/admin/loyalty`` on both stores: the example program uploaded and run at once; bad programs (an unknown
reward redeemed, a negative cost, a challenge never on, a tag no item has) refused with 422 naming the field, and
nothing changes; a second process runs the new program within the refresh interval."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from personalize.app import create_app
from personalize.settings import Settings
from tests.api.conftest import AUTH, catalog_item
from tests.conftest import make_settings, wait_until
from tests.serving import running_server
from tests.state import state_digest

EXAMPLE = (Path(__file__).resolve().parents[2] / "personalize" / "demo" / "loyalty.toml").read_text()
SHOP = [catalog_item(n, price=100 * n) for n in range(1, 6)] + [catalog_item(6, price=200, tags=["new"])]
TOML = {**AUTH, "content-type": "application/toml"}


@pytest.fixture
def shop(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(make_settings(store_url=settings.store_url))) as client:
        assert client.put("/v1/catalog/items", json={"items": SHOP}, headers=AUTH).status_code == 200
        yield client


def digest(client: TestClient[Any]) -> str:
    runtime = client.app.state.runtime
    return state_digest(runtime.store, runtime.settings.store_url)


def upload(client: TestClient[Any], text: str, headers: dict[str, str] = TOML) -> httpx.Response:
    return client.put("/v1/admin/loyalty", content=text.encode(), headers=headers)


def test_the_example_program_uploads_and_runs_at_once(shop: TestClient[Any]) -> None:
    before = shop.get("/v1/admin/loyalty", headers=AUTH).json()
    assert (before["version"], before["content"], before["program"]["rewards"]) == (0, None, [])
    answer = upload(shop, EXAMPLE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["version"], body["format"], body["content"]) == (1, "toml", EXAMPLE)
    assert [r["id"] for r in body["program"]["rewards"]] == ["pct20", "ten-off", "free-shipping", "makeup-course"]
    assert shop.get("/v1/admin/loyalty", headers=AUTH).json() == body
    # the welcome bonus of the uploaded program is given from the next request on
    record = {"first_name": "Ann", "email": "ann@example.com"}
    assert shop.put("/v1/customers/ann", json=record, headers=AUTH).json()["welcome_points"] == 100
    rewards = shop.get("/v1/rewards").json()["rewards"]
    assert [r["id"] for r in rewards][:2] == ["pct20", "ten-off"]


def test_a_program_sent_as_json_is_the_program_itself(shop: TestClient[Any]) -> None:
    program = {"earning": {"welcome_bonus": 7}, "rewards": [{"id": "r1", "title": "R", "cost": 5, "kind": "item"}]}
    answer = upload(shop, json.dumps(program), {**AUTH, "content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["program"]["earning"]["welcome_bonus"] == 7


BAD = [
    ("negative cost", EXAMPLE.replace("cost = 250", "cost = -250"), "rewards[1].cost", ">= 1"),
    (
        "a challenge never on",
        EXAMPLE.replace('bonus = 100\n', 'bonus = 100\nstarts = 2026-12-10\nends = 2026-12-01\n'),
        "earning.challenges[0]",
        "never on",
    ),
    ("a tag no item has", EXAMPLE.replace('tags = ["new"]', 'tags = ["neww"]', 1), "earning.multipliers[0].tags",
     "'neww'"),
    (
        "a category the catalog lacks",
        EXAMPLE.replace('tags = ["new"]', 'categories = ["men/suits"]', 1),
        "earning.multipliers[0].categories",
        "'men/suits'",
    ),
    ("an unknown field", EXAMPLE.replace("[loyalty.points]", "[loyalty.points]\nper_dollar = 2"), "points.per_dollar",
     "unknown field"),
    ("a tier restriction naming no tier", EXAMPLE.replace('tiers = ["silver", "gold"]', 'tiers = ["platinum"]'),
     "rewards[3].tiers", "platinum"),
    ("an unknown top-level field", EXAMPLE.replace("[loyalty]\n", "[loyalty]\nwindoww = 3\n", 1), "windoww", "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "field", "words"), BAD, ids=[case[0] for case in BAD])
def test_a_bad_program_is_422_naming_the_field_and_changes_nothing(
    shop: TestClient[Any], case: str, text: str, field: str, words: str
) -> None:
    assert upload(shop, EXAMPLE).status_code == 200
    before = digest(shop)
    answer = upload(shop, text)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == (field, "invalid_program"), error
    assert words in error["message"], error
    assert digest(shop) == before
    assert shop.get("/v1/admin/loyalty", headers=AUTH).json()["version"] == 1


def test_redeeming_an_unknown_reward_is_422_naming_it_and_changes_nothing(shop: TestClient[Any]) -> None:
    assert upload(shop, EXAMPLE).status_code == 200
    before = digest(shop)
    body = {"redemption_id": "rd-1", "reward_id": "gold-watch"}
    answer = shop.post("/v1/customers/ann/redemptions", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "reward_id"
    assert "gold-watch" in answer.json()["error"]["message"]
    assert digest(shop) == before


@pytest.mark.parametrize(("body", "status"), [(b"", 400), (b"\xff\xfe", 400), (b"tiers = [", 422), (b"[1, 2]", 422)])
def test_a_body_that_is_no_program_file_is_refused(shop: TestClient[Any], body: bytes, status: int) -> None:
    headers = {**AUTH, "content-type": "application/json"} if body.startswith(b"[") else TOML
    assert shop.put("/v1/admin/loyalty", content=body, headers=headers).status_code == status


def test_without_the_key_the_program_routes_are_401(shop: TestClient[Any]) -> None:
    assert shop.get("/v1/admin/loyalty").status_code == 401
    assert shop.put("/v1/admin/loyalty", content=EXAMPLE.encode()).status_code == 401


@pytest.mark.redis
def test_another_process_runs_the_uploaded_program_within_the_refresh_interval(redis_url: str) -> None:
    with (
        running_server("--store", redis_url, "--no-demo") as one,
        running_server("--store", redis_url, "--no-demo") as two,
    ):
        assert httpx.put(f"{one}/v1/catalog/items", json={"items": SHOP}, headers=AUTH).status_code == 200
        answer = httpx.put(f"{one}/v1/admin/loyalty", content=EXAMPLE.encode(), headers=TOML)
        assert answer.status_code == 200, answer.text
        started = time.monotonic()

        def offered() -> bool:
            return bool(httpx.get(f"{two}/v1/rewards").json()["rewards"])

        wait_until(offered, 10, "the second process offers the uploaded program's rewards")
        assert time.monotonic() - started < 10
