"""Which chat message shows a wave's sending progress, so a restart edits the same one."""

from __future__ import annotations

from dataclasses import dataclass

from storage.backend import Backend


@dataclass(frozen=True, slots=True)
class ProgressMessage:
    wave_id: int
    chat_id: int
    message_id: int


class ProgressRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database

    async def add(self, wave_id: int, chat_id: int, message_id: int) -> None:
        await self._db.execute(
            "INSERT INTO wave_progress (wave_id, chat_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (wave_id) DO NOTHING",
            (wave_id, chat_id, message_id),
        )

    async def exists(self, wave_id: int) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM wave_progress WHERE wave_id = ?", (wave_id,))
        return row is not None

    async def unfinished(self) -> list[ProgressMessage]:
        rows = await self._db.fetch_all(
            "SELECT wave_id, chat_id, message_id FROM wave_progress WHERE finished = 0"
            " ORDER BY wave_id"
        )
        return [ProgressMessage(row["wave_id"], row["chat_id"], row["message_id"]) for row in rows]

    async def finish(self, wave_id: int) -> None:
        await self._db.execute(
            "UPDATE wave_progress SET finished = 1 WHERE wave_id = ?", (wave_id,)
        )
