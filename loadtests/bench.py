"""``python -m loadtests.bench`` (``make bench``): the production server beside the framework floor, in one run.

For each store (memory, then Redis on a redis-server of the bench's own on a free port) it starts
``personalize serve`` as production runs it (uvicorn, one worker, the JSON access log on, to a file) with the
demo store and models trained on it, and ``loadtests.bare_app`` (a litestar endpoint that decodes the JSON
it is sent and answers a body the size of a product page's answer) under the same runner. One load process
(``loadtests.loadgen``) drives every target at saturation, then at half of that rate, and reads the server's
CPU time from ``/proc`` around each run. With Redis it also measures a second worker, and at the end the
resident memory of a server holding 100,000 catalog items with models trained on them. The tables go into
``BENCHMARKS.md`` between the ``bench`` markers, with the machine, the versions, the command and the date.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from loadtests.bench_report import Row, report, write
from personalize import identity

BENCH_KEY = "bench-api-key"
BENCH_SECRET = "bench-identity-secret"
TICKS = os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.bench",
        description="Benchmark the server against a bare endpoint; writes BENCHMARKS.md.",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured run (default 8)")
    parser.add_argument("--connections", type=int, default=32, help="connections of the load process (default 32)")
    parser.add_argument("--stores", default="memory,redis", help="stores to measure (default memory,redis)")
    parser.add_argument("--items", type=int, default=100_000, help="catalog size of the memory step (0: skip)")
    parser.add_argument("--out", default="BENCHMARKS.md", help="file whose bench section is rewritten")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run every measurement, print the tables, write them into ``--out``."""
    if shutil.which("redis-server") is None and "redis" in args.stores:
        print("bench: redis-server is not installed (or pass --stores memory)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pz-bench-") as work:
        report = asyncio.run(_bench(args, Path(work)))
    print(report)
    if not args.no_write:
        write(Path(args.out), report)
        print(f"bench: wrote {args.out}")
    return 0


async def _bench(args: argparse.Namespace, work: Path) -> str:
    from fixtures import generate

    demo = generate()
    rows: list[Row] = []
    scaling: dict[str, float] = {}
    models = work / "models"
    for store in [name for name in args.stores.split(",") if name]:
        with _store_url(store, work) as url:
            with _server(url, models, work, workers=1) as server:
                page_bytes = len(await _answer(f"{server.base}/v1/page", _bodies(demo)["product"][0]))
                with _bare(page_bytes, work) as bare:
                    rows.append(await _measure(store, "bare endpoint", bare, _bare_requests(bare), args))
                for target, bodies in _bodies(demo).items():
                    path = "/v1/events" if target.startswith("events") else "/v1/page"
                    requests = [_post(server, path, body) for body in bodies]
                    rows.append(await _measure(store, target, server, requests, args))
            if store == "redis":
                for workers in (1, 2):
                    with _server(url, models, work, workers=workers) as scaled:
                        requests = [_post(scaled, "/v1/page", body) for body in _bodies(demo)["product"]]
                        label = f"product, {workers} worker(s)"
                        rows.append(await _measure(store, label, scaled, requests, args))
                        scaling[f"{workers}"] = rows[-1].saturated_rps
    memory = _resident_memory(args.items, work) if args.items else None
    return report(rows, scaling, memory, args)


class _Target:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port, self.process = port, process
        self.base = f"http://127.0.0.1:{port}"


def _post(target: _Target, path: str, body: object) -> bytes:
    from loadtests.loadgen import post

    return post("127.0.0.1", target.port, path, body)


async def _answer(url: str, body: object) -> bytes:
    async with httpx.AsyncClient() as client:
        return (await client.post(url, json=body)).content


def _bare_requests(bare: _Target) -> list[bytes]:
    return [_post(bare, "/bare", {"session_id": f"bench-{n}", "page": {"type": "product"}}) for n in range(100)]


