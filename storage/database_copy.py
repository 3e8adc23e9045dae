"""Moving a pilot's SQLite database into an empty PostgreSQL database, and proving it moved.

A pilot starts on SQLite and may outgrow it; its respondents, consents, answers, waves,
outbox, audit log and dialog states must then arrive in PostgreSQL whole, with the same
ids, since the pseudonyms of exports are keyed hashes of the respondents' ids. So:

- The source is read through one read-only transaction: one consistent state of it,
  and nothing in it can change.
- The target is migrated by `PostgresDatabase.open` (so its schema is this version's) and
  must hold no row in any table; the source must be of this version's schema too, so both
  have the same tables and columns.
- Every table goes across in creation order (parents before the children that refer to
  them) through binary COPY, fed row by row from SQLite in batches: a table of millions
  of answers never sits in memory. Foreign keys are checked once per table after the
  copy rather than row by row (`_foreign_keys_checked_once`). All of it happens in ONE
  transaction of the target, so a failure anywhere leaves the target as empty as it was.
- Identity sequences are set past the copied ids, so the next insert gets a fresh one.
- Before committing, every table's rows are counted and checksummed on both sides
  (`Checksum`); a difference rolls everything back (`CopyMismatch`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage.backend import DatabaseOpenError, one_line
from storage.database_url import masked
from storage.dialect import SQLITE
from storage.migrations import available_migrations
from storage.postgres import CONNECT_FAILURES, CONNECT_TIMEOUT, PostgresDatabase, cannot_open

#: Rows read from SQLite (and from PostgreSQL, to verify) per fetch, and between two
#: progress reports: large enough that the per-fetch cost vanishes, small enough to keep
#: memory flat and the progress lively.
BATCH_ROWS = 20_000

#: The migrations' own bookkeeping: the target has it already, written by its migration.
_SCHEMA_TABLE = "schema_migrations"

#: Called with (table, rows copied so far) as a table starts and after every batch.
OnTable = Callable[[str, int], None]

_CHECKSUM_BITS = 128
_CHECKSUM_MASK = (1 << _CHECKSUM_BITS) - 1


class CopyError(RuntimeError):
    """The copy is refused or failed, and nothing was written. One line, for an operator,
    never holding a password."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table as found on both sides: its rows and checksum in SQLite and PostgreSQL."""

    table: str
    rows: int
    target_rows: int
    checksum: str
    target_checksum: str

    @property
    def matches(self) -> bool:
        return self.rows == self.target_rows and self.checksum == self.target_checksum


class CopyMismatch(CopyError):
    """What was copied differs from its source; the copy was rolled back. `tables` says
    where."""

    def __init__(self, tables: list[TableCopy]) -> None:
        differing = ", ".join(copy.table for copy in tables if not copy.matches)
        super().__init__(f"the copy differs from its source in {differing}; it was rolled back")
        self.tables = tables


class Checksum:
    """An order-independent checksum of a table's rows: the sum, modulo 2¹²⁸, of a BLAKE2b
    hash of each row.

    A row's text is `repr` of its values as a tuple. Both drivers return the same Python
    values for the schema's types (int for BIGINT, float for DOUBLE PRECISION, str for
    TEXT, None for NULL), and `repr` tells them apart without ambiguity: 1, 1.0, '1' and
    None differ, a float's repr gives back its exact bits, and quotes in text are escaped.
    Summing rather than hashing in sequence lets each side read rows in its own order (no
    sort of a large table on either), while a changed, missing or repeated row still
    changes the sum.
    """

    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        blake2b = hashlib.blake2b
        total = self._sum
        for row in rows:
            digest = blake2b(repr(tuple(row)).encode(), digest_size=_CHECKSUM_BITS // 8)
            total += int.from_bytes(digest.digest(), "big")
        self._sum = total & _CHECKSUM_MASK
        self.rows += len(rows)

    def hexdigest(self) -> str:
        return f"{self._sum:0{_CHECKSUM_BITS // 4}x}"


@dataclass(frozen=True, slots=True)
class _Table:
    """A table to copy: its name and its columns in order. Values pass as SQLite gives
    them: the schema's translation (`storage.dialect.postgresql_schema`) gives every
    column a PostgreSQL type that takes the same Python value."""

    name: str
    columns: tuple[str, ...]

    @property
    def quoted(self) -> str:
        return _quoted(self.name)

    @property
    def column_list(self) -> str:
        return ", ".join(_quoted(column) for column in self.columns)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# The source --------------------------------------------------------------------------------


def _open_source(path: Path) -> sqlite3.Connection:
    """The SQLite database, read-only, inside one read transaction (its snapshot is taken
    by the first read), after checking that its schema is this version's."""
    if not path.is_file():
        raise CopyError(f"there is no SQLite database at {path} (DATABASE_PATH)")
    try:
        source = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
        )
    except sqlite3.Error as error:
        raise CopyError(f"cannot open the SQLite database {path}: {error}") from None
    try:
        source.execute("BEGIN")
        _check_source_version(source, path)
    except sqlite3.Error as error:
        source.close()
        raise CopyError(f"cannot read the SQLite database {path}: {error}") from None
    except BaseException:
        source.close()
        raise
    return source


