from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from storage.backend import Backend
from storage.database import Database
from tests.harness import TOKEN, RunningBot, make_settings, start_bot
from tests.postgres_server import PostgresCluster, Unavailable, fresh_database


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def running(server: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
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
