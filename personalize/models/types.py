"""The models' wire types."""

from __future__ import annotations

import msgspec


class ModelsLoaded(msgspec.Struct):
    """The artifact now serving, and what it was trained on (``POST /v1/admin/models/reload``)."""

    version: str
    collaborative: str
    counts: dict[str, int]
