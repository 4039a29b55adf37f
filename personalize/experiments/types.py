"""The experiments routes' wire types (the report's are in ``personalize.experiments.report``)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from personalize.experiments.definitions import Experiment


class ExperimentsOut(msgspec.Struct, kw_only=True):
    """``GET`` and ``PUT /v1/admin/experiments``: the definitions in service."""

    version: int
    """The uploaded file's version; 0: none uploaded."""
    format: str | None
    content: str | None
    experiments: list[Experiment]
    """Every definition as the server reads it, defaults filled in."""
    banner_tests: list[Experiment]
    """The banner file's holdouts and variants as experiments (id ``banner:<banner id>``; their reports are read
    like any other's)."""
    running: list[str]
    """The ids running now."""
    as_of: datetime
