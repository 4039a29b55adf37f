"""Standard Webhooks signatures, checked by the specification's reference library (``standardwebhooks``): every
secret of a rotation verifies, a changed body, id or timestamp does not, and malformed secrets are refused."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from personalize.campaigns.webhook_signing import SecretError, new_secret, secret_key, signed_headers

BODY = b'{"type":"campaign.message","data":{"customer_id":"ann","code":"LOYAL-7K2Q"}}'


def test_each_secret_of_a_rotation_verifies_with_the_reference_library() -> None:
    old, new = new_secret(), new_secret()
    now = int(time.time())
    headers = signed_headers("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, BODY, [secret_key(old), secret_key(new)])
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == {
            "type": "campaign.message",
            "data": {"customer_id": "ann", "code": "LOYAL-7K2Q"},
        }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.parametrize(
    ("body", "message_id", "shift"),
    [(BODY.replace(b"ann", b"bob"), "msg_1", 0), (BODY, "msg_2", 0), (BODY, "msg_1", 1)],
)
def test_a_changed_body_id_or_timestamp_does_not_verify(body: bytes, message_id: str, shift: int) -> None:
    secret = new_secret()
    now = int(time.time())
    headers = signed_headers("msg_1", now, BODY, [secret_key(secret)])
    tampered = {**headers, "webhook-id": message_id, "webhook-timestamp": str(now + shift)}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, tampered)


def test_the_specifications_example_signature() -> None:
    # the example of the specification's README: this id, timestamp, body and secret give this signature
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    headers = signed_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, [secret_key(secret)])
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_not base64!", "base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24 to 64 bytes, not 5"),
    ],
)
def test_malformed_secrets_are_refused_saying_why(secret: str, words: str) -> None:
    with pytest.raises(SecretError, match=words):
        secret_key(secret)
