"""`civicpulse run`: start the bot with long polling, or `--webhook URL` behind a proxy."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from bot.cli.parsing import add_command
from bot.logging_setup import redact
from bot.settings import Settings
from bot.webhook_config import DEFAULT_LISTEN, make_config
from storage.backend import DatabaseOpenError
from storage.repositories.surveys import SurveyVersionConflict
from surveys.loader import SurveyFileError


def register(subparsers: Any) -> None:
    run = add_command(
        subparsers,
        "run",
        help="start the bot (long polling, or --webhook)",
        example="civicpulse run --webhook https://bot.example.org/tg --listen 127.0.0.1:8080",
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this public https:// URL instead of polling",
    )
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"where the webhook server listens, behind the TLS proxy (default {DEFAULT_LISTEN})",
    )
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
    # aiogram logs every handled update at INFO: a thousand lines a second under load, and
    # a few per cent of the CPU. Failures are still logged (at ERROR) by the same logger.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    webhook = None
    if args.webhook is not None:
        if settings.database_url is not None and settings.webhook_secret is None:
            # Each instance would register its own random secret, and refuse the others'.
            print(
                "civicpulse: with DATABASE_URL several instances may serve one webhook:"
                " set WEBHOOK_SECRET so that they all check the same secret",
                file=sys.stderr,
            )
            return 2
        try:
            webhook = make_config(settings, args.webhook, args.listen)
        except ValueError as error:
            print(f"civicpulse: {error}", file=sys.stderr)
            return 2
        redact(webhook.secret)
    # The bot itself is loaded only now: every other command starts without aiogram.
    from bot.app import Application
    from bot.stop_request import StopRequest
    from bot.telegram.gc_tuning import tune_for_serving

    early_stop = StopRequest.catch()
    try:
        app = await Application.create(settings)
    except (SurveyFileError, SurveyVersionConflict) as error:
        # A survey the bot cannot ask: the same file:line list `surveys validate` prints,
        # and status 2, which a service manager is told not to restart on.
        print(f"civicpulse: cannot start: {error}", file=sys.stderr)
        return 2
    except DatabaseOpenError as error:
        # Unreachable, refusing us, or of a newer schema: one line (without the password),
        # and status 1, so that a service manager tries again once the database is back.
        print(f"civicpulse: cannot start: {error}", file=sys.stderr)
        return 1
    tune_for_serving()
    if webhook is None:
        await app.run_polling(early_stop=early_stop)
    else:
        await app.run_webhook(webhook, early_stop=early_stop)
    return app.exit_status
