"""Numbered schema migrations, applied in order at start-up.

Each `NNN_name.sql` file runs once, inside a transaction together with the row that
records it, so a crash half-way through a migration leaves the schema as it was. They are
written once, in SQLite's types, and PostgreSQL reads them in its own
(`storage.dialect.Dialect.schema`). One runner applies either (`apply_migrations`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib import resources

from storage.backend import SchemaTooNew, Statements
from storage.dialect import Dialect

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

#: Opens a transaction and yields its connection: committed on leaving, rolled back on error.
Begin = Callable[[], AbstractAsyncContextManager[Statements]]


def available_migrations(dialect: Dialect) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every bundled migration of `dialect`, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            sql = dialect.schema(entry.read_text(encoding="utf-8"))
            found.append((int(match.group(1)), entry.name, sql))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, … without gaps: {versions}")
    return found


async def apply_migrations(begin: Begin, dialect: Dialect) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now.

    Each migration checks again, under the dialect's lock, that it is still missing: two
    processes starting at once on a new database then apply it once, not twice.
    """
    known = available_migrations(dialect)
    async with begin() as connection:
        await _lock(connection, dialect)
        await connection.execute(dialect.schema_table)
        done = await _versions(connection)
    if done and max(done) > len(known):
        raise SchemaTooNew(
            f"the database has schema version {max(done)}, newer than this program "
            f"knows ({len(known)}); upgrade CivicPulse before opening it"
        )
    applied = []
    for version, name, sql in known:
        if version in done:
            continue
        async with begin() as connection:
            await _lock(connection, dialect)
            if version in await _versions(connection):
                continue
            for statement in (s for s in sql.split(";\n") if s.strip()):
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )
        applied.append(version)
    return applied


async def _lock(connection: Statements, dialect: Dialect) -> None:
    if dialect.migration_lock is not None:
        await connection.execute(dialect.migration_lock)


async def _versions(connection: Statements) -> set[int]:
    cursor = await connection.execute("SELECT version FROM schema_migrations")
    return {row[0] for row in await cursor.fetchall()}
