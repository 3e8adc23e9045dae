"""The updates waiting for the bot, served by ``getUpdates`` long polling.

aiogram's ``Dispatcher.start_polling`` relies on Telegram's exact rules: an update stays
queued until a later ``getUpdates`` confirms it with a higher ``offset``, a poll waits
until something arrives, and a second poller terminates the first with 409.  The queue
keeps those rules apart from the HTTP methods, so what a test pushes as a user's action
reaches the bot the way a real update would.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import Any

from bot.sandbox.api_errors import ApiError

__all__ = ["UpdateQueue"]

JsonDict = dict[str, Any]


class UpdateQueue:
    """Unconfirmed updates in order, with the long polls waiting for them."""

    def __init__(self) -> None:
        self._updates: deque[JsonDict] = deque()
        self._next_update_id = 1
        self._update_event = asyncio.Event()
        self._poll_generation = 0
        self._waiting_polls = 0
        self._closing = False
        self.last_push = time.monotonic()
        """``time.monotonic()`` when the last update was pushed (or the queue was made)."""

    def __len__(self) -> int:
        return len(self._updates)

    @property
    def waiting_polls(self) -> int:
        """Polls currently waiting for an update."""
        return self._waiting_polls

    def push(self, update: JsonDict) -> int:
        """Queue ``update`` under the next ``update_id``, which is returned."""
        if "update_id" in update:
            raise ValueError("push_update assigns update_id itself")
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **update})
        self.last_push = time.monotonic()
        self._wake_pollers()
        return update_id

    def drop_pending(self) -> None:
        """Forget the queued updates; ids keep increasing."""
        self._updates.clear()

    def reopen(self) -> None:
        """Let polls wait again after :meth:`close`."""
        self._closing = False

    def close(self) -> None:
        """Make pending long polls return at once (and later ones not wait)."""
        self._closing = True
        self._wake_pollers()

    async def poll(self, offset: int | None, limit: int, timeout: float) -> list[JsonDict]:
        """Long polling with Telegram's offset confirmation and one-poller rule."""
        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older poll still waiting is now terminated (409)
        deadline = time.monotonic() + max(timeout, 0.0)
        self._waiting_polls += 1
        try:
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._update_event.wait(), remaining)
                except TimeoutError:
                    break
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
        finally:
            self._waiting_polls -= 1
        return list(itertools.islice(self._updates, limit))

    def _wake_pollers(self) -> None:
        event, self._update_event = self._update_event, asyncio.Event()
        event.set()
