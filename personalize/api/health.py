"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import msgspec
from litestar import MediaType, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class Health(msgspec.Struct):
    """Liveness or readiness; ``catalog_items`` is the size of this process's catalog index."""

    status: str
    store: bool = True
    catalog_items: int = 0


@get("/healthz", tags=["operations"])
async def healthz() -> Health:
    """The process is up."""
    return Health("ok")


@get(
    "/readyz",
    tags=["operations"],
    responses={503: ResponseSpec(Health, description="Not ready: the store does not answer.", generate_examples=False)},
)
async def readyz(state: State) -> Response[Health]:
    """Ready to serve: the store answers. 503 otherwise."""
    runtime = state.runtime
    reachable = await runtime.store.ping()
    body = Health("ready" if reachable else "not_ready", reachable, len(runtime.catalog))
    return Response(body, status_code=200 if reachable else 503)


EXPOSITION = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")
"""Prometheus' content type without its charset: litestar adds ``; charset=utf-8`` to every ``text/`` type."""


@get("/metrics", media_type=MediaType.TEXT, tags=["operations"], include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus text exposition of this process's metrics."""
    runtime = state.runtime
    await runtime.measure_sizes()
    return Response(generate_latest(runtime.metrics.registry), media_type=EXPOSITION)
