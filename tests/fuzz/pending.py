"""Schema corrections the fuzzer applies until changes outside ``personalize/api`` land (issue #8).

Three gaps can only be closed in ``personalize/api/pages.py`` or ``personalize/app.py``; until then the fuzzer
reads the served schema with them closed, so the server is held to what the schema will say, not excused.
Each patch first asserts that its gap is still there: once the fix lands, the fuzz test fails and names the
patch to delete here, so no workaround outlives its reason.

- ``page_errors``: ``POST /v1/page`` declares no error responses, so litestar documents its 400 with its own
  ``{status_code, detail}`` shape. Fix: ``responses=errors(400, 413, 429)`` (``personalize.api.responses``) on its
  ``@post``.
- ``closed_objects``: request types forbid unknown fields but the schema leaves objects open. Fix: register
  ``personalize.openapi.ClosedStructs()`` in ``Litestar(plugins=[...])``.
- ``bearer_security``: the schema does not say which routes need the API key. Fix: an HTTP bearer security
  scheme in ``OpenAPIConfig(components=...)`` and ``security=`` on the guarded controllers and routes.

The ``Allow`` header litestar sends for a path with two methods lists only the first one (litestar issue 4169,
fixed in litestar 3); :func:`allow_lists_one_method_only` is the matching assertion for the check that allows
it (``allow_lists_the_methods`` in ``tests/fuzz/checks.py``).
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from personalize.catalog import CatalogUpsert
from personalize.coupons import CampaignIn, RedeemIn
from personalize.loyalty import OrderIn, RefundIn
from personalize.pages import PageRequest
from personalize.tracking import EventBatch
from tests.fuzz.checks import TWO_METHOD_PATHS

REQUEST_TYPES = (PageRequest, EventBatch, CatalogUpsert, OrderIn, RefundIn, CampaignIn, RedeemIn)
SCHEME = "apiKey"


class GapClosed(AssertionError):
    """A pending fix has landed: the named patch is obsolete."""


def apply(schema: dict[str, Any]) -> list[str]:
    """Close the pending gaps in ``schema`` (in place); returns the patches applied."""
    patches = (page_errors, closed_objects, bearer_security)
    for patch in patches:
        patch(schema)
    return [patch.__name__ for patch in patches]


def page_errors(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/v1/page"]["post"]["responses"]
    documented = responses.get("400", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "status_code" not in documented.get("properties", {}):
        raise GapClosed("POST /v1/page documents its errors now: delete page_errors in tests/fuzz/pending.py")
    for status in ("400", "413", "429"):
        responses[status] = {
            "description": f"Error {status}",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }


def closed_objects(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    closed = _closed_struct_names()
    if any("additionalProperties" in components[name] for name in closed if name in components):
        raise GapClosed("the schema closes objects now: delete closed_objects in tests/fuzz/pending.py")
    missing = closed - set(components)
    assert not missing, f"request types missing from the schema: {sorted(missing)}"
    for name in closed:
        components[name]["additionalProperties"] = False


def bearer_security(schema: dict[str, Any]) -> None:
    components = schema["components"]
    if components.get("securitySchemes"):
        raise GapClosed("the schema declares security now: delete bearer_security in tests/fuzz/pending.py")
    components["securitySchemes"] = {SCHEME: {"type": "http", "scheme": "bearer"}}
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "401" in operation.get("responses", {}):
                operation["security"] = [{SCHEME: []}]


def allow_lists_one_method_only(base: str, headers: dict[str, str]) -> None:
    """Assert that litestar's ``Allow`` still misses a method on the two-method paths (see the module text)."""
    for path in TWO_METHOD_PATHS:
        allow = httpx.options(f"{base}{path}", headers=headers).headers.get("allow", "")
        if {"GET", "PUT"} <= {method.strip() for method in allow.split(",")}:
            raise GapClosed(f"OPTIONS {path} lists every method now: drop it from TWO_METHOD_PATHS (checks.py)")


def _closed_struct_names() -> set[str]:
    """Names of the Structs reachable from the request types that forbid unknown fields."""
    names: set[str] = set()
    for info in msgspec.inspect.multi_type_info(REQUEST_TYPES):
        _collect(info, names, set())
    return names


def _collect(info: Any, names: set[str], seen: set[int]) -> None:
    if id(info) in seen:
        return
    seen.add(id(info))
    if isinstance(info, msgspec.inspect.StructType):
        if info.forbid_unknown_fields:
            names.add(info.cls.__name__)
        for field in info.fields:
            _collect(field.type, names, seen)
        return
    for attribute in ("type", "item_type", "types", "key_type", "value_type", "item_types"):
        inner = getattr(info, attribute, None)
        for each in inner if isinstance(inner, tuple) else (inner,):
            if isinstance(each, msgspec.inspect.Type):
                _collect(each, names, seen)
