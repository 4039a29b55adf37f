"""Schemathesis checks of the API fuzzer, loaded by ``st run`` from this file (``SCHEMATHESIS_HOOKS``).

Three built-in checks are replaced by versions that allow exactly one thing each, stated here, and nothing else:

- ``negative_data_rejection`` → :func:`schema_violations_rejected`: litestar converts request bodies leniently
  (msgspec ``strict=False``: ``"5"`` for 5, ``"true"`` or 1 for true, ``"null"`` for null), so a body whose
  only violations are scalars the server converts to the declared type is accepted by design.
- ``positive_data_acceptance`` → :func:`schema_valid_requests_accepted`: rules JSON Schema cannot state (a
  product page names its item, money has the currency's decimal places, …) may refuse a schema-valid request,
  with the status and the words of :data:`BEYOND_THE_SCHEMA`.
- ``allow_header_conformance`` → :func:`allow_lists_the_methods`: litestar's ``Allow`` misses a method on
  :data:`TWO_METHOD_PATHS`.

:class:`EveryOperationSucceeds` fails the run when an operation never answered 2xx: fuzzing that only
ever reaches validation errors would not test the operation.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import jsonschema_rs
import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)

CALENDAR = (400, "must lie between 1970 and the year 5138")  # JSON Schema cannot bound a date-time
BEYOND_THE_SCHEMA: dict[str, tuple[tuple[int, str], ...]] = {
    "PUT /v1/catalog/items": ((400, "decimal places"), CALENDAR),
    "POST /v1/page": (
        (400, "item_id is required on a product page"),
        (400, "category is required on a category page"),
        (400, "decimal places"),
        (400, "is not a URL that can be parsed"),  # the standard library's URL parser, for referrer and landing_url
    ),
    "POST /v1/events": ((400, "per call"), CALENDAR),  # per call: tracking.max_events_per_call, below the type's 5000
    "POST /v1/orders": ((400, "decimal places"), (400, "is not the shop's"), CALENDAR),
    "POST /v1/orders/{order_id}/refunds": ((400, "decimal places"), (422, "remains refundable")),
    "POST /v1/coupons/campaigns": (
        (400, "give exactly one"),
        (400, "decimal places"),
        CALENDAR,
        (400, "would make the codes expire after the year 5138"),
        (400, "a shared code is for everyone"),  # a shared code with an audience or unassigned codes
    ),
    "PUT /v1/admin/banners": ((422, "invalid_banners"),),  # a banner file's own rules (dates, tiers, templates)
    "PUT /v1/admin/loyalty": ((422, "invalid_program"),),  # a program's own rules, and tags the catalog lacks
    "PUT /v1/admin/experiments": ((422, "invalid_experiments"),),  # weights, placements, strategies, dates, overlaps
    "PUT /v1/admin/campaigns": ((422, "invalid_campaigns"),),  # segments, tiers, tokens, bands, triggers, ids
    # the program's rules: points, stock, tiers and dates of a reward, the ids of rewards and actions
    "POST /v1/customers/{customer_id}/redemptions": (
        (409, "spendable balance"),
        (409, "out of stock"),
        (409, "is for the tiers"),
        (409, "names one redemption"),
        (422, "is not a reward of the program"),
    ),
    "POST /v1/redemptions/{redemption_id}/cancel": ((409, "its code was used"),),
    "POST /v1/customers/{customer_id}/actions": ((409, "names one action"), (422, "is not an action of the program")),
    "PUT /v1/customers/{customer_id}": (
        (400, "is not an e-mail address"),  # the standard library's address parser
        (400, "must be a real month and day"),
        CALENDAR,
    ),
}
# litestar answers OPTIONS on a path with two methods with an `Allow` that lists the first one registered
# (litestar issue 4169, fixed in litestar 3; allow_lists_one_method_only notices when that changes)
TWO_METHOD_PATHS: dict[str, tuple[str, set[str]]] = {
    "/v1/catalog/items": ("/v1/catalog/items", {"GET", "PUT"}),
    "/v1/admin/banners": ("/v1/admin/banners", {"GET", "PUT"}),
    "/v1/admin/loyalty": ("/v1/admin/loyalty", {"GET", "PUT"}),
    "/v1/admin/experiments": ("/v1/admin/experiments", {"GET", "PUT"}),
    "/v1/admin/campaigns": ("/v1/admin/campaigns", {"GET", "PUT"}),
    "/v1/customers/{customer_id}": ("/v1/customers/c-1", {"PUT", "DELETE"}),
}
"""Each path (as the schema writes it) with a URL of it to probe and its two methods."""
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_VALIDATORS: dict[tuple[str, str], Any] = {}


@schemathesis.check
def schema_valid_requests_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, allowing the refusals of :data:`BEYOND_THE_SCHEMA`."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        text = response.text or ""
        if any(status == response.status_code and words in text for status, words in _rules(case)):
            return None
        raise


@schemathesis.check
def schema_violations_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection``, allowing a body that is valid once its scalars are converted as litestar
    converts them."""
    try:
        return negative_data_rejection(ctx, response, case)
    except Failure:
        if _valid_after_lenient_conversion(case):
            return None
        raise


