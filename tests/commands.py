"""Running `civicpulse …` in a test, on the database of the test's pass
(`bot_database_pass`): in this process through `main()` (the `cli` fixture, in conftest),
or in a process of its own as an operator runs it (`run_civicpulse`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.settings import Settings
from tests.harness import database_environment, database_settings

Cli = Callable[..., tuple[int, str, str]]
ROOT = Path(__file__).resolve().parent.parent
#: The variables that name a database: a command a test runs gets its pass's, never the
#: caller's.
DATABASE_VARIABLES = ("DATABASE_PATH", "DATABASE_URL", "PSEUDONYM_KEY")


def without_database() -> dict[str, str]:
    """This process's environment with no database and no token of the caller's."""
    kept = {name: value for name, value in os.environ.items() if name not in DATABASE_VARIABLES}
    return {**kept, "BOT_TOKEN": ""}


def run_civicpulse(
    folder: Path, *argv: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    """`civicpulse …` in a process of its own, as an operator runs it: in `folder` (so that
    no `.env` of the working copy is read), on this pass's database (`folder`/data on
    SQLite), under a login shell's umask, with `environment` besides."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=folder,
        env={
            **without_database(),
            "PYTHONPATH": str(ROOT),
            **database_environment(folder / "data"),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,
    )


def pass_settings(directory: Path, **values: Any) -> Settings:
    """Settings that name this pass's database (in `directory` on SQLite), with `values`
    besides: what a command is given, or a test that reads the database as another process
    would, without any `.env` or environment variable choosing another."""
    return Settings(_env_file=None, **{**database_settings(directory), **values})  # type: ignore[call-arg]


def cli_settings(tmp_path: Path) -> Settings:
    """The settings naming the database that `cli` works on."""
    return pass_settings(tmp_path / "data")
