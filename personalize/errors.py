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
    loyalty_nudges RedemptionError    409 a reward the customer cannot have now (points, stock, tier, dates)
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
from loyalty_nudges.coupons import CHOSEN_PATTERN, CHOSEN_RULE
from loyalty_nudges.ledger import RefundError
from loyalty_nudges.program import LoyaltyError
from loyalty_nudges.rewards import NotEnoughPoints, RedemptionError
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
    RedemptionError: 409,
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


def redemption_error(_: Request[Any, Any, Any], exc: RedemptionError) -> Response[ErrorBody]:
    field = "points" if isinstance(exc, NotEnoughPoints) else "reward_id"
    return _respond(409, ErrorDetail(exc.reason, str(exc), field))


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
    if key == "data" and message.strip("'") == "data":
        return _respond(
            400, ErrorDetail("invalid_request", "the request body is empty: this route takes a JSON object")
        )
    named = re.match(r"([a-z_]+) ", message)
    if named and not _MSGSPEC.match(message) and first.get("key") is not None:
        # __post_init__ messages start with the field they judge; msgspec names only the struct
        key = named.group(1) if key in ("", "data") else f"{key}.{named.group(1)}"
        field = key
        return _respond(400, ErrorDetail("invalid_request", f"{field}: {message}", field))
    field, words = in_words(message, None if key in ("", "data") else key)
    return _respond(400, ErrorDetail("invalid_request", words, field))


_MSGSPEC = re.compile(r"(Expected `|Object (missing|contains)|Invalid (enum )?value)")
_KINDS = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false", "array": "a list",
          "object": "an object", "null": "null", "decimal": "a number", "datetime": "a date and time"}  # fmt: skip
_WORDINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Expected `(\w+)`, got `(\w+)`"), "must be {0}, not {1}"),
    (re.compile(r"Expected `(?:int|float|decimal)` >= (\S+)"), "must be at least {0}"),
    (re.compile(r"Expected `(?:int|float|decimal)` > (\S+)"), "must be more than {0}"),
    (re.compile(r"Expected `(?:int|float|decimal)` <= (\S+)"), "must be at most {0}"),
    (re.compile(r"Expected `(?:int|float|decimal)` < (\S+)"), "must be less than {0}"),
    (re.compile(r"Expected `str` of length >= 1"), "must not be empty"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "must be at least {0} characters long"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "must be at most {0} characters long"),
    (re.compile(r"Expected `array` of length >= 1"), "must hold at least one entry"),
    (re.compile(r"Expected `array` of length >= (\d+)"), "must hold at least {0} entries"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "must hold at most {0} entries"),
    (
        re.compile(r"Expected `str` matching regex '(.*)'"),
        "has characters or a form it may not have (it must match {0})",
    ),
    (re.compile(r"Invalid (?:enum )?value (\S+)"), "{0} is not one of the values this field takes (see /schema)"),
)


PATTERNS_IN_WORDS = {CHOSEN_PATTERN: CHOSEN_RULE}
"""Wire patterns whose rule reads better in words than as the pattern."""


def in_words(message: str, field: str | None) -> tuple[str | None, str]:
    """msgspec's ``Expected `int` >= 1`` for ``limit`` as ``limit must be at least 1``: the field named first, the
    rule in words; a missing or unknown field becomes the field at fault. Returns the field and the message."""
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        at = f"{field}.{missing.group(1)}" if field else missing.group(1)
        return at, f"{at} is required"
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        at = f"{field}.{unknown.group(1)}" if field and not field.endswith(unknown.group(1)) else unknown.group(1)
        return at, f"{at} is not a field this request takes (unknown field)"
    for pattern, wording in _WORDINGS:
        found = pattern.search(message)
        if found:
            parts = [_KINDS.get(part, part) for part in found.groups()]
            if parts and parts[0] in PATTERNS_IN_WORDS:
                wording = PATTERNS_IN_WORDS[parts[0]]
            return field, f"{field or 'the body'} {wording.format(*parts)}"
    return field, f"{field}: {message}" if field else message


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
    RedemptionError: redemption_error,
    LoyaltyError: loyalty_error,
    BannerError: banner_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    StoreUnavailable: store_unavailable,
    Exception: unexpected_error,
}
