"""The banner rules a server serves: one versioned document in the store, compiled once per version.

``PUT /v1/admin/banners`` validates a file completely before storing it, so a rejected file never
reaches the store and the previous rules keep serving; every process notices a new version within
``catalog_refresh_seconds`` and swaps its compiled set in one assignment.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec

from banners import BannerSet, load_banners
from personalize.settings import Settings
from personalize.store.protocols import Store

log = logging.getLogger("personalize.banners")
DOCUMENT = "banners"
Format = Literal["toml", "json"]


class BannerDocument(msgspec.Struct, frozen=True):
    """A stored banner file: its format and its text exactly as uploaded."""

    format: Format
    content: str


class BannerRules:
    """The compiled banner set of one process and the stored version it came from."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = 0
        self.document: BannerDocument | None = None
        self.compiled: BannerSet = self.compile(BannerDocument("toml", ""), "empty")

    def compile(self, document: BannerDocument, source: str) -> BannerSet:
        """Validate and compile a banner file; raises ``banners.BannerError`` naming source, banner, field."""
        segments = {rule.name for rule in self.settings.segments.rules}
        return load_banners(
            document.content.encode(),
            source=source,
            fmt=document.format,
            known_tiers={tier.name for tier in self.settings.loyalty.tiers},
            known_segments=segments,
            currency_exponent=self.settings.currency_exponent,
        )

    async def refresh(self, store: Store) -> None:
        """Recompile when another process stored a new version (an invalid stored file is logged, not served)."""
        stored = await store.config.get(DOCUMENT)
        if stored is None or stored[0] == self.version:
            return
        version, raw = stored
        document = msgspec.msgpack.decode(raw, type=BannerDocument)
        self.compiled, self.document, self.version = self.compile(document, f"banners v{version}"), document, version
        log.info("banner rules version %d in service", version)

    async def put(self, store: Store, document: BannerDocument, source: str) -> int:
        """Validate, then store as the next version and serve it; nothing is stored when it is invalid."""
        compiled = self.compile(document, source)
        version = await store.config.put(DOCUMENT, msgspec.msgpack.encode(document))
        self.compiled, self.document, self.version = compiled, document, version
        return version

    async def seed(self, store: Store) -> None:
        """At start: an empty store gets ``banners_file`` (or, for the demo, the packaged demo rules)."""
        if await store.config.get(DOCUMENT) is None:
            initial = self._initial()
            if initial is not None:
                await self.put(store, initial, initial_source(self.settings))
        await self.refresh(store)

    def _initial(self) -> BannerDocument | None:
        path = self.settings.banners_file
        if path:
            return BannerDocument("json" if path.endswith(".json") else "toml", Path(path).read_text())
        if self.settings.demo:
            return BannerDocument("toml", (resources.files("banners") / "demo_banners.toml").read_text())
        return None


def initial_source(settings: Settings) -> str:
    """How the first banner file is named in messages."""
    return settings.banners_file or "banners/demo_banners.toml"
