"""The bot as a separate process, exactly as `civicpulse run` starts it, for kill -9 tests.

A bot inside the test's own event loop cannot be killed half-way through a write; a child
process can, at any instruction. The fake Bot API server stays in the test process, so it
keeps every update the dead bot had not confirmed and every reply it had already sent.

In a test, the child's database is the current pass's (`bot_database_pass`): SQLite in the
test's folder, or the PostgreSQL pass's database, which the child reaches by
`DATABASE_URL`. The benchmarks run outside any test and name their database themselves.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.sandbox.fake_telegram import FakeTelegram
from storage.backend import Backend
from storage.database import Database
from storage.postgres import PostgresDatabase
from storage.store import Store
from storage.survey_sync import sync_surveys
from storage.wave_planning import WavePlan, create_wave
from tests.harness import (
    DATABASE_SETTINGS,
    bot_database,
    database_environment,
    write_scale_survey,
)

#: Where `seed_wave` puts its citizens: Novgorod region, general track.
SEED_REGION = "49"
SEED_AGE_BAND = "36-44"
#: The SQLite file in a bot's folder: where the SQLite pass and the benchmarks keep it.
DATABASE_FILE = "civicpulse.db"


def bot_environment(server: FakeTelegram, directory: Path, **settings: str) -> dict[str, str]:
    """Environment for a child bot: the fake server, no `.env`, and the current test's
    database (`bot_database_pass`) unless `settings` name one; outside a test's pass (the
    benchmarks) a SQLite file in `directory`. `settings` (e.g. `surveys_dir`) go on top."""
    # The database comes from us alone: DATABASE_URL beside DATABASE_PATH is refused.
    replaced = {"BOT_TOKEN", "TELEGRAM_API_URL", "SURVEYS_DIR", "DATABASE_PATH", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key.upper() not in replaced}
    env.update(BOT_TOKEN=server.token, TELEGRAM_API_URL=server.base_url, PYTHONUNBUFFERED="1")
    if not bot_database.chosen:
        env["DATABASE_PATH"] = str(directory / DATABASE_FILE)
    elif not DATABASE_SETTINGS & {key.lower() for key in settings}:
        env.update(database_environment(directory))
    env.update({key.upper(): value for key, value in settings.items()})
    return env


async def seed_wave(
    directory: Path, telegram_ids: Sequence[int], questions: int, url: str | None = None
) -> int:
    """The current test's database (SQLite in `directory` outside its PostgreSQL pass),
    or PostgreSQL's at `url`, with registered citizens and a wave of a scale survey
    (`directory/surveys`) that the bot opens when it starts; returns the wave id."""
    surveys_dir = directory / "surveys"
    write_scale_survey(surveys_dir, questions)
    if url is None:
        url = bot_database.url
    database: Backend
    if url is None:
        database = await Database.open(directory / DATABASE_FILE)
    else:
        database = await PostgresDatabase.open(url)
    try:
        store = Store(database)
        stored = await sync_surveys(store, surveys_dir)
        for telegram_id in telegram_ids:
            await store.respondents.record_consent(telegram_id, "ru", "test")
            await store.respondents.update_profile(
                telegram_id, region_code=SEED_REGION, age_band=SEED_AGE_BAND
            )
        now = datetime.now(UTC)
        (survey_id,) = stored
        plan = WavePlan(survey_id, now - timedelta(seconds=1), now + timedelta(days=1), None, "all")
        return await create_wave(store, stored, plan)
    finally:
        await database.close()


class BotProcess:
    """`python -m bot run` in `directory` (so no stray `.env` is read), logging to a file."""

    def __init__(
        self,
        env: dict[str, str],
        directory: Path,
        python_args: Sequence[str] = (),
        run_args: Sequence[str] = (),
    ) -> None:
        """`python_args` go before `-m bot run`, e.g. `-m cProfile -o FILE` (bench);
        `run_args` after it, e.g. `--webhook URL`."""
        self._env = env
        self._python_args = tuple(python_args)
        self._run_args = tuple(run_args)
        self._directory = directory
        self._process: asyncio.subprocess.Process | None = None
        self._log_offset = 0  # where the log of the latest start begins
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self._directory / "bot.log"

    @property
    def pid(self) -> int:
        assert self._process is not None, "the bot was not started"
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        assert not self.running, "the bot is already running"
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self._python_args,
                "-m",
                "bot",
                "run",
                *self._run_args,
                cwd=self._directory,
                env=self._env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.starts += 1

    async def serving(self, timeout: float = 30.0) -> None:
        """Wait until the latest start has begun polling, so that a SIGTERM from now on
        tests the bot's orderly stop and not a Python interpreter still loading modules."""
        deadline = asyncio.get_running_loop().time() + timeout
        while "Start polling" not in self._latest_log():
            assert self.running, f"the bot exited while starting:\n{self._latest_log()}"
            assert asyncio.get_running_loop().time() < deadline, "the bot did not start polling"
            await asyncio.sleep(0.01)

    def _latest_log(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode("utf-8", errors="replace")

    def send_signal(self, signum: int) -> None:
        """Deliver a signal now, without waiting (e.g. from inside the fake server)."""
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signum)

    async def kill(self) -> int:
        """SIGKILL: no handler, no flush, no goodbye — a crash or an OOM kill."""
        return await self._signal(signal.SIGKILL)

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as systemd or docker stop sends; returns the exit status."""
        return await self._signal(signal.SIGTERM, timeout)

    async def wait(self, timeout: float = 30.0) -> int:
        """The exit status, once the process has ended by itself or by a signal."""
        assert self._process is not None
        return await asyncio.wait_for(self._process.wait(), timeout)

    async def _signal(self, signum: int, timeout: float = 10.0) -> int:
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signum)
        return await asyncio.wait_for(self._process.wait(), timeout)

    def log(self) -> str:
        """What the bot wrote, for assertion messages."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")
