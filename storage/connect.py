"""Opening the database the settings name: PostgreSQL at `DATABASE_URL`, else SQLite at
`DATABASE_PATH`. The one place that chooses, so that no caller asks which it got.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from storage.backend import Backend, DatabaseOpenError
from storage.coordination import Coordination, LocalCoordination
from storage.database import Database


class DatabaseSettings(Protocol):
    """The two settings that say where the data is (`bot.settings.Settings` has both)."""

    @property
    def database_url(self) -> SecretStr | None: ...

    @property
    def database_path(self) -> Path: ...


async def open_database(settings: DatabaseSettings) -> Backend:
    """Open (creating if needed) the database and bring its schema up to date;
    DatabaseOpenError, in one line, when it cannot be used."""
    if settings.database_url is not None:
        # Loaded only here: a bot on SQLite never imports the PostgreSQL driver.
        from storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(settings.database_url.get_secret_value())
    try:
        return await Database.open(settings.database_path)
    except (sqlite3.Error, OSError) as error:
        raise DatabaseOpenError(
            f"cannot open the database {settings.database_path}: {error}"
        ) from None


async def open_coordination(
    settings: DatabaseSettings, instance: str, database: Backend
) -> Coordination:
    """How this instance shares the work with others on `database`, opened by
    `open_database` from the same settings."""
    if settings.database_url is not None:
        from storage.postgres import PostgresDatabase
        from storage.postgres_coordination import PostgresCoordination

        if not isinstance(database, PostgresDatabase):
            raise TypeError("DATABASE_URL is set, so the database must be PostgreSQL's")
        url = settings.database_url.get_secret_value()
        return await PostgresCoordination.open(database, url, instance)
    return LocalCoordination(settings.database_path)
