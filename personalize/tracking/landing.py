"""Where a visitor came from (DOMAIN.md, the snippet): ``utm_source``, else the referrer's domain, with
Facebook's many hosts and its ``fbclid`` click id folded into ``facebook``; kept for the whole session."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qs

from personalize import links

_FAMILIES = {
    "facebook": ("facebook.com", "fb.com", "fb.me"),
    "instagram": ("instagram.com",),
    "google": ("google.",),
    "bing": ("bing.com",),
    "twitter": ("t.co", "twitter.com", "x.com"),
    "pinterest": ("pinterest.",),
    "tiktok": ("tiktok.com",),
}


def landing_source(
    utm_source: str | None, referrer: str | None, landing_url: str | None, own_hosts: Collection[str]
) -> str | None:
    """The session's landing source, or ``None`` when this page says nothing about it (an internal link).

    Args:
        utm_source: the landing page's ``utm_source``; it wins when present.
        referrer: the page's referrer URL.
        landing_url: the page's own URL (an ``fbclid`` parameter there means Facebook).
        own_hosts: the shop's hosts; a referrer from them is internal navigation.
    """
    if utm_source and utm_source.strip():
        return utm_source.strip().lower()[:50]
    landing = links.split(landing_url) if landing_url else None
    if landing is not None and "fbclid" in parse_qs(landing.query):
        return "facebook"
    host = _host(referrer)
    if host is None:
        return None
    if host in own_hosts:
        return None
    return _family(host)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    parts = links.split(url if "//" in url else f"//{url}")
    host = parts.hostname if parts is not None else None
    return host.lower().removeprefix("www.") if host else None


def _family(host: str) -> str:
    for family, markers in _FAMILIES.items():
        for marker in markers:
            if marker.endswith(".") and (host.startswith(marker) or f".{marker}" in host):
                return family
            if host == marker or host.endswith(f".{marker}"):
                return family
    return host[:50]
