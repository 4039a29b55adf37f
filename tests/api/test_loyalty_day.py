"""The loyalty day on Redis, end to end: a rolling-365 Silver customer downgraded by ``personalize loyalty evaluate``
on the right day and not before, after the preview named the amount and the date; expiry notices and birthday codes
from ``personalize loyalty jobs``; two server processes on one Redis running the day once."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from loyalty_nudges.ledger import Fact, Ledger
from personalize import identity
from personalize.app import create_app
from personalize.loyalty.daily import run_day
from personalize.settings import Settings
from personalize.store.loyalty_protocols import LedgerChange, Wants
from tests.api.conftest import AUTH, catalog_item
from tests.conftest import IDENTITY_SECRET, make_settings, wait_until
from tests.serving import personalize_command, running_server, server_environment

PROGRAM = """
[loyalty]
window = "rolling_365d"

[loyalty.birthday]
percent_off = 15
code_valid_days = 14
"""


@pytest.fixture
def program(tmp_path: Path) -> str:
    path = tmp_path / "rolling.toml"
    path.write_text(PROGRAM)
    return str(path)


def noon(day: date) -> str:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()


def order(order_id: str, customer: str, total: int, day: date) -> dict[str, Any]:
    items = [{"item_id": "i0001", "quantity": 1, "price": total}]
    return {"order_id": order_id, "customer_id": customer, "items": items, "total": total, "currency": "USD",
            "completed_at": noon(day)}  # fmt: skip


def loyalty_cli(step: str, redis_url: str, program: str, as_of: date) -> dict[str, Any]:
    command = [*personalize_command(), "loyalty", step, "--store", redis_url, "--as-of", as_of.isoformat()]
    env = server_environment({"PZ_CONFIG": program})
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def events(client: Any, customer: str) -> list[dict[str, Any]]:
    found = client.get("/v1/admin/events", params={"limit": 1000}, headers=AUTH).json()["events"]
    return [e for e in found if e["customer_id"] == customer]


@pytest.mark.redis
def test_a_rolling_silver_customer_is_downgraded_on_the_right_day_after_the_preview_named_amount_and_date(
    redis_url: str, program: str
) -> None:
    today = datetime.now(UTC).date()
    first, second = today - timedelta(days=100), today - timedelta(days=20)
    settings = make_settings(config=program, store_url=redis_url)
    with TestClient(create_app(settings)) as shop:
        assert shop.put("/v1/catalog/items", json={"items": [catalog_item(1)]}, headers=AUTH).status_code == 200
        assert shop.post("/v1/orders", json=order("o1", "ann", 10_000, first), headers=AUTH).status_code == 200
        assert shop.post("/v1/orders", json=order("o2", "ann", 500, second), headers=AUTH).status_code == 200
        state = shop.get("/v1/customers/ann/loyalty", headers=AUTH).json()
        last_day = first + timedelta(days=364)
        assert state["tier"] == "silver"
        assert state["keep_tier"] == {"tier": "silver", "remaining": 9500.0, "points": None, "by": str(last_day)}

        assert loyalty_cli("evaluate", redis_url, program, last_day)["counts"] == {}
        assert shop.get("/v1/customers/ann/loyalty", headers=AUTH).json()["tier"] == "silver"
        ran = loyalty_cli("evaluate", redis_url, program, last_day + timedelta(days=1))
        assert (ran["counts"], ran["changed"]) == ({"downgraded": 1}, 1)
        assert loyalty_cli("evaluate", redis_url, program, last_day + timedelta(days=1))["counts"] == {}  # once

        assert shop.get("/v1/customers/ann/loyalty", headers=AUTH).json()["tier"] == "bronze"
        changes = [e for e in events(shop, "ann") if e["kind"] == "tier_changed"]
        assert [c["data"] for c in changes] == [
            {"tier_before": None, "tier": "silver", "order_id": "o1"},
            {"tier_before": "silver", "tier": "bronze", "reason": "evaluation", "period": str(last_day + timedelta(1))},
        ]
        per_tier = shop.get("/v1/admin/stats", headers=AUTH).json()["per_tier"]
        assert per_tier == {"bronze": 1, "silver": 0, "gold": 0}  # the per-tier counters follow the downgrade


@pytest.mark.redis
def test_the_jobs_send_expiry_notices_once_and_a_birthday_code_once(redis_url: str, program: str) -> None:
    today = datetime.now(UTC).date()
    bought = today - timedelta(days=350)  # 12-month points expire in about two weeks
    settings = make_settings(config=program, store_url=redis_url)
    with TestClient(create_app(settings)) as shop:
        assert shop.put("/v1/catalog/items", json={"items": [catalog_item(1)]}, headers=AUTH).status_code == 200
        record = {"first_name": "Bea", "email": "bea@example.com", "birthday": f"{today:%m-%d}"}
        assert shop.put("/v1/customers/bea", json=record, headers=AUTH).status_code in (200, 201)
        assert shop.post("/v1/orders", json=order("o1", "bea", 120, bought), headers=AUTH).status_code == 200
        ran = loyalty_cli("jobs", redis_url, program, today)
        assert ran["counts"] == {"points_expiring": 1, "birthday_coupons": 1}
        assert loyalty_cli("jobs", redis_url, program, today)["counts"] == {}
        told = events(shop, "bea")
        expiring = [e["data"] for e in told if e["kind"] == "points_expiring"]
        assert [(e["points"], e["days"]) for e in expiring] == [(120, 30)]
        birthday = [e["data"] for e in told if e["kind"] == "birthday_coupon_issued"]
        assert len(birthday) == 1
        assert birthday[0]["discount_pct"] == 15
        codes = shop.get("/v1/customers/bea/export", headers=AUTH).json()["coupons"]
        assert [c["code"] for c in codes] == [birthday[0]["code"]]

        expired_day = today + timedelta(days=40)
        ran = loyalty_cli("jobs", redis_url, program, expired_day)
        assert ran["counts"] == {"points_expired": 120}
        assert [e["data"]["points"] for e in events(shop, "bea") if e["kind"] == "points_expired"] == [120]


def _counter(base: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", httpx.get(f"{base}/metrics").text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.mark.redis
def test_two_server_processes_on_one_redis_run_the_day_once(redis_url: str, program: str) -> None:
    today = datetime.now(UTC).date()
    settings = make_settings(config=program, store_url=redis_url)
    with TestClient(create_app(settings)) as shop:  # the day's task is off in this one (the test settings)
        assert shop.put("/v1/catalog/items", json={"items": [catalog_item(1)]}, headers=AUTH).status_code == 200
        for n in range(5):
            body = order(f"o{n}", f"c{n}", 100 + n, today - timedelta(days=350))
            assert shop.post("/v1/orders", json=body, headers=AUTH).status_code == 200
    daily = {"PZ_CONFIG": program, "PZ_LOYALTY_DAILY": "true"}
    with (
        running_server("--store", redis_url, "--no-demo", env=daily) as one,
        running_server("--store", redis_url, "--no-demo", env=daily) as two,
    ):

        def both_asked_one_ran() -> bool:
            asked = all(_counter(base, "pz_loyalty_day_checks_total") >= 1 for base in (one, two))
            return asked and sum(_counter(base, "pz_loyalty_days_total") for base in (one, two)) >= 1

        wait_until(both_asked_one_ran, 30, "both processes asked for the day, and one ran it")
        runs = [_counter(base, "pz_loyalty_days_total") for base in (one, two)]
        found = httpx.get(f"{one}/v1/admin/events", params={"limit": 1000}, headers=AUTH).json()["events"]
    assert sorted(runs) == [0.0, 1.0]
    expiring = sorted(e["customer_id"] for e in found if e["kind"] == "points_expiring")
    assert expiring == [f"c{n}" for n in range(5)]


def _at(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 6, tzinfo=UTC).timestamp() * 1000)


def test_on_both_stores_the_day_lowers_a_tier_with_its_notice_once_and_the_cart_shows_what_keeps_it(
    settings: Settings, program: str
) -> None:
    today = datetime.now(UTC).date()
    bought = today - timedelta(days=330)
    with TestClient(create_app(make_settings(config=program, store_url=settings.store_url))) as shop:
        assert shop.put("/v1/catalog/items", json={"items": [catalog_item(n, price=100 * n) for n in range(1, 9)]},
                        headers=AUTH).status_code == 200  # fmt: skip
        assert shop.post("/v1/orders", json=order("o1", "cy", 10_050, bought), headers=AUTH).status_code == 200
        customer_token = identity.sign_customer("cy", IDENTITY_SECRET, int(time.time()) + 600)
        page = {"page": {"type": "cart", "cart": [{"item_id": "i0002", "quantity": 1}]},
                "customer_token": customer_token, "consent": True}  # fmt: skip
        nudges = shop.post("/v1/page", json=page).json()["nudges"]
        keep = [n for n in nudges if n["kind"] == "keep_tier"]
        by = bought + timedelta(days=364)
        # all of the 10,050 leaves the window on the day after ``by``; the cart's 200 counts towards keeping the tier
        assert [(n["tier"], n["remaining"], n["by"]) for n in keep] == [("silver", 9_800.0, str(by))]
        assert keep[0]["text"] == f"Spend $9,800.00 more by {by.day} {by:%b %Y} to keep Silver"
        runtime = shop.app.state.runtime
        lowered = shop.blocking_portal.call(lambda: run_day(runtime, _at(by + timedelta(days=1))))
        again = shop.blocking_portal.call(lambda: run_day(runtime, _at(by + timedelta(days=1))))
        assert (lowered.counts, again.counts) == ({"downgraded": 1, "points_expiring": 1}, {})  # o1's points: 1 month
        assert shop.get("/v1/customers/cy/loyalty", headers=AUTH).json()["tier"] == "bronze"
        told = [e["data"]["tier"] for e in events(shop, "cy") if e["kind"] == "tier_changed"]
        assert told == ["silver", "bronze"]


REACTIVATING = """
[loyalty]
window = "rolling_365d"

