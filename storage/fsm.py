"""aiogram FSM storage kept in the bot's own SQLite database.

Dialog state lives beside the answers it refers to, so a restart resumes a half-finished
questionnaire exactly where it stopped, and erasing a respondent can erase their dialog in
the same place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from storage.database import Database


class SQLiteStorage(BaseStorage):
    def __init__(self, database: Database, key_builder: KeyBuilder | None = None) -> None:
        self._db = database
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._db.execute(
            "INSERT INTO fsm_states (storage_key, user_id, state) VALUES (?, ?, ?)"
            " ON CONFLICT (storage_key) DO UPDATE SET state = excluded.state",
            (self._keys.build(key), key.user_id, value),
        )
        await self._forget_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._db.fetch_one(
            "SELECT state FROM fsm_states WHERE storage_key = ?", (self._keys.build(key),)
        )
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise TypeError(f"FSM data must be a mapping, not {type(data).__name__}")
        await self._db.execute(
            "INSERT INTO fsm_states (storage_key, user_id, data) VALUES (?, ?, ?)"
            " ON CONFLICT (storage_key) DO UPDATE SET data = excluded.data",
            (self._keys.build(key), key.user_id, json.dumps(dict(data), ensure_ascii=False)),
        )
        await self._forget_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._db.fetch_one(
            "SELECT data FROM fsm_states WHERE storage_key = ?", (self._keys.build(key),)
        )
        return json.loads(row["data"]) if row else {}

    async def forget_user(self, user_id: int) -> None:
        """Drop every dialog of a user, for the right to erasure."""
        await self._db.execute("DELETE FROM fsm_states WHERE user_id = ?", (user_id,))

    async def close(self) -> None:
        """The database belongs to the application, which closes it after draining work."""

    async def _forget_if_empty(self, key: StorageKey) -> None:
        """A cleared dialog leaves no row behind: nothing is kept that need not be."""
        await self._db.execute(
            "DELETE FROM fsm_states WHERE storage_key = ? AND state IS NULL AND data = '{}'",
            (self._keys.build(key),),
        )
