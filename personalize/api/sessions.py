"""``GET /v1/sessions/{session_id}/profile``: what a session has shown interest in (server key)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.params import PathParameter

from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms
from personalize.tracking.profiles import build_profile, merged_scores
from personalize.tracking.types import SessionProfile


@get(
    "/v1/sessions/{session_id:str}/profile",
    guards=[require_api_key],
    security=API_KEY_SECURITY,
    tags=["sessions"],
    responses=errors(400, 401, 503),
)
async def session_profile(session_id: Annotated[str, PathParameter(max_length=64)], state: State) -> SessionProfile:
    """The session's affinities per attribute (brand, category, color, price_band), each list highest first,
    decayed to now, with the linked customer's long-term profile merged in. ``evidence`` is the decayed
    weighted event count behind it. An unknown session has empty lists."""
    runtime = state.runtime
    raw = await runtime.store.tracking.profile(session_id)
    scores = merged_scores(raw, runtime.decay, runtime.settings.tracking.customer_profile_weight, now_ms())
    return build_profile(session_id, raw.customer_id, scores)