[loyalty.evaluation]
reactivation_days = 90
reactivation_pct = 50
"""


def test_on_both_stores_a_customer_who_lost_silver_regains_it_by_spending_half_its_threshold_within_90_days(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "reactivating.toml"
    path.write_text(REACTIVATING)
    today = datetime.now(UTC).date()
    bought, lost_on = today - timedelta(days=380), today - timedelta(days=5)
    silver = Ledger(
        customer_id="dee", lifetime_minor=1_000_000, tier="silver", tier_since_ms=_at(bought),
        history=(Fact("o1", _at(bought), 1_000_000, 1_000_000, False, 0),),
    )  # fmt: skip
    with TestClient(create_app(make_settings(config=str(path), store_url=settings.store_url))) as shop:
        assert shop.put("/v1/catalog/items", json={"items": [catalog_item(1)]}, headers=AUTH).status_code == 200
        runtime = shop.app.state.runtime
        # a year-old Silver customer, written through the store as an imported history would be
        totals = {"customers": 1, "orders": 1, "lifetime_minor": 1_000_000, "tier:silver": 1}
        shop.blocking_portal.call(
            lambda: runtime.store.ledger.act("dee", Wants(), lambda reads: LedgerChange(ledger=silver, totals=totals))
        )
        lowered = shop.blocking_portal.call(lambda: run_day(runtime, _at(lost_on), upkeep=False))
        assert lowered.counts == {"downgraded": 1}
        assert shop.post("/v1/orders", json=order("o2", "dee", 4_999, today), headers=AUTH).status_code == 200
        assert shop.blocking_portal.call(lambda: run_day(runtime, _at(today), upkeep=False)).counts == {}
        assert shop.post("/v1/orders", json=order("o3", "dee", 1, today), headers=AUTH).status_code == 200
        back = shop.blocking_portal.call(lambda: run_day(runtime, _at(today) + 3_600_000, upkeep=False))
        assert back.counts == {"reactivated": 1}
        assert shop.get("/v1/customers/dee/loyalty", headers=AUTH).json()["tier"] == "silver"
        changes = [e["data"] for e in events(shop, "dee") if e["kind"] == "tier_changed"]
        assert [(c["tier"], c.get("reason")) for c in changes] == [("bronze", "evaluation"), ("silver", "reactivated")]
