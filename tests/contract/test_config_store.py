"""The config store contract (versioned documents), on both backends."""

from __future__ import annotations

import anyio
import pytest

from personalize.store.protocols import Store

pytestmark = pytest.mark.anyio


async def test_each_put_is_a_new_version(store: Store) -> None:
    assert await store.config.get("banners") is None
    assert await store.config.put("banners", b"one") == 1
    assert await store.config.put("banners", b"two") == 2
    assert await store.config.get("banners") == (2, b"two")
    assert await store.config.get("other") is None


async def test_concurrent_puts_get_distinct_versions(store: Store) -> None:
    versions: list[int] = []

    async def put(n: int) -> None:
        versions.append(await store.config.put("banners", f"v{n}".encode()))

    async with anyio.create_task_group() as group:
        for n in range(30):
            group.start_soon(put, n)
    assert sorted(versions) == list(range(1, 31))
    version, content = await store.config.get("banners")  # type: ignore[misc]
    assert version == 30
    assert content.startswith(b"v")
