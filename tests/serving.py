"""Real server processes for end-to-end tests: ``personalize serve`` on a free port, stopped afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import API_KEY, IDENTITY_SECRET, NO_MODELS, UNLIMITED, free_port, wait_until


def personalize_command() -> list[str]:
    script = Path(sys.executable).with_name("personalize")
    return [str(script)] if script.exists() else [shutil.which("personalize") or "personalize"]


def server_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test server: the test keys, no access log, no models, no jobs, no rate limits."""
    environ = {
        **os.environ,
        "PZ_API_KEY": API_KEY,
        "PZ_IDENTITY_SECRET": IDENTITY_SECRET,
        "PZ_ACCESS_LOG": "false",
        "PZ_MODELS_DIR": NO_MODELS,
        "PZ_SEGMENTS__EVERY_HOURS": "0",
        "PZ_LOYALTY_DAILY": "false",
        **UNLIMITED,
    }
    environ.pop("PZ_CONFIG", None)  # the developer's own settings file must not leak into tests; a test may name one
    return {**environ, **(env or {})}


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[str]:
    """Start ``personalize serve ARGS`` and yield its base URL once ``/readyz`` answers 200."""
    port = free_port()
    environ = server_environment(env)
    command = [*personalize_command(), "serve", "--port", str(port), *args]
    # the server's output goes to a file: an undrained pipe would fill up and stall the server
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(command, env=environ, stdout=output, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ready(base) or process.poll() is not None, timeout, f"{' '.join(command)} ready")
            if process.poll() is not None:
                output.seek(0)
                raise RuntimeError(f"server exited with {process.returncode}: {output.read()[-3000:]}")
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
