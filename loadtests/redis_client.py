"""How many GETs per second one process's redis-py asyncio client serves under concurrency.

``python -m loadtests.redis_client`` starts a redis-server of its own on a free port, then runs
``--tasks`` coroutines issuing GETs on one shared client (one connection pool, as a server worker has)
for ``--seconds``, and prints the rate with the redis-py and hiredis versions. Run it in two virtualenvs
to compare redis-py releases (BENCHMARKS.md: why 5.2.1 is pinned).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import tempfile
import time
from importlib import metadata

import redis.asyncio as aioredis


async def _measure(url: str, tasks: int, seconds: float) -> float:
    client = aioredis.Redis.from_url(url)
    await client.set("k", b"x" * 200)
    done = 0

    async def worker(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await client.get("k")
            done += 1

    await asyncio.gather(*(worker(time.perf_counter() + 1.0) for _ in range(tasks)))  # warm-up
    done = 0
    start = time.perf_counter()
    await asyncio.gather(*(worker(start + seconds) for _ in range(tasks)))
    rate = done / (time.perf_counter() - start)
    await client.aclose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as work:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", work],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            url = f"redis://127.0.0.1:{port}/0"
            rates = [asyncio.run(_measure(url, args.tasks, args.seconds)) for _ in range(args.rounds)]
        finally:
            server.terminate()
            server.wait()
    versions = f"redis-py {metadata.version('redis')}, hiredis {metadata.version('hiredis')}"
    print(f"{versions}: {args.tasks} tasks, GETs/s per round: {', '.join(f'{r:,.0f}' for r in rates)}")


if __name__ == "__main__":
    main()
