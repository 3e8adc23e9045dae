"""What every database CivicPulse runs on offers its callers, and how opening one fails.

Two classes stand behind it: `storage.database.Database` (SQLite) and
`storage.postgres.PostgresDatabase`. Repositories are written against this surface, and
ask `dialect` for the few pieces of SQL in which the two differ.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias

from storage.dialect import Dialect

if TYPE_CHECKING:
    import sqlite3

    import asyncpg

#: A result row, read by position (`row[0]`) or by column name (`row["id"]`) alike.
Row: TypeAlias = "sqlite3.Row | asyncpg.Record"
#: Statement parameters: positional for `?` and `?N`, by name for `:name`.
Parameters: TypeAlias = Iterable[Any] | Mapping[str, Any]


class Statement(NamedTuple):
    """One write with its positional parameters, for `Backend.point_execute_together`."""

    sql: str
    parameters: Sequence[Any]


class DatabaseOpenError(RuntimeError):
    """The database cannot be used: unreachable, refusing us, or of a newer schema. The
    message is one line an operator can act on, and never holds a password."""


def one_line(error: BaseException) -> str:
    """A driver's error message on one line (some span several), or its type if it has
    none: what an operator is shown after "cannot open …"."""
    return " ".join(str(error).split()) or type(error).__name__


class SchemaTooNew(DatabaseOpenError):
    """The database was migrated by a newer CivicPulse than this one."""


class Cursor(Protocol):
    """The result of one statement inside a transaction."""

    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Row | None: ...

    async def fetchall(self) -> Sequence[Row]: ...


async def returned_id(cursor: Cursor) -> int:
    """The id an `INSERT … RETURNING id` gave back: one spelling for both databases, where
    SQLite's `lastrowid` has no PostgreSQL counterpart."""
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("an INSERT … RETURNING id returned no row")
    return int(row[0])


class Statements(Protocol):
    """A connection inside `transaction()` or `reader()`: statements run in its order."""

    async def execute(self, sql: str, parameters: Parameters = ()) -> Cursor: ...

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Any: ...


#: Rows a `Reader.chunks` hands over at a time, unless told: large enough that the cost of
#: a fetch vanishes, small enough that a chunk's memory stays a few megabytes.
CHUNK_ROWS = 5_000


class Reader(Statements, Protocol):
    """A read-only connection of `Backend.readers()`, inside a transaction whose snapshot
    it shares with the others opened beside it, for the long scans behind figures and
    exports."""

    @property
    def dialect(self) -> Dialect: ...

    def chunks(
        self, sql: str, parameters: Parameters = (), size: int = CHUNK_ROWS
    ) -> AsyncIterator[Sequence[Sequence[Any]]]:
        """The statement's rows, `size` at a time, as plain sequences: for a result too
        large to hold (every answer of a wave), read as it is consumed."""
        ...


class Backend(Protocol):
    """The database as the repositories use it."""

    @property
    def dialect(self) -> Dialect: ...

    def transaction(self) -> AbstractAsyncContextManager[Statements]: ...

    def reader(self) -> AbstractAsyncContextManager[Statements]: ...

    def readers(self, count: int) -> AbstractAsyncContextManager[Sequence[Reader]]:
        """`count` read-only connections that all see one and the same state of the data,
        so that a scan in slices spread over them never mixes two states."""
        ...

    async def execute(self, sql: str, parameters: Parameters = ()) -> int: ...

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]: ...

    async def point_fetch(self, sql: str, parameters: Parameters = ()) -> Row | None: ...

    async def point_fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]: ...

    async def point_execute(self, sql: str, parameters: Parameters = ()) -> int: ...

    async def point_execute_together(self, statements: Sequence[Statement]) -> None:
        """Writes to a few rows each, all or none: for writes that must not be seen apart
        (an answer and the dialog that moves past it), where a transaction would cost a
        database server three round trips more."""
        ...

    async def truncate_log(self) -> bool: ...

    async def close(self) -> None: ...
