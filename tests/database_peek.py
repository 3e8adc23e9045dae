"""Reads of the bot's committed data from code that cannot await, on either database.

A fault hook that the fake server calls synchronously, or a check after a child bot was
killed, wants to see what the database holds at that moment: through a connection of its
own, so it sees only what the bot has committed, as any other process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg

from bot.settings import Settings
from storage.dialect import numbered_placeholders


def peek(settings: Settings, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one read (SQLite's `?` placeholders) of the database `settings` name."""
    if settings.database_url is None:
        uri = f"file:{settings.database_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            return connection.execute(sql, tuple(parameters)).fetchall()
    url = settings.database_url.get_secret_value()
    query, _ = numbered_placeholders(sql)

    async def read() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(query, *parameters)]
        finally:
            await connection.close()

    # The caller may be inside a running event loop, which cannot run another: a thread can.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read()).result()


def peek_one(settings: Settings, sql: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row a read must return."""
    (row,) = peek(settings, sql, parameters)
    return row
