"""The error responses a route declares in OpenAPI, each with the one body ``personalize.errors`` sends.

Litestar documents a route's 400 with its own ``{status_code, detail, extra}`` shape and no other error
status at all; every route names here what it can answer instead, so the schema says what the wire carries.
"""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from personalize.errors import ErrorBody

_MEANINGS = {
    400: "Invalid request: `error.field` names the field or parameter at fault, `error.message` says why.",
    401: "Missing or wrong API key: send `Authorization: Bearer <PZ_API_KEY>`.",
    403: "Refused for this caller; `error.message` says why.",
    404: "Not found: `error.field` names the id that matched nothing.",
    409: "Conflicts with the current state (an id taken, a code used or not valid now).",
    413: "The request body is larger than this route accepts.",
    422: "Well-formed but refused by a rule of the domain; `error.message` names it.",
    429: "Too many calls from this address or session: retry after `Retry-After` seconds.",
    503: "The store is not reachable: nothing was changed; retry after `Retry-After` seconds.",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The ``responses`` argument of a route decorator for these error statuses."""
    return {
        status: ResponseSpec(ErrorBody, description=_MEANINGS[status], generate_examples=False) for status in statuses
    }
