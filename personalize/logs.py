"""Structured logging: every line on stderr is one JSON object."""

from __future__ import annotations

import logging
import sys

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


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines at ``level`` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
