"""Shared fixtures: a real ``redis-server`` for the session, stores on both backends, apps and clients.

The Redis side starts its own server on a free port (never the machine's 6379). Without the binary the
Redis tests skip with a reason, unless ``PZ_REQUIRE_REDIS=1`` (CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from personalize.settings import Settings, load_settings
from personalize.store import open_store, tracking_config
from personalize.store.protocols import Store

API_KEY = "test-api-key"
IDENTITY_SECRET = "test-identity-secret"
BACKENDS = ["memory", "redis"]
NO_MODELS = str(Path(tempfile.mkdtemp(prefix="pz-tests-")) / "no-models")
"""A models_dir nobody writes: tests serve without trained models unless they train some."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_or_skip(flag: str, reason: str) -> None:
    """Skip with ``reason``, or fail when the environment variable ``flag`` demands the tool."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} ({flag}=1 requires it)")
    pytest.skip(reason)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise TimeoutError(f"{what} within {timeout} s")


class RedisServer:
    """A redis-server process owned by the test session."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis.from_url(self.url)
        wait_until(self._answers, 10, f"redis-server on port {self.port} did not answer")

    def _answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.ConnectionError:
            return False

    def flush(self) -> None:
        self.client.flushall()

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        require_or_skip("PZ_REQUIRE_REDIS", "redis-server is not installed")
    server = RedisServer(str(binary), tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A clean database on the session's own redis-server."""
    redis_server.flush()
    return redis_server.url


UNLIMITED = {"PZ_LIMITS__IP_PER_SECOND": "0", "PZ_LIMITS__SESSION_PER_SECOND": "0"}
"""Tests drive many calls from one address and session: rate limits are off unless a test turns them on."""


def make_settings(config: str = "", **overrides: Any) -> Settings:
    """Test settings (from the settings file ``config`` too, when given); a test that turns the demo on passes
    ``models_dir`` too (else the demo would train into the shared no-models directory and other tests would find
    models there)."""
    if str(overrides.get("demo")).lower() == "true" and "models_dir" not in overrides:
        raise ValueError("a demo app in tests needs models_dir (e.g. the demo_models fixture)")
    env = {
        "PZ_API_KEY": API_KEY,
        "PZ_IDENTITY_SECRET": IDENTITY_SECRET,
        "PZ_ACCESS_LOG": "false",
        "PZ_MODELS_DIR": NO_MODELS,
        "PZ_SEGMENTS__EVERY_HOURS": "0",
        "PZ_LOYALTY_DAILY": "false",
        **UNLIMITED,
    }
    env.update({f"PZ_{key.upper()}": str(value) for key, value in overrides.items()})
    return load_settings(env, config_path=config)


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str:
    """``memory://`` or a clean Redis database: every test using it runs on both backends."""
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
def settings(backend_url: str) -> Settings:
    return make_settings(store_url=backend_url)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = open_store(settings.store_url, tracking_config(settings))
    yield opened
    await opened.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how the store contract suite went on each backend (it must run on both)."""
    counts: dict[str, dict[str, int]] = {backend: {} for backend in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") != "call" and outcome != "skipped":
                continue
            backend = next((b for b in BACKENDS if nodeid.startswith("tests/contract/") and f"[{b}" in nodeid), None)
            if backend:
                counts[backend][outcome] = counts[backend].get(outcome, 0) + 1
    if any(counts.values()):
        parts = [f"{b}: " + ", ".join(f"{n} {o}" for o, n in sorted(c.items())) for b, c in counts.items()]
        terminalreporter.write_line("store contract suite — " + "; ".join(parts))


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project; skips (or fails under ``PZ_REQUIRE_DATASETS=1``) when absent."""
    if not SHARED_DATA.is_dir():
        require_or_skip("PZ_REQUIRE_DATASETS", f"the public datasets are not at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store written once as JSONL for the session."""
    from fixtures import generate, write_jsonl

    out = tmp_path_factory.mktemp("demo")
    write_jsonl(generate(), out)
    return out


@pytest.fixture(scope="session")
def demo_models(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Models trained once on the demo store; the directory to point ``models_dir`` at."""
    from personalize.models.training import from_exports, iter_lines, train

    models_dir = tmp_path_factory.mktemp("models")
    data = from_exports(iter_lines(demo_dir / "events.jsonl"), iter_lines(demo_dir / "orders.jsonl"), "demo store")
    train(data, models_dir)
    return models_dir
