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
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter, PathParameter
from litestar.response import Redirect

from fixtures.pictures import picture_svg
from loyalty_nudges.coupons import normalize
from personalize import identity, money
from personalize.clock import now_ms
from personalize.demo import people, shop, storefront
from personalize.errors import ServiceError
from personalize.runtime import Runtime

CART = "pz_demo_cart"
SESSION = "pz_demo_session"
CODE = "pz_demo_code"
CONSENT = "pz_demo_consent"
MINE = "pz_demo_mine"
"""The new customers this browser created, so it can sign back in as them."""
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


def _may_sign_in(runtime: Runtime, customer_id: str) -> bool:
    """The demo store's customers, and the new ones this demo created (``demo-`` and hex)."""
    return _is_new_customer(customer_id) or customer_id in people.names(runtime.settings)


def _cart(request: Request[Any, Any, Any], runtime: Runtime) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    for part in request.cookies.get(CART, "").split(","):
        item_id, _, qty = part.partition(":")
        if runtime.catalog.get(item_id) is not None and qty.isdigit() and int(qty) > 0:
            lines.append((item_id, min(int(qty), 99)))
    return lines


def _cart_cookie(lines: list[tuple[str, int]]) -> str:
    return ",".join(f"{item_id}:{qty}" for item_id, qty in lines if qty > 0)


def _here(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _local(path: str | None, default: str = "/demo/") -> str:
    """A path back into the demo (never another site: the sign-in and consent forms carry one)."""
    if not path:
        return default
    parts = urlsplit(path)
    inside = parts.path == "/demo" or parts.path.startswith("/demo/")
    ok = not parts.scheme and not parts.netloc and inside and "\\" not in path
    return path if ok else default


def _consent(request: Request[Any, Any, Any]) -> str | None:
    choice = request.cookies.get(CONSENT)
    return choice if choice in ("on", "off") else None


def _mine(request: Request[Any, Any, Any]) -> list[str]:
    return [c for c in request.cookies.get(MINE, "").split(",") if _is_new_customer(c)][:5]


def _is_new_customer(customer_id: str) -> bool:
    suffix = customer_id.removeprefix(NEW_CUSTOMER_PREFIX)
    hexadecimal = len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix)
    return customer_id.startswith(NEW_CUSTOMER_PREFIX) and hexadecimal


async def _page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    template: str,
    title: str,
    page: dict[str, object],
    limit: int = 8,
    **context: object,
) -> Response[str]:
    nonce = secrets.token_urlsafe(16)
    customer_id = _signed_in(request, runtime)
    lines = _cart(request, runtime)
    consent = _consent(request)
    config: dict[str, object] = {
        "api": "",
        "page": page,
        "limit": limit,
        "currency": runtime.settings.currency,
        "consent": consent == "on",
    }
    customer = None
    if customer_id:
        config["customerToken"] = identity.sign_customer(customer_id, runtime.identity_secret, int(time.time()) + 3600)
        ledger, _ = await shop.member_tier(runtime, customer_id)
        customer = people.person(runtime, customer_id, ledger, None, now_ms())
    text = storefront.render(
        template,
        {
            "title": title,
            "nonce": nonce,
            "stub": _static("snippet-stub.js"),
            "config": config,
            "consent": consent,
            "customer": customer,
            "cart_count": sum(q for _, q in lines),
            "here": _here(request),
            "query": context.pop("query", ""),
            **context,
        },
    )
    csp = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
        "img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action 'self'"
    )
    return Response(
        text, media_type=MediaType.HTML, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"}
    )


def _not_found(what: str) -> Response[str]:
    return Response(f"no such {what}", status_code=404, media_type=MediaType.TEXT)


