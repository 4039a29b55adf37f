"""``/v1/admin``: operations on the running server (server key)."""

from __future__ import annotations

import msgspec
from litestar import Controller, post
from litestar.datastructures import State

from personalize.api.auth import require_api_key
from personalize.errors import ApiError


class ModelsLoaded(msgspec.Struct):
    """The artifact now serving, and what it was trained on."""

    version: str
    collaborative: str
    counts: dict[str, int]


class AdminController(Controller):
    path = "/v1/admin"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    tags = ["admin"]  # noqa: RUF012

    @post("/models/reload", status_code=200)
    async def reload_models(self, state: State) -> ModelsLoaded:
        """Load the newest trained artifact of ``models_dir`` and serve it from the next request on; requests
        in flight finish on the models they started with. 404 when no artifact exists."""
        models = await state.runtime.reload_models()
        if models is None:
            raise ApiError(
                404, "no_models", f"no trained models in {state.runtime.settings.models_dir}; run personalize train"
            )
        return ModelsLoaded(
            version=models.version, collaborative=models.manifest.collaborative, counts=models.manifest.counts
        )
