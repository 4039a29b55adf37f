"""What every request handler shares in one process: settings, the store, the catalog index, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import msgspec

from loyalty_nudges.program import LoyaltyProgram
from personalize import identity
from personalize.campaigns.live import LiveCampaigns
from personalize.catalog.index import CatalogIndex
from personalize.experiments.live import LiveExperiments
from personalize.limits import BrowserLimits
from personalize.loyalty.program_file import LiveProgram
from personalize.models.artifacts import ModelSet, load_newest
from personalize.observability import Metrics
from personalize.pages.banner_rules import BannerRules
from personalize.pages.placement_cache import PlacementCache
from personalize.settings import Settings
from personalize.store import open_store, tracking_config
from personalize.store.protocols import Store, StoreError, StoreUnavailable
from personalize.tracking.trending_cache import TrendingCache

log = logging.getLogger("personalize.runtime")
STORE_RETRY_SECONDS = 1.0
"""How long page views go without a store found unreachable before trying it again."""


class Runtime:
    """Per-process state, built by ``create_app`` and held in ``app.state.runtime``."""

    def __init__(self, settings: Settings, store: Store, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.decay = tracking_config(settings)
        self.store = store
        self.catalog = CatalogIndex((), 0)
        self._store_down_until = 0.0
        self.trending = TrendingCache(
            self.store.tracking, settings.trending, self.decay.trend_half_life_ms, store_down=self.store_down
        )
        self.metrics = metrics or Metrics()
        self.identity_secret = settings.identity_secret or secrets.token_hex(32)
        self.models: ModelSet | None = None
        self.banners = BannerRules(settings)
        self.program = LiveProgram()
        self.experiments = LiveExperiments(self.banners)
        self.campaigns = LiveCampaigns(settings)
        self.limits = BrowserLimits(settings.limits, settings.api_key)
        self.placements = PlacementCache(settings.trending.cache_seconds)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def open(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        """A runtime over the store ``settings.store_url`` names, opened now (call it in the event loop that will
        use it: a server's lifespan, a command's ``asyncio.run``)."""
        return cls(settings, open_store(settings.store_url, tracking_config(settings)), metrics)

    def customer_from(self, token: str | None) -> str | None:
        """The customer id of a valid signed token; anonymous (``None``) otherwise."""
        return identity.verify_customer(token, self.identity_secret, time.time()) if token else None

    async def refresh_catalog(self) -> CatalogIndex:
        """Rebuild the catalog index when the store's catalog version moved."""
        version = await self.store.catalog.version()
        if version != self.catalog.version:
            items = [item async for item in self.store.catalog.all_items()]
            self.catalog = CatalogIndex(items, version)
            log.info("catalog index rebuilt: %d items, version %d", len(items), version)
        return self.catalog

    async def reload_models(self) -> ModelSet | None:
        """Load the newest artifact off the event loop and swap it in; requests in flight keep the old set."""
        loaded = await asyncio.to_thread(load_newest, Path(self.settings.models_dir))
        if loaded is None:
            log.warning("no trained models in %s: placements fall back to trending", self.settings.models_dir)
        else:
            self.models = loaded
        return loaded

    def use_program(self, program: LoyaltyProgram) -> None:
        """Run ``program`` from the next request on: one assignment of the settings (requests in flight keep theirs),
        and banner and campaign files are checked against its tiers."""
        self.settings = msgspec.structs.replace(self.settings, loyalty=program)
        self.banners.settings = self.campaigns.settings = self.settings

    def store_down(self) -> bool:
        """Whether the store failed within the last ``STORE_RETRY_SECONDS`` (page views then skip it)."""
        return time.monotonic() < self._store_down_until

    def store_failed(self, exc: StoreError) -> None:
        """Note an unreachable store: page views go without it for a moment instead of each waiting on it."""
        if not self.store_down():
            log.warning("store unreachable, serving non-personal pages for %.0f s: %s", STORE_RETRY_SECONDS, exc)
        self._store_down_until = time.monotonic() + STORE_RETRY_SECONDS

    async def segment_of(self, customer_id: str) -> str | None:
        """The customer's segment in the live segmentation run."""
        record = await self.store.segments.of(customer_id)
        return record.segment if record else None

    async def measure_sizes(self) -> None:
        """Set the gauges of what per-visitor state this process and its store hold (for ``/metrics``)."""
        self.metrics.buckets.labels("address").set(len(self.limits.by_address))
        self.metrics.buckets.labels("session").set(len(self.limits.by_session))
        try:
            sizes = await self.store.sizes()
        except StoreUnavailable:
            return
        self.metrics.sessions.set(sizes.sessions)
        if sizes.event_ids is not None:
            self.metrics.event_ids.set(sizes.event_ids)

    def start_refresher(self) -> None:
        """Poll the catalog version in the background (other processes may change the catalog)."""
        self.start_task(self._refresh_forever())

    def start_task(self, job: Coroutine[Any, Any, None]) -> None:
        """Run a background job until :meth:`close`."""
        self._tasks.append(asyncio.create_task(job))

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.catalog_refresh_seconds)
            try:
                await self.refresh_catalog()
                await self.banners.refresh(self.store)
                await self.program.refresh(self)
                await self.experiments.refresh(self.store)
                await self.campaigns.refresh(self.store)
            except StoreError as exc:
                log.warning("catalog, banner, program, experiments or campaigns refresh failed: %s", exc)

    async def close(self) -> None:
        """Stop the background jobs and release the store."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.store.close()
