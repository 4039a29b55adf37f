"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import msgspec
from litestar import MediaType, Response, get, head
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from personalize.runtime import Runtime


class Health(msgspec.Struct):
    """Liveness or readiness; ``store`` whether the store answered (``null`` on ``/healthz``, which does not ask
    it), ``catalog_items`` the size of this process's catalog index, ``models`` the version of the models it
    serves (``null``: none, placements fall back to trending)."""

    status: str
    store: bool | None
    catalog_items: int
    models: str | None


@get("/healthz", tags=["operations"])
async def healthz(state: State) -> Health:
    """The process is up (the store is not asked), with what it holds."""
    runtime = state.runtime
    return Health("ok", None, len(runtime.catalog), _models(runtime))


@get(
    "/readyz",
    tags=["operations"],
    responses={503: ResponseSpec(Health, description="Not ready: the store does not answer.", generate_examples=False)},
)
async def readyz(state: State) -> Response[Health]:
    """Ready to serve: the store answers. 503 otherwise."""
    runtime = state.runtime
    reachable = await runtime.store.ping()
    body = Health("ready" if reachable else "not_ready", reachable, len(runtime.catalog), _models(runtime))
    return Response(body, status_code=200 if reachable else 503)


def _models(runtime: Runtime) -> str | None:
    return runtime.models.version if runtime.models else None


EXPOSITION = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")
"""Prometheus' content type without its charset: litestar adds ``; charset=utf-8`` to every ``text/`` type."""


@get("/metrics", media_type=MediaType.TEXT, tags=["operations"], include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus text exposition of this process's metrics."""
    runtime = state.runtime
    await runtime.measure_sizes()
    return Response(generate_latest(runtime.metrics.registry), media_type=EXPOSITION)


@head("/metrics", media_type=MediaType.TEXT, tags=["operations"], include_in_schema=False)
async def metrics_head() -> Response[None]:
    """What ``GET /metrics`` answers, without the body (a monitor checking the endpoint is there)."""
    return Response(None, media_type=EXPOSITION)


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response[bytes]:
    """The server's icon (browsers ask for it on every page: the demo's, the API docs')."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" '
    b'fill="#1f2a44"/><path d="M9 24V8h8a5 5 0 0 1 0 10h-8" fill="none" stroke="#f6efe6" stroke-width="3"/></svg>'
)
