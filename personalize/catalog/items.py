"""Catalog items as the server keeps them, and the category paths that organise them."""

from __future__ import annotations

import functools
import re
from typing import Annotated

import msgspec
from msgspec import Meta

from personalize.openapi import schema

ItemId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
_CATEGORY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*(?:/[a-z0-9]+(?:[-_][a-z0-9]+)*){0,5}$")
# the pattern is checked by check_category (its message names the field), stated here for the schema
CategoryPath = Annotated[str, Meta(min_length=1, max_length=200), schema(pattern=_CATEGORY.pattern)]


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """A stored catalog item; ``price`` in minor units, ``created_at_ms`` epoch milliseconds or 0."""

    item_id: str
    title: str
    brand: str
    category: str
    price: int
    color: str = ""
    in_stock: bool = True
    url: str = ""
    image: str = ""
    tags: tuple[str, ...] = ()
    created_at_ms: int = 0


def check_category(path: str, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``path`` is 1–6 lowercase segments joined by ``/``."""
    if not _CATEGORY.match(path):
        raise ValueError(f"{name} {path[:80]!r} must be a path of lowercase segments such as 'women/dresses'")


@functools.lru_cache(maxsize=4096)
def category_levels(path: str) -> tuple[str, ...]:
    """``women/dresses/midi`` → ``("women", "women/dresses", "women/dresses/midi")`` (cached: shops have few)."""
    parts = path.split("/")
    return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))
