"""Hostile requests for every operation of the served OpenAPI schema (issue #12): what an attacker sends.

Each operation has a valid example here (:data:`EXAMPLES`; a test fails when the schema has an operation without
one). A case takes the example and does one hostile thing to it: nests the body thousands of levels deep, puts a
hostile value at one place of the body (huge, tiny and non-finite numbers, dates outside the calendar, malformed
and disguised URLs, control characters, markup, very long strings, wrong types), writes invalid UTF-8 or raw
number text into the JSON, or puts such values in a path or query parameter. :func:`cases` is a hypothesis
strategy of them; :func:`send` turns one into a request with any ``httpx``-like client (litestar's test client
or a real server's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import AUTH

EXAMPLES: dict[str, dict[str, Any]] = {
    "POST /v1/orders": {
        "body": {"order_id": "o-h", "customer_id": "c-h", "currency": "USD", "total": 250, "session_id": "s-h",
                 "completed_at": "2026-11-20T10:00:00Z", "coupon_code": "NOPE",
                 "items": [{"item_id": "i0001", "quantity": 1, "price": 250, "on_promotion": False}]},
    },
    "POST /v1/orders/{order_id}/refunds": {"path": {"order_id": "o-1"},
                                           "body": {"refund_id": "r-h", "amount": 10, "reason": "x"}},
    "POST /v1/coupons/campaigns": {
        "body": {"campaign_id": "h", "name": "H", "discount_pct": 10, "prefix": "H-", "length": 12,
                 "valid_from": "2026-11-20T10:00:00Z", "valid_hours": 48, "unassigned": 1,
                 "audience": {"tiers": ["bronze"], "min_score": 0, "max_score": 500, "segments": [],
                              "customer_ids": ["c-1"]}},
    },
    "GET /v1/coupons/{code}": {"path": {"code": "ABCDEFGHJK"}},
    "POST /v1/coupons/{code}/redeem": {"path": {"code": "ABCDEFGHJK"},
                                       "body": {"order_id": "o-9", "customer_id": "c-1"}},
    "GET /v1/segments": {},
    "GET /v1/segments/{name}/customers": {"path": {"name": "champions"}, "query": {"cursor": "c", "limit": "10"}},
    "GET /v1/customers/{customer_id}/loyalty": {"path": {"customer_id": "c-1"}},
    "PUT /v1/customers/{customer_id}": {
        "path": {"customer_id": "c-1"},
        "body": {"first_name": "Ann", "email": "ann@example.com", "birthday": "07-14", "country": "US",
                 "locale": "en-US", "email_consent": True, "email_consent_at": "2026-11-01T09:00:00Z",
                 "joined_at": 1790000000000},
    },
    "DELETE /v1/customers/{customer_id}": {"path": {"customer_id": "c-9"}},
    "GET /v1/customers/{customer_id}/export": {"path": {"customer_id": "c-1"}},
    "POST /v1/customers/{customer_id}/actions": {"path": {"customer_id": "c-1"},
                                                 "body": {"action_id": "a-h", "action": "recycling_dropoff"}},
    "POST /v1/customers/{customer_id}/redemptions": {"path": {"customer_id": "c-1"},
                                                     "body": {"redemption_id": "rd-h", "reward_id": "pct20"}},
    "POST /v1/redemptions/{redemption_id}/cancel": {"path": {"redemption_id": "rd-h"}},
    "GET /v1/rewards": {"query": {"customer_token": "x.1.y"}},
    "GET /v1/admin/events": {"query": {"after": "1790000000000-0", "limit": "10"}},
    "GET /v1/catalog/items/{item_id}": {"path": {"item_id": "i0001"}},
    "GET /v1/catalog/items": {"query": {"brand": "Gucci", "category": "women", "limit": "5", "cursor": "i0001"}},
    "PUT /v1/catalog/items": {
        "body": {"items": [{"item_id": "i0001", "title": "T", "brand": "B", "category": "women/dresses",
                            "price": 10, "color": "red", "in_stock": True, "url": "/p/1",
                            "image": "https://img.example/1.jpg", "tags": ["a"], "created_at": 1790000000000}]},
    },
    "GET /v1/admin/banners": {},
    "PUT /v1/admin/banners": {"body": {"banners": []}},
    "GET /v1/admin/campaigns": {},
    "PUT /v1/admin/campaigns": {
        "body": {"campaigns": [{"id": "h", "subject": "Hi {first_name}", "holdout_pct": 10,
                                "offers": [{"min_score": 10, "discount_pct": 5}]}]},
    },
    "GET /v1/admin/experiments": {},
    "PUT /v1/admin/experiments": {
        "body": {"experiments": [{"id": "h", "changes": "placement", "placement": "home_for_you",
                                  "start": "2026-01-01T00:00:00Z", "stop": "2027-01-01T00:00:00Z",
                                  "arms": [{"name": "a", "weight": 50, "strategy": "default"},
                                           {"name": "b", "weight": 50, "strategy": "session"}]}]},
    },
    "GET /v1/admin/experiments/{experiment_id}/report": {"path": {"experiment_id": "h"}, "query": {"cuped": "true"}},
    "GET /v1/admin/loyalty": {},
    "PUT /v1/admin/loyalty": {"body": {"earning": {"welcome_bonus": 5}, "evaluation": {"max_downgrade": 2}}},
    "POST /v1/admin/models/reload": {},
    "GET /v1/admin/stats": {},
    "POST /v1/events": {
        "body": {"session_id": "s-h", "customer_token": "x.1.y",
                 "events": [{"type": "product_view", "item_id": "i0001", "event_id": "e1", "ts": 1790000000000},
                            {"type": "click", "item_id": "i0002", "placement": "home_trending"},
                            {"type": "add_to_cart", "item_id": "i0003", "quantity": 2},
                            {"type": "search", "query": "red dress"}]},
    },
    "POST /v1/page": {
        "body": {"session_id": "s-h", "customer_token": None, "limit": 4, "exclude": ["i0009"],
                 "placements": ["product_similar"], "consent": True,
                 "page": {"type": "product", "item_id": "i0001", "category": "women/dresses", "query": "q",
                          "cart": [{"item_id": "i0002", "quantity": 1, "price": 101}]},
                 "context": {"referrer": "https://l.facebook.com/x", "utm_source": "facebook", "country": "US",
                             "locale": "en-US", "landing_url": "https://shop.example/?fbclid=1", "returning": True}},
    },
    "GET /v1/sessions/{session_id}/profile": {"path": {"session_id": "s-1"}},
    "GET /healthz": {},
    "GET /readyz": {},
}  # fmt: skip

RAW = "\ue000RAW\ue001"
"""Stands in the serialized body where a raw (non-JSON-encodable) token goes."""
HOSTILE_VALUES: list[Any] = [
    1e308, -1e308, 10**40, -(10**40), 0, -1, 2**63, 1.5, -0.0, True, False, None, [], {}, [[]], {"a": {"b": {}}},
    "", " ", "\x00", "\u202e", "\U0001f600" * 50, "a" * 5000, "<script>alert(1)</script>", "' OR 1=1 --",
    "../../etc/passwd", "%00", "${jndi:ldap://x}", "{{7*7}}", "\r\nSet-Cookie: x=1",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z", "2026-11-20T10:00:00+99:00",
    "http://[zz/?fbclid=1", "//evil.example/phish", "/\\evil.example", "javascript:alert(1)", "http://a:99999/",
    "http://%zz", "data:text/html,<b>x</b>", "https://", "http://example.com:-1/",
]  # fmt: skip
RAW_TOKENS = ["1e-999999", "1e999999", "-1e999999", "10.004999999999999999", "NaN", "Infinity", "0x10", "01",
              "1" * 400, "1." + "0" * 400 + "1", '"\\ud800"', '"\\u0000"', "tru", '"\\x41"']  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One hostile request: the operation, and what was done to its example."""

    operation: str
    kind: str
    method: str
    path: str
    query: dict[str, str]
    content: bytes | None
    keyed: bool

    def describe(self) -> str:
        shown = (self.content or b"")[:200]
        return f"{self.operation} [{self.kind}] {self.path} {self.query} {shown!r}"


