"""Structured logging: every line on stderr is one JSON object.

Lines are written in batches: a record is formatted when logged and kept until the batch is written, which
happens at least every ``FLUSH_SECONDS`` (a timer on the event loop when there is one), at once for a warning
or worse, when ``BATCH_LINES`` are waiting, and at exit. One write per batch instead of one per request line
(the access log) takes a system call off every request; a crash can lose at most the last moment of lines.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import threading
from typing import TextIO

import msgspec

_ENCODER = msgspec.json.Encoder()


class JsonLines(logging.Formatter):
    """``{"ts", "level", "logger", "message"}``; access lines are already JSON and pass through with a prefix."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "personalize.access":
            return f'{{"ts":{record.created:.3f},"level":"info","logger":"access",{record.getMessage()[1:]}'
        line = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line).decode()


FLUSH_SECONDS = 0.2
BATCH_LINES = 512


class BatchedLines(logging.Handler):
    """Formats each record at once; writes the lines in batches (see the module's docstring)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._lines: list[str] = []
        self._timer: tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle] | None = None
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._lock:
            self._lines.append(line)
            waiting = len(self._lines)
        if record.levelno >= logging.WARNING or waiting >= BATCH_LINES:
            self.flush()
        else:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread: write now
            self.flush()
            return
        if self._timer is None or self._timer[0] is not loop:  # none pending on this loop (an old one may be gone)
            self._timer = (loop, loop.call_later(FLUSH_SECONDS, self.flush))

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            if self._timer is not None:
                self._timer[1].cancel()
                self._timer = None
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines at ``level`` and above."""
    handler = BatchedLines(sys.stderr)
    handler.setFormatter(JsonLines())
    atexit.register(handler.flush)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
