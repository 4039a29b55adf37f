"""Standard Webhooks signatures for the messages the server sends (campaigns, the loyalty outbox).

From the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks, ``spec/
standard-webhooks.md``): a message carries ``webhook-id`` (the same on every retry), ``webhook-timestamp`` (epoch
seconds of this attempt) and ``webhook-signature``, a space-separated list of ``v1,<signature>``, where the signature
is the base64 of HMAC-SHA256 over ``"{id}.{timestamp}.{body}"`` keyed with the secret's bytes. A secret is
``whsec_`` followed by the base64 of 24 to 64 random bytes. An endpoint may have several secrets at once (rotation):
the message is signed with each, and a receiver accepts it when any signature is one of its secret's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = (24, 64)
"""How many random bytes a secret may hold (the specification's range)."""


class SecretError(ValueError):
    """A webhook secret that is not ``whsec_`` and the base64 of 24 to 64 bytes."""


def new_secret() -> str:
    """A fresh secret (``whsec_`` and the base64 of 32 random bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The key a secret stands for; raises :class:`SecretError` saying what is wrong with it."""
    if not secret.startswith(PREFIX):
        raise SecretError(f"a webhook secret starts with {PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"a webhook secret is {PREFIX!r} and base64") from None
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise SecretError(f"a webhook secret holds {low} to {high} bytes, not {len(key)}")
    return key


def signature(key: bytes, message_id: str, timestamp_s: int, body: bytes) -> str:
    """One ``v1,`` signature of the message."""
    signed = f"{message_id}.{timestamp_s}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(message_id: str, timestamp_s: int, body: bytes, keys: Sequence[bytes]) -> dict[str, str]:
    """The three headers of one delivery attempt, signed with each of the endpoint's keys."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": " ".join(signature(key, message_id, timestamp_s, body) for key in keys),
    }
