"""Signed customer tokens."""

from __future__ import annotations

import pytest

from personalize.identity import sign_customer, verify_customer

NOW = 1_800_000_000


def test_a_token_names_its_customer_until_it_expires() -> None:
    token = sign_customer("cust-ü/42", "secret", NOW + 60)
    assert verify_customer(token, "secret", NOW) == "cust-ü/42"
    assert verify_customer(token, "secret", NOW + 61) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: sign_customer("someone-else", "secret", NOW + 60).split(".")[0] + "." + t.split(".", 1)[1],
        lambda t: t.replace(str(NOW + 60), str(NOW + 9999)),
        lambda t: "",
        lambda t: "not a token",
        lambda t: "a.b.c.d",
        lambda t: t + "x" * 600,
    ],
)
def test_anything_altered_or_malformed_is_anonymous(mangle: object) -> None:
    token = sign_customer("c1", "secret", NOW + 60)
    assert verify_customer(mangle(token), "secret", NOW) is None  # type: ignore[operator]


def test_another_secret_does_not_verify() -> None:
    assert verify_customer(sign_customer("c1", "secret", NOW + 60), "other", NOW) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-10] + "*" + t[-10:],  # a symbol outside the alphabet inside the signature
        lambda t: t[:-10] + "%" + t[-10:],
        lambda t: t + "==",  # padding
        lambda t: (
            t[:-1]
            + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
                ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(t[-1]) ^ 1)
            ]
        ),  # the last symbol's unused bits changed: the same bytes, not the same token
        lambda t: t.replace(".", "..", 1),
        lambda t: " " + t,
    ],
)
def test_a_signature_with_anything_inserted_or_reencoded_does_not_verify(mangle: object) -> None:
    token = sign_customer("c1", "secret", NOW + 60)
    assert verify_customer(token, "secret", NOW) == "c1"
    assert verify_customer(mangle(token), "secret", NOW) is None  # type: ignore[operator]
