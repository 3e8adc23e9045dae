"""Instances sharing one database: a citizen's turn across processes, and one sender.

Two coordination objects stand for two processes: on PostgreSQL each has connections of
its own, so the locks between them are exactly those between two bots. On SQLite the
sender role is a file lock, which two opens of the file contend for even in one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.waves.sender_duty import SenderDuty
from storage.coordination import FileLockRole, sender_lock_path
from storage.database import Database
from storage.postgres import PostgresDatabase
from storage.postgres_coordination import PostgresCoordination
from storage.repositories.sender_role import SenderRoleRepository


@pytest.fixture
async def two_instances(postgres_url: str) -> AsyncIterator[tuple[PostgresCoordination, ...]]:
    databases = [await PostgresDatabase.open(postgres_url) for _ in range(2)]
    first = await PostgresCoordination.open(databases[0], postgres_url, "first:1")
    second = await PostgresCoordination.open(databases[1], postgres_url, "second:2")
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
        for database in databases:
            await database.close()


@pytest.mark.postgresql
async def test_a_citizens_updates_take_turns_across_instances_and_others_do_not_wait(
    two_instances: tuple[PostgresCoordination, ...],
) -> None:
    first, second = two_instances
    order: list[str] = []
    async with first.turn(7_000_000_001):
        waiting = asyncio.create_task(_take_turn(second, 7_000_000_001, order))
        async with asyncio.timeout(5):
            async with second.turn(7_000_000_002):  # another citizen goes at once
                order.append("other citizen")
        await asyncio.sleep(0.3)
        assert not waiting.done()
        order.append("first leaves")
    async with asyncio.timeout(5):
        await waiting
    assert order == ["other citizen", "first leaves", "second's turn"]


async def _take_turn(instance: PostgresCoordination, user_id: int, order: list[str]) -> None:
    async with instance.turn(user_id):
        order.append("second's turn")


@pytest.mark.postgresql
async def test_a_turn_ends_when_its_update_fails(
    two_instances: tuple[PostgresCoordination, ...],
) -> None:
    first, second = two_instances
    with pytest.raises(RuntimeError):
        async with first.turn(7_000_000_003):
            raise RuntimeError("the handler failed")
    async with asyncio.timeout(5):
        async with second.turn(7_000_000_003):
            pass


@pytest.mark.postgresql
async def test_one_instance_holds_the_sender_role_until_it_lets_go(
    two_instances: tuple[PostgresCoordination, ...],
) -> None:
    first, second = two_instances
    assert not await first.sender_role.held_anywhere()
    assert await first.sender_role.take()
    assert not await second.sender_role.take()
    assert await first.sender_role.still_held()
    assert await second.sender_role.held_anywhere()
    await first.sender_role.release()
    assert not await first.sender_role.still_held()
    assert await second.sender_role.take()


@pytest.mark.postgresql
async def test_a_holder_whose_connection_ends_loses_the_role_to_another(
    two_instances: tuple[PostgresCoordination, ...], postgres_url: str
) -> None:
    first, second = two_instances
    assert await first.sender_role.take()
    connection = await asyncpg.connect(postgres_url)
    try:
        ended = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'civicpulse sender first:1'"
        )
    finally:
        await connection.close()
    assert ended == 1
    assert not await first.sender_role.still_held()
    assert await second.sender_role.take()
    assert not await first.sender_role.take()


async def test_on_sqlite_the_sender_role_is_a_lock_file_beside_the_database(
    tmp_path: Path,
) -> None:
    path = sender_lock_path(tmp_path / "civicpulse.db")
    first, second = FileLockRole(path), FileLockRole(path)
    assert not await second.held_anywhere()
    assert await first.take()
    assert not await second.take()
    assert await second.held_anywhere()
    await first.release()
    assert await second.take()
    await second.release()
    assert path.stat().st_mode & 0o777 == 0o600


async def test_the_duty_sends_only_while_it_holds_the_role_and_takes_over_when_it_is_free(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "civicpulse.db")
    records = SenderRoleRepository(database)
    events: list[str] = []
    path = sender_lock_path(tmp_path / "civicpulse.db")

    def duty(name: str) -> SenderDuty:
        async def note(what: str) -> None:
            events.append(f"{name} {what}")

        return SenderDuty(
            FileLockRole(path),
            records,
            start_sending=lambda: note("starts sending"),
            stop_sending=lambda: note("stops sending"),
            sweep=lambda: note("sweeps"),
            on_lost=lambda: note("lost the role"),
            instance=name,
            check_seconds=0.05,
        )

    first, second = duty("first"), duty("second")
    try:
        await first.start()
        await second.start()
        await first.sweep()
        await second.sweep()  # standing by: the holder's sweep will find the wave
        assert (first.holding, second.holding) == (True, False)
        last = await records.last()
        assert last is not None and last.instance == "first"
        await first.stop()
        async with asyncio.timeout(5):
            while not second.holding:
                await asyncio.sleep(0.02)
        last = await records.last()
        assert last is not None and last.instance == "second"
    finally:
        await second.stop()
        await database.close()
    assert events == [
        "first starts sending",
        "first sweeps",
        "first stops sending",
        "second starts sending",
        "second stops sending",
    ]


@pytest.mark.postgresql
async def test_an_updates_statements_borrow_its_turns_connection_one_at_a_time(
    postgres_url: str,
) -> None:
    database = await PostgresDatabase.open(postgres_url)
    pid = "SELECT pg_backend_pid()"
    try:
        async with database.citizen_turn(7_000_000_004):
            holder = await database.fetch_one(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
                " AND objid = $1",
                (7_000_000_004 & 0xFFFFFFFF,),
            )
            assert holder is not None
            assert (await database.fetch_one(pid))[0] == holder[0]
            # Statements at the same moment: one borrows the turn's, the others the pool's.
            slow = "SELECT pg_backend_pid() FROM pg_sleep(0.1)"
            pids = await asyncio.gather(*(database.fetch_one(slow) for _ in range(3)))
            assert len({row[0] for row in pids}) == 3 and holder[0] in {row[0] for row in pids}
            async with database.transaction() as statements:
                inside = await (await statements.execute(pid)).fetchone()
                beside = await database.fetch_one(pid)  # not inside that transaction
                assert inside is not None and beside is not None
                assert inside[0] == holder[0] != beside[0]
        after = await database.fetch_one(pid)
        assert after is not None
        assert await database.fetch_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        ) == (0,)
    finally:
        await database.close()
