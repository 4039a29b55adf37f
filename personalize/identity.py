"""Signed customer tokens: the shop's back end vouches for a logged-in customer.

Format: ``<customer id, base64url>.<expiry, epoch seconds>.<HMAC-SHA256, base64url>``, the MAC taken over
the first two parts with ``PZ_IDENTITY_SECRET``. The server trusts no bare customer id from a browser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging

log = logging.getLogger("personalize.identity")

MAX_TOKEN_LENGTH = 512


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
    payload, _, signature = token.rpartition(".")
    encoded_id, _, expiry = payload.partition(".")
    try:
        valid = hmac.compare_digest(_unb64(signature), _mac(secret, payload))
        customer_id = _unb64(encoded_id).decode() if valid else ""
        expires = int(expiry)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        valid, customer_id, expires = False, "", 0
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
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
