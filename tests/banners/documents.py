"""Banner files for tests: plain dicts written out as TOML or JSON bytes, and a loader with test defaults."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from banners import BannerContext, BannerSet, TemplateValues, load_banners
from banners.files import Format

TIERS = ("bronze", "silver", "gold")
SEGMENTS = (
    "hibernating",
    "at_risk",
    "cant_lose",
    "about_to_sleep",
    "need_attention",
    "loyal_customers",
    "promising",
    "new_customers",
    "potential_loyalists",
    "champions",
)
NOW_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z."""


def banner(banner_id: str = "b1", **fields: Any) -> dict[str, Any]:
    """A valid banner dict; ``fields`` override or add."""
    return {"id": banner_id, "slot": "hero", "title": "Hello", "text": "World", **fields}


def encode(doc: dict[str, Any], fmt: Format) -> bytes:
    """The document as a file of that format."""
    return to_toml(doc).encode() if fmt == "toml" else json.dumps(doc, default=_iso).encode()


def load(doc: dict[str, Any], fmt: Format = "toml", **options: Any) -> BannerSet:
    """Load the document with the demo's tiers and segments (``options`` override)."""
    settings: dict[str, Any] = {"known_tiers": TIERS, "known_segments": SEGMENTS, **options}
    return load_banners(encode(doc, fmt), source=f"banners.{fmt}", fmt=fmt, **settings)


def context(**fields: Any) -> BannerContext:
    """A home page view by an anonymous first-time visitor at :data:`NOW_MS`; ``fields`` override."""
    return BannerContext(**{"page_type": "home", "now_ms": NOW_MS, "subject": "s-1", **fields})


def shown_ids(banners: BannerSet, values: TemplateValues | None = None, **fields: Any) -> list[str]:
    """Ids of the banners shown for a context built from ``fields``."""
    choice = banners.choose(context(**fields), values or TemplateValues())
    return [chosen.id for chosen in choice.shown]


def to_toml(doc: dict[str, Any]) -> str:
    """A TOML file for the document: top-level keys, then one ``[[banners]]`` table per banner."""
    lines = [f"{_key(key)} = {_value(value)}" for key, value in doc.items() if key != "banners"]
    for entry in doc.get("banners", []):
        lines.append("[[banners]]")
        lines.extend(f"{_key(key)} = {_value(value)}" for key, value in entry.items())
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return "{ " + ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items()) + " }"


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
