"""Wire times to epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from personalize.clock import epoch_ms

MS = 1_795_000_000_000


def test_every_wire_form_gives_the_same_moment() -> None:
    moment = datetime.fromtimestamp(MS / 1000, tz=UTC)
    assert epoch_ms(MS) == MS
    assert epoch_ms(moment) == MS
    assert epoch_ms(moment.isoformat()) == MS
    assert epoch_ms(moment.isoformat().replace("+00:00", "Z")) == MS
    assert epoch_ms(moment.replace(tzinfo=None)) == MS  # no zone: UTC
    assert epoch_ms(moment.astimezone(timezone(timedelta(hours=2)))) == MS


def test_a_number_is_milliseconds_even_with_a_fraction() -> None:
    assert epoch_ms(MS + 0.75) == MS
    assert epoch_ms(float(MS)) == MS
