"""The SQLite connection every part of the bot shares.

One writer connection serialises transactions behind an asyncio lock: SQLite allows a
single writer anyway, and a lock in our process is cheaper than `database is locked`
retries. Reads (`fetch_one`, `fetch_all`) go to a second, read-only connection without
that lock: WAL gives each statement a snapshot of everything committed, so reads neither
wait for writes nor see a transaction half-done. Long reads (exports) open their own
read-only connection so they never hold up a citizen's answer.

Point statements (`point_fetch`, `point_fetch_all`, `point_execute`) — the few-row,
by-index lookups and upserts that every citizen's answer makes — run on the event loop's
own thread through a third connection. A trip to aiosqlite's thread and back costs about
ten times such a statement (13 µs to read, 45 µs to commit in WAL here), and the answer
benchmark spent most of its time on those trips. They are for statements that touch a
handful of rows through an index only: anything that scans belongs to the other methods.
If another process holds the write lock, a point statement does not wait on the loop's
thread; it falls back to the aiosqlite connections, which wait in their own threads.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiosqlite

from storage.backend import CHUNK_ROWS, Parameters, Statement
from storage.dialect import SQLITE
from storage.migrations import apply_migrations

log = logging.getLogger(__name__)

Row = aiosqlite.Row

#: Database failures that may pass if the same work is tried again in a moment: the file
#: locked by another process, or briefly unreadable. (Callers that retry whole units of
#: work, such as a webhook update Telegram can redeliver, catch these and no others.)
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError,)


#: Bytes the write-ahead log is cut back to after a checkpoint: without a limit it keeps
#: the size of its busiest moment, full of old page images, erased people's among them.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

#: Set on every connection, whatever the system's SQLite was compiled with: deleted rows
#: are overwritten with zeros instead of lingering in free pages, so an erasure erases.
_SECURE_DELETE = "PRAGMA secure_delete = ON"


async def _configure(connection: aiosqlite.Connection) -> None:
    connection.row_factory = aiosqlite.Row
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.execute("PRAGMA busy_timeout = 10000")
    await connection.execute(_SECURE_DELETE)


def _warn_if_shared(path: Path) -> None:
    """New files are private (the process umask); one made by an older version may not be.
    Said, not changed: an operator may have widened it on purpose, for a backup account."""
    for target in (path, path.parent):
        mode = stat.S_IMODE(target.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "%s is open to other accounts (mode %o): it holds personal data; "
                "chmod 600 the database files and 700 their folder",
                target,
                mode,
            )


class Database:
    """SQLite; `storage.backend.Backend` describes what callers may rely on."""

    dialect = SQLITE

    def __init__(
        self,
        path: Path,
        connection: aiosqlite.Connection,
        reads: aiosqlite.Connection,
        point: sqlite3.Connection,
    ) -> None:
        self.path = path
        self._connection = connection
        self._reads = reads
        self._point = point
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
            await connection.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            applied = await apply_migrations(lambda: _immediate(connection), SQLITE)
        except BaseException:
            await connection.close()
            raise
        if applied:
            log.info("database %s migrated to schema version %s", path, applied[-1])
        _warn_if_shared(path)
        try:
            reads = await _open_read_only(path)
        except BaseException:
            await connection.close()
            raise
        return cls(path, connection, reads, _open_point(path))

    async def close(self) -> None:
        async with self._lock:
            self._point.close()
            await self._reads.close()
            await self._connection.close()

    async def truncate_log(self) -> bool:
        """Copy the write-ahead log into the database and cut it to zero bytes, so that
        what was just deleted survives in neither file. False if a long read (an export)
        kept it from finishing within the busy timeout: the log is then cut at a later
        checkpoint, once that read ends."""
        async with self._lock:
            cursor = await self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _, _ = await cursor.fetchone() or (1, 0, 0)
        if busy:
            log.warning("the write-ahead log could not be truncated now: a read is in progress")
        return not busy

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """All-or-nothing writes; an exception rolls back everything done inside."""
        async with self._lock, _immediate(self._connection) as connection:
            yield connection

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

    async def point_fetch(self, sql: str, parameters: Iterable[Any] = ()) -> Row | None:
        """`fetch_one` for a by-index lookup, run on the loop's thread (see the module doc)."""
        try:
            return self._point.execute(sql, tuple(parameters)).fetchone()
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        return await self.fetch_one(sql, parameters)

    async def point_fetch_all(self, sql: str, parameters: Iterable[Any] = ()) -> list[Row]:
        """`fetch_all` for a few rows found by index, run on the loop's thread."""
        try:
            return self._point.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        return await self.fetch_all(sql, parameters)

    async def point_execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """`execute` for a write to a few rows found by index, run on the loop's thread.

        With no transaction of ours open, the lock is not taken: the statement runs to its
        end without an await, so nothing of ours can start a transaction meanwhile.
        """
        values = tuple(parameters)
        if not self._lock.locked():
            changed = self._point_write(sql, values)
            if changed is not None:
                return changed
        async with self._lock:
            changed = self._point_write(sql, values)
            if changed is not None:
                return changed
            cursor = await self._connection.execute(sql, values)
            return cursor.rowcount

    async def point_execute_together(self, statements: Sequence[Statement]) -> None:
        """`point_execute` for several writes in one transaction."""
        if not self._lock.locked() and self._point_transaction(statements):
            return
        async with self._lock:
            if self._point_transaction(statements):
                return
            async with _immediate(self._connection) as connection:
                for sql, values in statements:
                    await connection.execute(sql, tuple(values))

    def _point_transaction(self, statements: Sequence[Statement]) -> bool:
        """False if another process holds the write lock; once it is taken, nothing here
        awaits, so the transaction is all the loop does until it commits."""
        try:
            self._point.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
            return False
        try:
            for sql, values in statements:
                self._point.execute(sql, tuple(values))
            self._point.execute("COMMIT")
        except BaseException:
            if self._point.in_transaction:  # a failed COMMIT leaves it open too
                self._point.execute("ROLLBACK")
            raise
        return True

    def _point_write(self, sql: str, values: tuple[Any, ...]) -> int | None:
        """Rows changed, or None if another process holds the write lock."""
        try:
            return self._point.execute(sql, values).rowcount
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        return None

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A separate read-only connection for long scans, isolated by WAL snapshots."""
        connection = await _open_read_only(self.path)
        try:
            yield connection
        finally:
            await connection.close()

    @asynccontextmanager
    async def readers(self, count: int) -> AsyncIterator[list[SqliteReader]]:
        """`count` read-only connections that all see one and the same state of the data.

        Each opens a read transaction, so a scan in slices never mixes states. With several
        connections, their snapshots are taken while the write lock is held, so no commit
        can land between them; that blocks writers for a few milliseconds. Each connection
        has a thread of its own, and SQLite scans without holding the GIL: one per core
        scans side by side.
        """
        async with AsyncExitStack() as stack:
            connections = [await stack.enter_async_context(self.reader()) for _ in range(count)]
            if count > 1:
                async with self.transaction():
                    await _snapshots(connections)
            else:
                await _snapshots(connections)
            yield [SqliteReader(connection) for connection in connections]


class SqliteReader:
    """A connection of `Database.readers()`: aiosqlite's statements, and rows in chunks
    (`storage.backend.Reader`)."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Parameters = ()) -> aiosqlite.Cursor:
        return await self._connection.execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> None:
        await self._connection.executemany(sql, parameters)

    async def chunks(
        self, sql: str, parameters: Parameters = (), size: int = CHUNK_ROWS
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Plain tuples (a Row object per row costs real time over millions of rows); the
        reader thread fetches the next chunk while this one is used."""
        cursor = await self.execute(sql, parameters)
        cursor.row_factory = None
        pending = asyncio.ensure_future(cursor.fetchmany(size))
        try:
            while rows := await pending:
                pending = asyncio.ensure_future(cursor.fetchmany(size))
                yield list(rows)
        finally:
            if not pending.done():
                pending.cancel()
            with suppress(asyncio.CancelledError, sqlite3.Error):
                await pending


async def _snapshots(connections: Iterable[aiosqlite.Connection]) -> None:
    """A read transaction on each connection, its snapshot taken by a first read."""
    for connection in connections:
        await connection.execute("BEGIN")
        await (await connection.execute("SELECT count(*) FROM waves")).fetchall()


@asynccontextmanager
async def _immediate(connection: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """A transaction that takes the write lock at its start, so it never fails half-way
    for want of it."""
    await connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        await connection.execute("ROLLBACK")
        raise
    await connection.execute("COMMIT")


def _open_point(path: Path) -> sqlite3.Connection:
    """Autocommit; never waits for a lock (it would wait on the event loop's thread)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 0")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(_SECURE_DELETE)
    return connection


def _busy(error: sqlite3.OperationalError) -> bool:
    """The database is locked by another connection: worth waiting for, off the loop."""
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


async def _open_read_only(path: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
    try:
        await _configure(connection)
    except BaseException:
        await connection.close()
        raise
    return connection
