"""``create_app(settings)``: the one place a Litestar application is built."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from personalize.api.admin import AdminController
from personalize.api.auth import API_KEY_SCHEME
from personalize.api.bodies import ExactJsonRequest
from personalize.api.campaigns import CampaignsController
from personalize.api.catalog import CatalogController
from personalize.api.coupons import CouponsController
from personalize.api.customers import (
    customer_action,
    customer_export,
    customer_loyalty,
    delete_customer,
    store_customer,
)
from personalize.api.demo import DemoController
from personalize.api.events import track_events
from personalize.api.experiments import ExperimentsController
from personalize.api.health import favicon, healthz, metrics, metrics_head, readyz
from personalize.api.orders import OrdersController
from personalize.api.pages import page_view
from personalize.api.rewards import cancel_redemption, create_redemption, rewards
from personalize.api.segments import SegmentsController
from personalize.api.sessions import session_profile
from personalize.api.snippet import REDOC, redoc, snippet, snippet_stub
from personalize.demo.loader import load_demo_if_empty, train_demo_if_untrained
from personalize.errors import EXCEPTION_HANDLERS
from personalize.loyalty.daily import run_daily
from personalize.loyalty.jobs import segment_periodically
from personalize.observability import Metrics, RequestObserver
from personalize.openapi import ClosedStructs
from personalize.runtime import Runtime
from personalize.settings import Settings
from personalize.store.protocols import Store

log = logging.getLogger("personalize.app")
_FAVICON = "<link rel='icon' type='image/svg+xml' href='/favicon.ico'>"


class StartupError(RuntimeError):
    """The server cannot start; the message says why."""


def create_app(settings: Settings, store: Store | None = None) -> Litestar:
    """Wire settings, store, controllers, error handlers and middleware into an ASGI app.

    Args:
        settings: the validated settings tree.
        store: an already open store (tests); by default the lifespan opens the one ``settings.store_url`` names.
    """
    counters = Metrics()
    catalog = Router("/", route_handlers=[CatalogController], request_max_body_size=settings.max_catalog_body_bytes)
    cors = (
        CORSConfig(allow_origins=settings.cors_origins, allow_methods=["GET", "POST"])
        if settings.cors_origins
        else None
    )
    # the demo storefront plays a shop's back end (it signs tokens and completes orders): only when it is on
    demo = [DemoController] if settings.demo else []
    return Litestar(
        route_handlers=[
            OrdersController,
            CouponsController,
            SegmentsController,
            customer_loyalty,
            store_customer,
            delete_customer,
            customer_export,
            customer_action,
            rewards,
            create_redemption,
            cancel_redemption,
            catalog,
            AdminController,
            ExperimentsController,
            CampaignsController,
            track_events,
            page_view,
            session_profile,
            healthz,
            readyz,
            metrics,
            metrics_head,
            favicon,
            snippet,
            snippet_stub,
            redoc,
            *demo,
        ],
        state=State({"settings": settings, "metrics": counters, "given_store": store}),
        request_class=ExactJsonRequest,
        lifespan=[_lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[DefineMiddleware(RequestObserver, metrics=counters, log_requests=settings.access_log)],
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Storefront personalization API",
            version="1.0.0",
            path="/schema",
            render_plugins=[RedocRenderPlugin(js_url=REDOC, google_fonts=False, favicon=_FAVICON)],
            components=Components(
                security_schemes={API_KEY_SCHEME: SecurityScheme(type="http", scheme="bearer")},
            ),
        ),
        plugins=[ClosedStructs()],
        logging_config=None,  # logging is configured once per process by the entry point (personalize.logs)
        debug=False,
    )


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the store in this event loop, prepare the process (demo, catalog index, models, banners, jobs), and
    release it all at the end."""
    settings: Settings = app.state.settings
    given: Store | None = app.state.given_store
    runtime = Runtime(settings, given, app.state.metrics) if given else Runtime.open(settings, app.state.metrics)
    app.state.runtime = runtime
    if not await runtime.store.ping():
        raise StartupError(f"store {settings.store_url} is not reachable (PZ_STORE_URL)")
    if not runtime.store.shared:
        log.warning("memory store: state lives in this one process and is lost when it stops")
    await load_demo_if_empty(runtime)  # a memory store's own worker loads it (a shared one: personalize serve did)
    await train_demo_if_untrained(runtime)
    await runtime.refresh_catalog()
    await runtime.reload_models()
    await runtime.banners.seed(runtime.store)
    await runtime.program.refresh(runtime)
    await runtime.experiments.seed(runtime.store, settings.experiments_file or None)
    runtime.start_refresher()
    # what start-up built (catalog index, models, demo) lives as long as the process: keep it out of the
    # collector's full passes, which otherwise walk it all and show as pauses in the latency tail
    gc.collect()
    gc.freeze()
    if settings.segments.every_hours > 0:
        runtime.start_task(segment_periodically(runtime))
    if settings.loyalty_daily:
        runtime.start_task(run_daily(runtime))
    try:
        yield
    finally:
        gc.unfreeze()  # what start-up built may now be collected (tests build many apps in one process)
        await runtime.close()
