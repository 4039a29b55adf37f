"""The personalize package's errors, and the one place any error becomes an HTTP response.

Service code and controllers raise :class:`ServiceError`\\ s, which carry a code, a message and the field at fault
but no status; the domain packages raise their own (below). :data:`STATUS` maps every class to its status here
and nowhere else, and :func:`status_of` gives it to the CLI and the tests. Every body is
``{"error": {"code", "message", "field"}}``.

Exceptions and their statuses::

    ServiceError                      a request the server refuses
    ├── InvalidInput                  400 a value the request cannot have (``field`` names it)
    ├── Unauthorized                  401 no or a wrong API key
    ├── Forbidden                     403 refused for this caller
    ├── NotFound                      404 an id that matches nothing
    ├── Conflict                      409 conflicts with what is stored (an id taken, a replay that differs)
    ├── Refused                       422 well formed, but a rule of the domain refuses it
    └── RateLimited                   429 over a rate limit, with ``retry_after`` seconds
    personalize.money.MoneyError      400 an amount the shop currency cannot hold
    loyalty_nudges RefundError        422 more than what remains of the order
    loyalty_nudges LoyaltyError       422 any other refusal of the loyalty rules
    banners.BannerError               422 a banner file that does not validate
    store StoreUnavailable            503 the store did not answer (``StoreFull``: it took no writes), Retry-After
    litestar HTTPException            its own status: validation 400, 405, 413, …
    anything else                     500, logged with the request id; never expected
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from banners import BannerError
from loyalty_nudges.ledger import RefundError
from loyalty_nudges.program import LoyaltyError
from personalize import money
from personalize.money import MoneyError
from personalize.store.protocols import StoreFull, StoreUnavailable

log = logging.getLogger("personalize.errors")


class ServiceError(Exception):
    """A request the server refuses, with what a caller needs to fix it; subclasses say which kind."""

    code = "error"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field
        if code is not None:
            self.code = code


class InvalidInput(ServiceError):
    code = "invalid_request"


class Unauthorized(ServiceError):
    code = "unauthorized"


class Forbidden(ServiceError):
    code = "forbidden"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Refused(ServiceError):
    code = "refused"


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


STATUS: dict[type[Exception], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Refused: 422,
    RateLimited: 429,
    MoneyError: 400,
    RefundError: 422,
    LoyaltyError: 422,
    BannerError: 422,
    StoreUnavailable: 503,
}
"""Status per error class; the first class of an exception's MRO listed here decides."""


def status_of(exc: BaseException) -> int:
    """The HTTP status an error answers with (500 for one nobody expected)."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    return next((STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS), 500)


class ErrorDetail(msgspec.Struct):
    """What went wrong; ``field`` is the JSON path or parameter at fault, when there is one."""

    code: str
    message: str
    field: str | None = None


class ErrorBody(msgspec.Struct):
    """Body of every 4xx and 5xx response."""

    error: ErrorDetail


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


def _respond(status: int, detail: ErrorDetail, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(ErrorBody(detail), status_code=status, media_type=MediaType.JSON, headers=headers)


def service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[ErrorBody]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return _respond(status_of(exc), ErrorDetail(exc.code, exc.message, exc.field), headers)


def money_error(_: Request[Any, Any, Any], exc: MoneyError) -> Response[ErrorBody]:
    return _respond(400, ErrorDetail("invalid_request", str(exc), exc.field))


def refund_error(request: Request[Any, Any, Any], exc: RefundError) -> Response[ErrorBody]:
    currency = request.app.state.runtime.settings.currency
    remaining = money.format_amount(exc.remaining_minor, currency)
    message = f"amount: {exc}; {remaining} remains refundable"
    return _respond(422, ErrorDetail("refund_too_large", message, "amount"))


def loyalty_error(_: Request[Any, Any, Any], exc: LoyaltyError) -> Response[ErrorBody]:
    return _respond(422, ErrorDetail("refused", str(exc), getattr(exc, "field", None)))


def banner_error(_: Request[Any, Any, Any], exc: BannerError) -> Response[ErrorBody]:
    return _respond(422, ErrorDetail("invalid_banners", str(exc), getattr(exc, "field", None)))


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
    ServiceError: service_error,
    MoneyError: money_error,
    RefundError: refund_error,
    LoyaltyError: loyalty_error,
    BannerError: banner_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    StoreUnavailable: store_unavailable,
    Exception: unexpected_error,
}
