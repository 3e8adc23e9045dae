"""`civicpulse run`: start the bot with long polling."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from bot.app import Application
from bot.logging_setup import redact
from bot.settings import Settings


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="start the bot (long polling)")
    run.set_defaults(handler=run_command, log_level=logging.INFO)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.bot_token is None:
        print(
            "civicpulse: BOT_TOKEN is not set. Put BOT_TOKEN=123456:ABC… in .env "
            "(ask @BotFather for a token).",
            file=sys.stderr,
        )
        return 2
    redact(settings.bot_token.get_secret_value())
    app = await Application.create(settings)
    await app.run_polling()
    return 0