def _check_source_version(source: sqlite3.Connection, path: Path) -> None:
    """Refuses a source of another schema version than this program's: the target is
    migrated to this version, and the tables must match column for column."""
    current = len(available_migrations(SQLITE))
    (version,) = source.execute(f"SELECT max(version) FROM {_SCHEMA_TABLE}").fetchone()
    if version is None or version < current:
        raise CopyError(
            f"the SQLite database {path} has schema version {version or 0}, this CivicPulse's "
            f"is {current}: migrate it first by running one command on it (with DATABASE_PATH "
            "set to it, `civicpulse wave list`), then copy again"
        )
    if version > current:
        raise CopyError(
            f"the SQLite database {path} has schema version {version}, newer than this "
            f"program knows ({current}): upgrade CivicPulse, then copy"
        )


def _source_tables(source: sqlite3.Connection) -> list[str]:
    """The application's tables in the order they were created, which is the order of
    their dependencies: a migration creates a table after those it refers to."""
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name != ? ORDER BY rowid",
        (_SCHEMA_TABLE,),
    ).fetchall()
    return [name for (name,) in rows]


def _source_columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"PRAGMA table_info({_quoted(table)})")]


def _source_batches(source: sqlite3.Connection, table: _Table) -> Iterator[list[Any]]:
    """The table's rows, as PostgreSQL is to receive them, `BATCH_ROWS` at a time."""
    cursor = source.execute(f"SELECT {table.column_list} FROM {table.quoted}")
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield batch


# The target --------------------------------------------------------------------------------


async def _connect(url: str) -> asyncpg.Connection:
    """One connection of our own, for the COPY protocol the pool's surface does not offer."""
    try:
        connection: asyncpg.Connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except CONNECT_FAILURES as error:
        raise CopyError(str(cannot_open(url, error))) from None
    return connection


async def _migrate(url: str) -> None:
    """The target's schema brought to this version: the tables the copy fills."""
    try:
        database = await PostgresDatabase.open(url)
    except DatabaseOpenError as error:  # unreachable, refusing us, or of a newer schema
        raise CopyError(str(error)) from None
    await database.close()


async def _target_tables(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename != $1 ORDER BY tablename",
        _SCHEMA_TABLE,
    )
    return [row[0] for row in rows]


async def _refuse_unless_empty(connection: asyncpg.Connection, url: str, tables: list[str]) -> None:
    """Holds off every writer to the target's tables until the copy commits, then refuses
    if any of them has a row: a copy merged into live data would collide with its ids."""
    await connection.execute(
        f"LOCK TABLE {', '.join(_quoted(table) for table in tables)} IN EXCLUSIVE MODE"
    )
    occupied = [
        table
        for table in tables
        if await connection.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)})")
    ]
    if occupied:
        raise CopyError(
            f"the PostgreSQL database {masked(url)} is not empty (rows in "
            f"{', '.join(occupied)}): copy only into a new, empty database"
        )


async def _plan(
    source: sqlite3.Connection, connection: asyncpg.Connection, names: list[str]
) -> list[_Table]:
    """Each source table with its columns, checked against the target's."""
    tables = []
    for name in names:
        columns = _source_columns(source, name)
        rows = await connection.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1",
            name,
        )
        types = {row[0]: row[1] for row in rows}
        if set(columns) != set(types):
            raise CopyError(
                f"the table {name} has other columns in PostgreSQL ({', '.join(sorted(types))})"
                f" than in SQLite ({', '.join(sorted(columns))})"
            )
        tables.append(_Table(name, tuple(columns)))
    return tables


async def _target_checksum(connection: asyncpg.Connection, table: _Table) -> Checksum:
    """The checksum of the table's rows in PostgreSQL; `connection` must be in a
    transaction (a cursor lives in one)."""
    checksum = Checksum()
    cursor = await connection.cursor(f"SELECT {table.column_list} FROM {table.quoted}")
    while batch := await cursor.fetch(BATCH_ROWS):
        checksum.add(batch)
    return checksum


