"""Files holding personal data are readable by the service's user only.

The bot and every command set a private umask before creating anything, so the folder of
the database, the database with its WAL and shared-memory files, the pseudonym key and
exports written with `-o` are private from their first byte. Each check starts its
process under the common umask 022, the one a login shell gives, so that a bot relying
on it would fail here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from tests.bot_process import BotProcess, bot_environment
from tests.commands import run_civicpulse
from tests.harness import Citizen


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask a login shell gives, for the processes this test starts."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def create_and_export(tmp_path: Path) -> None:
    """A wave created and both its files exported with `-o` into `tmp_path`, each by a
    command of its own started under a login shell's umask."""
    created = run_civicpulse(
        tmp_path, "wave", "create", "--survey", "pulse", "--start", "now", "--end", "+1d"
    )
    assert created.returncode == 0, created.stderr
    for what in ("ratings", "answers"):
        exported = run_civicpulse(tmp_path, "export", what, "--wave", "1", "-o", f"{what}.csv")
        assert exported.returncode == 0, exported.stderr


@pytest.mark.usefixtures("bot_database_pass")
def test_exports_are_private(tmp_path: Path) -> None:
    create_and_export(tmp_path)
    assert mode(tmp_path / "ratings.csv") == 0o600
    assert mode(tmp_path / "answers.csv") == 0o600


@pytest.mark.sqlite_only("the modes of the database file, its folder and the key file beside it")
@pytest.mark.usefixtures("bot_database_pass")
def test_commands_create_only_private_files_beside_the_database(tmp_path: Path) -> None:
    create_and_export(tmp_path)
    data = tmp_path / "data"
    assert mode(data) == 0o700
    assert {path.name: mode(path) for path in data.iterdir()} == {
        "civicpulse.db": 0o600,
        "civicpulse.db.key": 0o600,
    }


async def test_the_running_bot_keeps_its_database_private(
    server: FakeTelegram, tmp_path: Path, open_umask: None
) -> None:
    data = tmp_path / "data"
    env = bot_environment(server, tmp_path, database_path=str(data / "civicpulse.db"))
    bot = BotProcess(env, tmp_path)
    await bot.start()
    try:
        await bot.serving()
        citizen = Citizen(server, server.user(880_001, "Вера"))
        consent = await citizen.command("/start")
        assert consent.text
        # While it runs the database has its WAL and shared-memory files beside it.
        files = {path.name: mode(path) for path in data.iterdir()}
    finally:
        status = await bot.terminate()
    assert status == 0, bot.log()[-2000:]
    assert mode(data) == 0o700
    assert files == {
        "civicpulse.db": 0o600,
        "civicpulse.db-wal": 0o600,
        "civicpulse.db-shm": 0o600,
        # Empty: the lock whose holder sends invitations (storage/coordination.py).
        "civicpulse.db.sender": 0o600,
    }
