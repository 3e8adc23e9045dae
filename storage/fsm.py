"""aiogram FSM storage kept in the bot's own database (SQLite or PostgreSQL).

Dialog state lives beside the answers it refers to, so a restart resumes a half-finished
questionnaire exactly where it stopped, and erasing a respondent can erase their dialog in
the same place.

Every update reads the dialog (state and data) and most write it back, so the rows are
also kept in memory, write-through: a read costs no query, and a write is one statement
that stores state and data together. The bot is the only process that uses this table,
so the copy cannot go stale; the database stays the record that survives a restart.
With several instances on one database, another process may have moved the dialog on
since: each update then starts inside the citizen's shared turn (`storage.coordination`),
which keeps any other process from writing meanwhile, by replacing what is kept of the
citizen with the dialogs the turn read (`remember_turn`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from storage.backend import Backend, Statement
from storage.coordination import DialogRow

#: Dialogs kept in memory; beyond this the oldest are dropped (and read again if needed).
CACHE_SIZE = 100_000

_EMPTY = "{}"


@dataclass(frozen=True, slots=True)
class _Row:
    user_id: int
    state: str | None
    data: str  # JSON text, so that no caller can change the copy in memory


class DialogStorage(BaseStorage):
    def __init__(
        self,
        database: Backend,
        key_builder: KeyBuilder | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._db = database
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache_size = cache_size
        self._rows: dict[str, _Row] = {}
        #: The keys in `_rows` of each user, so that dropping one user's dialogs costs
        #: no walk through every dialog in memory.
        self._keys_of_user: dict[int, set[str]] = {}
        #: Users all of whose dialogs are in `_rows` (`remember_turn`): a key of theirs
        #: that is missing has no row, and reading it would only say so.
        self._complete_users: set[int] = set()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        # A `State` object or its name, told apart by shape: of aiogram, storage/ imports
        # only the storage base (tests/test_layering.py), not the state machinery.
        value = state if state is None or isinstance(state, str) else state.state
        row = await self._row(key)
        await self._write(key, value, row.data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        text = _as_text(data)
        row = await self._row(key)
        await self._write(key, row.state, text)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads((await self._row(key)).data)
        return data

    async def set_dialog(self, key: StorageKey, state: str | None, data: Mapping[str, Any]) -> None:
        """State and data in one write, where `set_state` and `set_data` are two."""
        await self._write(key, state, _as_text(data))

    def drop_cached(self, user_id: int) -> None:
        """Read the user's dialogs from the database next time."""
        self._complete_users.discard(user_id)
        for storage_key in self._keys_of_user.pop(user_id, ()):
            self._rows.pop(storage_key, None)

    def remember_turn(self, user_id: int, dialogs: Iterable[DialogRow]) -> None:
        """Keep exactly these dialogs of the user, read inside their turn, as all they have."""
        self.drop_cached(user_id)
        for storage_key, state, data in dialogs:
            self._remember(storage_key, _Row(user_id, state, data))
        if len(self._complete_users) >= self._cache_size:
            # Most users have no dialog row, so nothing in `_rows` would ever evict them:
            # one is forgotten instead, at the cost of a query if they come back.
            self._complete_users.pop()
        self._complete_users.add(user_id)

    async def forget_user(self, user_id: int) -> None:
        """Drop every dialog of a user, for the right to erasure."""
        self.drop_cached(user_id)
        await self._db.execute("DELETE FROM fsm_states WHERE user_id = ?", (user_id,))

    async def close(self) -> None:
        """The database belongs to the application, which closes it after draining work."""

    async def _row(self, key: StorageKey) -> _Row:
        storage_key = self._keys.build(key)
        row = self._rows.get(storage_key)
        if row is None and key.user_id in self._complete_users:
            row = self._remember(storage_key, _Row(key.user_id, None, _EMPTY))
        if row is None:
            found = await self._db.point_fetch(
                "SELECT state, data FROM fsm_states WHERE storage_key = ?", (storage_key,)
            )
            state, data = (found["state"], found["data"]) if found else (None, _EMPTY)
            row = self._remember(storage_key, _Row(key.user_id, state, data))
        return row

    async def _write(self, key: StorageKey, state: str | None, data: str) -> None:
        with self._writing(key, state, data) as statement:
            await self._db.point_execute(*statement)

    def writing(
        self, key: StorageKey, state: str | None, data: Mapping[str, Any]
    ) -> AbstractContextManager[Statement]:
        """The statement that stores this dialog, for a caller that runs it together with
        writes of its own (`Backend.point_execute_together`) inside the block, which the
        dialog is then taken to have, as after `set_state` and `set_data`."""
        return self._writing(key, state, _as_text(data))

    @contextmanager
    def _writing(self, key: StorageKey, state: str | None, data: str) -> Iterator[Statement]:
        """One statement; a cleared dialog leaves no row behind: nothing is kept needlessly.

        The copy in memory changes first, so a write that starts while this one waits for
        the database builds on it, and writes reach the database in the order they were
        made (the database's lock is fair). If the block fails, the outcome is unknown,
        and the dialog is read again next time.
        """
        storage_key = self._keys.build(key)
        self._remember(storage_key, _Row(key.user_id, state, data))
        try:
            if state is None and data == _EMPTY:
                yield Statement("DELETE FROM fsm_states WHERE storage_key = ?", (storage_key,))
            else:
                yield Statement(
                    "INSERT INTO fsm_states (storage_key, user_id, state, data)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (storage_key) DO UPDATE"
                    " SET state = excluded.state, data = excluded.data",
                    (storage_key, key.user_id, state, data),
                )
        except BaseException:
            self._rows.pop(storage_key, None)
            raise

    def _remember(self, storage_key: str, row: _Row) -> _Row:
        self._rows.pop(storage_key, None)
        self._rows[storage_key] = row
        self._keys_of_user.setdefault(row.user_id, set()).add(storage_key)
        if len(self._rows) > self._cache_size:
            oldest = next(iter(self._rows))
            owner = self._rows.pop(oldest).user_id
            self._complete_users.discard(owner)
            user_keys = self._keys_of_user[owner]
            user_keys.discard(oldest)
            if not user_keys:
                del self._keys_of_user[owner]
        return row


def _as_text(data: Mapping[str, Any]) -> str:
    if not isinstance(data, Mapping):
        raise TypeError(f"FSM data must be a mapping, not {type(data).__name__}")
    return orjson.dumps(dict(data)).decode()
