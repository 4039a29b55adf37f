"""``personalize serve`` refuses to start on a bad setting or a store it cannot use: quickly, with status 2 and one
line that names the problem, no traceback.

``tests/api/test_served.py`` covers ``--port 0``, ``--workers 2`` on the memory store and Redis on port 1 by their
words; these add the environment's bad values, a store on a free port and one that accepts connections but never
answers, a port already taken, and the shape of the message and the time it takes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import API_KEY, free_port
from tests.serving import personalize_command

pytestmark = pytest.mark.slow

QUICK_S = 10.0
"""Generous: a store that never answers costs the client's socket timeout (5 s) plus the interpreter's start."""


@pytest.fixture
def listening() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never reads or answers anything."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def start(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    environ = {**os.environ, "PZ_API_KEY": API_KEY, **env}
    environ.pop("PZ_CONFIG", None)
    started = time.monotonic()
    result = subprocess.run(
        [*personalize_command(), "serve", "--no-demo"], env=environ, capture_output=True, text=True, timeout=60
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PZ_PORT": "abc"}, ["bad setting", "PZ_PORT", "int"]),
        ({"PZ_PORT": "70000"}, ["bad setting", "PZ_PORT", "65535"]),
        ({"PZ_STORE_URL": "redis://127.0.0.1:{free}/0"}, ["not reachable", "PZ_STORE_URL"]),
        ({"PZ_STORE_URL": "redis://127.0.0.1:{listening}/0"}, ["not reachable", "PZ_STORE_URL"]),
        ({"PZ_PORT": "{listening}"}, ["cannot listen", "PZ_PORT", "in use"]),
    ],
    ids=["port-not-a-number", "port-out-of-range", "redis-nobody-listens", "redis-never-answers", "port-taken"],
)
def test_a_bad_start_exits_2_quickly_with_one_line_naming_the_problem(
    env: dict[str, str], words: list[str], listening: int
) -> None:
    result, seconds = start({key: value.format(free=free_port(), listening=listening) for key, value in env.items()})
    print(f"\n{seconds:.1f} s: {result.stderr.strip()}", end="")
    assert result.returncode == 2, result.stderr
    assert seconds < QUICK_S
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no traceback, no log lines of a start that went on
    assert lines[0].startswith("personalize: ")
    assert all(word in lines[0] for word in words), lines[0]
    assert result.stdout == ""
