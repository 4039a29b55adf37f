"""``python -m loadtests.ab BEFORE AFTER``: two builds of the server side by side, measured in alternation.

The machine's speed drifts by as much as a factor of two within minutes (a shared, virtualised host), so runs of
``make bench`` minutes apart cannot tell a 5 % change from the drift. This starts both servers at once — each
``personalize serve`` of its own checkout and virtualenv (``BEFORE``/``AFTER`` are the checkouts' directories; each
has ``.venv/``), memory store, demo store, the same trained models — and for every round loads one, then the other
(the order swapped every round), a few seconds each, so each pair of runs sees the same machine. It prints every
run and the medians per target: saturation throughput, server CPU per request, and p99 at half of that rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fixtures import generate
from loadtests import bench
from loadtests.loadgen import fixed_rate, saturate


@contextlib.contextmanager
def _server(checkout: Path, models: Path, work: Path) -> Iterator[bench._Target]:
    port = bench._free_port()
    env = {**bench._server_env("memory://", models), "PZ_DEMO": "true"}
    command = [str(checkout / ".venv" / "bin" / "personalize"), "serve", "--port", str(port)]
    with (work / f"server-{port}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=checkout)
    try:
        bench._wait(lambda: bench._ready(port) or process.poll() is not None, 300, f"{checkout} serve")
        if process.poll() is not None:
            raise RuntimeError(f"{checkout}: personalize serve exited")
        yield bench._Target(port, process)
    finally:
        process.terminate()
        process.wait(30)


async def _run(target: bench._Target, requests: list[bytes], seconds: float, connections: int) -> tuple[float, ...]:
    await saturate("127.0.0.1", target.port, requests, 1.0, connections)  # warm-up
    before = bench._tree_cpu(target.process.pid)
    full = await saturate("127.0.0.1", target.port, requests, seconds, connections)
    cpu_us = (bench._tree_cpu(target.process.pid) - before) * 1e6 / max(1, full.requests)
    half = await fixed_rate("127.0.0.1", target.port, requests, full.rate / 2, seconds, connections)
    return full.rate, cpu_us, half.p99_ms


async def _compare(args: argparse.Namespace, work: Path) -> None:
    demo = generate()
    models = work / "models"
    with _server(args.before, models, work) as before, _server(args.after, models, work) as after:
        sides = {"before": before, "after": after}
        results: dict[tuple[str, str], list[tuple[float, ...]]] = {}
        for round_ in range(args.rounds):
            order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
            for target in args.targets.split(","):
                bodies = bench._bodies(demo)[target]
                path = "/v1/events" if target.startswith("events") else "/v1/page"
                for side in order:
                    requests = [bench._post(sides[side], path, body) for body in bodies]
                    run = await _run(sides[side], requests, args.seconds, args.connections)
                    results.setdefault((target, side), []).append(run)
                    print(f"round {round_ + 1} {target:22} {side:6} {run[0]:8,.0f} req/s {run[1]:6.0f} µs CPU "
                          f"p99 {run[2]:6.2f} ms at half", flush=True)  # fmt: skip
        print()
        for target in args.targets.split(","):
            medians = {side: [statistics.median(v[i] for v in results[(target, side)]) for i in range(3)]
                       for side in ("before", "after")}  # fmt: skip
            b, a = medians["before"], medians["after"]
            print(
                f"{target:22} median req/s {b[0]:,.0f} → {a[0]:,.0f} ({a[0] / b[0] - 1:+.1%}); "
                f"CPU µs {b[1]:.0f} → {a[1]:.0f} ({a[1] / b[1] - 1:+.1%}); "
                f"p99 at half {b[2]:.2f} → {a[2]:.2f} ms ({a[2] / b[2] - 1:+.1%})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="checkout of the build measured first (with its .venv)")
    parser.add_argument("after", type=Path, help="checkout of the build it is compared with (with its .venv)")
    parser.add_argument("--targets", default="product,events (20 per call)", help="comma-separated bench targets")
    parser.add_argument("--rounds", type=int, default=10, help="alternations (default 10)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run (default 4)")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pz-ab-") as work:  # the first server trains the models both serve
        asyncio.run(_compare(args, Path(work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
