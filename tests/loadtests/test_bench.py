"""The load generator of ``python -m loadtests.bench`` against a real uvicorn process, and the report it writes."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtests import bench, bench_report
from loadtests.loadgen import fixed_rate, post, saturate
from tests.conftest import free_port, wait_until


@pytest.fixture(scope="module")
def bare_port() -> Iterator[int]:
    port = free_port()
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    env = {**os.environ, "PZ_BENCH_BODY_BYTES": "3000"}
    command = [uvicorn, "--factory", "--port", str(port), "--log-level", "warning", "loadtests.bare_app:build"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: bench._answers_http(f"http://127.0.0.1:{port}/bare"), 30, "bare endpoint")
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.slow
def test_the_bare_endpoint_answers_the_size_asked(bare_port: int) -> None:
    answer = httpx.post(f"http://127.0.0.1:{bare_port}/bare", json={"page": {"type": "home"}})
    assert (answer.status_code, len(answer.content)) == (200, 3000)
    assert answer.json()["items"][0]["reason"] == "trending"


@pytest.mark.slow
def test_saturation_counts_every_answer(bare_port: int) -> None:
    requests = [post("127.0.0.1", bare_port, "/bare", {"n": n}) for n in range(3)]
    result = asyncio.run(saturate("127.0.0.1", bare_port, requests, 0.5, 4))
    assert result.requests > 50
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert 0 < result.generator_cpu <= 1.5


@pytest.mark.slow
def test_a_fixed_rate_sends_what_is_due_and_counts_errors(bare_port: int) -> None:
    good = post("127.0.0.1", bare_port, "/bare", {"n": 1})
    missing = post("127.0.0.1", bare_port, "/nowhere", {"n": 1})
    result = asyncio.run(fixed_rate("127.0.0.1", bare_port, [good, missing], 200, 1.0, 4))
    assert result.requests == 200
    assert result.errors == 100
    assert result.rate == pytest.approx(200, rel=0.25)


def test_the_server_cpu_of_a_process_tree_counts_its_children() -> None:
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", burn])
    try:
        wait_until(lambda: bench._tree_cpu(child.pid) >= 0.3, 20, "the child burning 0.3 s of CPU")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        assert bench._tree_cpu(os.getpid()) >= usage.ru_utime + usage.ru_stime + 0.25  # this process and the child
    finally:
        child.kill()
        child.wait()


def test_the_report_replaces_only_its_own_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(
        f"# Benchmarks\n\nkept above\n\n{bench_report.START}\nold figures\n{bench_report.END}\n\nkept below\n"
    )
    bench_report.write(out, f"{bench_report.START}\nnew figures\n{bench_report.END}")
    assert (
        out.read_text()
        == f"# Benchmarks\n\nkept above\n\n{bench_report.START}\nnew figures\n{bench_report.END}\n\nkept below\n"
    )
    fresh = tmp_path / "NEW.md"
    bench_report.write(fresh, f"{bench_report.START}\nfigures\n{bench_report.END}")
    assert fresh.read_text() == f"# Benchmarks\n\n{bench_report.START}\nfigures\n{bench_report.END}\n"


def row(store: str, target: str, rps: float, busy: float = 0.5) -> bench_report.Row:
    return bench_report.Row(
        store=store,
        target=target,
        saturated_rps=rps,
        cpu_us=1e6 / rps,
        p50_ms=1.0,
        p95_ms=2.0,
        p99_ms=3.0,
        errors=0,
        generator_cpu=0.4,
        machine_busy=busy,
    )


def test_the_report_gives_ratios_to_bare_scaling_and_memory() -> None:
    rows = [
        row("memory", "bare endpoint", 10_000),
        row("memory", "product", 4_000),
        row("memory", "events (20 per call)", 1_500),
        row("redis", "bare endpoint", 8_000),
        row("redis", "product, 1 worker(s)", 2_000),
        row("redis", "product, 2 worker(s)", 3_000, busy=0.95),
    ]
    args = argparse.Namespace(seconds=8.0, connections=32)
    memory = {"items": 100_000.0, "idle_mb": 370.0, "loaded_mb": 550.0}
    report = bench_report.report(rows, {"1": 2_000, "2": 3_000}, memory, args)
    assert report.startswith(bench_report.START)
    assert report.endswith(bench_report.END)
    assert "| memory | product | 4,000 | 40 % | 250 | 50% |" in report
    assert "| redis | product, 2 worker(s) | 3,000 | 38 % |" in report
    assert "memory 30,000 events/s (batches of 20)" in report
    assert "2,000 → 3,000 req/s (+50 %)" in report
    assert "95% busy during the two-worker run" in report
    assert "550 MB holding 100,000 catalog items" in report
    assert "it had room to spare" in report
