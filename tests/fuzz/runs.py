"""What one ``st run`` of the API fuzzer did, kept for the terminal summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FuzzRun:
    """What one ``st run`` did, from its JSON report."""

    exit_code: int
    complete: bool
    cases: int
    operations: int
    failures: int
    seconds: float
    seed: int
    store: str
    output: str

    @classmethod
    def from_report(
        cls,
        report: dict[str, Any],
        exit_code: int,
        output: str,
        seconds: float,
        seed: int,
        store: str,
    ) -> FuzzRun:
        cases = report.get("test_cases", {})
        return cls(
            exit_code=exit_code,
            complete=bool(report.get("complete")),
            cases=int(cases.get("generated", 0)),
            operations=int(report.get("operations", {}).get("tested", 0)),
            failures=int(cases.get("unique_failures", 0)),
            seconds=seconds,
            seed=seed,
            store=store,
            output=output,
        )

    def line(self) -> str:
        return (
            f"API fuzz (schemathesis, {self.store} store): {self.cases} cases over {self.operations} operations "
            f"in {self.seconds:.0f} s, seed {self.seed}, {self.failures} failures"
        )

    def failure_text(self) -> str:
        """The run's summary line and the end of schemathesis' own report (failures, reproduction commands)."""
        start = self.output.find("FAILURES")
        shown = self.output[start:] if start >= 0 else self.output
        return f"{self.line()}\n{shown[-12000:]}"


def record(run: FuzzRun) -> None:
    """Keep a run for the terminal summary."""
    RUNS.append(run)


def record_hostile(store: str, counts: dict[str, int]) -> None:
    """Keep the hostile-input cases sent to the served app, for the terminal summary."""
    HOSTILE[store] = counts


RUNS: list[FuzzRun] = []
HOSTILE: dict[str, dict[str, int]] = {}
