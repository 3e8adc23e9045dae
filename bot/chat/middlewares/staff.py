"""Loads who the sender is as staff, once per update, for the admin routers' filter.

Read from the database on every update rather than cached, so that `civicpulse staff`
in another process takes effect with the next message or press: a removed member's
very next update finds no record. It is one lookup by primary key on the event loop's
thread, and none at all for ADMIN_IDS.
"""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.chat.middlewares import Data, UpdateHandler
from storage.store import Store


class StaffMiddleware(BaseMiddleware):
    """Adds `staff`: the sender's `StaffMember`, or None for everyone else."""

    def __init__(self, store: Store, admin_ids: frozenset[int]) -> None:
        self._store = store
        self._admin_ids = admin_ids

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        user: User | None = data.get("event_from_user")
        data["staff"] = await self._store.staff.member(user.id, self._admin_ids) if user else None
        return await handler(event, data)
