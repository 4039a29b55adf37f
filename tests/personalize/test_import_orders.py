"""Bulk order import: idempotent, resumable, exact money; CDNOW's published totals on both backends."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from fixtures.cdnow import write_orders_jsonl
from loyalty_nudges.ledger import Ledger
from loyalty_nudges.segments import segment_counts, segment_customers
from personalize.app import create_app
from personalize.cli.import_orders import import_file
from personalize.clock import now_ms
from personalize.loyalty.jobs import facts, run_segmentation
from personalize.loyalty.orders import OrderIn, complete_order
from personalize.runtime import Runtime
from tests.api.conftest import AUTH
from tests.conftest import make_settings
from tests.serving import personalize_command, running_server


def orders_file(path: Path, n: int) -> Path:
    lines = [
        {
            "order_id": f"o{i}",
            "customer_id": f"c{i % 7}",
            "items": [{"item_id": "x", "quantity": 1, "price": 10.01}],
            "total": 10.01,
            "currency": "USD",
            "completed_at": "2026-01-01T00:00:00Z",
        }
        for i in range(n)
    ]
    lines[5]["currency"] = "EUR"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.mark.anyio
async def test_import_counts_each_order_once_and_reports_bad_lines(tmp_path: Path) -> None:
    runtime = Runtime.open(make_settings())

    async def apply(order: OrderIn) -> bool:
        return not (await complete_order(runtime, order, now_ms())).duplicate

    source = orders_file(tmp_path / "orders.jsonl", 600)
    first = await import_file(source, apply, tmp_path / "cp")
    again = await import_file(source, apply)
    resumed = await import_file(source, apply, tmp_path / "cp", skip=int((tmp_path / "cp").read_text()))
    assert (first.applied, first.duplicates, first.rejected, first.lines) == (599, 0, 1, 600)
    assert (again.applied, again.duplicates, again.rejected) == (0, 599, 1)
    assert (resumed.applied, resumed.skipped_by_checkpoint) == (0, 600)
    totals = await runtime.store.ledger.totals()
    assert (totals["orders"], totals["customers"], totals["lifetime_minor"]) == (599, 7, 599 * 1001)
    await runtime.close()


@pytest.fixture(scope="module")
def cdnow_orders(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cdnow") / "cdnow.jsonl"
    rows, total = write_orders_jsonl(shared_data / "cdnow" / "CDNOW_master.txt", out)
    assert (rows, total) == (69_659, Decimal("2500315.63"))
    return out


def stats(client: httpx.Client | TestClient[Any]) -> dict[str, Any]:
    response = client.get("/v1/admin/stats", headers=AUTH)
    assert response.status_code == 200
    return dict(response.json())


AS_OF_1998_07_01 = 899_251_200_000
CDNOW_SEGMENTS = {
    "hibernating": 8567,
    "at_risk": 844,
    "cant_lose": 17,
    "about_to_sleep": 861,
    "need_attention": 2867,
    "loyal_customers": 4806,
    "promising": 0,
    "new_customers": 0,
    "potential_loyalists": 1181,
    "champions": 4427,
}
"""As the pure segmentation (checked against an independent computation in tests/loyalty_nudges) gives them."""


async def _all_ledgers(runtime: Runtime) -> list[Ledger]:
    return [ledger async for ledger in runtime.store.ledger.ledgers()]


@pytest.mark.dataset
@pytest.mark.slow
def test_cdnow_stats_are_exact_on_memory(cdnow_orders: Path) -> None:
    with TestClient(create_app(make_settings())) as client:
        runtime = client.app.state.runtime

        async def apply(order: OrderIn) -> bool:
            return not (await complete_order(runtime, order, now_ms())).duplicate

        first = client.blocking_portal.call(import_file, cdnow_orders, apply)
        after_first = stats(client)
        again = client.blocking_portal.call(import_file, cdnow_orders, apply)
        after_again = stats(client)
        client.blocking_portal.call(run_segmentation, runtime, AS_OF_1998_07_01)
        served = client.get("/v1/segments", headers=AUTH).json()
        champions = client.get("/v1/segments/champions/customers", params={"limit": 5}, headers=AUTH).json()
        ledgers = client.blocking_portal.call(_all_ledgers, runtime)
    assert (first.applied, again.applied, again.duplicates) == (69_659, 0, 69_659)
    assert (after_first["customers"], after_first["orders"]) == (23_570, 69_659)
    assert after_first["lifetime_spend"] == 2_500_315.63
    assert after_again == after_first
    expected = segment_counts(segment_customers([facts(ledger) for ledger in ledgers], AS_OF_1998_07_01))
    assert served["counts"] == expected == CDNOW_SEGMENTS
    assert served["as_of"] == "1998-07-01T00:00:00Z"
    assert sum(served["counts"].values()) == 23_570
    assert len(champions["customers"]) == 5
    assert champions["next_cursor"]


@pytest.mark.dataset
@pytest.mark.slow
def test_cdnow_imported_into_redis_by_the_cli_twice(cdnow_orders: Path, redis_url: str) -> None:
    command = [*personalize_command(), "import-orders", str(cdnow_orders), "--store", redis_url, "--restart"]
    first = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    with running_server("--store", redis_url, "--no-demo") as base, httpx.Client(base_url=base) as client:
        after_first = stats(client)
        again = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        after_again = stats(client)
        segments = [*personalize_command(), "segments", "--store", redis_url, "--as-of", "1998-07-01"]
        cli = json.loads(subprocess.run(segments, capture_output=True, text=True, check=True).stdout)
        served = client.get("/v1/segments", headers=AUTH).json()
    assert {name: n for name, n in cli["counts"].items() if n} == {n: c for n, c in CDNOW_SEGMENTS.items() if c}
    assert served["counts"] == CDNOW_SEGMENTS
    assert (first["applied"], again["applied"], again["duplicates"]) == (69_659, 0, 69_659)
    assert (after_first["customers"], after_first["orders"]) == (23_570, 69_659)
    assert after_first["lifetime_spend"] == 2_500_315.63
    assert after_again == after_first