@schemathesis.check
def allow_lists_the_methods(ctx: Any, response: Any, case: Any) -> bool | None:
    """``allow_header_conformance``, allowing methods missing from ``Allow`` on :data:`TWO_METHOD_PATHS` (never
    an undocumented one)."""
    try:
        return allow_header_conformance(ctx, response, case)
    except Failure as failure:
        if case.operation.path in TWO_METHOD_PATHS and not getattr(failure, "undocumented_methods", True):
            return None
        raise


@schemathesis.check
class EveryOperationSucceeds:
    """Every tested operation answered 2xx at least once."""

    def __init__(self) -> None:
        self.tested: set[str] = set()
        self.succeeded: set[str] = set()

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        if response.request.method != case.operation.method.upper():
            return None  # a probe of another method (OPTIONS answers 204 everywhere)
        self.tested.add(case.operation.label)
        if 200 <= response.status_code < 300:
            self.succeeded.add(case.operation.label)
        return None

    def after_run(self, ctx: Any) -> None:
        missing = sorted(self.tested - self.succeeded)
        if missing:
            raise AssertionError("never answered 2xx: " + ", ".join(missing))


def _rules(case: Any) -> tuple[tuple[int, str], ...]:
    return BEYOND_THE_SCHEMA.get(case.operation.label, ())


def _valid_after_lenient_conversion(case: Any) -> bool:
    """Whether converting scalars of the body the way msgspec's lenient mode does makes it schema-valid."""
    validator = _body_validator(case)
    if validator is None or not isinstance(case.body, dict | list):
        return False
    body = copy.deepcopy(case.body)
    errors = list(validator.iter_errors(body))
    while errors:
        converted = _convert_one(validator, body, errors)
        if converted is None:
            return False
        body, errors = converted, list(validator.iter_errors(converted))
    return True


def _convert_one(validator: Any, body: Any, errors: list[Any]) -> Any | None:
    """The body with one scalar converted so that fewer errors remain, or ``None``."""
    for error in errors:
        for candidate in _conversions(error.instance):
            trial = _replaced(body, list(error.instance_path), candidate)
            if len(list(validator.iter_errors(trial))) < len(errors):
                return trial
    return None


def _conversions(value: Any) -> list[Any]:
    """What msgspec's lenient mode reads a scalar as, besides itself."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [bool(value)] if value in (0, 1) else []
    if not isinstance(value, str):
        return []
    found: list[Any] = []
    if value == "null":
        found.append(None)
    if value.lower() in ("true", "1", "false", "0"):
        found.append(value.lower() in ("true", "1"))
    if _INTEGER.match(value):
        found.append(int(value))
    try:
        number = float(value)
    except ValueError:
        return found
    if number == number and abs(number) != float("inf"):
        found.append(number)
    return found


def _replaced(body: Any, path: list[str | int], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(body)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def _body_validator(case: Any) -> Any | None:
    """A validator for the operation's request body, ``$ref`` resolved against the document's components."""
    key = (case.operation.label, case.media_type or "")
    if key not in _VALIDATORS:
        raw = case.operation.schema.raw_schema
        operation = raw["paths"][case.operation.path][case.operation.method.lower()]
        content = operation.get("requestBody", {}).get("content", {})
        body = content.get(case.media_type or "application/json", {}).get("schema")
        _VALIDATORS[key] = (
            None
            if body is None
            else jsonschema_rs.Draft202012Validator({**json.loads(json.dumps(body)), "components": raw["components"]})
        )
    return _VALIDATORS[key]


class GapClosed(AssertionError):
    """A litestar gap this suite allows for is closed: the allowance is obsolete."""


def allow_lists_one_method_only(base: str, headers: dict[str, str]) -> None:
    """Assert that litestar's ``Allow`` still misses a method on the two-method paths (see the module text)."""
    for path, (probe, methods) in TWO_METHOD_PATHS.items():
        allow = httpx.options(f"{base}{probe}", headers=headers).headers.get("allow", "")
        if methods <= {method.strip() for method in allow.split(",")}:
            raise GapClosed(f"OPTIONS {path} lists every method now: drop it from TWO_METHOD_PATHS (checks.py)")
