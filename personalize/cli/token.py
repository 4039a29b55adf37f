"""``personalize token``: sign a customer id with ``PZ_IDENTITY_SECRET``, as a shop's back end does."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from personalize import identity
from personalize.settings import load_settings


def add_parser(commands: Any) -> None:
    """Register ``token``."""
    token = commands.add_parser("token", help="print a signed customer token (uses PZ_IDENTITY_SECRET)")
    token.add_argument("customer_id")
    token.add_argument("--ttl", type=int, default=86400, help="seconds until it expires (default 86400)")
    token.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    secret = load_settings().identity_secret
    if not secret:
        print("personalize: set PZ_IDENTITY_SECRET to the server's secret first", file=sys.stderr)
        return 2
    print(identity.sign_customer(args.customer_id, secret, int(time.time()) + args.ttl))
    return 0
