"""One user's updates are handled one after another; different users stay in parallel.

aiogram handles every update in its own task, so two updates of the same citizen — a
double tap, a press and a redelivered copy after a restart — can interleave at any await:
both read the same dialog state, both act on it, and the later write wins. The screens
they leave behind then disagree with the state (a question shown twice, a stale keyboard
that looks live). Taking the citizen's turn before anything is read makes each update see
the state the previous one left, in the order Telegram delivered them.

With several instances behind one proxy, two updates of a citizen may reach two
processes; `turn` then also takes the citizen's turn across them (through the database,
`storage.coordination`), after the process's own lock, so that updates waiting here do
not each hold a database connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.chat.middlewares import Data, UpdateHandler
from storage.coordination import CitizenReading

#: Takes a citizen's turn across processes: `storage.coordination.Coordination.turn`.
CitizenTurn = Callable[[int], AbstractAsyncContextManager[CitizenReading | None]]
#: Where the handlers' data carries what the turn read (`CitizenReading`), if anything.
READING = "citizen_reading"


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # updates holding or waiting for the lock


class SerialPerUser(BaseMiddleware):
    """Outer middleware on `dispatcher.update`; memory only for users with updates running."""

    def __init__(self, turn: CitizenTurn) -> None:
        self._turns: dict[int, _Turn] = {}
        self._shared_turn = turn

    @property
    def users(self) -> int:
        """Users with an update being handled or waiting, for tests."""
        return len(self._turns)

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        turn = self._turns.get(user.id)
        if turn is None:
            turn = self._turns[user.id] = _Turn()
        turn.holders += 1
        try:
            async with turn.lock, self._shared_turn(user.id) as reading:
                data[READING] = reading
                return await handler(event, data)
        finally:
            turn.holders -= 1
            if not turn.holders:
                del self._turns[user.id]
