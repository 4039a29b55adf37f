"""The experiments a server runs: one versioned document in the store, like the banner rules.

``PUT /v1/admin/experiments`` validates the whole file (``personalize.experiments.definitions``) before storing it,
so a rejected file never reaches the store and the previous definitions keep serving; every process notices a new
version within ``catalog_refresh_seconds``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import msgspec

from banners import BannerSet
from loyalty_nudges.experiment_sums import Exposure
from personalize.errors import Refused
from personalize.experiments.assignment import Prepared, Treatment, prepare, treatment
from personalize.experiments.banner_tests import banner_experiments
from personalize.experiments.definitions import Experiment, ExperimentFile, parse_experiments
from personalize.pages.banner_rules import BannerRules
from personalize.store.protocols import Store

log = logging.getLogger("personalize.experiments")
DOCUMENT = "experiments"
Format = Literal["toml", "json"]
REMEMBERED = 100_000
"""How many units' exposures to banner tests a process remembers, so a unit's later pages write nothing."""


class ExperimentDocument(msgspec.Struct, frozen=True):
    """A stored experiments file: its format and its text exactly as uploaded."""

    format: Format
    content: str


class LiveExperiments:
    """The definitions of one process and the stored version they came from (0: none stored), with the tests of
    the banner rules in service (``personalize.experiments.banner_tests``)."""

    def __init__(self, banners: BannerRules) -> None:
        self.version = 0
        self.document: ExperimentDocument | None = None
        self.defined: ExperimentFile = ExperimentFile()
        self._prepared: tuple[Prepared, ...] = ()
        self._banners = banners
        self._compiled: BannerSet | None = None
        self._banner_tests: dict[str, Experiment] = {}
        self._exposed: OrderedDict[tuple[str, str], None] = OrderedDict()

    def _use(self, defined: ExperimentFile, document: ExperimentDocument, version: int) -> None:
        self.defined, self.document, self.version = defined, document, version
        self._prepared = prepare(defined.experiments)

    @property
    def banner_tests(self) -> dict[str, Experiment]:
        """The banner rules' tests as experiments, by banner id (rebuilt when the rules change)."""
        if self._banners.compiled is not self._compiled:
            self._compiled = self._banners.compiled
            self._banner_tests = banner_experiments(self._compiled)
        return self._banner_tests

    @property
    def by_id(self) -> dict[str, Experiment]:
        """Every experiment by id: the definitions file's and the banner tests."""
        found = {experiment.id: experiment for experiment in self.defined.experiments}
        return found | {experiment.id: experiment for experiment in self.banner_tests.values()}

    def running(self, at_ms: int) -> list[Experiment]:
        """The experiments that assign units and count orders at ``at_ms``."""
        every = [*self.defined.experiments, *self.banner_tests.values()]
        return [experiment for experiment in every if experiment.running(at_ms)]

    def unseen(self, exposures: Sequence[Exposure]) -> list[Exposure]:
        """The exposures this process has not recorded (:meth:`remember`) yet."""
        return [exposure for exposure in exposures if (exposure.experiment_id, exposure.unit) not in self._exposed]

    def remember(self, exposures: Sequence[Exposure]) -> None:
        """Note exposures the store recorded (the oldest are forgotten past :data:`REMEMBERED`)."""
        for exposure in exposures:
            self._exposed[(exposure.experiment_id, exposure.unit)] = None
        while len(self._exposed) > REMEMBERED:
            self._exposed.popitem(last=False)

    def treatment(
        self, *, page_type: str, placements: tuple[str, ...], customer_id: str | None, session_id: str, now_ms: int
    ) -> Treatment:
        """What the running experiments do to one page view (nothing, at no cost, when none are defined)."""
        if not self._prepared:
            return Treatment()
        return treatment(
            self._prepared,
            page_type=page_type,
            placements=placements,
            customer_id=customer_id,
            session_id=session_id,
            now_ms=now_ms,
        )

    async def refresh(self, store: Store) -> None:
        """Swap in the definitions another process stored (a stored file that no longer validates is logged)."""
        stored = await store.config.get(DOCUMENT)
        if stored is None or stored[0] == self.version:
            return
        version, raw = stored
        document = msgspec.msgpack.decode(raw, type=ExperimentDocument)
        try:
            defined = parse_experiments(document.format, document.content)
        except Refused as exc:
            log.error("stored experiments v%d do not validate, keeping the running ones: %s", version, exc)
            self.version = version
            return
        self._use(defined, document, version)
        log.info("experiments version %d in service (%d defined)", version, len(defined.experiments))

    async def put(self, store: Store, document: ExperimentDocument) -> int:
        """Validate, then store as the next version and serve it; nothing is stored when it is invalid."""
        defined = parse_experiments(document.format, document.content)
        version = await store.config.put(DOCUMENT, msgspec.msgpack.encode(document))
        self._use(defined, document, version)
        return version

    async def seed(self, store: Store, path: str | None) -> None:
        """At start: an empty store gets ``experiments_file`` when one is set."""
        if path and await store.config.get(DOCUMENT) is None:
            await self.put(store, _file(path))
        await self.refresh(store)


def _file(path: str) -> ExperimentDocument:
    return ExperimentDocument("json" if path.endswith(".json") else "toml", Path(path).read_text())
