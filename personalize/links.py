"""The URLs the server accepts and hands to browsers: links and images of catalog items, page addresses.

A link or image the snippet renders is either an absolute ``http(s)`` URL with a host name, or a path on the
shop's own host: one ``/`` then anything but a second ``/`` or a ``\\`` (browsers read ``//evil.example`` and
``/\\evil.example`` as another host, which would make a catalog entry an open redirect). No whitespace or control
characters anywhere. The banner files apply the same rule (``banners.files``). Page addresses a browser reports
(``referrer``, ``landing_url``) must at least parse; anything the standard library's parser refuses is a 400
naming the field, never an exception deeper in.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

_HOST = r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?"
_PATH = r"/([^/\\\s\x00-\x1f\x7f][^\\\s\x00-\x1f\x7f]*)?"
LINK_PATTERN = rf"^(https?://{_HOST}([/?#][^\s\x00-\x1f\x7f]*)?|{_PATH}|)$"
"""The rule as a regular expression both Python and JSON Schema (ECMA 262) read the same way: no lookarounds."""
_LINK = re.compile(LINK_PATTERN)


def is_link(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL with a host, or a path on the shop's own host."""
    return bool(value) and _LINK.fullmatch(value) is not None


def check_link(value: str, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is empty or :func:`is_link`."""
    if value and not is_link(value):
        raise ValueError(f"{name} {value[:80]!r} must be an http(s) URL or a path starting with a single /")


def split(url: str) -> SplitResult | None:
    """The parts of a URL, or ``None`` when the standard library cannot parse it."""
    try:
        parts = urlsplit(url)
        _ = parts.hostname, parts.port  # both parse lazily and raise on a bad host or port
    except ValueError:
        return None
    return parts


def check_parses(value: str | None, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is a URL the parser refuses."""
    if value and split(value) is None:
        raise ValueError(f"{name} {value[:80]!r} is not a URL that can be parsed")
