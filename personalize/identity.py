"""Signed customer tokens: the shop's back end vouches for a logged-in customer.

Format: ``<customer id, base64url>.<expiry, epoch seconds>.<HMAC-SHA256, base64url>``, the MAC taken over
the first two parts with ``PZ_IDENTITY_SECRET``. Decoding is strict: unpadded canonical base64url of exactly the
MAC's length, a decimal expiry, nothing else; a token with anything inserted or changed is not a token. The
server trusts no bare customer id from a browser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re

log = logging.getLogger("personalize.identity")

MAX_TOKEN_LENGTH = 512
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{2,400})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
"""Canonical form only: unpadded base64url id, decimal expiry, a 43-symbol base64url SHA-256 MAC."""


def sign_customer(customer_id: str, secret: str, expires_at_s: int) -> str:
    """A token for ``customer_id`` valid until ``expires_at_s`` (epoch seconds)."""
    if not customer_id:
        raise ValueError("customer_id must not be empty")
    payload = f"{_b64(customer_id.encode())}.{expires_at_s}"
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify_customer(token: str, secret: str, now_s: float) -> str | None:
    """The customer id of a valid, unexpired token; ``None`` (and a log line) for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not secret:
        return None
    parts = _TOKEN.match(token)
    valid, customer_id, expires = False, "", 0
    if parts is not None:
        encoded_id, expiry, signature = parts.groups()
        payload = f"{encoded_id}.{expiry}"
        try:
            valid = hmac.compare_digest(_unb64(signature), _mac(secret, payload))
            customer_id = _unb64(encoded_id).decode() if valid else ""
            expires = int(expiry)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            valid = False
    if not valid or not customer_id:
        log.warning("customer token rejected: bad signature or format")
        return None
    if expires < now_s:
        log.info("customer token rejected: expired")
        return None
    return customer_id


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict: only the canonical encoding of some bytes decodes (no stray symbols, no set padding bits)."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
