"""The banner rules a server serves: a versioned document of the store (``personalize.store.documents``),
compiled once per version; ``PUT /v1/admin/banners`` compiles a file completely before storing it."""

from __future__ import annotations

from importlib import resources

from banners import BannerError, BannerSet, load_banners
from personalize.settings import Settings
from personalize.store.documents import FileBacked, FileDocument, Versioned, read_file
from personalize.store.protocols import Store

DOCUMENT = "banners"


class BannerRules(FileBacked[BannerSet]):
    """The compiled banner set of one process and the stored version it came from."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        empty = self.compile(FileDocument("toml", ""), "empty")
        self._file = Versioned(DOCUMENT, "banner rules", empty, invalid=(BannerError,))

    @property
    def compiled(self) -> BannerSet:
        return self._file.value

    def compile(self, document: FileDocument, source: str) -> BannerSet:
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

    def _stored(self, document: FileDocument, version: int) -> BannerSet:
        return self.compile(document, f"banners v{version}")

    async def refresh(self, store: Store) -> None:
        """Recompile when another process stored a new version (an invalid stored file is logged, not served)."""
        await self._file.refresh(store, self._stored)

    async def put(self, store: Store, document: FileDocument, source: str) -> int:
        """Validate, then store as the next version and serve it; nothing is stored when it is invalid."""
        return await self._file.put(store, document, self.compile(document, source))

    async def seed(self, store: Store) -> None:
        """At start: an empty store gets ``banners_file`` (or, for the demo, the packaged demo rules)."""
        if await store.config.get(DOCUMENT) is None:
            initial = self._initial()
            if initial is not None:
                await self.put(store, initial, initial_source(self.settings))
        await self.refresh(store)

    def _initial(self) -> FileDocument | None:
        path = self.settings.banners_file
        if path:
            return read_file(path)
        if self.settings.demo:
            return FileDocument("toml", (resources.files("banners") / "demo_banners.toml").read_text())
        return None


def initial_source(settings: Settings) -> str:
    """How the first banner file is named in messages."""
    return settings.banners_file or "banners/demo_banners.toml"
