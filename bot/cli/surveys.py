"""`civicpulse surveys validate|list|diff`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.chat.message_limits import message_limit_problems
from bot.cli.parsing import add_command
from bot.settings import Settings
from surveys.change import compare_surveys
from surveys.loader import SurveyFileError, load_survey_with_lines, load_surveys, validate_paths


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
    diff = add_command(
        commands,
        "diff",
        help="which scored questions two survey files share, for comparing their waves",
        example="civicpulse surveys diff surveys/examples/pulse.yaml my_surveys/pulse_v2.yaml",
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the earlier survey file")
    diff.add_argument("new", type=Path, metavar="NEW", help="the later survey file")
    diff.set_defaults(handler=diff_command)


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


async def diff_command(args: argparse.Namespace, settings: Settings) -> int:
    """One line per scored question of either file, at the line that defines it (in the new
    file, or in the old one for a dropped question): whether `export change` compares it."""
    try:
        old, old_lines = load_survey_with_lines(args.old)
        new, new_lines = load_survey_with_lines(args.new)
    except SurveyFileError as error:
        print(error, file=sys.stderr)
        return 1
    comparability = compare_surveys(old, new)
    for match in comparability.matches:
        path, lines = (
            (args.new, new_lines) if match.question_id in new_lines else (args.old, old_lines)
        )
        status = "comparable" if match.comparable else "not comparable"
        print(
            f"{path}:{lines[match.question_id]}: {match.question_id} ({match.topic}):"
            f" {status}, {match.reason}"
        )
    for topic in comparability.topics:
        if topic not in comparability.questions:
            print(f"topic {topic}: no comparable question; compared nowhere")
    return 0
