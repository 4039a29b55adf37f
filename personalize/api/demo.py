"""``/demo``: the demo storefront. Its back end plays the shop's: it keeps the cart, signs the customer
token and completes orders server-to-server; the browser only ever runs the public snippet.

Mounted only when the demo is on (``personalize serve`` on the memory store, or ``--demo``). Who is signed in
is a cookie the demo signs itself (:func:`_signed_in`), with a key derived from ``PZ_IDENTITY_SECRET`` for this
purpose alone: a cookie a browser writes names nobody, and the demo signs a customer token only for the
customer its own sign-in named. Sign-in accepts the demo store's customers and new ones it creates."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter
from litestar.response import Redirect

from personalize import identity, money
from personalize.clock import now_ms
from personalize.demo import storefront
from personalize.loyalty.orders import complete_order
from personalize.loyalty.types import OrderIn, OrderLineIn
from personalize.runtime import Runtime
from personalize.settings import Settings

CART = "pz_demo_cart"
SESSION = "pz_demo_session"
SESSION_SECONDS = 30 * 86400
NEW_CUSTOMER_PREFIX = "demo-"
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@cache
def _static(name: str) -> str:
    return (resources.files("personalize") / "static" / name).read_text()


def _session_key(runtime: Runtime) -> str:
    """The demo's own signing key: never a key that signs customer tokens or anything else."""
    return hmac.new(runtime.identity_secret.encode(), b"demo storefront session", hashlib.sha256).hexdigest()


def _signed_in(request: Request[Any, Any, Any], runtime: Runtime) -> str | None:
    """The customer the demo's own sign-in put in the session cookie; nobody for a missing or forged one."""
    cookie = request.cookies.get(SESSION)
    return identity.verify_customer(cookie, _session_key(runtime), time.time()) if cookie else None


def _session_cookie(runtime: Runtime, customer_id: str) -> str:
    return identity.sign_customer(customer_id, _session_key(runtime), int(time.time()) + SESSION_SECONDS)


@cache
def _demo_customers(settings: Settings) -> frozenset[str]:
    from personalize.demo.loader import demo_customers

    return frozenset(customer.customer_id for customer in demo_customers(settings))


def _may_sign_in(runtime: Runtime, customer_id: str) -> bool:
    """The demo store's customers, and the new ones this demo created (``demo-`` and hex)."""
    if customer_id.startswith(NEW_CUSTOMER_PREFIX):
        suffix = customer_id.removeprefix(NEW_CUSTOMER_PREFIX)
        return len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix)
    return customer_id in _demo_customers(runtime.settings)


def _cart(request: Request[Any, Any, Any], runtime: Runtime) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    for part in request.cookies.get(CART, "").split(","):
        item_id, _, qty = part.partition(":")
        if runtime.catalog.get(item_id) is not None and qty.isdigit():
            lines.append((item_id, min(int(qty), 99)))
    return lines


def _cart_cookie(lines: list[tuple[str, int]]) -> str:
    return ",".join(f"{item_id}:{qty}" for item_id, qty in lines if qty > 0)


def _page(
    request: Request[Any, Any, Any], runtime: Runtime, title: str, body: str, page: dict[str, object], limit: int = 8
) -> Response[str]:
    nonce = secrets.token_urlsafe(16)
    customer = _signed_in(request, runtime)
    lines = _cart(request, runtime)
    if page.get("type") == "cart":
        page = {**page, "cart": [{"item_id": i, "quantity": q} for i, q in lines]}
    config: dict[str, object] = {"api": "", "page": page, "limit": limit, "currency": runtime.settings.currency}
    if customer:
        config["customerToken"] = identity.sign_customer(customer, runtime.identity_secret, int(time.time()) + 3600)
    text = storefront.layout(
        title,
        body,
        nonce=nonce,
        stub=_static("snippet-stub.js"),
        config=config,
        customer=customer,
        cart_count=sum(q for _, q in lines),
    )
    csp = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
        "img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action 'self'"
    )
    return Response(
        text, media_type=MediaType.HTML, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"}
    )


