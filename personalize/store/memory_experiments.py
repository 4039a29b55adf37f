"""The embedded store's experiments: each unit's record and each arm's sums in dicts (see ``memory`` on atomicity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loyalty_nudges.experiment_sums import Exposure, Sums, UnitRecord, added, exposure_sums


class MemoryExperiments:
    """Units by ``(experiment id, unit)`` and sums by ``(experiment id, arm)``; ``lifetime`` gives a customer's
    lifetime spend (the covariate of a customer unit)."""

    def __init__(self, lifetime: Callable[[str], int]) -> None:
        self._lifetime = lifetime
        self._units: dict[tuple[str, str], UnitRecord] = {}
        self._sums: dict[tuple[str, str], Sums] = {}

    async def expose(self, exposures: Sequence[Exposure], now_ms: int) -> int:
        return self.record(exposures, now_ms)

    def record(self, exposures: Sequence[Exposure], now_ms: int) -> int:
        """:meth:`expose` without an await (a page view's part of its one step)."""
        first = 0
        for exposure in exposures:
            name = (exposure.experiment_id, exposure.unit)
            if name in self._units:
                continue
            customer = exposure.customer_id
            covariate = self._lifetime(customer) if customer else 0
            self._units[name] = UnitRecord(exposure.arm, now_ms, covariate)
            self.move(exposure.experiment_id, exposure.arm, exposure_sums(covariate, customer is not None))
            first += 1
        return first

    def move(self, experiment_id: str, arm: str, delta: Sums) -> None:
        """Add ``delta`` to an arm's sums."""
        name = (experiment_id, arm)
        self._sums[name] = added(self._sums.get(name, {}), delta)

    def read(self, names: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UnitRecord | None]:
        return {name: self._units.get(name) for name in names}

    def write(self, units: dict[tuple[str, str], UnitRecord]) -> None:
        self._units.update(units)

    async def unit(self, experiment_id: str, unit: str) -> UnitRecord | None:
        return self._units.get((experiment_id, unit))

    async def arm_sums(self, experiment_id: str, arms: Sequence[str]) -> dict[str, Sums]:
        return {arm: dict(self._sums.get((experiment_id, arm), {})) for arm in arms}

    async def count_clicks(self, clicks: Sequence[tuple[str, str, str]]) -> int:
        counted = 0
        for experiment_id, unit, placement in clicks:
            record = self._units.get((experiment_id, unit))
            if record is not None:
                self.move(experiment_id, record.arm, {f"k:{placement}": 1})
                counted += 1
        return counted
