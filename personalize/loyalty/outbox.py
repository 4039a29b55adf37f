"""The loyalty outbox as the admin API reads it (the store appends to it inside each loyalty change)."""

from __future__ import annotations

from personalize.clock import utc
from personalize.loyalty.types import NoticeOut, NoticePage
from personalize.runtime import Runtime


async def notice_page(runtime: Runtime, after: str | None, limit: int) -> NoticePage:
    """Up to ``limit`` notices after the id ``after``, oldest first."""
    notices = await runtime.store.ledger.notices(after, limit)
    events = [
        NoticeOut(
            id=notice.id,
            kind=notice.kind,
            customer_id=notice.customer_id,
            at=utc(notice.at_ms),
            data=notice.data,
        )
        for notice in notices
    ]
    return NoticePage(events=events, next_after=events[-1].id if len(events) == limit else None)
