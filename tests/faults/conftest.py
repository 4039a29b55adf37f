"""Fault tests' own processes: a redis-server per test that can be stopped, killed and started again on the same
port and data directory, and ``personalize serve`` processes the test can signal (SIGTERM, SIGKILL).

Nothing here touches the session's shared ``redis_server`` or the machine's Redis on 6379.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import API_KEY, free_port, require_or_skip, wait_until
from tests.serving import personalize_command, server_environment

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SUMMARY: list[str] = []
"""Lines the fault tests report (what ran, the figures), printed in pytest's terminal summary."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in SUMMARY:
        terminalreporter.write_line(line)


class OwnRedis:
    """A redis-server of one test on a free port, with AOF in its own data directory.

    ``stop`` terminates it (SIGTERM: Redis flushes the AOF and exits), ``kill`` sends SIGKILL, ``start`` runs it
    again on the same port and directory, so it reloads what the AOF holds; ``freeze`` and ``thaw`` stop and
    continue the process (SIGSTOP, SIGCONT).
    """

    def __init__(self, binary: str, workdir: Path, fsync: str = "everysec") -> None:
        self.binary, self.workdir, self.fsync = binary, workdir, fsync
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis(port=self.port, socket_timeout=5)
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "redis-server is already running"
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)),
                *("--save", "", "--appendonly", "yes", "--appendfsync", self.fsync),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 15, f"redis-server on port {self.port} did not answer")

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.ConnectionError:  # also while it loads the AOF (BusyLoadingError)
            return False

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted (the kernel's backlog) and nothing is answered, like a hung host."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        stat = Path(f"/proc/{self.process.pid}/stat")
        wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "T", 5, "redis-server stopped")

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> None:
        assert self.process is not None
        self.client.connection_pool.disconnect()
        self.process.send_signal(how)
        self.process.wait(timeout=15)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.stop()
        self.client.close()


class Server:
    """``personalize serve`` on a free port with its output in a file; the test may signal or kill it."""

    def __init__(self, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        environ = server_environment(env)
        # the output goes to a file: an undrained pipe would fill up and stall the server
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [*personalize_command(), "serve", "--port", str(self.port), *args],
                env=environ,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: self.ready() or self.process.poll() is not None, 60, f"server on {self.port} ready")
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()[-3000:]}")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=15)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        require_or_skip("PZ_REQUIRE_REDIS", "redis-server is not installed")
    return str(binary)


@pytest.fixture
def own_redis(redis_binary: str, tmp_path: Path) -> Iterator[Callable[..., OwnRedis]]:
    """Start this test's own redis-server(s): ``own_redis(fsync="always")``."""
    started: list[OwnRedis] = []

    def start(**options: Any) -> OwnRedis:
        workdir = tmp_path / f"redis-{len(started)}"
        workdir.mkdir()
        started.append(OwnRedis(redis_binary, workdir, **options))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``personalize serve ARGS`` processes the test can signal; whatever still runs is stopped afterwards."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        started.append(Server(tmp_path / f"server-{len(started)}.log", *args, env=env))
        return started[-1]

    yield start
    for server in started:
        server.close()


def order(order_id: str, customer_id: str, total: int) -> dict[str, Any]:
    """A valid ``POST /v1/orders`` body: one line of ``total`` (whole currency units)."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "items": [{"item_id": "x", "quantity": 1, "price": total}],
        "total": total,
        "currency": "USD",
        "completed_at": "2026-11-20T10:00:00Z",
    }


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (not empty)."""
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(fraction * len(ranked)) - 1))]


def elapsed(start: float) -> float:
    return time.monotonic() - start
