"""The one place errors become HTTP responses: ``{"error": {"code", "message", "field"}}``.

Exceptions::

    ApiError                 raised by controllers with a status, a code and the field at fault
    MoneyError               (personalize.money) an amount the shop currency cannot hold → 400 naming the field
    StoreUnavailable         (personalize.store.protocols) → 503 with Retry-After
    litestar HTTPException   framework errors (validation 400, 401, 404, 405, 413) → the same shape
    anything else            → 500, logged with the request id; never expected
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from personalize.money import MoneyError
from personalize.store.protocols import StoreFull, StoreUnavailable

log = logging.getLogger("personalize.errors")

_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorDetail(msgspec.Struct):
    """What went wrong; ``field`` is the JSON path or parameter at fault, when there is one."""

    code: str
    message: str
    field: str | None = None


class ErrorBody(msgspec.Struct):
    """Body of every 4xx and 5xx response."""

    error: ErrorDetail


class ApiError(Exception):
    """A request the server refuses, with what a caller needs to fix it."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


def _respond(status: int, detail: ErrorDetail, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(ErrorBody(detail), status_code=status, media_type=MediaType.JSON, headers=headers)


def api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _respond(exc.status, ErrorDetail(exc.code, exc.message, exc.field), exc.headers)


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    extra = exc.extra if isinstance(exc.extra, list) and exc.extra else None
    if extra is None or not isinstance(extra[0], dict):
        if _is_malformed(exc) or "malformed" in exc.detail.lower():
            return _respond(400, ErrorDetail("malformed_json", _malformed(exc.detail)))
        return _respond(400, ErrorDetail("invalid_request", exc.detail))
    first = extra[0]
    message, key = str(first.get("message", exc.detail)), str(first.get("key", "") or "")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        key = unknown.group(1) if key in ("", "data") else f"{key}.{unknown.group(1)}"
    named = re.match(r"([a-z_]+) ", message)
    if named and not unknown and first.get("key") is not None:
        # __post_init__ messages start with the field they judge; msgspec names only the struct
        key = named.group(1) if key in ("", "data") else f"{key}.{named.group(1)}"
    field = None if key in ("", "data") else key
    text = f"{field}: {message}" if field else message
    return _respond(400, ErrorDetail("invalid_request", text, field))


def money_error(_: Request[Any, Any, Any], exc: MoneyError) -> Response[ErrorBody]:
    return _respond(400, ErrorDetail("invalid_request", str(exc), exc.field))


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    code = _CODES.get(status, "error")
    message = exc.detail
    if _is_malformed(exc):
        code, message = "malformed_json", _malformed(message)
    if status == 413:
        message = "request body is larger than this route accepts"
    return _respond(status, ErrorDetail(code, message), headers=exc.headers)


def _is_malformed(exc: BaseException) -> bool:
    """Whether the body could not be parsed as JSON at all (msgspec's ValidationError is a DecodeError too)."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, msgspec.DecodeError) and not isinstance(cause, msgspec.ValidationError):
            return True
        cause = cause.__cause__
    return False


def _malformed(detail: str) -> str:
    return detail if detail.startswith("JSON is malformed") else f"JSON is malformed: {detail}"


def store_unavailable(request: Request[Any, Any, Any], exc: StoreUnavailable) -> Response[ErrorBody]:
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, exc)
    request.app.state.runtime.metrics.store_errors.labels(request.scope.get("path_template", "")).inc()
    detail = (
        ErrorDetail("store_full", "the store is out of memory and took no writes; nothing was changed, retry later")
        if isinstance(exc, StoreFull)
        else ErrorDetail("store_unavailable", "the store is not reachable; retry shortly")
    )
    return _respond(503, detail, {"Retry-After": "2"})


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(500, ErrorDetail("internal", "internal error; it has been logged"))


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ApiError: api_error,
    MoneyError: money_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    StoreUnavailable: store_unavailable,
    Exception: unexpected_error,
}
