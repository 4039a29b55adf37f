"""The experiments a server runs: a versioned document of the store, like the banner rules
(``personalize.store.documents``); ``PUT /v1/admin/experiments`` validates the whole file
(``personalize.experiments.definitions``) before storing it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from banners import BannerSet
from loyalty_nudges.experiment_sums import Exposure
from personalize.experiments.assignment import Prepared, Treatment, prepare, treatment
from personalize.experiments.banner_tests import banner_experiments
from personalize.experiments.definitions import Experiment, ExperimentFile, parse_experiments
from personalize.pages.banner_rules import BannerRules
from personalize.store.documents import FileBacked, FileDocument, Versioned, read_file
from personalize.store.protocols import Store

DOCUMENT = "experiments"
REMEMBERED = 100_000
"""How many units' exposures to banner tests a process remembers, so a unit's later pages write nothing."""


class LiveExperiments(FileBacked[ExperimentFile]):
    """The definitions of one process and the stored version they came from (0: none stored), with the tests of
    the banner rules in service (``personalize.experiments.banner_tests``)."""

    def __init__(self, banners: BannerRules) -> None:
        self._file = Versioned(DOCUMENT, "experiments", ExperimentFile())
        self._prepared: tuple[Prepared, ...] = ()
        self._banners = banners
        self._compiled: BannerSet | None = None
        self._banner_tests: dict[str, Experiment] = {}
        self._exposed: OrderedDict[tuple[str, str], None] = OrderedDict()

    @property
    def defined(self) -> ExperimentFile:
        return self._file.value

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
        if await self._file.refresh(store, lambda document, _: parse_experiments(document.format, document.content)):
            self._prepared = prepare(self.defined.experiments)

    async def put(self, store: Store, document: FileDocument) -> int:
        """Validate, then store as the next version and serve it; nothing is stored when it is invalid."""
        version = await self._file.put(store, document, parse_experiments(document.format, document.content))
        self._prepared = prepare(self.defined.experiments)
        return version

    async def seed(self, store: Store, path: str | None) -> None:
        """At start: an empty store gets ``experiments_file`` when one is set."""
        if path and await store.config.get(DOCUMENT) is None:
            await self.put(store, read_file(path))
        await self.refresh(store)
