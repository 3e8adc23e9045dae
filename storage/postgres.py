"""PostgreSQL, through a pool of asyncpg connections, behind the same surface as SQLite's
`storage.database.Database` (see `storage.backend.Backend`).

PostgreSQL serves many writers at once, so nothing here serialises transactions as the
SQLite class must: each takes a connection of its own from the pool. Statements arrive in
SQLite's spelling (`?`, `?1`, `:name`) and are numbered for PostgreSQL
(`storage.dialect.numbered_placeholders`); asyncpg keeps each connection's statements
prepared, so a repeated statement costs one round trip. Rows are asyncpg's `Record`,
read by position and by name like `sqlite3.Row`.

The "point" methods are the plain ones here: they exist for SQLite, whose driver would
otherwise cross to another thread for every small statement; asyncpg never does.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import asyncpg

from storage.backend import CHUNK_ROWS, DatabaseOpenError, Parameters, Statement, one_line
from storage.coordination import CitizenReading
from storage.database_url import masked
from storage.dialect import POSTGRESQL, numbered_placeholders
from storage.migrations import apply_migrations
from storage.postgres_turn import TURN_FUNCTION, TURN_FUNCTION_DEFINED, take_turn

#: Connections the pool keeps at most: enough for the updates handled at once and the
#: scheduler, few enough that several bots can share one server's default of 100.
POOL_SIZE = 10

#: Connections a process may hold for citizens' turns at once: updates of different
#: citizens handled at the same time. Further updates wait for a connection, in the order
#: they came (`PostgresDatabase._turn_slots`).
TURN_POOL_SIZE = 16
#: How long an update waits for its citizen's turn before failing (and being redelivered).
TURN_LOCK_TIMEOUT = "30s"

#: Seconds to wait for the server before saying it cannot be reached.
CONNECT_TIMEOUT = 10.0
#: Seconds `close` waits for connections still in use (a handler that outlived the
#: shutdown's drain) before cutting them: a stop must end, not wait on a stuck task.
CLOSE_TIMEOUT = 10.0

log = logging.getLogger(__name__)

#: Failures that may pass when the same work is tried again (a webhook update Telegram
#: redelivers): the connection or the server went away, PostgreSQL broke a conflict by
#: failing this transaction, or a lock stayed taken past `lock_timeout` (the citizen's
#: turn held elsewhere, a table locked by maintenance).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.LockNotAvailableError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    ConnectionError,
)


#: What connecting may raise when the server is unreachable or refuses us.
CONNECT_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def cannot_open(url: str, error: BaseException) -> DatabaseOpenError:
    """The one line an operator sees for a server that cannot be used, without the password."""
    return DatabaseOpenError(f"cannot open the database {masked(url)}: {one_line(error)}")


def _arguments(parameters: Parameters, names: tuple[str, ...]) -> Sequence[Any]:
    """Positional values for `$1`, `$2`, …: as given, or in the order of the names."""
    if names:
        assert isinstance(parameters, Mapping)
        return [parameters[name] for name in names]
    return tuple(parameters)


def _statement(sql: str, parameters: Parameters) -> tuple[str, Sequence[Any]]:
    query, names = numbered_placeholders(sql)
    return query, _arguments(parameters, names)


def _rowcount(status: str | None) -> int:
    """Rows a statement changed, from PostgreSQL's command tag (`UPDATE 3`, `INSERT 0 1`);
    -1, as in SQLite, for a statement that changes none by nature."""
    last = (status or "").rpartition(" ")[2]
    return int(last) if last.isdigit() else -1


_READS = re.compile(r"^\s*(SELECT|WITH|VALUES)\b|\bRETURNING\b", re.IGNORECASE)


def _returns_rows(query: str) -> bool:
    return _READS.search(query) is not None


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What the pool does to a connection it takes back, beyond rolling back a transaction
    left open (which asyncpg always does): nothing. Its default reset is one more round
    trip per statement, to undo session state — advisory locks, LISTEN, SET — that these
    connections never take (their locks are all transaction-scoped)."""