async def _copy_table(
    source: sqlite3.Connection,
    connection: asyncpg.Connection,
    table: _Table,
    on_table: OnTable | None,
) -> Checksum:
    """Streams the table into PostgreSQL through one COPY; the checksum of what was sent."""
    checksum = Checksum()

    def records() -> Iterator[Any]:
        for batch in _source_batches(source, table):
            checksum.add(batch)
            yield from batch
            if on_table is not None:
                on_table(table.name, checksum.rows)

    if on_table is not None:
        on_table(table.name, 0)
    await connection.copy_records_to_table(
        table.name, records=records(), columns=list(table.columns)
    )
    return checksum


@asynccontextmanager
async def _foreign_keys_checked_once(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """Drops the schema's foreign keys for the copy and adds them back after it.

    During a COPY each row's foreign keys are checked by a trigger of their own, one lookup
    at a time, which takes longer than the copy itself; added back, each constraint is
    checked once over the whole table, by one join. It all happens in the copy's
    transaction, so a row without its parent still fails the copy and leaves nothing (and
    a failure inside skips adding them back: the rollback restores them).
    """
    keys = await connection.fetch(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY oid"
    )
    for table, name, _ in keys:
        await connection.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quoted(name)}")
    yield
    for table, name, definition in keys:
        await connection.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(name)} {definition}")


async def _continue_sequences(connection: asyncpg.Connection, tables: list[_Table]) -> None:
    """Sets each identity column's sequence to the largest id copied, so that the next
    row inserted gets the id after it rather than one already taken."""
    copied = {table.name for table in tables}
    rows = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in rows:
        if table not in copied:
            continue
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence($1, $2), max({_quoted(column)}))"
            f" FROM {_quoted(table)} HAVING max({_quoted(column)}) IS NOT NULL",
            _quoted(table),
            column,
        )


# The whole ---------------------------------------------------------------------------------


async def copy_sqlite_to_postgres(
    sqlite_path: Path, url: str, on_table: OnTable | None = None
) -> list[TableCopy]:
    """Copies the SQLite database at `sqlite_path` into the empty PostgreSQL database at
    `url`, verified table by table, all or nothing; returns what each table holds.

    Raises CopyError (CopyMismatch if the verification failed), in one line, having
    written no row.
    """
    source = _open_source(sqlite_path)
    try:
        await _migrate(url)
        connection = await _connect(url)
        try:
            return await _copy_all(source, connection, url, on_table)
        except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise CopyError(f"the copy failed and was rolled back: {one_line(error)}") from None
        finally:
            await connection.close()
    finally:
        source.close()


async def _copy_all(
    source: sqlite3.Connection,
    connection: asyncpg.Connection,
    url: str,
    on_table: OnTable | None,
) -> list[TableCopy]:
    async with connection.transaction():
        await _refuse_unless_empty(connection, url, await _target_tables(connection))
        tables = await _plan(source, connection, _source_tables(source))
        async with _foreign_keys_checked_once(connection):
            sent = [await _copy_table(source, connection, table, on_table) for table in tables]
        copies = [
            _compared(table, checksum, await _target_checksum(connection, table))
            for table, checksum in zip(tables, sent, strict=True)
        ]
        await _continue_sequences(connection, tables)
        if not all(copy.matches for copy in copies):
            raise CopyMismatch(copies)
    # Statistics for the planner now, not whenever autovacuum comes: the first export
    # after a move would otherwise plan its scans of millions of answers blind.
    await connection.execute("ANALYZE")
    return copies


def _compared(table: _Table, source: Checksum, target: Checksum) -> TableCopy:
    return TableCopy(table.name, source.rows, target.rows, source.hexdigest(), target.hexdigest())


async def verify_copy(sqlite_path: Path, url: str) -> list[TableCopy]:
    """Compares every table of the SQLite database with its copy in PostgreSQL, each side
    read in one snapshot, without changing either; `TableCopy.matches` says if they agree."""
    source = _open_source(sqlite_path)
    try:
        connection = await _connect(url)
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                tables = await _plan(source, connection, _source_tables(source))
                copies = []
                for table in tables:
                    sent = Checksum()
                    for batch in _source_batches(source, table):
                        sent.add(batch)
                    copies.append(_compared(table, sent, await _target_checksum(connection, table)))
        finally:
            await connection.close()
    finally:
        source.close()
    return copies
