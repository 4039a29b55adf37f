"""Real ``personalize serve`` processes: the demo, two processes on one Redis, fail-fast start."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from personalize.models.training import versions
from tests.api.conftest import AUTH, CATALOG
from tests.conftest import wait_until
from tests.serving import free_port, personalize_command, running_server, server_environment

pytestmark = pytest.mark.slow


def test_the_demo_trains_on_first_start_and_serves_a_new_visitor(tmp_path: Path) -> None:
    with running_server(env={"PZ_MODELS_DIR": str(tmp_path)}, timeout=120) as base:
        body = httpx.post(f"{base}/v1/page", json={"page": {"type": "home"}}).json()
        ready = httpx.get(f"{base}/readyz").json()
        product = httpx.post(f"{base}/v1/page", json={"page": {"type": "product", "item_id": "i00001"}}).json()
    assert body["session_id"]
    trending = body["recommendations"]["home_trending"]
    assert len(trending) == 8
    assert {item["reason"] for item in trending} == {"trending"}
    assert ready["catalog_items"] >= 2000
    assert len(versions(tmp_path)) == 1
    assert product["recommendations"]["product_similar"][0]["reason"] == "similar"


def test_granian_serves_the_demo_too(demo_models: Path) -> None:
    with running_server("--server", "granian", env={"PZ_MODELS_DIR": str(demo_models)}) as base:
        body = httpx.post(f"{base}/v1/page", json={"page": {"type": "home"}}).json()
    assert len(body["recommendations"]["home_trending"]) == 8


def test_two_processes_on_one_redis_return_the_same_profile(redis_url: str) -> None:
    with (
        running_server("--store", redis_url, "--no-demo") as first,
        running_server("--store", redis_url, "--no-demo") as second,
    ):
        assert httpx.put(f"{first}/v1/catalog/items", json={"items": CATALOG}, headers=AUTH).status_code == 200
        wait_until(
            lambda: httpx.get(f"{second}/readyz").json()["catalog_items"] == len(CATALOG),
            10,
            "second process saw the catalog",
        )
        views = [{"type": "product_view", "item_id": f"i{n:04d}"} for n in (20, 1, 2, 3)]
        assert httpx.post(f"{first}/v1/events", json={"session_id": "shared-1", "events": views}).status_code == 202
        profiles: list[dict[str, Any]] = [
            httpx.get(f"{base}/v1/sessions/shared-1/profile", headers=AUTH).json() for base in (first, second)
        ]
    assert profiles[0]["affinities"]["brand"][0]["value"] == "Alexander McQueen"
    for attribute, ranked in profiles[0]["affinities"].items():
        other = profiles[1]["affinities"][attribute]
        assert [a["value"] for a in ranked] == [a["value"] for a in other]
        # the two reads decay to slightly different moments
        assert [a["score"] for a in ranked] == pytest.approx([a["score"] for a in other], rel=1e-3)


def test_two_workers_share_redis(redis_url: str, demo_models: Path) -> None:
    env = {"PZ_MODELS_DIR": str(demo_models)}
    with running_server("--store", redis_url, "--demo", "--workers", "2", env=env) as base:
        bodies = [httpx.post(f"{base}/v1/page", json={"page": {"type": "home"}}).json() for _ in range(10)]
        stats = httpx.get(f"{base}/metrics").text
    assert all(len(b["recommendations"]["home_trending"]) == 8 for b in bodies)
    assert "pz_http_requests_total" in stats


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--store", "redis://127.0.0.1:1/0", "--no-demo"], "not reachable"),
        (["--workers", "2", "--no-demo"], "needs a shared store"),
        (["--port", "0"], "PZ_PORT"),
    ],
)
def test_a_bad_start_fails_fast_and_says_why(args: list[str], words: str) -> None:
    result = subprocess.run([*personalize_command(), "serve", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert words in result.stderr


def test_50_concurrent_deliveries_of_one_order_to_two_processes_count_once(redis_url: str) -> None:
    body = {
        "order_id": "o-race",
        "customer_id": "racer",
        "items": [{"item_id": "x", "quantity": 1, "price": 4100}],
        "total": 4100,
        "currency": "USD",
        "completed_at": "2026-11-20T10:00:00Z",
    }
    with (
        running_server("--store", redis_url, "--no-demo") as first,
        running_server("--store", redis_url, "--no-demo") as second,
    ):
        bases = [first, second]

        def deliver(n: int) -> dict[str, Any]:
            response = httpx.post(f"{bases[n % 2]}/v1/orders", json=body, headers=AUTH, timeout=30)
            assert response.status_code == 200, response.text
            return dict(response.json())

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(deliver, range(50)))
        stats = httpx.get(f"{first}/v1/admin/stats", headers=AUTH).json()
        loyalty = httpx.get(f"{second}/v1/customers/racer/loyalty", headers=AUTH).json()
    assert sum(not r["duplicate"] for r in results) == 1
    assert {r["loyalty"]["tier"] for r in results} == {"bronze"}
    assert (stats["orders"], stats["customers"], stats["lifetime_spend"], stats["per_tier"]["bronze"]) == (
        1,
        1,
        4100.0,
        1,
    )
    assert (loyalty["lifetime_spend"], loyalty["points"], loyalty["orders"]) == (4100.0, 4100, 1)


DEMO_PATHS = [("GET", "/demo/"), ("GET", "/demo/cart"), ("GET", "/demo/login"), ("GET", "/demo/products/i00001"),
              ("GET", "/demo/category/women/dresses"), ("GET", "/demo/static/demo.css"), ("GET", "/demo/images/i1.svg"),
              ("POST", "/demo/checkout"), ("POST", "/demo/login"), ("POST", "/demo/cart/add")]  # fmt: skip


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_without_the_demo_the_served_app_has_no_demo_paths(store: str, request: pytest.FixtureRequest) -> None:
    """``--no-demo`` on memory, and Redis without ``--demo`` (its default): every demo path is a 404, and a forged
    demo cookie completes nothing."""
    args = ["--no-demo"] if store == "memory" else ["--store", str(request.getfixturevalue("redis_url"))]
    cookies = {"pz_demo_customer": "c00002", "pz_demo_cart": "i00001:99"}
    with running_server(*args) as base, httpx.Client(base_url=base, cookies=cookies) as client:
        answers = {f"{method} {path}": client.request(method, path).status_code for method, path in DEMO_PATHS}
        assert answers == {f"{method} {path}": 404 for method, path in DEMO_PATHS}
        assert client.get("/v1/admin/stats", headers=AUTH).json()["orders"] == 0
        assert client.get("/readyz").json()["catalog_items"] == 0  # nor any demo data


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_the_demo_beyond_loopback_is_announced_with_a_warning(host: str, warned: bool, demo_models: Path) -> None:
    """Anyone who reaches the demo storefront can sign in as a demo customer: said at start when it listens
    beyond this machine, and not otherwise."""
    command = [*personalize_command(), "serve", "--host", host, "--port", str(free_port())]
    environ = server_environment({"PZ_MODELS_DIR": str(demo_models)})
    lines: list[str] = []
    with subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:  # up to the ready line, printed once /readyz answers
                lines.append(line)
                if line.startswith("personalize: ready on"):
                    break
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert any(line.startswith("personalize: ready on") for line in lines), lines
    warnings = [line for line in lines if "WARNING: the demo storefront is on" in line]
    assert bool(warnings) is warned, lines


def test_100_concurrent_redemptions_on_two_processes_spend_exactly_the_balance(redis_url: str) -> None:
    program = {"PZ_CONFIG": str(Path(__file__).resolve().parents[2] / "personalize" / "demo" / "loyalty.toml")}
    order = {
        "order_id": "o-rich",
        "customer_id": "spender",
        "items": [{"item_id": "x", "quantity": 1, "price": 1500}],
        "total": 1500,
        "currency": "USD",
        "completed_at": "2026-11-20T10:00:00Z",
    }
    with (
        running_server("--store", redis_url, "--no-demo", env=program) as first,
        running_server("--store", redis_url, "--no-demo", env=program) as second,
    ):
        bases = [first, second]
        assert httpx.post(f"{first}/v1/orders", json=order, headers=AUTH).status_code == 200

        def redeem(n: int) -> int:
            body = {"redemption_id": f"rd-{n}" if n < 100 else "rd-same", "reward_id": "pct20"}
            url = f"{bases[n % 2]}/v1/customers/spender/redemptions"
            return httpx.post(url, json=body, headers=AUTH, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=60) as pool:
            statuses = list(pool.map(redeem, range(120)))  # 100 ids once each, interleaved with one id 20 times
        loyalty = httpx.get(f"{second}/v1/customers/spender/loyalty", headers=AUTH).json()
        events = httpx.get(f"{first}/v1/admin/events", headers=AUTH).json()["events"]
    once, same = statuses[:100], statuses[100:]
    redeemed = [e["data"]["redemption_id"] for e in events if e["kind"] == "reward_redeemed"]
    assert len(redeemed) == 3
    assert len(set(same)) == 1  # the one id: 20 answers alike (201 first and replays, or 409 each time)
    assert once.count(201) + (1 if same[0] == 201 else 0) == 3
    assert set(statuses) <= {201, 409}
    assert loyalty["points"] == 0
