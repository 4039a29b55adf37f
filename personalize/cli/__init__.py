"""The ``personalize`` console script: one module per sub-command, each with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from personalize.settings import SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"personalize: bad setting: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from personalize.cli import evaluate, experiments, fixtures, import_orders, loyalty, segments, serve, token, train

    parser = argparse.ArgumentParser(prog="personalize", description="Storefront personalization server.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in (serve, token, fixtures, train, evaluate, import_orders, segments, loyalty, experiments):
        command.add_parser(commands)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
