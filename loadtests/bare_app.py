"""The framework floor: a bare litestar endpoint returning a JSON body the size of a page response.

Serve it with ``granian --interface asgi --factory loadtests.bare_app:build``; the benchmarks compare
the real routes against it under the same ASGI server.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get

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


def build() -> Litestar:
    """The app factory."""
    return Litestar([bare], logging_config=None)
