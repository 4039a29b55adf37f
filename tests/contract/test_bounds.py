"""The bounds on per-visitor state (issue #12, defect 7), on both backends: sessions and remembered event ids stay
under their settings whatever one client sends, the newest are the ones kept, and Redis' key count follows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis

from personalize.settings import Settings
from personalize.store import open_store, tracking_config
from personalize.store.protocols import Store
from tests.conftest import make_settings
from tests.contract.test_tracking_store import T0, event, write

pytestmark = pytest.mark.anyio

MAX_SESSIONS = 150
MAX_IDS = 600


@pytest.fixture
def bounded(backend_url: str) -> Settings:
    return make_settings(
        store_url=backend_url,
        tracking__max_sessions=str(MAX_SESSIONS),
        tracking__max_event_ids_per_session=str(MAX_IDS),
        tracking__max_event_ids="5000",
    )


@pytest.fixture
async def small(bounded: Settings) -> AsyncIterator[Store]:
    opened = open_store(bounded.store_url, tracking_config(bounded))
    yield opened
    await opened.close()


def redis_keys(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.dbsize())
    finally:
        client.close()


async def test_sessions_beyond_the_bound_go_least_recently_active_first(small: Store, bounded: Settings) -> None:
    dropped = 0
    for n in range(400):
        applied = await small.tracking.apply(write(event(T0 + n, f"e{n}"), session=f"s-{n:04d}"))
        dropped += applied.sessions_dropped
    await small.tracking.apply(write(event(T0 + 500, "again"), session="s-0000"))  # the oldest, active again
    sizes = await small.sizes()
    assert sizes.sessions <= MAX_SESSIONS
    assert dropped >= 400 - MAX_SESSIONS
    assert (await small.tracking.profile("s-0399")).session is not None  # the newest are kept
    assert (await small.tracking.profile("s-0000")).session is not None  # and the one active again
    assert (await small.tracking.profile("s-0100")).session is None  # an old one went
    if bounded.store_url.startswith("redis"):
        # per session kept: its hash, recent list and seen ids; beside them a handful of global keys
        assert redis_keys(bounded.store_url) <= 3 * MAX_SESSIONS + 10


async def test_a_session_remembers_its_newest_event_ids_up_to_the_bound(small: Store) -> None:
    forgotten = 0
    for batch in range(4):
        events = [event(T0 + batch, f"b{batch}-{n}") for n in range(500)]  # a batch's ids arrive in one moment
        forgotten += (await small.tracking.apply(write(*events))).event_ids_forgotten
    assert forgotten == 4 * 500 - MAX_IDS
    newest = await small.tracking.apply(write(event(T0 + 4, "b3-499"), event(T0 + 4, "b3-0")))
    assert newest.duplicates == 2
    oldest = await small.tracking.apply(write(event(T0 + 4, "b0-0")))
    assert oldest.accepted == 1  # forgotten: counted again, as the bound documents
