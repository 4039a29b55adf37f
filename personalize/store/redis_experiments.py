"""The Redis backend's experiments: a unit's record is a msgpack string set at its first exposure (``SET NX``, with
a TTL), an arm's sums a hash moved by ``HINCRBY`` / ``HINCRBYFLOAT``; orders move both inside the ledger's
transaction (``redis_loyalty``), page views record exposures in their own script (``redis_scripts``)."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from loyalty_nudges.experiment_sums import EXACT, Exposure, Sums, UnitRecord
from personalize.store import redis_keys as key
from personalize.store import redis_scripts as scripts
from personalize.store.redis_calls import reachable
from personalize.store.redis_loyalty import UNIT_DECODER
from personalize.store.redis_tracking import exposure_args


class RedisExperiments:
    """Units and arm sums (see the module docstring)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._r = client
        self._expose = client.register_script(scripts.EXPOSE)

    async def expose(self, exposures: Sequence[Exposure], now_ms: int) -> int:
        """All of them in one script call (each customer unit's ledger among its keys)."""
        if not exposures:
            return 0
        keys: list[str] = []
        args: list[bytes | int] = [exposure_args(keys, exposures), now_ms]
        with reachable():
            return int(await self._expose(keys=keys, args=args))

    async def unit(self, experiment_id: str, unit: str) -> UnitRecord | None:
        with reachable():
            raw = await self._r.get(key.experiment_unit(experiment_id, unit))
        return UNIT_DECODER.decode(raw) if raw else None

    async def arm_sums(self, experiment_id: str, arms: Sequence[str]) -> dict[str, Sums]:
        with reachable():
            async with self._r.pipeline(transaction=False) as pipe:
                for arm in arms:
                    pipe.hgetall(key.experiment_arm(experiment_id, arm))
                replies = await pipe.execute()
        return {arm: _sums(reply) for arm, reply in zip(arms, replies, strict=True)}

    async def count_clicks(self, clicks: Sequence[tuple[str, str, str]]) -> int:
        """The units' records are read, then each exposed unit's arm counts the click (a record's arm never
        changes once set, so the two steps need no transaction)."""
        if not clicks:
            return 0
        with reachable():
            raws = await self._r.mget([key.experiment_unit(experiment_id, unit) for experiment_id, unit, _ in clicks])
            counted = 0
            async with self._r.pipeline(transaction=False) as pipe:
                for (experiment_id, _, placement), raw in zip(clicks, raws, strict=True):
                    if raw:
                        pipe.hincrby(key.experiment_arm(experiment_id, UNIT_DECODER.decode(raw).arm), f"k:{placement}")
                        counted += 1
                await pipe.execute()
        return counted


def _sums(reply: dict[bytes, bytes]) -> Sums:
    sums: Sums = {}
    for raw_name, raw_value in reply.items():
        name = raw_name.decode()
        sums[name] = int(raw_value) if name in EXACT or name.startswith("k:") else float(raw_value)
    return sums