class DemoController(Controller):
    path = "/demo"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        """The home page."""
        return _page(request, state.runtime, "Home", storefront.home(), {"type": "home"})

    @get("/category/{path:path}")
    async def category(
        self, path: Annotated[Path, PathParameter()], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """A category page ranked by the snippet."""
        scope = str(path).strip("/")
        if scope not in state.runtime.catalog.by_category:
            return Response("no such category", status_code=404, media_type=MediaType.TEXT)
        return _page(
            request, state.runtime, scope, storefront.category(scope), {"type": "category", "category": scope}, limit=24
        )

    @get("/products/{item_id:str}")
    async def product(
        self, item_id: Annotated[str, PathParameter(max_length=64)], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """A product page."""
        item = state.runtime.catalog.get(item_id)
        if item is None:
            return Response("no such product", status_code=404, media_type=MediaType.TEXT)
        body = storefront.product(item, state.runtime.settings.currency)
        return _page(request, state.runtime, item.title, body, {"type": "product", "item_id": item_id})

    @get("/cart")
    async def cart(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        """The cart, its nudge and cross-sell."""
        runtime = state.runtime
        lines = [(item, qty) for item_id, qty in _cart(request, runtime) if (item := runtime.catalog.get(item_id))]
        return _page(request, runtime, "Cart", storefront.cart(lines, runtime.settings.currency), {"type": "cart"})

    @post("/cart/add", status_code=303)
    async def add(self, data: Form, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Put one of an item into the cart."""
        lines = dict(_cart(request, state.runtime))
        if state.runtime.catalog.get(data.get("item_id", "")) is not None:
            lines[data["item_id"]] = lines.get(data["item_id"], 0) + 1
        return _to("/demo/cart", {CART: _cart_cookie(list(lines.items()))})

    @post("/cart/remove", status_code=303)
    async def remove(self, data: Form, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Take an item out of the cart."""
        lines = [(i, q) for i, q in _cart(request, state.runtime) if i != data.get("item_id")]
        return _to("/demo/cart", {CART: _cart_cookie(lines)})

    @post("/checkout", status_code=303)
    async def checkout(self, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Complete the order server-to-server (as a shop's order system would) and show the confirmation."""
        runtime = state.runtime
        customer = _signed_in(request, runtime)
        lines = _cart(request, runtime)
        if not customer:
            return _to("/demo/login", {})
        if not lines:
            return _to("/demo/cart", {})
        order = _order(runtime, customer, lines)
        await complete_order(runtime, order, now_ms())
        return _to(f"/demo/orders/{order.order_id}", {CART: ""})

    @get("/orders/{order_id:str}")
    async def order(
        self, order_id: Annotated[str, PathParameter(max_length=100)], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """The order confirmation."""
        runtime = state.runtime
        stored = await runtime.store.ledger.order(order_id)
        if stored is None or stored.customer_id != _signed_in(request, runtime):
            return Response("no such order", status_code=404, media_type=MediaType.TEXT)
        total = money.format_amount(stored.total_minor, runtime.settings.currency)
        body = storefront.confirmation(order_id, stored.tier_after, total)
        return _page(request, runtime, "Thank you", body, {"type": "checkout"})

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        """Pick a demo customer (or become a new one)."""
        customers = [(f"c{n:05d}", f"Demo customer {n}") for n in range(1, 21)]
        return _page(request, state.runtime, "Sign in", storefront.login(customers), {"type": "other"})

    @post("/login", status_code=303)
    async def login(self, data: Form, state: State) -> Redirect:
        """Sign in as a demo customer (or a new one); the back end signs this customer's token into every page."""
        runtime = state.runtime
        chosen = data.get("customer_id", "new")
        if chosen == "new":
            chosen = f"{NEW_CUSTOMER_PREFIX}{secrets.token_hex(4)}"
        if not _may_sign_in(runtime, chosen):
            return _to("/demo/login", {})
        return _to("/demo/", {SESSION: _session_cookie(runtime, chosen)})

    @post("/logout", status_code=303)
    async def logout(self) -> Redirect:
        """Sign out."""
        return _to("/demo/", {SESSION: ""})

    @get("/images/{name:str}", media_type="image/svg+xml")
    async def image(self, name: Annotated[str, PathParameter(max_length=80)], state: State) -> Response[str]:
        """A drawn product picture."""
        item = state.runtime.catalog.get(name.removesuffix(".svg"))
        if item is None:
            return Response("", status_code=404, media_type="image/svg+xml")
        return Response(
            storefront.placeholder_svg(item),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @get("/static/{name:str}")
    async def static(self, name: Annotated[str, PathParameter(max_length=40)]) -> Response[str]:
        """The demo's stylesheet and script."""
        types = {"demo.css": "text/css", "demo.js": "text/javascript"}
        if name not in types:
            return Response("", status_code=404, media_type=MediaType.TEXT)
        return Response(_static(name), media_type=types[name], headers={"Cache-Control": "public, max-age=300"})


def _to(path: str, cookies: dict[str, str]) -> Redirect:
    redirect = Redirect(path, status_code=303)
    for name, value in cookies.items():
        redirect.set_cookie(
            name, value, path="/", samesite="lax", httponly=True, max_age=0 if not value else 86400 * 30
        )
    return redirect


def _order(runtime: Runtime, customer: str, lines: list[tuple[str, int]]) -> OrderIn:
    currency = runtime.settings.currency
    items = []
    for item_id, qty in lines:
        item = runtime.catalog.items[item_id]
        price = money.to_decimal(item.price, currency)
        items.append(OrderLineIn(item_id=item_id, quantity=qty, price=price))
    total = sum((line.price * line.quantity for line in items), Decimal(0))
    return OrderIn(
        order_id=f"demo-{secrets.token_hex(6)}",
        customer_id=customer,
        items=items,
        total=total,
        currency=currency,
        completed_at=now_ms(),
    )
