"""What the commands that work on a shared store (``segments``, ``loyalty``, ``import-orders``) have in common: the
settings with the store they name, refused for a memory store, which would live and die with the command."""

from __future__ import annotations

import os
import sys

from personalize.settings import Settings, load_settings


def shared_settings(command: str, store_url: str | None, hint: str = "pass --store redis://…") -> Settings:
    """The settings (``store_url`` overriding ``PZ_STORE_URL``); exits 2 saying why when the store is not shared."""
    settings = load_settings({**os.environ, "PZ_STORE_URL": store_url} if store_url else None)
    if not settings.store_shared:
        print(f"personalize {command}: a memory store lives inside its server; {hint}", file=sys.stderr)
        raise SystemExit(2)
    return settings
