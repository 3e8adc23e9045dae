"""Loads the citizen behind an update and the language to answer them in."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User

from bot.chat.middlewares import Data, UpdateHandler
from bot.chat.middlewares.serial import READING
from bot.chat.texts import Texts
from storage.coordination import CitizenReading
from storage.store import Store
from surveys.text import LANGUAGES


class RespondentMiddleware(BaseMiddleware):
    """Adds `respondent` (or None) and `texts` (the catalog in the reader's language).

    Where the citizen's turn has read the respondent already (`SerialPerUser`), that
    record is the one used: read after the turn was taken, it is as current as another.

    Before consent nothing is stored about a citizen, so their language comes from the
    dialog state or from their Telegram client's language instead.
    """

    def __init__(self, store: Store, default_locale: str) -> None:
        self._store = store
        self._default_locale = default_locale

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        user: User | None = data.get("event_from_user")
        reading: CitizenReading | None = data.get(READING)
        if reading is not None:
            respondent = reading.respondent
        else:
            respondent = await self._store.respondents.by_telegram_id(user.id) if user else None
        language = respondent.language if respondent else None
        state: FSMContext | None = data.get("state")
        if language is None and state is not None:
            language = (await state.get_data()).get("lang")
        if language is None and user is not None and user.language_code in LANGUAGES:
            language = user.language_code
        data["respondent"] = respondent
        data["texts"] = Texts(language or self._default_locale)
        return await handler(event, data)
