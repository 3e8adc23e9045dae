"""`civicpulse surveys validate|list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.chat.message_limits import message_limit_problems
from bot.cli.parsing import add_command
from bot.settings import Settings
from surveys.loader import SurveyFileError, load_surveys, validate_paths


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "surveys",
        help="check and list survey files",
        example="civicpulse surveys validate my_surveys/",
    )
    commands = group.add_subparsers(dest="surveys_command", required=True, metavar="COMMAND")
    validate = add_command(
        commands,
        "validate",
        help="check survey files; exit 1 on any error",
        example="civicpulse surveys validate surveys/examples/pulse.yaml",
    )
    validate.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: SURVEYS_DIR)"
    )
    validate.set_defaults(handler=validate_command)
    listing = add_command(
        commands,
        "list",
        help="list the surveys in SURVEYS_DIR",
        example="SURVEYS_DIR=my_surveys civicpulse surveys list",
    )
    listing.set_defaults(handler=list_command)


async def validate_command(args: argparse.Namespace, settings: Settings) -> int:
    """Every problem of the files, Telegram's message limits included: a survey the bot
    would refuse to start with never passes here."""
    paths = args.paths or [settings.surveys_dir]
    problems = validate_paths(paths, message_limit_problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"OK: {', '.join(str(path) for path in paths)}")
    return 0


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        surveys = load_surveys(settings.surveys_dir)
    except SurveyFileError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{'id':<20} {'version':>7} {'questions':>9}  title")
    for survey in surveys.values():
        title = survey.title.get(settings.default_locale)
        print(f"{survey.id:<20} {survey.version:>7} {len(survey.questions):>9}  {title}")
    return 0
