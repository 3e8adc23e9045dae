"""The command line as a person types it: quick to start, with examples, forgiving of typos.

Commands that never talk to Telegram must not pay for loading aiogram (about 3 s of every
start before the rooms were split), so each is run in a fresh interpreter that then reports
whether aiogram or the bot's handlers were loaded. Timing itself is measured by
bench/cli.py, never asserted here.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import build_parser
from tests.commands import run_civicpulse, without_database
from tests.harness import database_environment, write_scale_survey

ROOT = Path(__file__).resolve().parent.parent

#: Commands that work on the database and files only, as an administrator types them.
OFFLINE_COMMANDS = (
    ["--help"],
    ["surveys", "list"],
    ["surveys", "validate"],
    ["wave", "create", "--survey", "pulse", "--start", "now", "--end", "+14d"],
    ["wave", "list"],
    ["status"],
    ["wave", "stats", "1"],
    ["wave", "cancel", "1"],
    ["export", "ratings", "--wave", "1"],
    ["export", "answers", "--wave", "1"],
    ["export", "map", "--wave", "1", "-o", "map.svg"],
    ["export", "change", "--wave", "1", "--against", "1"],
    ["export", "segments", "--wave", "1"],
    ["export", "situations", "--wave", "1", "--against", "1"],
    ["surveys", "diff", "pulse.yaml", "pulse.yaml"],
    ["staff", "add", "42", "--role", "regional", "--regions", "49"],
    ["staff", "list"],
    ["staff", "remove", "42"],
    ["audit", "--since", "7d"],
    ["actions", "add", "--region", "49", "--title", "Запись к врачу онлайн"],
    ["actions", "list"],
    ["actions", "update", "1", "--status", "done"],
    ["actions", "remove", "1"],
    ["publish", "--wave", "1", "-o", "site"],
)

#: Run each command in one fresh interpreter, reporting after each what it loaded.
_PROBE = """
import contextlib, io, json, sys
from bot.cli.main import main
report = []
for argv in json.loads(sys.argv[1]):
    quiet = io.TextIOWrapper(io.BytesIO())  # with a .buffer, as exports write bytes
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] == "aiogram" or name.startswith(("bot.chat.handlers", "bot.app"))
    )
    report.append({"argv": argv, "status": status, "loaded": loaded[:5]})
print(json.dumps(report))
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a command that works on the database of the test's pass."""
    return {**without_database(), **database_environment(tmp_path / "data")}


@pytest.mark.usefixtures("bot_database_pass")
def test_offline_commands_do_not_load_telegram(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(OFFLINE_COMMANDS)],
        cwd=tmp_path,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert [entry["loaded"] for entry in report] == [[] for _ in OFFLINE_COMMANDS], report
    # The commands really ran: help and listing succeed, the new wave got id 1.
    statuses = {" ".join(entry["argv"]): entry["status"] for entry in report}
    assert statuses["--help"] == 0
    assert statuses["wave create --survey pulse --start now --end +14d"] == 0
    assert statuses["wave stats 1"] == 0
    assert statuses["status"] == 3  # no bot runs: nobody sends
    assert statuses["wave cancel 1"] == 0
    # Each command that reads or writes the database did so on this pass's database.
    stored = ("export ratings", "export answers", "export segments", "staff", "audit", "actions")
    assert {argv: status for argv, status in statuses.items() if argv.startswith(stored)} == {
        argv: 0 for argv in statuses if argv.startswith(stored)
    }


def test_the_bot_command_still_loads_the_bot(tmp_path: Path) -> None:
    """The deferred imports are real: `run` reaches aiogram (and stops: no token, before it
    opens any database, so this runs once)."""
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([["run"]])],
        cwd=tmp_path,
        # Where `run` would keep its data, were it to get as far as opening a database.
        env={**without_database(), "DATABASE_PATH": str(tmp_path / "unused.db")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    (entry,) = json.loads(completed.stdout)
    assert entry["status"] == 2  # BOT_TOKEN is not set
    assert not (tmp_path / "unused.db").exists()


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


ALL_COMMANDS = list(_commands(build_parser()))


@pytest.mark.parametrize(
    "path,parser",
    [pytest.param(*command, id=" ".join(command[0]) or "civicpulse") for command in ALL_COMMANDS],
)
def test_every_help_ends_with_an_example_that_parses(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    help_text = parser.format_help()
    assert "\nexample:\n  " in help_text, help_text
    example = help_text.rsplit("\nexample:\n  ", 1)[1].strip()
    words = shlex.split(example)
    while "=" in words[0]:  # `SURVEYS_DIR=… civicpulse …`
        words.pop(0)
    assert words[0] == "civicpulse"
    assert tuple(words[1 : 1 + len(path)]) == path, f"the example of {path} is not of it"
    build_parser().parse_args(words[1:])  # exits (fails the test) if the example is wrong


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"wave create", "export ratings", "surveys validate", "run", "sandbox"} <= names


@pytest.mark.parametrize(
    "argv,suggestion,usage",
    [
        (["waev", "list"], "did you mean 'wave'?", "usage: civicpulse [-h]"),
        (["wave", "lst"], "did you mean 'list'?", "usage: civicpulse wave"),
        (
            [
                "wave",
                "create",
                "--survey",
                "pulse",
                "--start",
                "now",
                "--end",
                "+1d",
                "--tracks",
                "yuoth",
            ],
            "did you mean 'youth'?",
            "usage: civicpulse wave create",
        ),
        (
            ["export", "ratings", "--wave", "1", "--levl", "region"],
            "did you mean '--level'?",
            "usage: civicpulse export ratings",
        ),
        (
            ["surveys", "list", "--verbse"],
            "unrecognized arguments: --verbse\n",
            "usage: civicpulse surveys list",
        ),
    ],
)
def test_a_typo_names_the_closest_word(
    argv: list[str], suggestion: str, usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert suggestion in error
    assert error.startswith(usage)


def test_no_suggestion_for_a_word_like_nothing_known(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["wave", "xyzzy"])
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.usefixtures("bot_database_pass")
def test_a_survey_changed_under_a_stored_version_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    """A server of the deployment with an edited survey file but the same `version`: the
    commands and the bot refuse in one line (the bot with status 2, not to be restarted)."""
    surveys = tmp_path / "surveys"
    path = write_scale_survey(surveys, questions=2)
    environment = {"SURVEYS_DIR": str(surveys)}
    assert run_civicpulse(tmp_path, "wave", "list", **environment).returncode == 0  # stores v1
    path.write_text(path.read_text(encoding="utf-8").replace("номер 2", "№ 2"), encoding="utf-8")
    listed = run_civicpulse(tmp_path, "wave", "list", **environment)
    started = run_civicpulse(
        tmp_path,
        "run",
        **environment,
        BOT_TOKEN="123456:TEST-token",
        TELEGRAM_API_URL="http://127.0.0.1:9",  # never reached: it stops before
    )
    for completed, status in ((listed, 1), (started, 2)):
        assert completed.returncode == status, completed.stderr
        assert "Traceback" not in completed.stderr
        assert "survey `scale` version 1 differs from the copy already stored" in completed.stderr
