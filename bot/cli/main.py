"""The `civicpulse` entry point: build the parser from the command groups, run one command.

Each group module exposes `register(subparsers)`, which adds its sub-commands and sets
`handler` on them: an async function taking the parsed arguments and the settings and
returning the exit status. Group modules import nothing of aiogram at their top, so that
commands which never talk to Telegram start at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli import (
    actions,
    audit,
    db,
    export,
    publish,
    run,
    sandbox,
    staff,
    status,
    surveys,
    waves,
)
from bot.cli.parsing import Parser, with_example
from bot.logging_setup import configure_logging
from bot.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="civicpulse",
        description="CivicPulse — Telegram survey bot for citizen polling.",
        **with_example("civicpulse wave create --survey social_services --start now --end +14d"),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (run, status, surveys, waves, export, publish, staff, actions, audit, db, sandbox):
        group.register(subparsers)
    return parser


#: Every file CivicPulse creates holds personal data or leads to it (the database and its
#: WAL, exports, the pseudonym key, the sandbox): readable by the service's user only,
#: from the first byte, rather than narrowed by a chmod after the fact.
PRIVATE_UMASK = 0o077


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
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
