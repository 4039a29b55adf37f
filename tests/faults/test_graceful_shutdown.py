"""SIGTERM with requests in flight: the server stops accepting, finishes every accepted request, closes the store in
its lifespan shutdown and exits 0 within the graceful timeout (``personalize/cli.py``: 10 s).

The requests are held in flight for real: the test's redis-server pauses writes (``CLIENT PAUSE … WRITE``), so
every order waits inside the server on its ledger transaction until the test lets Redis go on. (Orders, because a
page or an event batch does not wait: it gives up on a store that does not answer within a fraction of a second.)
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import AUTH
from tests.conftest import wait_until
from tests.faults.conftest import OwnRedis, Server, order

pytestmark = [pytest.mark.slow, pytest.mark.redis]

IN_FLIGHT = 16
GRACEFUL_TIMEOUT_S = 10
HOLD_S = 1.5
"""How long the requests stay in flight after SIGTERM: well within the graceful timeout and the store's socket
timeout (5 s)."""


def deliver(base: str, n: int) -> tuple[str, Any]:
    """Order ``n`` on a connection of its own: the status and body, or the transport error."""
    try:
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
            response = client.post("/v1/orders", json=order(f"drain-{n}", f"drainer-{n % 4}", 20 + n))
    except httpx.HTTPError as exc:
        return type(exc).__name__, str(exc)
    try:
        return str(response.status_code), response.json()
    except ValueError:
        return str(response.status_code), response.text


def test_sigterm_drains_the_requests_in_flight_and_exits_0(
    own_redis: Callable[..., OwnRedis], serve: Callable[..., Server]
) -> None:
    store = own_redis()
    # no background catalog polls: the only store calls while Redis is paused are the requests held in flight
    server = serve("--store", store.url, "--no-demo", env={"PZ_CATALOG_REFRESH_SECONDS": "3600"})
    base = server.base
    assert deliver(base, -1)[0] == "200"  # the purchase script is loaded, a connection or two pooled

    results: dict[int, tuple[str, Any]] = {}
    mine = store.client.client_id()
    store.client.execute_command("CLIENT", "PAUSE", 20_000, "WRITE")
    try:
        threads = [threading.Thread(target=lambda n=n: results.update({n: deliver(base, n)})) for n in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        # with writes paused no transaction returns its connection to the pool, so the server holds one connection
        # per order waiting on its EXEC: once it holds IN_FLIGHT of them, every order is inside the server
        wait_until(
            lambda: sum(c["id"] != mine for c in store.client.client_list()) >= IN_FLIGHT, 20, "orders in flight"
        )
        server.process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        wait_until(lambda: not _accepts(base), 10, "the server stopped accepting connections")
        # hold the orders in flight a while longer: a server that gave up on them would close their connections
        while time.monotonic() < stopping + HOLD_S:
            assert server.process.poll() is None  # still draining: the orders wait on Redis
            time.sleep(0.05)
        assert results == {}
    finally:
        store.client.execute_command("CLIENT", "UNPAUSE")
    unpaused = time.monotonic()
    code = server.process.wait(timeout=GRACEFUL_TIMEOUT_S + 5)
    exited = time.monotonic()
    for thread in threads:
        thread.join(timeout=10)

    print(
        f"\ndrained {len(results)} orders: {sorted({status for status, _ in results.values()})}; "
        f"exit {code} {exited - unpaused:.2f} s after Redis went on ({exited - stopping:.2f} s after SIGTERM)",
        end="",
    )
    assert {n: status for n, (status, _) in results.items()} == dict.fromkeys(range(IN_FLIGHT), "200")
    assert all(body["order_id"] == f"drain-{n}" and not body["duplicate"] for n, (_, body) in results.items())
    assert code == 0
    assert exited - stopping < GRACEFUL_TIMEOUT_S
    # the lifespan shutdown (background jobs cancelled, store closed) ran without an error: uvicorn would log
    # "Application shutdown failed" with the traceback, asyncio a task destroyed while pending
    output = server.output()
    assert "Traceback" not in output
    assert "ERROR" not in output
    assert '"level":"error"' not in output


def _accepts(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except httpx.TransportError:  # refused, or taken from the backlog and reset as the listener closes
        return False
    return True
