"""The framework floor: a bare litestar endpoint returning a JSON body the size of a page response.

Serve it with ``uvicorn --factory loadtests.bare_app:build`` (or granian); the benchmarks compare the real
routes against it under the same ASGI server. ``GET /bare`` returns a constant body of about 1 KB;
``POST /bare`` decodes the JSON it is sent (as a real route does) and returns a body of
``PZ_BENCH_BODY_BYTES`` bytes (default 1,000), so ``personalize bench`` can match a page response's size.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Response, get, post

_ITEM = {
    "item_id": "i00001",
    "title": "Alexander McQueen Red Silk Midi Dress",
    "price": 1750.0,
    "url": "/demo/products/i00001",
    "image": "/demo/images/i00001.svg",
    "score": 12.345678,
    "reason": "trending",
}
BODY: dict[str, Any] = {"items": [dict(_ITEM, item_id=f"i{n:05d}") for n in range(6)]}


@get("/bare")
async def bare() -> dict[str, Any]:
    """A constant body of about 1 KB."""
    return BODY


def sized_body(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes (at least 64) shaped like a list of recommended items."""
    items, encoded = [], b""
    while True:
        grown = msgspec.json.encode({"items": [*items, dict(_ITEM, item_id=f"i{len(items):05d}")], "pad": ""})
        if len(grown) > size:
            break
        items.append(dict(_ITEM, item_id=f"i{len(items):05d}"))
        encoded = grown
    base = encoded or msgspec.json.encode({"items": [], "pad": ""})
    return msgspec.json.encode({"items": items, "pad": "x" * max(0, size - len(base))})


_SIZED = sized_body(int(os.environ.get("PZ_BENCH_BODY_BYTES", "1000")))


@post("/bare", status_code=200)
async def bare_post(data: dict[str, Any]) -> Response[bytes]:
    """Decode the request's JSON, answer the sized body."""
    return Response(_SIZED, media_type=MediaType.JSON)


def build() -> Litestar:
    """The app factory."""
    return Litestar([bare, bare_post], logging_config=None)
