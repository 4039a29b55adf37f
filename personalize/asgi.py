"""Entry point for ASGI servers: ``granian --interface asgi --factory personalize.asgi:build``.

Each worker process reads its settings from the environment (``personalize serve`` puts its options there).
"""

from __future__ import annotations

from litestar import Litestar

from personalize.app import create_app
from personalize.logs import configure_logging
from personalize.settings import load_settings


def build() -> Litestar:
    """Settings from ``PZ_*`` and ``PZ_CONFIG``, logging, then the app."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
