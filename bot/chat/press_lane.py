"""Question presses take a fixed lane through the same middlewares and handlers.

A press on a question button is the update that arrives thousands of times a second
while a wave is open, and aiogram's generic routing cost a fifth of handling it: its own
three outer middlewares, the walk through the routers, the magic filters and a middleware
chain rebuilt for every update. For these presses every step of that walk is known in
advance, so `LaneDispatcher` runs them straight through the same objects, in the order
the dispatcher would: the update-level middlewares (in flight, throttle, one user at a
time), the press-level ones (the button answer, the respondent), the dialog, the handler.

Only presses that aiogram would route to the question handlers with certainty take the
lane: a message in a private chat, and callback data that unpacks as one of
`PRESS_HANDLERS`. Everything else, including a question press the lane cannot read,
goes through the dispatcher as before — where it meets the same handlers or none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.chat.callbacks import prefix_of
from bot.chat.middlewares import Data, Middleware, UpdateHandler

#: A question-button handler: the press, its unpacked data, the dialog, the button answer.
PressHandler = Callable[..., Awaitable[None]]


def _chain(middlewares: Sequence[Middleware], last: UpdateHandler) -> UpdateHandler:
    for middleware in reversed(middlewares):
        last = partial(middleware, last)
    return last


class PressLane:
    """Recognises question presses and runs them through their fixed chain."""

    def __init__(
        self,
        handlers: Mapping[type[CallbackData], PressHandler],
        update_middlewares: Sequence[Middleware],
        press_middlewares: Sequence[Middleware],
    ) -> None:
        """`press_middlewares` end with the handlers' own (the router's inner ones)."""
        self._kinds = {prefix_of(kind): kind for kind in handlers}
        self._callbacks = dict(handlers)
        self._run = _chain(update_middlewares, self._to_press)
        self._press = _chain(press_middlewares, self._call_handler)

    def recognise(self, update: Update) -> CallbackData | None:
        """The unpacked callback data of a question press in a private chat, else None."""
        press = update.callback_query
        if press is None or not isinstance(press.message, Message) or press.data is None:
            return None
        if press.message.chat.type != "private":
            return None
        kind = self._kinds.get(press.data[: press.data.find(":") + 1])
        if kind is None:
            return None
        try:
            return kind.unpack(press.data)
        except (TypeError, ValueError):
            return None  # the dispatcher finds no handler for it, as before

    async def feed(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        update: Update,
        callback_data: CallbackData,
        data: Data,
    ) -> Any:
        """Handle a press as `recognise` read it; `data` is what the dispatcher would pass."""
        press = update.callback_query
        assert press is not None and isinstance(press.message, Message)
        user, chat = press.from_user, press.message.chat
        data.update(
            event_from_user=user,
            event_chat=chat,
            event_update=update,
            state=dispatcher.fsm.get_context(bot, chat_id=chat.id, user_id=user.id),
            callback_data=callback_data,
        )
        return await self._run(update, data)

    async def _to_press(self, update: TelegramObject, data: Data) -> Any:
        assert isinstance(update, Update) and update.callback_query is not None
        return await self._press(update.callback_query, data)

    async def _call_handler(self, press: TelegramObject, data: Data) -> Any:
        assert isinstance(press, CallbackQuery)
        callback_data = data["callback_data"]
        handler = self._callbacks[type(callback_data)]
        return await handler(press, callback_data, data["dialog"], data["callback_answer"])


class LaneDispatcher(Dispatcher):
    """A dispatcher that gives question presses to its `lane` (set once it is built)."""

    lane: PressLane | None = None

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        callback_data = None if self.lane is None else self.lane.recognise(update)
        if self.lane is None or callback_data is None:
            return await super().feed_update(bot, update, **kwargs)
        data = {"dispatcher": self, **self.workflow_data, **kwargs, "bot": bot}
        return await self.lane.feed(self, bot, update, callback_data, data)
