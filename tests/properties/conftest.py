"""The hostile-input test's case counts in pytest's terminal summary: CI prints how many cases ran per store."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.properties.test_hostile_input import pytest_terminal_summary_line

    line = pytest_terminal_summary_line()
    if line:
        terminalreporter.write_line(line)
