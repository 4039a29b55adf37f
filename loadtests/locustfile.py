"""Locust personas for the personalization server (``make loadtest``; settings in ``loadtests/locust.conf``).

- ``AnonymousBrowser``: home → category → product → cart, with tracking batches, as the snippet would.
- ``ReturningCustomer``: the same pages with a signed customer token (tier, nudges, personal placements).
- ``Checkout``: the shop's order system posting completed orders server-to-server with the API key.

Data comes from ``fixtures/`` (the deterministic demo store) at start; names group URLs so each route is
one line in the report. The run fails (exit code 1) when the failure ratio or a route's p95 crosses the
thresholds in ``PZ_LOAD_MAX_FAILURE_RATIO`` (default 0) and ``PZ_LOAD_MAX_P95_MS`` (default 250).
"""

from __future__ import annotations

import os
import random
import secrets
import time
from typing import Any

from locust import FastHttpUser, between, events, task

from fixtures import generate
from personalize import identity
from personalize.pages import placements

_STORE = generate()
DRESSES = [item.item_id for item in _STORE.items if item.category == "women/dresses" and item.in_stock]
ITEMS = [item.item_id for item in _STORE.items if item.in_stock]
PRICES = {item.item_id: item.price for item in _STORE.items}
CUSTOMERS = [customer.customer_id for customer in _STORE.customers]
CATEGORIES = sorted({item.category for item in _STORE.items})
API_KEY = os.environ.get("PZ_API_KEY", "demo-api-key")
SECRET = os.environ.get("PZ_IDENTITY_SECRET", "demo-identity-secret")


def _check(response: Any, placement: str | None = None) -> None:
    """Fail the request unless it is a 200 with a session id (and items in ``placement`` when given)."""
    if response.status_code != 200:
        response.failure(f"status {response.status_code}: {response.text[:200]}")
        return
    body = response.json()
    if not body.get("session_id"):
        response.failure("no session_id")
    elif placement and not body["recommendations"].get(placement):
        response.failure(f"empty {placement}")


class Shopper(FastHttpUser):
    """A browsing session: the page calls and event batches of one visitor."""

    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.session_id = "load-" + secrets.token_urlsafe(12)
        self.token: str | None = None
        self.cart: list[str] = []

    def page(self, page: dict[str, Any], name: str, placement: str | None = None) -> None:
        body = {"session_id": self.session_id, "page": page, "customer_token": self.token}
        with self.client.post("/v1/page", json=body, name=name, catch_response=True) as response:
            _check(response, placement)

    def track(self, kind: str, item_id: str) -> None:
        events_ = [{"type": kind, "item_id": item_id, "event_id": secrets.token_hex(8)}]
        body = {"session_id": self.session_id, "customer_token": self.token, "events": events_}
        with self.client.post("/v1/events", json=body, name="/v1/events", catch_response=True) as response:
            if response.status_code != 202:
                response.failure(f"status {response.status_code}")

    @task
    def visit(self) -> None:
        self.page({"type": "home"}, "/v1/page home", placements.HOME_TRENDING)
        category = {"type": "category", "category": random.choice(CATEGORIES)}
        self.page(category, "/v1/page category", placements.CATEGORY_RANKING)
        item = random.choice(DRESSES)
        self.page({"type": "product", "item_id": item}, "/v1/page product", placements.PRODUCT_SIMILAR)
        if random.random() < 0.4:
            self.track("add_to_cart", item)
            self.cart.append(item)
        cart = [{"item_id": i, "quantity": 1} for i in self.cart[-5:]]
        self.page({"type": "cart", "cart": cart}, "/v1/page cart")


class AnonymousBrowser(Shopper):
    """A visitor who never signs in."""

    weight = 6


class ReturningCustomer(Shopper):
    """A signed-in demo customer (the shop's back end signs the token)."""

    weight = 3

    def on_start(self) -> None:
        super().on_start()
        customer = random.choice(CUSTOMERS)
        self.token = identity.sign_customer(customer, SECRET, int(time.time()) + 3600)


class Checkout(FastHttpUser):
    """The order system: completed orders, server-to-server."""

    weight = 1
    wait_time = between(1.0, 3.0)

    @task
    def order(self) -> None:
        lines = random.sample(ITEMS, random.randint(1, 3))
        items = [{"item_id": i, "quantity": 1, "price": PRICES[i]} for i in lines]
        total = round(sum(PRICES[i] for i in lines), 2)
        body = {
            "order_id": "load-" + secrets.token_hex(8),
            "customer_id": random.choice(CUSTOMERS),
            "items": items,
            "total": total,
            "currency": "USD",
            "completed_at": int(time.time() * 1000),
        }
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with self.client.post("/v1/orders", json=body, headers=headers, name="/v1/orders", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")


@events.quitting.add_listener
def _thresholds(environment: Any, **_: Any) -> None:
    """Set the exit code from the failure ratio and each route's p95."""
    stats = environment.stats
    max_failures = float(os.environ.get("PZ_LOAD_MAX_FAILURE_RATIO", "0"))
    max_p95 = float(os.environ.get("PZ_LOAD_MAX_P95_MS", "250"))
    problems = []
    if stats.total.num_requests == 0:
        problems.append("no requests were made")
    if stats.total.fail_ratio > max_failures:
        problems.append(f"failure ratio {stats.total.fail_ratio:.4f} > {max_failures}")
    for entry in stats.entries.values():
        p95 = entry.get_response_time_percentile(0.95)
        if p95 > max_p95:
            problems.append(f"{entry.name}: p95 {p95:.0f} ms > {max_p95:.0f} ms")
    for problem in problems:
        print(f"loadtest threshold: {problem}")
    environment.process_exit_code = 1 if problems else 0
    print(
        f"loadtest: {stats.total.num_requests} requests, {stats.total.num_failures} failures, "
        f"thresholds {'FAILED' if problems else 'passed'}"
    )