def operations(schema: dict[str, Any]) -> list[tuple[str, bool]]:
    """Every ``METHOD /path`` of the schema, and whether it is keyed."""
    return [
        (f"{method.upper()} {path}", bool(operation.get("security")))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (containers too), as a tuple of keys and indices."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += leaves(inner, (*path, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def _encode(body: Any, raw: str | None = None) -> bytes:
    text = json.dumps(body, ensure_ascii=False)
    return (text.replace(json.dumps(RAW), raw) if raw is not None else text).encode("utf-8", "surrogatepass")


def _nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return (opener * depth + "0" + closer * depth).encode()


@st.composite
def _case(draw: st.DrawFn, operation: str, keyed: bool) -> Case:
    method, template = operation.split(" ", 1)
    example = EXAMPLES[operation]
    path_values = dict(example.get("path", {}))
    query = dict(example.get("query", {}))
    body = example.get("body")
    content = _encode(body) if body is not None else None
    kinds = ["nesting", "garbage", "value", "value", "raw", "utf8"] if body is not None else ["stray"]
    kinds += ["path"] * 2 if path_values else []
    kinds += ["query"] * 2 if query else []
    kind = draw(st.sampled_from(kinds))
    if kind == "nesting":
        content = _nested(draw(st.sampled_from([1100, 5000, 100_000])), draw(st.sampled_from(["[", '{"a":'])))
    elif kind == "garbage":
        content = draw(st.binary(max_size=300))
    elif kind == "value":
        place = draw(st.sampled_from(leaves(body)))
        content = _encode(replaced(body, place, draw(st.sampled_from(HOSTILE_VALUES))))
    elif kind == "raw":
        place = draw(st.sampled_from([p for p in leaves(body) if p]))
        content = _encode(replaced(body, place, RAW), draw(st.sampled_from(RAW_TOKENS)))
    elif kind == "utf8":
        assert content is not None
        at = draw(st.integers(0, len(content)))
        content = (
            content[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
            + content[at:]
        )
    elif kind == "stray":  # a route without a body or parameters: a body and an unknown parameter anyway
        content = draw(st.sampled_from([None, b"[" * 5000, b"\xff"]))
        query["x"] = draw(st.sampled_from([str(v) for v in HOSTILE_VALUES if not isinstance(v, dict | list)]))
    elif kind == "path":
        name = draw(st.sampled_from(sorted(path_values)))
        path_values[name] = draw(st.sampled_from([str(v) for v in HOSTILE_VALUES if not isinstance(v, dict | list)]))
    else:
        name = draw(st.sampled_from(sorted(query)))
        query[name] = draw(st.sampled_from([str(v) for v in HOSTILE_VALUES if not isinstance(v, dict | list)]))
    path = template
    for name, value in path_values.items():
        path = path.replace("{" + name + "}", quote(value, safe="") or "%20")
    return Case(operation, kind, method, path, query, content, keyed)


def cases(schema: dict[str, Any]) -> st.SearchStrategy[Case]:
    """Hostile cases over every operation of ``schema``; those with a body (more to vary) three times as likely."""
    weighted = [(op, keyed) for op, keyed in operations(schema) for _ in range(3 if "body" in EXAMPLES[op] else 1)]
    return st.one_of(*(_case(operation, keyed) for operation, keyed in weighted))


def send(client: Any, case: Case) -> Any:
    """Send ``case`` with an httpx-like client (the key on keyed operations)."""
    headers = {"content-type": "application/json", **(AUTH if case.keyed else {})}
    files = ("PUT /v1/admin/banners", "PUT /v1/admin/loyalty", "PUT /v1/admin/experiments", "PUT /v1/admin/campaigns")
    if case.operation in files and case.kind == "garbage":
        headers["content-type"] = "application/toml"
    return client.request(case.method, case.path, params=case.query, content=case.content, headers=headers)


def run_cases(client: Any, schema: dict[str, Any], examples: int, digest: Callable[[], str] | None) -> dict[str, int]:
    """Send ``examples`` hostile cases (deterministic) through ``client``: none may answer 5xx, and a 4xx must leave
    ``digest()`` (the store's state) as it was. Returns the count per kind of case."""
    counts: dict[str, int] = {}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=cases(schema))
    def hostile(case: Case) -> None:
        before = digest() if digest is not None else ""
        answer = send(client, case)
        counts[case.kind] = counts.get(case.kind, 0) + 1
        assert answer.status_code < 500, f"{answer.status_code} for {case.describe()}: {answer.text[:500]}"
        if 400 <= answer.status_code < 500:
            if digest is not None:
                assert digest() == before, f"a {answer.status_code} changed the store: {case.describe()}"
            if answer.headers.get("content-type", "").startswith("application/json"):
                assert set(answer.json()) == {"error"}, case.describe()

    hostile()
    return counts


def summary(counts: dict[str, int]) -> str:
    """``N cases (n kind, …)``."""
    return f"{sum(counts.values())} cases ({', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))})"