class PostgresCursor:
    """The rows and row count of one statement, read like an aiosqlite cursor."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest


#: What `pg_export_snapshot()` returns, such as `00000003-0000001B-1`: checked before it is
#: written into `SET TRANSACTION SNAPSHOT`, which takes no parameter.
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


class PostgresStatements:
    """One connection inside a transaction, with aiosqlite's `execute` and `executemany`;
    inside a reader's, also `chunks` (`storage.backend.Reader`)."""

    dialect = POSTGRESQL

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Parameters = ()) -> PostgresCursor:
        query, arguments = _statement(sql, parameters)
        # Both through the connection's statement cache: an explicit `prepare()` would
        # parse the statement again at every call, a second round trip each time. A write
        # gives its row count in the command tag; rows read give their number.
        # (Without parameters asyncpg would use the simple protocol, which reports no
        # command tag for a statement that is only a comment: migrations have those.)
        if _returns_rows(query):
            rows = await self._connection.fetch(query, *arguments)
            return PostgresCursor(rows, len(rows))
        if not arguments:
            prepared = await self._connection.prepare(query)
            await prepared.fetch()
            return PostgresCursor([], _rowcount(prepared.get_statusmsg()))
        status = await self._connection.execute(query, *arguments)
        return PostgresCursor([], _rowcount(status))

    async def executemany(self, sql: str, parameters: Iterable[Parameters]) -> None:
        query, names = numbered_placeholders(sql)
        rows = [_arguments(row, names) for row in parameters]
        if rows:
            await self._connection.executemany(query, rows)

    async def chunks(
        self, sql: str, parameters: Parameters = (), size: int = CHUNK_ROWS
    ) -> AsyncIterator[list[asyncpg.Record]]:
        """Through a server-side cursor (a portal of the transaction): the server keeps
        the result and hands over `size` rows a round trip, so a wave's millions of
        answers never sit in this process at once."""
        query, arguments = _statement(sql, parameters)
        cursor = await self._connection.cursor(query, *arguments)
        while rows := await cursor.fetch(size):
            yield rows

    async def export_snapshot(self) -> str:
        """The name other transactions give `import_snapshot` to see what this one sees."""
        snapshot: str = await self._connection.fetchval("SELECT pg_export_snapshot()")
        return snapshot

    async def import_snapshot(self, snapshot: str) -> None:
        """This transaction sees what the one that exported `snapshot` sees; must come
        before its first statement."""
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"not a snapshot name: {snapshot!r}")
        await self._connection.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")


async def _create_pool(
    url: str, min_size: int, max_size: int, **server_settings: str
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=CONNECT_TIMEOUT,
        reset=_keep_session,
        server_settings=server_settings or None,
    )


@dataclass(slots=True)
class _Pin:
    """The connection holding the current update's turn, lent to its statements one at a
    time: one that finds it `busy` (a statement inside a transaction on it, or running
    beside it) takes a connection of the pool instead. `connection` is None once the turn
    is over, for any task that inherited the update's context."""

    connection: asyncpg.Connection | None
    busy: bool = False


_PINNED: ContextVar[_Pin | None] = ContextVar("civicpulse_pinned_connection", default=None)


