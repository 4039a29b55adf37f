"""The memory store's tracking: sessions, customer profiles, trending lists and seen event ids, in dicts.

Atomicity as in ``personalize.store.memory``: every method runs without awaiting, so no other request interleaves.
Expiry is lazy (checked on read) plus a sweep when the tables grow.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence

from personalize.store.protocols import Applied, Interaction, RawProfile, RawScores, Sizes, TrackingConfig
from personalize.tracking.scoring import ScoredEvent, TrackingWrite
from recommenders import decay

_SWEEP_EVERY = 10_000


class DecayedTable:
    """Decayed sums against one epoch (see ``recommenders.decay``), rebased when it ages."""

    __slots__ = ("epoch_ms", "expires_at", "scores")

    def __init__(self, epoch_ms: float) -> None:
        self.epoch_ms = epoch_ms
        self.scores: dict[str, float] = {}
        self.expires_at = float("inf")

    def add(self, fields: Sequence[str], weight: float, ts: float, half_life_ms: float) -> None:
        if decay.needs_rebase(ts, self.epoch_ms, half_life_ms):
            factor = decay.growth(self.epoch_ms, ts, half_life_ms)
            self.scores = {key: value * factor for key, value in self.scores.items()}
            self.epoch_ms = ts
        amount = weight * decay.growth(ts, self.epoch_ms, half_life_ms)
        for name in fields:
            self.scores[name] = self.scores.get(name, 0.0) + amount

    def raw(self) -> RawScores:
        return RawScores(self.epoch_ms, dict(self.scores))


class SessionState:
    """Everything kept for one session: its scores, customer link, recent items, landing source and the event
    ids it has sent (insertion order is age), and when it expires."""

    __slots__ = ("customer_id", "expires_at", "recent", "scores", "seen", "source")

    def __init__(self, recent_items: int) -> None:
        self.scores: DecayedTable | None = None
        self.customer_id: str | None = None
        self.recent: deque[str] = deque(maxlen=recent_items)
        self.source: str | None = None
        self.seen: dict[str, float] = {}
        self.expires_at = float("inf")


class MemoryTracking:
    """Profiles, trending lists and seen event ids in dicts.

    Bounds: at most ``max_sessions`` sessions and ``max_event_ids`` remembered event ids in all, at most
    ``max_event_ids_per_session`` per session; past them the least recently active sessions go first (the dict of
    sessions is kept in order of last activity) and a session's oldest ids before its newer ones."""

    def __init__(self, config: TrackingConfig) -> None:
        self._config = config
        self._sessions: dict[str, SessionState] = {}
        self._customers: dict[str, DecayedTable] = {}
        self._trend_epoch: float | None = None
        self._trends: dict[str, dict[str, float]] = {}
        self._event_ids = 0
        self._sweep_at = _SWEEP_EVERY
        self._log: deque[Interaction] = deque(maxlen=config.log_length)

    async def apply(self, write: TrackingWrite) -> Applied:
        now = time.monotonic()
        self._sweep(now)
        session = self._session(write.session_id, now)
        accepted = duplicates = forgotten = 0
        for event in write.events:
            if event.event_id is not None:
                if session.seen.get(event.event_id, 0.0) > now:
                    duplicates += 1
                    continue
                forgotten += self._remember(session, event.event_id, now)
            accepted += 1
            self._add(write, session, event)
        self._touch(write, session, now)
        dropped, more_forgotten = self._bound(write.session_id)
        return Applied(accepted, duplicates, dropped, forgotten + more_forgotten)

    async def apply_many(self, writes: Sequence[TrackingWrite]) -> list[Applied]:
        return [await self.apply(write) for write in writes]

    def _session(self, session_id: str, now: float) -> SessionState:
        """The live session (moved to the most recently active end), or a new one."""
        session = self._sessions.pop(session_id, None)
        if session is None or session.expires_at <= now:
            if session is not None:
                self._event_ids -= len(session.seen)
            session = SessionState(self._config.recent_items)
        self._sessions[session_id] = session
        return session

    def _remember(self, session: SessionState, event_id: str, now: float) -> int:
        """Remember an event id; returns how many of the session's oldest ids its cap made it forget."""
        if event_id not in session.seen:
            self._event_ids += 1
        session.seen[event_id] = now + self._config.dedup_ttl_s
        forgotten = 0
        while len(session.seen) > self._config.max_event_ids_per_session:
            del session.seen[next(iter(session.seen))]
            self._event_ids -= 1
            forgotten += 1
        return forgotten

    def _bound(self, keep: str) -> tuple[int, int]:
        """Drop the least recently active sessions while over a bound; returns (sessions, event ids) dropped."""
        cfg, dropped, forgotten = self._config, 0, 0
        while len(self._sessions) > 1 and (
            len(self._sessions) > cfg.max_sessions or self._event_ids > cfg.max_event_ids
        ):
            oldest = next(iter(self._sessions))
            if oldest == keep:
                break
            gone = self._sessions.pop(oldest)
            self._event_ids -= len(gone.seen)
            dropped, forgotten = dropped + 1, forgotten + len(gone.seen)
        return dropped, forgotten

    def _add(self, write: TrackingWrite, session: SessionState, event: ScoredEvent) -> None:
        cfg = self._config
        if event.item_id:
            user = write.customer_id or f"session:{write.session_id}"
            self._log.append(Interaction(user, write.session_id, event.item_id, event.kind, event.ts))
        if event.recent and event.item_id:
            session.recent.append(event.item_id)
        if event.fields:
            if session.scores is None:
                session.scores = DecayedTable(event.ts)
            session.scores.add(event.fields, event.affinity, event.ts, cfg.session_half_life_ms)
            if write.customer_id:
                self._customer(write.customer_id, event.ts).add(
                    event.fields, event.affinity, event.ts, cfg.customer_half_life_ms
                )
        if event.scopes:
            self._add_trend(event)

    def _add_trend(self, event: ScoredEvent) -> None:
        half_life = self._config.trend_half_life_ms
        if self._trend_epoch is None:
            self._trend_epoch = float(event.ts)
        if decay.needs_rebase(event.ts, self._trend_epoch, half_life):
            factor = decay.growth(self._trend_epoch, event.ts, half_life)
            for counts in self._trends.values():
                for item_id in counts:
                    counts[item_id] *= factor
            self._trend_epoch = float(event.ts)
        amount = event.trend * decay.growth(event.ts, self._trend_epoch, half_life)
        item_id = event.item_id or ""
        for scope in event.scopes:
            counts = self._trends.setdefault(scope, {})
            counts[item_id] = counts.get(item_id, 0.0) + amount

    def _customer(self, customer_id: str, ts: float) -> DecayedTable:
        table = self._customers.get(customer_id)
        if table is None:
            table = self._customers[customer_id] = DecayedTable(ts)
        return table

    def _touch(self, write: TrackingWrite, session: SessionState, now: float) -> None:
        if write.customer_id:
            session.customer_id = write.customer_id
        if write.landing_source and session.source is None:
            session.source = write.landing_source
        if session.scores is None and (write.customer_id or session.recent or write.landing_source):
            session.scores = DecayedTable(float(write.now_ms))
        session.expires_at = now + self._config.session_ttl_s
        customer = self._customers.get(write.customer_id or "")
        if customer is not None:
            customer.expires_at = now + self._config.customer_ttl_s

    async def profile(self, session_id: str) -> RawProfile:
        now = time.monotonic()
        found = self._sessions.get(session_id)
        session = found if found is not None and found.expires_at > now else None
        if session is None or session.scores is None:
            return RawProfile(None, None, None)
        customer_id = session.customer_id
        customer = self._live(self._customers, customer_id, now) if customer_id else None
        return RawProfile(
            session.scores.raw(),
            customer_id,
            customer.raw() if customer else None,
            tuple(session.recent),
            session.source,
        )

    async def customer_scores(self, customer_id: str) -> RawScores | None:
        table = self._live(self._customers, customer_id, time.monotonic())
        return table.raw() if table else None

    async def forget_customer(self, customer_id: str) -> int:
        self._customers.pop(customer_id, None)
        linked = [session for session in self._sessions.values() if session.customer_id == customer_id]
        for session in linked:
            session.customer_id = None
        return len(linked)

    async def interactions(self) -> AsyncIterator[Interaction]:
        for interaction in list(self._log):
            yield interaction

    @staticmethod
    def _live(tables: dict[str, DecayedTable], key: str, now: float) -> DecayedTable | None:
        table = tables.get(key)
        return table if table is not None and table.expires_at > now else None

    async def trending(self, scope: str, limit: int) -> tuple[float, list[tuple[str, float]]]:
        counts = self._trends.get(scope, {})
        top = heapq.nlargest(limit, counts.items(), key=lambda pair: pair[1])
        return (self._trend_epoch or 0.0), top

    def sizes(self) -> Sizes:
        """Sessions and remembered event ids held now."""
        return Sizes(len(self._sessions), self._event_ids)

    def _sweep(self, now: float) -> None:
        """Drop expired entries once the tables have doubled since the last sweep (amortized O(1))."""
        if len(self._sessions) + len(self._customers) < self._sweep_at:
            return
        for session_id in [k for k, session in self._sessions.items() if session.expires_at <= now]:
            self._event_ids -= len(self._sessions.pop(session_id).seen)
        for session in self._sessions.values():
            expired = [event_id for event_id, until in session.seen.items() if until <= now]
            for event_id in expired:
                del session.seen[event_id]
            self._event_ids -= len(expired)
        for customer_id in [k for k, table in self._customers.items() if table.expires_at <= now]:
            del self._customers[customer_id]
        self._sweep_at = max(_SWEEP_EVERY, 2 * (len(self._sessions) + len(self._customers)))
