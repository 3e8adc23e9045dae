"""Counts updates being handled, so shutdown can wait for them before closing the database.

aiogram's polling stops on SIGTERM without awaiting handlers that are still running; an
answer half-way to the database would be lost. `drain()` closes that gap.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.chat.middlewares import Data, UpdateHandler


class InFlightMiddleware(BaseMiddleware):
    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        return self._running

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        self._running += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def drain(self, timeout: float) -> bool:
        """Wait until no update is in flight; False if some were still running at timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
