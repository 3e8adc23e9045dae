"""The SQLite connection every part of the bot shares.

One writer connection serialises transactions behind an asyncio lock: SQLite allows a
single writer anyway, and a lock in our process is cheaper than `database is locked`
retries. Short reads (`fetch_one`, `fetch_all`) go to a second, read-only connection
without that lock: WAL gives each statement a snapshot of everything committed, so reads
neither wait for writes nor see a transaction half-done, and many of them can be queued
at once. Long reads (exports) open their own read-only connection so they never hold up
a citizen's answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import apply_migrations

log = logging.getLogger(__name__)

Row = aiosqlite.Row


async def _configure(connection: aiosqlite.Connection) -> None:
    connection.row_factory = aiosqlite.Row
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.execute("PRAGMA busy_timeout = 10000")


class Database:
    def __init__(
        self, path: Path, connection: aiosqlite.Connection, reads: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._connection = connection
        self._reads = reads
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _configure(connection)
            await connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power cut
            # can lose the last transactions, and it still cannot corrupt the file.
            await connection.execute("PRAGMA synchronous = NORMAL")
            applied = await apply_migrations(connection)
        except BaseException:
            await connection.close()
            raise
        if applied:
            log.info("database %s migrated to schema version %s", path, applied[-1])
        try:
            reads = await _open_read_only(path)
        except BaseException:
            await connection.close()
            raise
        return cls(path, connection, reads)

    async def close(self) -> None:
        async with self._lock:
            await self._reads.close()
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """All-or-nothing writes; an exception rolls back everything done inside."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """One self-contained write; returns the number of rows it changed."""
        async with self._lock:
            cursor = await self._connection.execute(sql, tuple(parameters))
            return cursor.rowcount

    async def fetch_one(self, sql: str, parameters: Iterable[Any] = ()) -> Row | None:
        """First row of a short query, from a snapshot of everything committed so far."""
        rows = await self._reads.execute_fetchall(sql, tuple(parameters))
        return next(iter(rows), None)

    async def fetch_all(self, sql: str, parameters: Iterable[Any] = ()) -> list[Row]:
        """All rows of a short query; one round trip to the database thread."""
        return list(await self._reads.execute_fetchall(sql, tuple(parameters)))

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A separate read-only connection for long scans, isolated by WAL snapshots."""
        connection = await _open_read_only(self.path)
        try:
            yield connection
        finally:
            await connection.close()


async def _open_read_only(path: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
    try:
        await _configure(connection)
    except BaseException:
        await connection.close()
        raise
    return connection