class DemoController(Controller):
    path = "/demo"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        """The home page."""
        return await _page(request, state.runtime, "home.html", "Home", {"type": "home"})

    @get("/category/{path:path}")
    async def category(
        self, path: Annotated[Path, PathParameter()], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """A category page ranked by the snippet."""
        scope = str(path).strip("/")
        catalog = state.runtime.catalog
        if scope not in catalog.by_category:
            return _not_found("category")
        count = sum(1 for item_id in catalog.by_category[scope] if catalog.items[item_id].in_stock)
        return await _page(
            request,
            state.runtime,
            "category.html",
            storefront.category_label(scope),
            {"type": "category", "category": scope},
            limit=24,
            label=storefront.category_label(scope),
            count=count,
        )

    @get("/products/{item_id:str}")
    async def product(
        self, item_id: Annotated[str, PathParameter(max_length=64)], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """A product page."""
        runtime = state.runtime
        item = runtime.catalog.get(item_id)
        if item is None:
            return _not_found("product")
        return await _page(
            request,
            runtime,
            "product.html",
            item.title,
            {"type": "product", "item_id": item_id},
            item=storefront.item_view(item, runtime.settings.currency),
            category_label=storefront.category_label(item.category),
        )

    @get("/search")
    async def search(
        self, request: Request[Any, Any, Any], state: State, q: Annotated[str, Parameter(max_length=100)] = ""
    ) -> Response[str]:
        """The shop's own search over its catalog; the snippet adds the trending row when nothing matches."""
        runtime = state.runtime
        found, more = storefront.search(runtime.catalog, q)
        page: dict[str, object] = {"type": "search", "query": q[:200]} if q else {"type": "search"}
        return await _page(
            request,
            runtime,
            "search.html",
            f"Search: {q}" if q else "Search",
            page,
            query=q,
            results=storefront.views(found, runtime.settings.currency),
            more=more,
        )

    @get("/cart")
    async def cart(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        """The cart: its prices with the member discount and the code, the nudge and cross-sell."""
        runtime = state.runtime
        customer_id = _signed_in(request, runtime)
        lines = _cart(request, runtime)
        view = await shop.cart(runtime, customer_id, lines, _code(request), now_ms())
        currency = runtime.settings.currency
        page: dict[str, object] = {"type": "cart", "cart": [{"item_id": i, "quantity": q} for i, q in lines]}
        if view.price.discount_minor:
            page["cart_discount"] = float(money.to_decimal(view.price.discount_minor, currency))
        first = runtime.settings.loyalty.tiers[0] if runtime.settings.loyalty.tiers else None
        return await _page(
            request,
            runtime,
            "cart.html",
            "Cart",
            page,
            lines=view.lines,
            price=view.shown,
            code_input=view.code_input,
            code_error=view.code_error,
            first_tier=first.title if first else "our first tier",
            first_tier_discount=f"{first.discount_pct:g}" if first else "0",
        )

    @post("/cart/add", status_code=303)
    async def add(self, data: Form, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Put one of an item into the cart."""
        lines = dict(_cart(request, state.runtime))
        item = state.runtime.catalog.get(data.get("item_id", ""))
        if item is not None and item.in_stock:
            lines[item.item_id] = min(lines.get(item.item_id, 0) + 1, 99)
        return _to("/demo/cart", {CART: _cart_cookie(list(lines.items()))})

    @post("/cart/remove", status_code=303)
    async def remove(self, data: Form, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Take an item out of the cart."""
        lines = [(i, q) for i, q in _cart(request, state.runtime) if i != data.get("item_id")]
        return _to("/demo/cart", {CART: _cart_cookie(lines)})

    @post("/cart/code", status_code=303)
    async def code(self, data: Form) -> Redirect:
        """Put a discount code on the cart (or take it off with an empty one); the cart says whether it applies."""
        code = normalize(data.get("code", ""))[:64]
        return _to("/demo/cart", {CODE: quote(code, safe="")})  # a cookie holds Latin-1 alone: whatever was typed

    @post("/checkout", status_code=303)
    async def checkout(self, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Redeem the code and complete the order server-to-server (as a shop's order system would), then show
        the confirmation; a code that no longer applies sends the customer back to the cart, which says why."""
        runtime = state.runtime
        customer_id = _signed_in(request, runtime)
        lines = _cart(request, runtime)
        if not customer_id:
            return _to("/demo/login?next=/demo/cart", {})
        if not lines:
            return _to("/demo/cart", {})
        try:
            order_id = await shop.place_order(runtime, customer_id, lines, _code(request), now_ms())
        except ServiceError:
            return _to("/demo/cart", {})
        return _to(f"/demo/orders/{order_id}", {CART: "", CODE: ""})

    @get("/orders/{order_id:str}")
    async def order(
        self, order_id: Annotated[str, PathParameter(max_length=100)], request: Request[Any, Any, Any], state: State
    ) -> Response[str]:
        """The order confirmation: its lines, discounts, the points it earned and the tier."""
        runtime = state.runtime
        stored = await runtime.store.ledger.order(order_id)
        if stored is None or stored.customer_id != _signed_in(request, runtime):
            return _not_found("order")
        return await _page(
            request, runtime, "order.html", "Thank you", {"type": "checkout"}, order=shop.order_view(runtime, stored)
        )

    @get("/login")
    async def login_form(
        self, request: Request[Any, Any, Any], state: State, next: Annotated[str, Parameter(max_length=500)] = ""
    ) -> Response[str]:
        """Pick a demo customer (or become a new one)."""
        runtime = state.runtime
        mine = [people.Person(customer_id=c, name=f"New customer {c}") for c in _mine(request)]
        return await _page(
            request,
            runtime,
            "login.html",
            "Sign in",
            {"type": "other"},
            people=await people.showcase(runtime, now_ms()),
            mine=mine,
            next=_local(next),
        )

    @post("/login", status_code=303)
    async def login(self, data: Form, request: Request[Any, Any, Any], state: State) -> Redirect:
        """Sign in as a demo customer (or a new one); the back end signs this customer's token into every page."""
        runtime = state.runtime
        chosen = data.get("customer_id", "new")
        cookies: dict[str, str] = {}
        if chosen == "new":
            chosen = f"{NEW_CUSTOMER_PREFIX}{secrets.token_hex(4)}"
            cookies[MINE] = ",".join([chosen, *_mine(request)][:5])
        if not _may_sign_in(runtime, chosen):
            return _to("/demo/login", {})
        return _to(_local(data.get("next")), {**cookies, SESSION: _session_cookie(runtime, chosen), CODE: ""})

    @post("/logout", status_code=303)
    async def logout(self) -> Redirect:
        """Sign out."""
        return _to("/demo/", {SESSION: "", CODE: ""})

    @post("/consent", status_code=303)
    async def consent(self, data: Form) -> Redirect:
        """Remember the visitor's choice about personalization (the pages tell the snippet on every view)."""
        choice = data.get("choice")
        back = _local(data.get("back"))
        return _to(back, {CONSENT: choice}) if choice in ("on", "off") else _to(back, {})

    @get("/images/{name:str}", media_type="image/svg+xml")
    async def image(self, name: Annotated[str, PathParameter(max_length=80)], state: State) -> Response[str]:
        """A product's picture, drawn from its category, colour and brand."""
        item = state.runtime.catalog.get(name.removesuffix(".svg"))
        if item is None:
            return Response("", status_code=404, media_type="image/svg+xml")
        return Response(
            picture_svg(item.category, item.color, item.brand),
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


def _code(request: Request[Any, Any, Any]) -> str:
    """The code the visitor put on the cart, as typed (normal form)."""
    return unquote(request.cookies.get(CODE, ""))


def _to(path: str, cookies: dict[str, str]) -> Redirect:
    redirect = Redirect(path, status_code=303)
    for name, value in cookies.items():
        redirect.set_cookie(
            name, value, path="/", samesite="lax", httponly=True, max_age=0 if not value else 86400 * 30
        )
    return redirect
