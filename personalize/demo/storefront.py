"""The demo storefront's pages: Jinja2 templates (``personalize/demo/templates``) with autoescaping, the view of
an item they show, the shop's own search, and the sign-in's account of the demo customers.

Everything a template prints is escaped unless it is marked safe (only the snippet's loader, a file of this
package); the page context for the snippet goes through ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``
so no value can close its ``<script>``; scripts run only with the response's CSP nonce.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import jinja2
import msgspec

from personalize import money
from personalize.catalog.index import CatalogIndex
from personalize.catalog.items import Item
from personalize.pages import placements

CATEGORIES = (
    "women/dresses",
    "women/tops",
    "women/shoes",
    "women/bags",
    "women/jewellery",
    "women/accessories",
    "men/tops",
    "men/shoes",
)
SEARCH_LIMIT = 48
_WORD = re.compile(r"[a-z0-9&]+")
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("personalize.demo", "templates"),
    autoescape=jinja2.select_autoescape(("html",)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}  # ASCII: U+2028 escaped too
_ENV.globals["placements"] = {placement.name: placement.name for placement in placements.REGISTRY}
_ENV.globals["categories"] = tuple((path, path.replace("/", " › ").title()) for path in CATEGORIES)


class ItemView(msgspec.Struct, frozen=True, kw_only=True):
    """An item as the pages print it: the price formatted, the picture's address."""

    item_id: str
    title: str
    brand: str
    category: str
    colour: str
    price: str
    image: str
    in_stock: bool


def item_view(item: Item, currency: str) -> ItemView:
    return ItemView(
        item_id=item.item_id,
        title=item.title,
        brand=item.brand,
        category=item.category,
        colour=item.color,
        price=money.format_amount(item.price, currency),
        image=item.image or f"/demo/images/{item.item_id}.svg",
        in_stock=item.in_stock,
    )


def category_label(path: str) -> str:
    """``women/dresses`` → ``Women › Dresses``."""
    return path.replace("/", " › ").title()


def render(template: str, context: Mapping[str, object]) -> str:
    """One page of the storefront."""
    return _ENV.get_template(template).render(context)


def search(catalog: CatalogIndex, query: str, limit: int = SEARCH_LIMIT) -> tuple[list[Item], bool]:
    """The shop's own search: items whose brand, title, category or colour hold every word of the query (a
    word matches the start of one of the item's, so "dress" finds dresses), in stock first, then the most
    words in the title, then the newest; and whether there were more than ``limit``."""
    words = _WORD.findall(query.lower())
    if not words:
        return [], False
    found = []
    for item in catalog.items.values():
        own = _WORD.findall(f"{item.brand} {item.title} {item.category} {item.color}".lower())
        if all(any(word.startswith(w) for word in own) for w in words):
            title = _WORD.findall(item.title.lower())
            in_title = sum(any(word.startswith(w) for word in title) for w in words)
            found.append((not item.in_stock, -in_title, -item.created_at_ms, item.item_id, item))
    found.sort(key=lambda entry: entry[:4])
    return [entry[-1] for entry in found[:limit]], len(found) > limit


def titled(name: str) -> str:
    """A segment or tier name as shoppers read it: ``at_risk`` → ``At risk``."""
    return name.replace("_", " ").capitalize()


def views(items: Iterable[Item], currency: str) -> list[ItemView]:
    return [item_view(item, currency) for item in items]
