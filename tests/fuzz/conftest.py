"""The API fuzzer's result in pytest's terminal summary: CI prints how many cases ran."""

from __future__ import annotations

from typing import Any

from tests.fuzz.runs import HOSTILE, RUNS
from tests.properties.hostile import summary


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for run in RUNS:
        terminalreporter.write_line(run.line())
    if len(RUNS) > 1:
        terminalreporter.write_line(f"API fuzz: {sum(run.cases for run in RUNS)} cases in all")
    for store, counts in HOSTILE.items():
        terminalreporter.write_line(
            f"API fuzz, hostile input against the served app ({store} store): {summary(counts)}"
        )
