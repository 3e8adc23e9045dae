from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sandbox.fake_telegram import FakeTelegram
from storage.backend import Backend
from storage.database import Database
from tests.commands import DATABASE_VARIABLES, Cli
from tests.harness import (
    TOKEN,
    RunningBot,
    bot_database,
    database_environment,
    make_settings,
    start_bot,
)
from tests.postgres_server import PostgresCluster, Unavailable, fresh_database


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def bot_database_pass(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """Runs the test once with the bot on SQLite and once on PostgreSQL: every test that
    starts a bot through `make_settings` asks for this, directly or through `running`.

    A test marked `sqlite_only` checks the SQLite file itself (its bytes, its WAL, a second
    process locked out of it) and is skipped in the PostgreSQL pass, saying so.
    """
    only = request.node.get_closest_marker("sqlite_only")
    if request.param == "postgresql" and only is not None:
        pytest.skip(f"SQLite only: {only.args[0]}")
    async with AsyncExitStack() as stack:
        if request.param == "postgresql":
            cluster = request.getfixturevalue("postgres_cluster")
            bot_database.url = await stack.enter_async_context(fresh_database(cluster))
        bot_database.chosen = True
        try:
            yield request.param
        finally:
            bot_database.chosen, bot_database.url = False, None


@pytest.fixture
async def running(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    bot = await start_bot(make_settings(server, tmp_path))
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the session; tests that need it are skipped without it."""
    try:
        cluster = PostgresCluster.start()
    except Unavailable as reason:
        pytest.skip(str(reason))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def postgres_url(postgres_cluster: PostgresCluster) -> AsyncIterator[str]:
    """The URL of a new, empty database of its own for this test."""
    async with fresh_database(postgres_cluster) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """The same test on each database CivicPulse runs on, each new and migrated."""
    async with AsyncExitStack() as stack:
        database: Backend
        if request.param == "sqlite":
            database = await Database.open(tmp_path / "test.db")
        else:
            from storage.postgres import PostgresDatabase

            cluster = request.getfixturevalue("postgres_cluster")
            database = await PostgresDatabase.open(
                await stack.enter_async_context(fresh_database(cluster))
            )
        stack.push_async_callback(database.close)
        yield database


@pytest.fixture
def cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bot_database_pass: str,
) -> Iterator[Cli]:
    """`civicpulse …` in this process: (exit status, stdout, stderr), with ADMIN_IDS given,
    on the pass's database; nothing of the calling environment chooses another."""
    monkeypatch.chdir(tmp_path)
    for name in DATABASE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in database_environment(tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    umask = os.umask(0o022)
    os.umask(umask)

    def run(*argv: str, admin_ids: str = "") -> tuple[int, str, str]:
        monkeypatch.setenv("ADMIN_IDS", admin_ids)
        status = main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    yield run
    os.umask(umask)  # main() narrows it for the process; other tests expect their own