class PostgresDatabase:
    """PostgreSQL; `storage.backend.Backend` describes what callers may rely on."""

    dialect = POSTGRESQL

    def __init__(self, pool: asyncpg.Pool, turns: asyncpg.Pool) -> None:
        self._pool = pool
        #: Connections that hold a citizen's turn (`citizen_turn`), apart from `_pool` so
        #: that a statement needing a second connection never waits behind turns.
        self._turns = turns
        #: Updates wait for a turn's connection here, in the order they came. asyncpg's
        #: pool alone is unfair under load: a waiter woken for a connection given back
        #: loses it to whoever asks at that moment and goes to the back of the line (an
        #: `asyncio.Queue`'s `get`). With 2,000 citizens pressing at once, some presses
        #: waited 14 s while the median waited 1.6 s. Past this gate, the pool always has
        #: a connection to give.
        self._turn_slots = asyncio.Semaphore(TURN_POOL_SIZE)

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect and bring the schema up to date; DatabaseOpenError in one line if the
        server cannot be reached, refuses us, or holds a newer schema."""
        try:
            pool = await _create_pool(url, 1, POOL_SIZE)
        except CONNECT_FAILURES as error:
            raise cannot_open(url, error) from None
        turns = await _create_pool(url, 0, TURN_POOL_SIZE, lock_timeout=TURN_LOCK_TIMEOUT)
        database = cls(pool, turns)
        try:
            await apply_migrations(database.transaction, POSTGRESQL)
            await database._define_functions()
        except BaseException:
            await database.close()
            raise
        return database

    async def _define_functions(self) -> None:
        """The server-side function of this version, defined once: under the migration
        lock, so that instances starting together do not trip over each other's definition,
        and not again by every command that opens the database."""
        async with self._pool.acquire() as connection:
            if await connection.fetchval(TURN_FUNCTION_DEFINED):
                return
            async with connection.transaction():
                assert POSTGRESQL.migration_lock is not None
                await connection.execute(POSTGRESQL.migration_lock)
                if not await connection.fetchval(TURN_FUNCTION_DEFINED):
                    await connection.execute(TURN_FUNCTION)

    async def close(self) -> None:
        for pool in (self._turns, self._pool):
            try:
                # Cancelled by the timeout, asyncpg's close terminates what is left.
                await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT)
            except TimeoutError:
                log.warning(
                    "database connections still in use %.0f s into closing: cut", CLOSE_TIMEOUT
                )

    @asynccontextmanager
    async def citizen_turn(self, user_id: int) -> AsyncIterator[CitizenReading]:
        """Held while one update of the citizen is handled, in whichever process: a
        session advisory lock on the citizen's Telegram id (`storage.coordination`),
        taken together with the update's first reads (`storage.postgres_turn`).

        The update's own statements run on the same connection while it is free (see
        `_Pin`): an answer then costs no connection handed back and forth per statement,
        which was most of the bot's work on PostgreSQL. Waiting for the lock is bounded by
        `TURN_LOCK_TIMEOUT`; the update then fails, and Telegram delivers it again.
        """
        async with self._turn_slots, self._turns.acquire() as connection:
            reading = await take_turn(connection, user_id)
            pin = _Pin(connection)
            token = _PINNED.set(pin)
            try:
                yield reading
            finally:
                _PINNED.reset(token)
                pin.connection = None
                try:
                    await connection.execute("SELECT pg_advisory_unlock($1)", user_id)
                except BaseException:
                    # Given back still locked, the connection would lock the citizen out:
                    # ended instead, it takes the lock with it.
                    connection.terminate()
                    raise

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The update's pinned connection if it is free, else one of the pool: either way
        a connection no other statement is using, as the pool alone would give."""
        pin = _PINNED.get()
        if pin is None or pin.connection is None or pin.busy:
            async with self._pool.acquire() as connection:
                yield connection
            return
        pin.busy = True
        try:
            yield pin.connection
        finally:
            pin.busy = False

    async def truncate_log(self) -> bool:
        """Nothing to do: PostgreSQL reuses the space of deleted rows through VACUUM, and
        its write-ahead log is recycled on its own."""
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresStatements]:
        """All-or-nothing writes; an exception rolls back everything done inside."""
        async with self._connection() as connection, connection.transaction():
            yield PostgresStatements(connection)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[PostgresStatements]:
        """A connection for long scans, all of whose statements see one snapshot."""
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresStatements(connection)

    @asynccontextmanager
    async def readers(self, count: int) -> AsyncIterator[list[PostgresStatements]]:
        """`count` readers (connections of the pool in repeatable-read transactions) that
        all see one state of the data: the first exports its snapshot and the others import
        it before anything else, so no commit lands between them, and no writer waits."""
        async with AsyncExitStack() as stack:
            first = await stack.enter_async_context(self.reader())
            opened = [first]
            if count > 1:
                snapshot = await first.export_snapshot()
                for _ in range(count - 1):
                    reader = await stack.enter_async_context(self.reader())
                    await reader.import_snapshot(snapshot)
                    opened.append(reader)
            yield opened

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """One self-contained write; returns the number of rows it changed."""
        query, arguments = _statement(sql, parameters)
        async with self._connection() as connection:
            return _rowcount(await connection.execute(query, *arguments))

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> asyncpg.Record | None:
        query, arguments = _statement(sql, parameters)
        async with self._connection() as connection:
            row: asyncpg.Record | None = await connection.fetchrow(query, *arguments)
        return row

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[asyncpg.Record]:
        query, arguments = _statement(sql, parameters)
        async with self._connection() as connection:
            rows: list[asyncpg.Record] = await connection.fetch(query, *arguments)
        return rows

    async def point_execute_together(self, statements: Sequence[Statement]) -> None:
        """One statement, so one round trip, atomic by itself: each write a data-modifying
        `WITH` clause, all of which PostgreSQL runs to completion whatever the main query
        reads. They see one snapshot, so none may depend on another's effect (none does:
        each writes rows of its own)."""
        clauses = ", ".join(
            f"write_{index} AS ({sql})" for index, (sql, _) in enumerate(statements)
        )
        await self.execute(
            f"WITH {clauses} SELECT 1",
            [value for _, values in statements for value in values],
        )

    point_fetch = fetch_one
    point_fetch_all = fetch_all
    point_execute = execute
