"""Keeps aiogram's parsed-response classes alive: without this, API calls cost 10× more.

aiogram parses every Bot API answer with `Response[method.__returning__]`, a pydantic
generic class built on first use. pydantic caches those classes only *weakly*, so once the
garbage collector runs, the next call rebuilds the class and its validator from scratch —
about 10 ms, far more than the HTTP round trip. Profiling the answer benchmark showed a
quarter of the bot's CPU time going there. Holding one strong reference per method type
keeps each class built exactly once per process.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType


class PinResponseTypes(BaseRequestMiddleware):
    """A session middleware: costs one dictionary lookup per request."""

    def __init__(self) -> None:
        self._pinned: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self._pinned:
            self._pinned[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