def _bodies(demo: Any) -> dict[str, list[dict[str, Any]]]:
    """Request bodies per target: 500 sessions, half of them signed customers, over the demo's items."""
    rng = random.Random(7)
    items = [item.item_id for item in demo.items]
    categories = sorted({item.category for item in demo.items})
    customers = [c.customer_id for c in demo.customers]
    expires = int(time.time()) + 86_400

    def visitor(n: int) -> dict[str, Any]:
        token = identity.sign_customer(customers[n % len(customers)], BENCH_SECRET, expires) if n % 2 else None
        return {"session_id": f"bench-{n:04d}", "customer_token": token}

    def cart(n: int) -> list[dict[str, Any]]:
        return [{"item_id": items[(n * 7 + k) % len(items)], "quantity": 1} for k in range(2)]

    sessions = range(500)
    return {
        "home": [{**visitor(n), "page": {"type": "home"}} for n in sessions],
        "category": [
            {**visitor(n), "page": {"type": "category", "category": rng.choice(categories)}} for n in sessions
        ],
        "product": [{**visitor(n), "page": {"type": "product", "item_id": rng.choice(items)}} for n in sessions],
        "cart": [{**visitor(n), "page": {"type": "cart", "cart": cart(n)}} for n in sessions],
        "events (20 per call)": [
            {
                **visitor(n),
                "events": [{"type": "product_view", "item_id": rng.choice(items)} for _ in range(20)],
            }
            for n in sessions
        ],
    }


async def _measure(store: str, target: str, server: _Target, requests: list[bytes], args: argparse.Namespace) -> Row:
    from loadtests.loadgen import fixed_rate, saturate

    await saturate("127.0.0.1", server.port, requests, 2.0, args.connections)  # warm-up
    before, machine = _tree_cpu(server.process.pid), _machine_ticks()
    full = await saturate("127.0.0.1", server.port, requests, args.seconds, args.connections)
    cpu_us = (_tree_cpu(server.process.pid) - before) * 1e6 / max(1, full.requests)
    busy, idle = (now - then for now, then in zip(_machine_ticks(), machine, strict=True))
    half = await fixed_rate("127.0.0.1", server.port, requests, full.rate / 2, args.seconds, args.connections)
    row = Row(
        store=store,
        target=target,
        saturated_rps=full.rate,
        cpu_us=cpu_us,
        p50_ms=half.p50_ms,
        p95_ms=half.p95_ms,
        p99_ms=half.p99_ms,
        errors=full.errors + half.errors,
        generator_cpu=full.generator_cpu,
        machine_busy=busy / max(1, busy + idle),
    )
    print(
        f"  {store:6} {target:22} {row.saturated_rps:9,.0f} req/s  {row.cpu_us:6.0f} µs CPU  "
        f"p50 {row.p50_ms:5.2f}  p95 {row.p95_ms:5.2f}  p99 {row.p99_ms:5.2f} ms at half  "
        f"errors {row.errors}  generator {row.generator_cpu:.0%} of a core  machine {row.machine_busy:.0%} busy",
        flush=True,
    )
    return row


def _machine_ticks() -> tuple[int, int]:
    """Busy and idle ticks of all cores since boot, from ``/proc/stat``."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields[:8]) - idle, idle


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, from ``/proc``."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    family, total = {pid}, 0.0
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        total += times.get(member, 0.0)
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _store_url(store: str, work: Path) -> Iterator[str]:
    if store == "memory":
        yield "memory://"
        return
    port = _free_port()
    data = work / f"redis-{port}"
    data.mkdir()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=data,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _answers_redis(port), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _answers_redis(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def _server_env(url: str, models: Path) -> dict[str, str]:
    """The environment of a measured server: the bench's keys, no jobs, no per-address limit."""
    env = {
        **os.environ,
        "PZ_STORE_URL": url,
        "PZ_MODELS_DIR": str(models),
        "PZ_API_KEY": BENCH_KEY,
        "PZ_IDENTITY_SECRET": BENCH_SECRET,
        "PZ_SEGMENTS__EVERY_HOURS": "0",
        # every request comes from 127.0.0.1: the per-address limit would refuse the load (sessions stay limited)
        "PZ_LIMITS__IP_PER_SECOND": "0",
    }
    env.pop("PZ_CONFIG", None)
    return env


