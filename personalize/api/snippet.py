"""``GET /snippet.js`` (the embeddable script), ``GET /snippet-stub.js`` (the inline loader to copy), and the API
docs page's script (Redoc, vendored: ``/schema`` works offline)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import msgspec
from litestar import Request, Response, get

from personalize.pages import placements

_CACHE = "public, max-age=300, stale-while-revalidate=86400"


PLACEMENTS_MARK = b"/*pz:placements*/[]"
"""Where ``snippet.js`` receives the names of the placement registry, as the server serves it."""


@cache
def _asset(name: str) -> tuple[bytes, str]:
    body = (resources.files("personalize") / "static" / name).read_bytes()
    body = body.replace(PLACEMENTS_MARK, msgspec.json.encode(list(placements.NAMES)))
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _serve(name: str, request: Request) -> Response[bytes]:  # type: ignore[type-arg]
    body, etag = _asset(name)
    headers = {"ETag": etag, "Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="text/javascript", headers=headers)


@get("/snippet.js", tags=["snippet"], include_in_schema=False)
async def snippet(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
    """The main script (async, no dependencies); cached, with an ETag."""
    return _serve("snippet.js", request)


@get("/snippet-stub.js", tags=["snippet"], include_in_schema=False)
async def snippet_stub(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
    """The loader to inline in a page (≤ 1 KB): command queue, double-include guard, async load."""
    return _serve("snippet-stub.js", request)


REDOC = "/docs-assets/redoc.standalone.js"
"""Where the API docs page (``/schema``) loads Redoc from: this server, never a CDN."""


@get(REDOC, include_in_schema=False)
async def redoc(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
    """Redoc's standalone bundle (MIT, ``static/vendor/``), which renders ``/schema``."""
    return _serve("vendor/redoc.standalone.js", request)
