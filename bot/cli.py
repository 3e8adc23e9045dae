"""The `civicpulse` command line: one entry point, one module per command group.

Each group module exposes `register(subparsers)`, which adds its sub-commands and sets
`handler` on them: an async function taking the parsed arguments and the settings and
returning the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import cli_export, cli_run, cli_sandbox, cli_surveys, cli_waves
from bot.logging_setup import configure_logging
from bot.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicpulse", description="CivicPulse — Telegram survey bot for citizen polling."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (cli_run, cli_surveys, cli_waves, cli_export, cli_sandbox):
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Long-running services log their progress; one-shot commands print only their result.
    configure_logging(getattr(args, "log_level", logging.WARNING))
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            print(f"civicpulse: setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
