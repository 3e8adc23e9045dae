"""A revision counter over all chats, so the page can long-poll for "anything new".

The stand-in's own per-chat versions count only the bot's side and restart when the
sandbox is reset; the page needs one number that also moves when a person writes, never
goes back, and can be waited on.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["ChangeFeed"]


class ChangeFeed:
    def __init__(self) -> None:
        self.revision = 0
        self._changed_at: dict[int, int] = {}
        self._event = asyncio.Event()
        self._closed = False

    def notify(self, chat_id: int) -> None:
        """Record a change in ``chat_id`` and wake every waiting request."""
        self.revision += 1
        self._changed_at[chat_id] = self.revision
        self._wake()

    def close(self) -> None:
        """Release every waiting request at once, so a server can stop without waiting
        out the browser's long poll."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def changed_at(self, chat_id: int) -> int:
        """The revision of the chat's latest change (0: never changed)."""
        return self._changed_at.get(chat_id, 0)

    async def wait(self, since: int, timeout: float) -> None:
        """Return once the revision is past ``since``, or after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.revision <= since and not self._closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
