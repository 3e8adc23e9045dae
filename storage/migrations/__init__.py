"""Numbered schema migrations, applied in order at start-up.

Each `NNN_name.sql` file runs once, inside a transaction together with the row that
records it, so a crash half-way through a migration leaves the schema as it was.
"""

from __future__ import annotations

import re
from importlib import resources

import aiosqlite

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every bundled migration, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, … without gaps: {versions}")
    return found


async def apply_migrations(connection: aiosqlite.Connection) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    )
    cursor = await connection.execute("SELECT version FROM schema_migrations")
    done = {row[0] for row in await cursor.fetchall()}
    known = available_migrations()
    if done and max(done) > len(known):
        raise RuntimeError(
            f"the database has schema version {max(done)}, newer than this program "
            f"knows ({len(known)}); upgrade CivicPulse before opening it"
        )
    applied = []
    for version, name, sql in known:
        if version in done:
            continue
        statements = [s for s in sql.split(";\n") if s.strip()]
        await connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
        applied.append(version)
    return applied
