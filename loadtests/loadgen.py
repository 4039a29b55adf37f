"""A small HTTP/1.1 load generator for ``personalize bench``: keep-alive connections on uvloop, raw bytes.

Two modes, both from one process:

* **saturation** — every connection sends its next request as soon as the previous answer is in; the
  throughput is what the server sustains with that many requests in flight.
* **fixed rate** — requests are due at ``start + i / rate`` and go out on the first idle connection; a
  request's latency is measured from when it was *due*, so a stalled server shows in the tail instead of
  slowing the generator down (no coordinated omission).

Requests are prepared bytes (a target rotates through several bodies); answers are read by
``Content-Length``. The generator measures its own CPU time so the report can say whether it, rather than
the server, was the bottleneck.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def post(host: str, port: int, path: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    """The bytes of one keep-alive ``POST`` of ``body`` as JSON."""
    payload = msgspec.json.encode(body)
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n{extra}\r\n"
    )
    return head.encode() + payload


class Result(msgspec.Struct, kw_only=True):
    """One run: answers per second, latency percentiles (ms), errors, and the generator's own CPU share."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    generator_cpu: float
    """CPU seconds of the generator per wall second (1.0 is one core fully used)."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        match = _LENGTH.search(self.buffer, 0, end)
        total = end + 4 + (int(match.group(1)) if match else 0)
        if len(self.buffer) >= total and self.waiter is not None and not self.waiter.done():
            status = int(self.buffer[9:12])
            del self.buffer[:total]
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    async def request(self, data: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


@dataclass
class _Tally:
    latencies: list[float]
    errors: int = 0


async def _connect(host: str, port: int, count: int) -> list[_Connection]:
    loop = asyncio.get_running_loop()
    made = [await loop.create_connection(_Connection, host, port) for _ in range(count)]
    return [protocol for _, protocol in made]


def _result(tally: _Tally, seconds: float, cpu: float) -> Result:
    values = np.array(tally.latencies or [0.0]) * 1000
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return Result(
        requests=len(tally.latencies),
        seconds=seconds,
        errors=tally.errors,
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        generator_cpu=cpu / seconds if seconds else 0.0,
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def saturate(host: str, port: int, requests: Sequence[bytes], seconds: float, connections: int) -> Result:
    """Closed loop: ``connections`` requests always in flight for ``seconds``."""
    conns = await _connect(host, port, connections)
    tally = _Tally([])
    start, cpu = time.perf_counter(), _cpu()
    deadline = start + seconds

    async def drive(conn: _Connection, offset: int) -> None:
        n = offset
        while (sent := time.perf_counter()) < deadline:
            status = await conn.request(requests[n % len(requests)])
            tally.latencies.append(time.perf_counter() - sent)
            tally.errors += status >= 400
            n += connections

    await asyncio.gather(*(drive(conn, i) for i, conn in enumerate(conns)))
    result = _result(tally, time.perf_counter() - start, _cpu() - cpu)
    for conn in conns:
        assert conn.transport is not None
        conn.transport.close()
    return result


async def fixed_rate(
    host: str, port: int, requests: Sequence[bytes], rate: float, seconds: float, connections: int
) -> Result:
    """Open loop: ``rate`` requests per second for ``seconds``, latency counted from each request's due time."""
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for conn in await _connect(host, port, connections):
        idle.put_nowait(conn)
    tally = _Tally([])
    start, cpu = time.perf_counter(), _cpu()
    total = int(rate * seconds)
    pending: set[asyncio.Task[None]] = set()

    async def one(conn: _Connection, due: float, data: bytes) -> None:
        status = await conn.request(data)
        tally.latencies.append(time.perf_counter() - due)
        tally.errors += status >= 400
        idle.put_nowait(conn)

    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        task = asyncio.create_task(one(conn, due, requests[n % len(requests)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    result = _result(tally, time.perf_counter() - start, _cpu() - cpu)
    while not idle.empty():
        transport = idle.get_nowait().transport
        assert transport is not None
        transport.close()
    return result
