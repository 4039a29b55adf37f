"""The server-to-server key check, as a litestar guard (it runs before the body is read)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from personalize.errors import Unauthorized

API_KEY_SCHEME = "apiKey"
API_KEY_SECURITY: list[dict[str, list[str]]] = [{API_KEY_SCHEME: []}]
"""The OpenAPI ``security`` of the routes behind :func:`require_api_key` (the scheme is declared in ``app.py``)."""


async def require_api_key(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Refuse with 401 unless ``Authorization: Bearer <PZ_API_KEY>`` matches (constant-time)."""
    expected = connection.app.state.runtime.settings.api_key
    if not expected:
        raise Unauthorized("server-to-server routes are disabled: the server has no PZ_API_KEY")
    if not carries_api_key(connection, expected):
        raise Unauthorized("missing or wrong API key: send Authorization: Bearer <PZ_API_KEY>")


def carries_api_key(connection: ASGIConnection[Any, Any, Any, Any], expected: str) -> bool:
    """Whether the call sends ``Authorization: Bearer <expected>`` (compared in constant time)."""
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())
