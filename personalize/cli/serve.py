"""``personalize serve``: check the port and the store, prepare the demo, then run the ASGI server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import httpx

from personalize.logs import configure_logging
from personalize.settings import Settings, load_settings


def add_parser(commands: Any) -> None:
    """Register ``serve``."""
    serve = commands.add_parser("serve", help="run the HTTP server (memory store and demo data by default)")
    serve.add_argument("--host", help="address to listen on (PZ_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (PZ_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="server processes; more than one needs Redis (PZ_WORKERS)")
    serve.add_argument("--store", help="store URL, e.g. redis://127.0.0.1:6379/0 (PZ_STORE_URL)")
    demo = serve.add_mutually_exclusive_group()
    demo.add_argument(
        "--demo",
        dest="demo",
        action="store_const",
        const=True,
        help="serve the demo storefront and load the demo store into an empty store (the default on memory://)",
    )
    demo.add_argument(
        "--no-demo", dest="demo", action="store_const", const=False, help="no demo storefront, no demo data"
    )
    serve.add_argument("--fixtures", help="read the demo store from this directory of JSONL files")
    serve.add_argument(
        "--server", choices=["uvicorn", "granian"], default="uvicorn", help="ASGI server (default uvicorn)"
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    overrides = {
        "PZ_HOST": args.host,
        "PZ_PORT": args.port,
        "PZ_WORKERS": args.workers,
        "PZ_STORE_URL": args.store,
        "PZ_FIXTURES_DIR": args.fixtures,
    }
    os.environ.update({key: str(value) for key, value in overrides.items() if value is not None})
    if args.demo is not None:
        os.environ["PZ_DEMO"] = "true" if args.demo else "false"
    elif "PZ_DEMO" not in os.environ:
        # the demo by default only where it cannot reach a shared store: an empty production Redis never
        # receives the demo catalog unless asked (--demo)
        os.environ["PZ_DEMO"] = "false" if load_settings().store_shared else "true"
    settings = load_settings()
    started = time.monotonic()
    configure_logging(settings.log_level)
    error = _cannot_listen(settings.host, settings.port)
    if not error:
        starting = (
            f"personalize: starting on http://{settings.host}:{settings.port} ({settings.workers} worker(s), "
            f"store {settings.store_url}, demo {'on' if settings.demo else 'off'}, {args.server})"
        )
        error = asyncio.run(_prepare_store(settings, lambda: print(starting, file=sys.stderr)))
    if error:
        print(f"personalize: {error}", file=sys.stderr)
        return 2
    if settings.demo and not _loopback(settings.host):
        print(
            f"personalize: WARNING: the demo storefront is on and {settings.host} is not a loopback address: anyone "
            "who can reach it can sign in as a demo customer and place orders. Use --no-demo in production.",
            file=sys.stderr,
        )
    threading.Thread(target=_announce_ready, args=(settings, started), daemon=True).start()
    if args.server == "uvicorn":
        with _sigterm_ends_cleanly():
            _run_uvicorn(settings)
        return 0
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "personalize.asgi:build",
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_access=False,
        backlog=2048,
    ).serve()
    return 0


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "personalize.asgi:build",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,  # the app writes its own structured access line
        log_level="warning",
        backlog=2048,
        timeout_graceful_shutdown=10,
    )


class _Stopped(Exception):
    """SIGTERM reached :func:`_sigterm_ends_cleanly`'s handler."""


@contextlib.contextmanager
def _sigterm_ends_cleanly() -> Iterator[None]:
    """End with status 0 after a SIGTERM stop, as the multi-worker supervisor does.

    uvicorn drains the requests in flight and runs the lifespan shutdown on SIGTERM, then restores the handler it
    found and raises the signal again, so the process would report death by SIGTERM (-15, 143 in a shell) after a
    clean stop. The handler it finds is this one: the stop is complete by then and the command returns normally.
    """

    def stopped(_signum: int, _frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield
    except _Stopped:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (the port is taken, no such address), checked before the
    store and the demo, which may take a while, rather than by the ASGI server after them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn binds
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        return f"cannot listen on {host}:{port} (PZ_HOST, PZ_PORT): {exc.strerror or exc}"
    return None


async def _prepare_store(settings: Settings, announce: Callable[[], None]) -> str | None:
    """Before starting workers: fail fast when the store cannot be reached (a bad start prints one line: the
    problem), then ``announce`` the start and load the demo into a shared store once, with progress (a memory
    store is per process: its one worker loads the demo itself)."""
    from personalize.demo.loader import load_demo_if_empty, train_demo_if_untrained
    from personalize.runtime import Runtime

    runtime = Runtime.open(settings)
    try:
        if not await runtime.store.ping():
            return f"store {settings.store_url} is not reachable (PZ_STORE_URL)"
        announce()
        if runtime.store.shared:
            await load_demo_if_empty(runtime)
        await train_demo_if_untrained(runtime)
        return None
    finally:
        await runtime.close()


def _announce_ready(settings: Settings, started: float) -> None:
    """Say that the server is ready once it answers, with what it loaded and how long the start took."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host if ':' not in host else f'[{host}]'}:{settings.port}/readyz"
    while True:
        try:
            ready = httpx.get(url, timeout=1.0)
            if ready.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    health = ready.json()
    models = health.get("models") or "none (placements fall back to trending)"
    print(
        f"personalize: ready on http://{settings.host}:{settings.port} in {time.monotonic() - started:.1f} s: "
        f"{health.get('catalog_items', 0):,} catalog items, models {models}",
        file=sys.stderr,
        flush=True,
    )
