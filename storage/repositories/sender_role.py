"""The record of who took the sender role last, read by `civicpulse status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.backend import Backend
from storage.clock import from_db, to_db


@dataclass(frozen=True, slots=True)
class SenderRecord:
    instance: str
    since: datetime


class SenderRoleRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database

    async def taken(self, instance: str, since: datetime) -> None:
        await self._db.execute(
            "INSERT INTO sender_role (id, instance, since) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, since = excluded.since",
            (instance, to_db(since)),
        )

    async def last(self) -> SenderRecord | None:
        row = await self._db.fetch_one("SELECT instance, since FROM sender_role WHERE id = 1")
        return None if row is None else SenderRecord(row["instance"], from_db(row["since"]))
