"""Per-update context: who is writing, in which language, and what is still running."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject

#: What aiogram passes along a middleware chain: the context each middleware adds to.
Data = dict[str, Any]
#: The rest of the chain, as aiogram hands it to a middleware.
UpdateHandler = Callable[[TelegramObject, Data], Awaitable[Any]]
#: A middleware as aiogram calls it: the rest of the chain, the event, the context.
Middleware = Callable[[UpdateHandler, TelegramObject, Data], Awaitable[Any]]
