"""The administrator who created a wave watches its invitations go out: one chat message,
edited every few seconds with sent / total, rate, failures and time left.

Figures come from the database (`storage.wave_stats`), never from the broadcaster's
memory, so the message is right after a restart and matches `civicpulse wave stats`; which
message to edit is stored too, so a restart goes on editing the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

from bot.chat.admin_views import progress_finished, progress_text
from bot.chat.texts import Texts
from storage.repositories.progress import ProgressMessage
from storage.repositories.waves import Wave
from storage.store import Store
from storage.wave_stats import wave_stats

log = logging.getLogger(__name__)

#: Seconds between edits: often enough to watch, rare enough for Telegram's edit limits.
PROGRESS_SECONDS = 3.0


class ProgressReporter:
    def __init__(
        self,
        bot: Bot,
        store: Store,
        default_locale: str,
        configured_rate: float,
        interval: float = PROGRESS_SECONDS,
    ) -> None:
        self._bot = bot
        self._store = store
        self._default_locale = default_locale
        self._configured_rate = configured_rate
        self._interval = interval
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="wave-progress")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopped.set()
            await self._task
            self._task = None

    async def begin(self, wave: Wave) -> None:
        """Post the progress message of a wave that has just opened (once per wave)."""
        if wave.created_by is None or await self._store.progress.exists(wave.id):
            return
        current = await self._store.waves.get(wave.id) or wave
        stats = await wave_stats(self._store, current)
        texts = await self._texts(wave.created_by)
        try:
            message = await self._bot.send_message(
                wave.created_by, progress_text(stats, texts, self._configured_rate)
            )
        except TelegramAPIError as error:
            log.warning("wave %s: cannot post progress to the admin: %s", wave.id, error)
            return
        await self._store.progress.add(wave.id, wave.created_by, message.message_id)

    async def refresh(self) -> None:
        """Edit every unfinished progress message once; finish those with nothing left."""
        for progress in await self._store.progress.unfinished():
            wave = await self._store.waves.get(progress.wave_id)
            if wave is None:
                await self._store.progress.finish(progress.wave_id)
                continue
            stats = await wave_stats(self._store, wave)
            texts = await self._texts(progress.chat_id)
            delivered = await self._edit(
                progress, progress_text(stats, texts, self._configured_rate)
            )
            if progress_finished(stats) or not delivered:
                await self._store.progress.finish(progress.wave_id)

    async def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("progress update failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self._interval)

    async def _edit(self, progress: ProgressMessage, text: str) -> bool:
        """False when the message can no longer be edited (deleted, bot blocked)."""
        try:
            await self._bot.edit_message_text(
                text=text, chat_id=progress.chat_id, message_id=progress.message_id
            )
        except TelegramBadRequest as error:
            return "not modified" in str(error)
        except TelegramForbiddenError:
            return False
        except TelegramAPIError as error:
            log.warning("wave %s: progress not updated: %s", progress.wave_id, error)
        return True

    async def _texts(self, telegram_id: int) -> Texts:
        respondent = await self._store.respondents.by_telegram_id(telegram_id)
        return Texts(respondent.language if respondent else self._default_locale)
