"""The running bot: database, surveys, Telegram client and dispatcher, started and stopped
in the order that loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand

from bot.dispatcher import build_dispatcher
from bot.middlewares.inflight import InFlightMiddleware
from bot.scheduler import WaveScheduler
from bot.settings import Settings
from storage.database import Database
from storage.store import Store
from storage.survey_sync import StoredSurvey, sync_surveys
from surveys.regions import load_catalog

log = logging.getLogger(__name__)

#: How long shutdown waits for updates that are still being handled.
DRAIN_SECONDS = 15.0


def make_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set: put it in .env or the environment")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


@dataclass
class Application:
    settings: Settings
    database: Database
    store: Store
    surveys: dict[str, StoredSurvey]
    bot: Bot
    dispatcher: Dispatcher
    inflight: InFlightMiddleware
    scheduler: WaveScheduler

    @classmethod
    async def create(cls, settings: Settings) -> Application:
        bot = make_bot(settings)
        database = await Database.open(settings.database_path)
        try:
            store = Store(database)
            surveys = await sync_surveys(store, settings.surveys_dir)
            catalog = load_catalog(settings.regions_file)
        except BaseException:
            await database.close()
            await bot.session.close()
            raise
        inflight = InFlightMiddleware()
        dispatcher = build_dispatcher(settings, store, catalog, inflight)
        scheduler = WaveScheduler(store)
        dispatcher.startup.register(scheduler.start)
        dispatcher.shutdown.register(scheduler.shutdown)
        return cls(settings, database, store, surveys, bot, dispatcher, inflight, scheduler)

    async def run_polling(self, polling_timeout: int = 25, handle_signals: bool = True) -> None:
        """Poll until stopped (SIGTERM/SIGINT or `stop()`), then shut down cleanly."""
        try:
            await self._announce_commands()
            await self.dispatcher.start_polling(
                self.bot,
                polling_timeout=polling_timeout,
                handle_signals=handle_signals,
                close_bot_session=False,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        finally:
            await self.close()

    async def stop(self) -> None:
        await self.dispatcher.stop_polling()

    async def close(self) -> None:
        """Let running handlers finish before the database they write to is closed."""
        if not await self.inflight.drain(DRAIN_SECONDS):
            log.warning("%d updates still running at shutdown", self.inflight.running)
        await self.bot.session.close()
        await self.database.close()

    async def _announce_commands(self) -> None:
        commands = {
            "ru": [
                ("survey", "Пройти опрос"),
                ("profile", "Изменить профиль"),
                ("privacy", "Какие данные хранятся"),
                ("delete_me", "Удалить мои данные"),
            ],
            "en": [
                ("survey", "Take a survey"),
                ("profile", "Change your profile"),
                ("privacy", "What data is stored"),
                ("delete_me", "Erase my data"),
            ],
        }
        for language, pairs in commands.items():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in pairs],
                language_code=None if language == self.settings.default_locale else language,
            )
