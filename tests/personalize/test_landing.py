"""Landing sources."""

from __future__ import annotations

import pytest

from personalize.tracking.landing import landing_source


@pytest.mark.parametrize(
    ("utm", "referrer", "url", "expected"),
    [
        ("Facebook", "https://www.google.com/", None, "facebook"),
        (None, "https://l.facebook.com/l.php?u=x", None, "facebook"),
        (None, "https://m.facebook.com/", None, "facebook"),
        (None, "https://www.facebook.com/groups/1", None, "facebook"),
        (None, None, "https://shop.example/p/1?fbclid=AbC", "facebook"),
        (None, "https://www.google.co.uk/search?q=dress", None, "google"),
        (None, "https://t.co/xyz", None, "twitter"),
        (None, "https://blog.example.org/post", None, "blog.example.org"),
        (None, "https://shop.example/women", None, None),
        (None, None, None, None),
        (None, "not a url at all", None, "not a url at all"),
    ],
)
def test_sources(utm: str | None, referrer: str | None, url: str | None, expected: str | None) -> None:
    assert landing_source(utm, referrer, url, {"shop.example"}) == expected
