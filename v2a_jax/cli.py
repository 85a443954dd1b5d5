"""The ``v2a`` command line: one sub-command module per area under ``v2a_jax/commands/``.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed ``argparse.Namespace``; returns an exit code or None).
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "v2a_jax.commands.data",
    "v2a_jax.commands.codec",
    "v2a_jax.commands.train",
    "v2a_jax.commands.generate",
    "v2a_jax.commands.refiner",
    "v2a_jax.commands.eval",
    "v2a_jax.commands.demo",
)


class UserError(Exception):
    """An error caused by the user's input; printed as one line without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v2a", description="v2a-jax: soundtracks for silent video."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # Commands that take ``--config.a.b=value`` overrides (v2a train) get the unrecognised
    # arguments as ``args.extra``; every other command rejects them as argparse would.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_config_overrides", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        code = args.func(args)
    except (UserError, ValueError, FileNotFoundError) as err:
        print(f"v2a {args.command}: error: {err}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
