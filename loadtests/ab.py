"""``python -m loadtests.ab BEFORE AFTER``: two checkouts' page path measured side by side, interleaved.

``make bench`` measures one checkout; run on each of two commits in turn, the difference between them on a
shared, noisy machine is often smaller than the difference between two runs of one commit (the bare endpoint,
the same code on both sides, moves by tens of percent). Here both servers run at once, each from its own
checkout (``PYTHONPATH``) with the demo store and models trained on it, on the same store kind (memory, or
one redis-server with a database each), and the load alternates between them in short bursts: round after
round, each target is driven at saturation on one side then the other (the order swapped every round), then
at a fixed rate (half of the round's slower saturation) on both for the latency. Whatever slows the machine
during a round slows both sides alike; the medians over the rounds are compared.

Prints, per store and target, the median req/s, server CPU µs per request and p99 of each side, and the
after/before ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loadtests.bench import _bodies, _post, _server, _store_url, _Target
from loadtests.bench import _tree_cpu as tree_cpu
from loadtests.loadgen import fixed_rate, saturate

TARGETS = {"product": "/v1/page", "events (20 per call)": "/v1/events", "home": "/v1/page", "cart": "/v1/page"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="checkout of the earlier commit")
    parser.add_argument("after", type=Path, help="checkout of the later commit")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each burst (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--stores", default="memory,redis")
    parser.add_argument("--targets", default="product,events (20 per call)", help=f"of {', '.join(TARGETS)}")
    parser.add_argument(
        "--after-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the after side only (the same checkout twice with and without it: its cost)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pz-ab-") as work:
        asyncio.run(_ab(args, Path(work)))


async def _ab(args: argparse.Namespace, work: Path) -> None:
    from fixtures import generate

    bodies = _bodies(generate())
    for store in [name for name in args.stores.split(",") if name]:
        with (
            _store_url(store, work) as url,
            _side(args.before, url, 1, work) as before,
            _side(args.after, url, 2, work, dict(pair.split("=", 1) for pair in args.after_env)) as after,
        ):
            sides = {"before": before, "after": after}
            for target in [name for name in args.targets.split(",") if name]:
                requests = {
                    name: [_post(side, TARGETS[target], b) for b in bodies[target]] for name, side in sides.items()
                }
                _print(store, target, await _rounds(sides, requests, args))


async def _rounds(
    sides: dict[str, _Target], requests: dict[str, list[bytes]], args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    """Every round: each side at saturation, then each at half of the slower one's rate (the order swapped)."""
    for name, side in sides.items():  # warm-up
        await saturate("127.0.0.1", side.port, requests[name], 2.0, args.connections)
    figures: dict[str, dict[str, list[float]]] = {name: {"rps": [], "cpu": [], "p99": []} for name in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            side = sides[name]
            cpu = tree_cpu(side.process.pid)
            full = await saturate("127.0.0.1", side.port, requests[name], args.seconds, args.connections)
            figures[name]["rps"].append(full.rate)
            figures[name]["cpu"].append((tree_cpu(side.process.pid) - cpu) * 1e6 / max(1, full.requests))
        rate = min(figures[name]["rps"][-1] for name in sides) / 2
        for name in order:
            half = await fixed_rate("127.0.0.1", sides[name].port, requests[name], rate, args.seconds, args.connections)
            figures[name]["p99"].append(half.p99_ms)
    return figures


def _print(store: str, target: str, figures: dict[str, dict[str, list[float]]]) -> None:
    med = {name: {key: statistics.median(values) for key, values in f.items()} for name, f in figures.items()}
    b, a = med["before"], med["after"]
    rounds = len(figures["before"]["rps"])
    print(
        f"{store:6} {target:22} req/s {b['rps']:7,.0f} → {a['rps']:7,.0f} ({a['rps'] / b['rps'] - 1:+.1%})  "
        f"CPU µs/req {b['cpu']:5.0f} → {a['cpu']:5.0f} ({a['cpu'] / b['cpu'] - 1:+.1%})  "
        f"p99 {b['p99']:5.2f} → {a['p99']:5.2f} ms ({a['p99'] / b['p99'] - 1:+.1%})  medians of {rounds} rounds",
        flush=True,
    )
    for name in ("before", "after"):
        print(f"    {name:6} req/s " + " ".join(f"{value:,.0f}" for value in figures[name]["rps"]), flush=True)


@contextlib.contextmanager
def _side(
    checkout: Path, url: str, database: int, work: Path, extra: dict[str, str] | None = None
) -> Iterator[_Target]:
    """The bench's server run from ``checkout``, with its own models and (on Redis) its own database."""
    store = url if url == "memory://" else url.rsplit("/", 1)[0] + f"/{database}"
    with _server(store, work / f"models-{database}", work, 1, checkout, extra) as server:
        yield server


if __name__ == "__main__":
    main()
