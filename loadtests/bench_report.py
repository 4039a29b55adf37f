"""The report ``python -m loadtests.bench`` prints and writes into ``BENCHMARKS.md`` between its markers."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


class Row(msgspec.Struct, kw_only=True):
    """One target measured at saturation and at half of its saturation rate."""

    store: str
    target: str
    saturated_rps: float
    cpu_us: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    generator_cpu: float
    machine_busy: float
    """Share of all the machine's cores busy during the saturation run (server, store, generator, the rest)."""


def report(rows: list[Row], scaling: dict[str, float], memory: dict[str, float] | None, args: Any) -> str:
    floor = {row.store: row.saturated_rps for row in rows if row.target == "bare endpoint"}
    lines = [
        START,
        f"## `make bench` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Command: `make bench` (`python -m loadtests.bench --seconds {args.seconds:g} "
        f"--connections {args.connections}`).",
        f"Machine: {_machine()}. Versions: {_versions()}.",
        "One uvicorn worker per server (access log on, to a file), the demo store with models trained on it; half",
        "of the sessions are signed customers. The load process drives each target at saturation with",
        f"{args.connections} connections for {args.seconds:g} s, then at half of that rate for {args.seconds:g} s",
        "(latency from each request's due time). CPU is the server's user + system time per request at saturation;",
        "machine busy is the share of all cores in use meanwhile (server, Redis, load generator and the rest).",
        "",
        "| store | target | req/s at saturation | % of bare | server CPU µs/req | machine busy "
        "| p50 at half | p95 | p99 | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        share = row.saturated_rps / floor[row.store] * 100 if floor.get(row.store) else 0.0
        lines.append(
            f"| {row.store} | {row.target} | {row.saturated_rps:,.0f} | {share:.0f} % | {row.cpu_us:,.0f} | "
            f"{row.machine_busy:.0%} | "
            f"{row.p50_ms:.2f} ms | {row.p95_ms:.2f} ms | {row.p99_ms:.2f} ms | {row.errors} |"
        )
    busiest = max(rows, key=lambda r: r.generator_cpu)
    verdict = (
        "it had room to spare"
        if busiest.generator_cpu < 0.9
        else "it was near a full core: the figure of that target may be the generator's limit"
    )
    lines += [
        "",
        f"Load generator: at most {busiest.generator_cpu:.0%} of one core ({busiest.store}, {busiest.target}); "
        f"{verdict}.",
    ]
    events = [r for r in rows if r.target.startswith("events")]
    if events:
        lines.append(
            "Events: "
            + ", ".join(f"{r.store} {r.saturated_rps * 20:,.0f} events/s (batches of 20)" for r in events)
            + "."
        )
    if "1" in scaling and "2" in scaling:
        gain = (scaling["2"] / scaling["1"] - 1) * 100
        two = next(r for r in rows if r.target.startswith("product, 2"))
        lines.append(
            f"Redis, product page, second worker: {scaling['1']:,.0f} → {scaling['2']:,.0f} req/s ({gain:+.0f} %), "
            f"with the machine's {os.cpu_count()} cores {two.machine_busy:.0%} busy during the two-worker run."
        )
    if memory:
        lines.append(
            f"Resident memory (memory store, one worker): {memory['idle_mb']:,.0f} MB at start with the demo store; "
            f"{memory['loaded_mb']:,.0f} MB holding {memory['items']:,.0f} catalog items with models trained on them."
        )
    lines.append(END)
    return "\n".join(lines)


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB, Python {platform.python_version()}"


def _versions() -> str:
    names = ["litestar", "msgspec", "uvicorn", "uvloop", "httptools", "redis", "hiredis", "numpy"]
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    redis_server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
    server_version = next((part[2:] for part in redis_server.split() if part.startswith("v=")), "?")
    return ", ".join([*found, f"redis-server {server_version}"])


def write(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
