"""HTML of the demo storefront: a small fashion shop whose personal parts come only from the public snippet.

Everything interpolated is escaped (``html.escape``); the page context for the snippet is JSON with ``<``
escaped so no value can close its ``<script>``; scripts run only with the response's CSP nonce.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import msgspec

from personalize import money
from personalize.catalog.items import Item
from personalize.pages import placements

_JSON = msgspec.json.Encoder()
CATEGORIES = (
    "women/dresses",
    "women/shoes",
    "women/bags",
    "women/jewellery",
    "women/accessories",
    "women/tops",
    "men/tops",
    "men/shoes",
)


def e(value: object) -> str:
    """Escaped text for HTML content and attributes."""
    return html.escape(str(value), quote=True)


def config_script(config: dict[str, object], nonce: str) -> str:
    """``window.pzConfig`` for the snippet, safe inside a script element."""
    data = (
        _JSON.encode(config).decode().replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )
    return f'<script nonce="{e(nonce)}">window.pzConfig = {data};</script>'


def layout(
    title: str, body: str, *, nonce: str, stub: str, config: dict[str, object], customer: str | None, cart_count: int
) -> str:
    """A whole page: header, the snippet's banner slots, the content."""
    account = (
        f'<span class="who">Signed in as {e(customer)}</span> <form method="post" action="/demo/logout">'
        '<button type="submit">Sign out</button></form>'
        if customer
        else '<a href="/demo/login">Sign in</a>'
    )
    nav = " ".join(f'<a href="/demo/category/{e(c)}">{e(c.replace("/", " › "))}</a>' for c in CATEGORIES[:5])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)} · Maison Demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/demo/static/demo.css">
{config_script(config, nonce)}
<script nonce="{e(nonce)}">{stub}</script>
<script src="/demo/static/demo.js" defer></script>
</head><body>
<div data-pz-slot="banner:top_bar" class="pz-slot slot-bar"></div>
<header><a class="brand" href="/demo/">Maison Demo</a> <nav>{nav}</nav>
<a class="cart-link" href="/demo/cart">Cart ({cart_count})</a> {account}
<span class="consent"><button type="button" data-pz-consent="on">Accept personalization</button>
<button type="button" data-pz-consent="off">Decline</button></span></header>
<div data-pz-slot="banner:hero" class="pz-slot slot-hero"></div>
<div data-pz-slot="banner:promo" class="pz-slot slot-promo"></div>
<main>{body}</main>
</body></html>"""


def row(title: str, placement: str) -> str:
    """A titled placeholder the snippet fills (hidden while empty)."""
    slot = f'<div data-pz-slot="{e(placement)}" class="pz-slot slot-row"></div>'
    return f'<section class="row"><h2>{e(title)}</h2>{slot}</section>'


def home() -> str:
    return row("Picked for you", placements.HOME_FOR_YOU) + row("Trending now", placements.HOME_TRENDING)


def category(path: str) -> str:
    return (
        f"<h1>{e(path.replace('/', ' › '))}</h1>"
        f'<div data-pz-slot="{placements.CATEGORY_RANKING}" class="pz-slot slot-grid" data-pz-limit="24"></div>'
    )


def product(item: Item, currency: str) -> str:
    price = money.format_amount(item.price, currency)
    stock = "In stock" if item.in_stock else "Sold out"
    return (
        f"""<article class="product" data-item="{e(item.item_id)}">
<img class="hero-img" src="{e(item.image or "/demo/images/" + item.item_id + ".svg")}" alt="{e(item.title)}">
<div><h1>{e(item.title)}</h1><p class="brand">{e(item.brand)}</p><p class="price">{e(price)}</p>
<p>{e(item.color)} · {e(stock)}</p>
<form method="post" action="/demo/cart/add" data-pz-add="{e(item.item_id)}">
<input type="hidden" name="item_id" value="{e(item.item_id)}">
<button type="submit" id="add-to-cart">Add to cart</button></form></div></article>"""
        + row("Similar items", placements.PRODUCT_SIMILAR)
        + row("Complete the look", placements.PRODUCT_COMPLETE_THE_LOOK)
    )


def cart(lines: Sequence[tuple[Item, int]], currency: str) -> str:
    items = "".join(
        f'<li data-item="{e(item.item_id)}">{e(item.title)} × {qty} — '
        f"{e(money.format_amount(item.price * qty, currency))}"
        f'<form method="post" action="/demo/cart/remove" data-pz-remove="{e(item.item_id)}">'
        f'<input type="hidden" name="item_id" value="{e(item.item_id)}">'
        '<button type="submit">Remove</button></form></li>'
        for item, qty in lines
    )
    total = money.format_amount(sum(item.price * qty for item, qty in lines), currency)
    checkout = (
        '<form method="post" action="/demo/checkout"><button type="submit" id="checkout">Place order</button></form>'
        if lines
        else "<p>Your cart is empty.</p>"
    )
    return (
        f'<h1>Your cart</h1><ul class="cart">{items}</ul><p class="subtotal">Subtotal: <strong id="subtotal">'
        f'{e(total)}</strong></p><div data-pz-slot="nudge" class="pz-slot slot-nudge"></div>{checkout}'
        + row("You may also like", placements.CART_CROSS_SELL)
    )


def confirmation(order_id: str, tier: str | None, total: str) -> str:
    standing = f"You are now a {e(tier.capitalize())} member." if tier else ""
    return (
        f'<h1>Thank you!</h1><p id="order">Order {e(order_id)} is confirmed: {e(total)}.</p>'
        f'<p id="standing">{standing}</p><p><a href="/demo/">Continue shopping</a></p>'
    )


def login(customers: Iterable[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{e(cid)}">{e(name)} ({e(cid)})</option>' for cid, name in customers)
    return f"""<h1>Sign in</h1>
<form method="post" action="/demo/login"><label>Demo customer <select name="customer_id">
<option value="new">A new customer</option>{options}</select></label>
<button type="submit" id="sign-in">Sign in</button></form>"""


def placeholder_svg(item: Item) -> str:
    """A product picture drawn from its colour and title (the demo has no photographs)."""
    colors = {
        "red": "#c0392b",
        "black": "#222",
        "white": "#eee",
        "navy": "#1f2a44",
        "beige": "#d8c3a5",
        "green": "#2e7d32",
        "pink": "#e91e63",
        "blue": "#1565c0",
        "grey": "#888",
        "brown": "#6d4c41",
        "gold": "#c9a227",
        "silver": "#b0b0b0",
    }
    fill = colors.get(item.color, "#999")
    ink = "#222" if item.color in ("white", "beige", "gold", "silver") else "#fff"
    words = e(item.title[:28])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="300" viewBox="0 0 240 300">'
        f'<rect width="240" height="300" fill="{fill}"/><text x="120" y="150" font-family="sans-serif" '
        f'font-size="13" text-anchor="middle" fill="{ink}">{words}</text></svg>'
    )
