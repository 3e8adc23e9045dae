"""Answers every button press, and never lets a failed answer undo the work behind it.

aiogram's `CallbackAnswerMiddleware` answers after the handler, even when it raised, so a
client never spins forever. But when `answerCallbackQuery` itself fails — "query is too
old" for a press handled after a restart, a forged query id, a network hiccup — the error
would escape after the handler's work was already committed. In webhook mode that turns
into a 500 and Telegram delivers the update again and again; in polling mode the logged
exception hides the real one. The answer is a courtesy: log it and move on.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.callback_answer import CallbackAnswerMiddleware as _AiogramMiddleware

from bot.telegram.plain_methods import AnswerPress

log = logging.getLogger(__name__)


class CallbackAnswerMiddleware(_AiogramMiddleware):
    async def answer(  # type: ignore[override]
        self, event: CallbackQuery, callback_answer: CallbackAnswer
    ) -> bool:
        try:
            if event.bot is None:
                return False
            answer = AnswerPress.of(
                event.id,
                text=callback_answer.text,
                show_alert=callback_answer.show_alert,
                url=callback_answer.url,
                cache_time=callback_answer.cache_time,
            )
            return await event.bot(answer)
        except TelegramAPIError as error:
            log.info("callback query %s not answered: %s", event.id, error)
            return False