@contextlib.contextmanager
def _server(
    url: str, models: Path, work: Path, workers: int, checkout: Path | None = None, extra: dict[str, str] | None = None
) -> Iterator[_Target]:
    """``personalize serve`` with the demo, as production runs it; from ``checkout`` (``PYTHONPATH``) if given, with
    ``extra`` settings in its environment."""
    port = _free_port()
    env = {**_server_env(url, models), **(extra or {})}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout.resolve())
    command = [_personalize(), "serve", "--port", str(port), "--workers", str(workers), "--demo"]
    with (work / f"server-{port}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _ready(port) or process.poll() is not None, 600, "personalize serve")
        if process.poll() is not None:
            raise RuntimeError(f"personalize serve exited: {(work / f'server-{port}.log').read_text()[-2000:]}")
        yield _Target(port, process)
    finally:
        process.terminate()
        process.wait(30)


@contextlib.contextmanager
def _bare(body_bytes: int, work: Path) -> Iterator[_Target]:
    port = _free_port()
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    command = [uvicorn, "--factory", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    env = {**os.environ, "PZ_BENCH_BODY_BYTES": str(body_bytes)}
    process = subprocess.Popen([*command, "loadtests.bare_app:build"], env=env, stdout=subprocess.DEVNULL)
    try:
        _wait(lambda: _answers_http(f"http://127.0.0.1:{port}/bare"), 30, "bare endpoint")
        yield _Target(port, process)
    finally:
        process.terminate()
        process.wait(10)


def _personalize() -> str:
    script = Path(sys.executable).with_name("personalize")
    return str(script) if script.exists() else "personalize"


def _ready(port: int) -> bool:
    return _answers_http(f"http://127.0.0.1:{port}/readyz")


def _answers_http(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not start within {timeout} s")


def _resident_memory(items: int, work: Path) -> dict[str, float]:
    """VmRSS of a memory-store server before and after it holds ``items`` catalog items and models on them."""
    from loadtests.big_catalog import synthetic_catalog, train_models

    models = work / f"models-{items}"
    catalog = synthetic_catalog(items)
    print(f"  training models on {items:,} items …", flush=True)
    train_models(catalog, models)
    with _server("memory://", models, work, workers=1) as server:
        idle = _rss_mb(server.process.pid)
        auth = {"Authorization": f"Bearer {BENCH_KEY}"}
        with httpx.Client(base_url=server.base, headers=auth, timeout=120) as client:
            for start in range(0, len(catalog), 5000):
                _ok(client.put("/v1/catalog/items", json={"items": catalog[start : start + 5000]}))
            _ok(client.post("/v1/admin/models/reload"))
            # the catalog refresher rebuilds the process's index within a second of the last upsert
            _wait(lambda: client.get("/readyz").json()["catalog_items"] >= len(catalog), 60, "catalog index")
            for n in range(200):
                body = {"session_id": f"rss-{n}", "page": {"type": "product", "item_id": catalog[n]["item_id"]}}
                _ok(client.post("/v1/page", json=body))
            stats = client.get("/readyz").json()
        loaded = _rss_mb(server.process.pid)
    return {"items": float(stats["catalog_items"]), "idle_mb": idle, "loaded_mb": loaded}


def _ok(response: httpx.Response) -> None:
    if response.is_error:
        request = response.request
        raise RuntimeError(f"{request.method} {request.url.path}: {response.status_code} {response.text[:500]}")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    raise SystemExit(main())
