"""``/v1/admin/experiments`` on both stores: definitions uploaded and refused (naming the field, the previous ones
serving on), page views exposing units at no extra round trip and changing what the page shows, orders attributed
once and net of refunds, clicks per arm and placement, and the report."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from personalize import identity
from personalize.experiments.assignment import arm_of
from personalize.experiments.definitions import parse_experiments
from tests.api.conftest import AUTH
from tests.conftest import IDENTITY_SECRET

TOML = {**AUTH, "content-type": "application/toml"}
HOLDOUT = """
[[experiments]]
id = "holdout"
changes = "personalization"
start = 2020-01-01T00:00:00Z
[[experiments.arms]]
name = "control"
weight = 50
enabled = false
[[experiments.arms]]
name = "personal"
weight = 50
"""
PLACEMENT = """
[[experiments]]
id = "home-row"
changes = "placement"
placement = "home_for_you"
unit = "session"
start = 2020-01-01T00:00:00Z
stop = 2099-01-01T00:00:00Z
[[experiments.arms]]
name = "control"
weight = 50
strategy = "default"
[[experiments.arms]]
name = "catalog"
weight = 50
strategy = "catalog"
"""


def token(customer: str) -> str:
    return identity.sign_customer(customer, IDENTITY_SECRET, int(time.time()) + 600)


def upload(client: TestClient[Any], text: str, headers: dict[str, str] = TOML) -> httpx.Response:
    return client.put("/v1/admin/experiments", content=text.encode(), headers=headers)


def order(customer: str, order_id: str, total: float, session: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer,
        "items": [{"item_id": "i0001", "quantity": 2, "price": total / 2}],
        "total": total,
        "currency": "USD",
        "completed_at": int(time.time() * 1000),
    }
    if session:
        body["session_id"] = session
    return body


def customer_in(arm: str, experiment_text: str, prefix: str) -> str:
    experiment = parse_experiments("toml", experiment_text).experiments[0]
    return next(f"{prefix}{n}" for n in range(1000) if arm_of(experiment, f"c:{prefix}{n}").name == arm)


def test_definitions_upload_and_answer(client: TestClient[Any]) -> None:
    empty = client.get("/v1/admin/experiments", headers=AUTH).json()
    assert (empty["version"], empty["experiments"], empty["running"]) == (0, [], [])
    answer = upload(client, HOLDOUT + PLACEMENT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 1
    assert body["running"] == ["holdout", "home-row"]
    assert body["experiments"][0]["unit"] == "customer"
    assert body["experiments"][0]["retention_days"] == 30
    assert client.get("/v1/admin/experiments", headers=AUTH).json()["content"] == HOLDOUT + PLACEMENT


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("weight = 50\nenabled", "weight = 40\nenabled"), "experiments[0].arms", "add up to 90"),
        (('placement = "home_for_you"', 'placement = "sidebar"'), "experiments[1].placement", "not a placement"),
        (('strategy = "catalog"', 'strategy = "magic"'), "experiments[1].arms[1].strategy", "not a strategy"),
        (("stop = 2099-01-01", "stop = 2019-01-01"), "experiments[1].stop", "not after start"),
        (('changes = "personalization"', 'changes = "everything"'), "experiments[0].changes",
         "'everything' (one of ['personalization', 'placement', 'banners', 'nudges', 'campaign'])"),
        (('name = "control"\nweight = 50\nenabled', 'name = "control"\ncolour = 1\nweight = 50\nenabled'),
         "experiments[0].arms[0].colour", "unknown field"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_naming_the_field(
    client: TestClient[Any], change: tuple[str, str], field: str, words: str
) -> None:
    assert upload(client, HOLDOUT).status_code == 200
    bad = (HOLDOUT + PLACEMENT).replace(*change, 1)
    assert bad != HOLDOUT + PLACEMENT
    answer = upload(client, bad)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_experiments", field), error
    assert words in error["message"]
    kept = client.get("/v1/admin/experiments", headers=AUTH).json()
    assert (kept["version"], kept["content"]) == (1, HOLDOUT)


def test_two_experiments_changing_the_same_thing_at_once_are_refused_naming_both(client: TestClient[Any]) -> None:
    second = PLACEMENT.replace('id = "home-row"', 'id = "home-row-2"').replace("2020-01-01", "2030-01-01")
    answer = upload(client, PLACEMENT + second)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "experiments[1]"
    assert "'home-row-2' and 'home-row'" in error["message"]
    assert "placement home_for_you" in error["message"]
    after_it = second.replace("stop = 2099", "stop = 2100").replace("2030-01-01", "2099-01-01")  # no overlap
    assert upload(client, PLACEMENT + after_it).status_code == 200


def test_a_placement_arm_changes_the_row_and_exposes_the_session_once(client: TestClient[Any]) -> None:
    assert upload(client, PLACEMENT).status_code == 200
    experiment = parse_experiments("toml", PLACEMENT).experiments[0]
    session = next(f"s-{n}" for n in range(1000) if arm_of(experiment, f"s:s-{n}").name == "catalog")
    for _ in range(3):
        page = client.post("/v1/page", json={"session_id": session, "page": {"type": "home"}}).json()
    assert {item["reason"] for item in page["recommendations"]["home_for_you"]} == {"catalog"}
    store = client.app.state.runtime.store
    record = client.blocking_portal.call(store.experiments.unit, "home-row", f"s:{session}")
    assert record is not None
    assert record.arm == "catalog"
    sums = client.blocking_portal.call(store.experiments.arm_sums, "home-row", ["control", "catalog"])
    assert sums["catalog"]["n"] == 1
    assert not sums["control"]
    product = {"session_id": "s-other", "page": {"type": "product", "item_id": "i0003"}}
    client.post("/v1/page", json=product)  # no home_for_you on a product page: not exposed
    assert client.blocking_portal.call(store.experiments.unit, "home-row", "s:s-other") is None


def test_clicks_on_a_placement_count_once_for_the_exposed_arm(client: TestClient[Any]) -> None:
    assert upload(client, PLACEMENT).status_code == 200
    experiment = parse_experiments("toml", PLACEMENT).experiments[0]
    session = next(f"k-{n}" for n in range(1000) if arm_of(experiment, f"s:k-{n}").name == "catalog")
    click = {"type": "click", "item_id": "i0002", "placement": "home_for_you", "event_id": "e-1"}
    unexposed = {"session_id": "k-unseen", "events": [click]}
    assert client.post("/v1/events", json=unexposed).status_code == 202  # never exposed: counts for no arm
    client.post("/v1/page", json={"session_id": session, "page": {"type": "home"}})
    for _ in range(2):  # a re-delivered batch counts once
        assert client.post("/v1/events", json={"session_id": session, "events": [click]}).status_code == 202
    plain = {"type": "click", "item_id": "i0002", "event_id": "e-2"}  # no placement: not a recommendation's click
    client.post("/v1/events", json={"session_id": session, "events": [plain]})
    store = client.app.state.runtime.store
    sums = client.blocking_portal.call(store.experiments.arm_sums, "home-row", ["control", "catalog"])
    assert sums["catalog"]["k:home_for_you"] == 1
    assert "k:home_for_you" not in sums["control"]
    report = client.get("/v1/admin/experiments/home-row/report", headers=AUTH).json()
    catalog = next(arm for arm in report["arms"] if arm["name"] == "catalog")
    assert catalog["clicks"] == {"home_for_you": 1}
    assert catalog["click_through"] == {"home_for_you": 1.0}


BANNER_TEST = """
[[banners]]
id = "welcome-test"
slot = "hero"
title = "Welcome"
text = "Hello"
holdout_pct = 50
"""


def test_a_banner_files_holdout_is_an_experiment_with_the_engines_arms(client: TestClient[Any]) -> None:
    assert client.put("/v1/admin/banners", content=BANNER_TEST.encode(), headers=TOML).status_code == 200
    listed = client.get("/v1/admin/experiments", headers=AUTH).json()
    assert [test["id"] for test in listed["banner_tests"]] == ["banner:welcome-test"]
    assert [(arm["name"], arm["weight"]) for arm in listed["banner_tests"][0]["arms"]] == [
        ("holdout", 50.0),
        ("control", 50.0),
    ]
    assert "banner:welcome-test" in listed["running"]
    store = client.app.state.runtime.store
    arms = {}
    for n in range(12):
        customer = f"bt{n}"
        for _ in range(2):  # the second page writes nothing more
            page = client.post("/v1/page", json={"customer_token": token(customer), "page": {"type": "home"}}).json()
        record = client.blocking_portal.call(store.experiments.unit, "banner:welcome-test", f"c:{customer}")
        assert record is not None
        assert record.arm == ("control" if page["banners"] else "holdout")  # the arm is the one the page showed
        arms[customer] = record.arm
        client.post("/v1/orders", json=order(customer, f"o-bt{n}", 50.0 + n), headers=AUTH)
    sums = client.blocking_portal.call(store.experiments.arm_sums, "banner:welcome-test", ["holdout", "control"])
    assert sums["holdout"]["n"] + sums["control"]["n"] == 12
    assert sums["control"]["n"] == sum(arm == "control" for arm in arms.values())
    assert sums["control"]["r"] == sum(5_000 + 100 * n for n in range(12) if arms[f"bt{n}"] == "control")
    report = client.get("/v1/admin/experiments/banner:welcome-test/report", headers=AUTH).json()
    assert report["control"] == "holdout"
    assert sum(arm["orders"] for arm in report["arms"]) == 12


def test_a_holdout_customer_sees_no_personal_content(client: TestClient[Any]) -> None:
    assert upload(client, HOLDOUT).status_code == 200
    held = customer_in("control", HOLDOUT, "held")
    client.post("/v1/orders", json=order(held, f"o-{held}", 4000.0), headers=AUTH)
    cart = {"type": "cart", "cart": [{"item_id": "i0001", "quantity": 1}]}
    page = client.post("/v1/page", json={"customer_token": token(held), "page": cart}).json()
    assert page["nudges"] == []
    assert page["customer"]["id"] == held


def test_orders_count_once_for_the_exposed_arm_and_refunds_take_back_exactly(client: TestClient[Any]) -> None:
    assert upload(client, HOLDOUT).status_code == 200
    ann = customer_in("personal", HOLDOUT, "ann")
    client.post("/v1/page", json={"customer_token": token(ann), "page": {"type": "home"}})
    first = order(ann, "o-1", 250.0)
    for _ in range(2):  # the same order twice counts once
        assert client.post("/v1/orders", json=first, headers=AUTH).status_code in (200, 201)
    store = client.app.state.runtime.store
    sums = client.blocking_portal.call(store.experiments.arm_sums, "holdout", ["personal"])["personal"]
    assert (sums["n"], sums["o"], sums["r"], sums["conv"], sums["i"]) == (1, 1, 25_000, 1, 2)
    refund = client.post("/v1/orders/o-1/refunds", json={"refund_id": "r-1", "amount": 40.10}, headers=AUTH)
    assert refund.status_code in (200, 201), refund.text
    client.post("/v1/orders/o-1/refunds", json={"refund_id": "r-1", "amount": 40.10}, headers=AUTH)
    sums = client.blocking_portal.call(store.experiments.arm_sums, "holdout", ["personal"])["personal"]
    assert (sums["o"], sums["r"]) == (1, 25_000 - 4_010)
    client.post("/v1/orders/o-1/refunds", json={"refund_id": "r-2"}, headers=AUTH)  # the rest: no order left
    sums = client.blocking_portal.call(store.experiments.arm_sums, "holdout", ["personal"])["personal"]
    assert (sums.get("o", 0), sums.get("r", 0), sums.get("conv", 0), sums.get("i", 0)) == (0, 0, 0, 0)


def test_an_order_before_any_exposure_counts_for_no_arm(client: TestClient[Any]) -> None:
    assert upload(client, HOLDOUT).status_code == 200
    client.post("/v1/orders", json=order("bob", "o-bob", 100.0), headers=AUTH)
    store = client.app.state.runtime.store
    sums = client.blocking_portal.call(store.experiments.arm_sums, "holdout", ["control", "personal"])
    assert sums == {"control": {}, "personal": {}}


def test_the_report_reads_the_arms(client: TestClient[Any]) -> None:
    assert upload(client, HOLDOUT).status_code == 200
    for n in range(40):
        customer = f"c{n}"
        client.post("/v1/page", json={"customer_token": token(customer), "page": {"type": "home"}})
        if n % 3 == 0:
            client.post("/v1/orders", json=order(customer, f"o-{n}", 100.0 + n), headers=AUTH)
    answer = client.get("/v1/admin/experiments/holdout/report", headers=AUTH)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert sum(arm["units"] for arm in report["arms"]) == 40
    assert sum(arm["orders"] for arm in report["arms"]) == 14
    assert report["too_young"]
    assert report["status"] == "running"
    assert report["control"] == "control"
    treatment = report["arms"][1]
    assert set(treatment["differences"]) >= {"conversion", "revenue_per_unit", "average_order_value"}
    missing = client.get("/v1/admin/experiments/nope/report", headers=AUTH)
    assert missing.status_code == 404
    assert "holdout" in missing.json()["error"]["message"]
