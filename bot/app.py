"""The running bot: database, surveys, Telegram client and dispatcher, started and stopped
in the order that loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand

from bot.chat.handlers.questionnaire import trim_question_press
from bot.chat.message_limits import message_limit_problems
from bot.chat.middlewares.inflight import InFlightMiddleware
from bot.dispatcher import build_dispatcher
from bot.settings import Settings
from bot.stop_request import STOP_SIGNALS, StopRequest
from bot.telegram.json_session import JsonBodySession
from bot.telegram.response_types import PinResponseTypes
from bot.waves.broadcast import Broadcaster
from bot.waves.invitations import InvitationComposer, WaveOutbox
from bot.waves.progress import ProgressReporter
from bot.waves.scheduler import WaveHook, WaveScheduler
from bot.waves.sender_duty import SenderDuty, this_instance
from bot.waves.site_publishing import SitePublisher
from bot.webhook import WebhookServer
from bot.webhook_config import WebhookConfig
from storage.backend import Backend
from storage.connect import open_coordination, open_database
from storage.coordination import Coordination
from storage.repositories.waves import Wave
from storage.store import Store
from storage.survey_sync import StoredSurvey, sync_surveys
from surveys.regions import RegionCatalog, load_catalog

log = logging.getLogger(__name__)

#: How long shutdown waits for updates that are still being handled.
DRAIN_SECONDS = 15.0


def make_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set: put it in .env or the environment")
    session = JsonBodySession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        trim_update=trim_question_press,
    )
    session.middleware(PinResponseTypes())
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


@dataclass
class Application:
    settings: Settings
    database: Backend
    store: Store
    surveys: dict[str, StoredSurvey]
    bot: Bot
    dispatcher: Dispatcher
    inflight: InFlightMiddleware
    scheduler: WaveScheduler
    broadcaster: Broadcaster
    progress: ProgressReporter
    coordination: Coordination
    publisher: SitePublisher | None
    #: Starts the sending services above while this instance holds the sender role.
    duty: SenderDuty = field(init=False)
    #: What `civicpulse run` exits with: 1 once the sender role was lost (see
    #: `bot.waves.sender_duty`), for the service manager to start the instance afresh.
    exit_status: int = field(default=0, init=False)
    #: Set while serving a webhook (`run_webhook`); None with long polling.
    webhook: WebhookServer | None = field(default=None, init=False)
    _webhook_stop: asyncio.Event | None = field(default=None, init=False, repr=False)

    @classmethod
    async def create(cls, settings: Settings) -> Application:
        bot = make_bot(settings)
        database = await open_database(settings)
        try:
            store = Store(database)
            surveys = await sync_surveys(store, settings.surveys_dir, message_limit_problems)
            catalog = load_catalog(settings.regions_file)
            coordination = await open_coordination(settings, this_instance(), database)
        except BaseException:
            await database.close()
            await bot.session.close()
            raise
        inflight = InFlightMiddleware()
        dispatcher = build_dispatcher(settings, store, catalog, inflight, coordination)
        broadcaster = Broadcaster(
            bot,
            store.invitations,
            InvitationComposer(store, settings.zone),
            rate=settings.broadcast_rate,
            paid=settings.broadcast_paid,
        )
        progress = ProgressReporter(bot, store, settings.default_locale, settings.broadcast_rate)
        outbox = WaveOutbox(store, broadcaster.wake)
        publisher = _site_publisher(settings, database, catalog)
        scheduler = WaveScheduler(
            store,
            on_open=_on_open(outbox, progress),
            on_sweep=outbox.follow_up,
            **({"on_close": publisher.on_close} if publisher else {}),
        )
        dispatcher["surveys"] = surveys
        app = cls(
            settings,
            database,
            store,
            surveys,
            bot,
            dispatcher,
            inflight,
            scheduler,
            broadcaster,
            progress,
            coordination,
            publisher,
        )
        app.duty = SenderDuty(
            coordination.sender_role,
            store.sender_role,
            start_sending=app._start_sending,
            stop_sending=app._stop_sending,
            sweep=scheduler.sweep,
            on_lost=app._after_losing_sender_role,
        )
        dispatcher["sender_duty"] = app.duty
        dispatcher.startup.register(app.duty.start)
        dispatcher.shutdown.register(app.duty.stop)
        return app

    async def _start_sending(self) -> None:
        # Started in this order and stopped in the same: no wave opens once sending stops,
        # and the broadcaster commits every outcome before the database is closed.
        for service in (self.scheduler, self.broadcaster, self.progress):
            await service.start()

    async def _stop_sending(self) -> None:
        await self.scheduler.shutdown()
        if self.publisher:
            await self.publisher.stop()
        await self.broadcaster.stop()
        await self.progress.stop()

    async def _after_losing_sender_role(self) -> None:
        self.exit_status = 1
        await self.stop()

    async def run_polling(
        self,
        polling_timeout: int = 25,
        handle_signals: bool = True,
        early_stop: StopRequest | None = None,
    ) -> None:
        """Poll until stopped (SIGTERM/SIGINT or `stop()`), then shut down cleanly.

        A webhook left registered (a webhook run that was killed, not stopped) makes
        Telegram refuse every `getUpdates`; it is removed first. Its pending updates stay.
        A stop signal caught in `early_stop` before polling begins ends the run there:
        aiogram installs its own handlers in the same step as it starts, with no await
        between the check and them.
        """
        try:
            await self._announce_commands()
            await self.bot.delete_webhook(drop_pending_updates=False)
            if early_stop is not None and early_stop.requested:
                return
            await self.dispatcher.start_polling(
                self.bot,
                polling_timeout=polling_timeout,
                handle_signals=handle_signals,
                close_bot_session=False,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        finally:
            await self.close()

    async def run_webhook(
        self,
        config: WebhookConfig,
        handle_signals: bool = True,
        early_stop: StopRequest | None = None,
    ) -> None:
        """Serve Telegram's webhook until stopped (SIGTERM/SIGINT or `stop()`).

        Shutdown runs in the order that loses nothing: Telegram is told to stop sending
        (it keeps new updates for the next start), the server stops accepting and lets
        its requests finish, the services stop, and `close()` drains what is still running.
        Where other instances share the database (PostgreSQL), they may still be serving
        the same webhook behind the proxy: every instance sets it (the same URL each time)
        and none deletes it, so that a rolling restart cuts nobody off.
        A stop signal caught in `early_stop` during start-up ends the run before serving;
        from the check to this method's own handlers there is no await a signal could use.
        """
        server = self.webhook = WebhookServer(self.dispatcher, self.bot, config)
        stopping = self._webhook_stop = asyncio.Event()
        signals = STOP_SIGNALS if handle_signals else ()
        loop = asyncio.get_running_loop()
        workflow = {k: v for k, v in self.dispatcher.workflow_data.items() if k != "bot"}
        workflow.update(dispatcher=self.dispatcher, bots=[self.bot])
        started = False
        try:
            await self._announce_commands()
            if early_stop is not None and early_stop.requested:
                return
            for signum in signals:
                loop.add_signal_handler(signum, stopping.set)
            await server.start()
            await self.dispatcher.emit_startup(bot=self.bot, **workflow)
            started = True
            await self.bot.set_webhook(
                config.url,
                secret_token=config.secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
            log.info("serving the webhook %s on %s:%s", config.url, *server.address)
            await stopping.wait()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            if not self.coordination.shared:
                # Unreachable Telegram must not keep the database from closing cleanly.
                with contextlib.suppress(TelegramAPIError):
                    await self.bot.delete_webhook()
            await server.stop()
            if started:
                await self.dispatcher.emit_shutdown(bot=self.bot, **workflow)
            await self.close()

    async def stop(self) -> None:
        """Stop receiving updates, however they arrive; `run_*` then shuts down cleanly."""
        if self._webhook_stop is not None:
            self._webhook_stop.set()
        else:
            await self.dispatcher.stop_polling()

    async def close(self) -> None:
        """Let running handlers finish before the database they write to is closed."""
        if not await self.inflight.drain(DRAIN_SECONDS):
            log.warning("%d updates still running at shutdown", self.inflight.running)
        await self.bot.session.close()
        await self.coordination.close()
        await self.database.close()

    async def _announce_commands(self) -> None:
        commands = {
            "ru": [
                ("survey", "Пройти опрос"),
                ("results", "Результаты моего региона"),
                ("actions", "Что делается в регионе"),
                ("profile", "Изменить профиль"),
                ("privacy", "Какие данные хранятся"),
                ("mydata", "Мои данные"),
                ("delete_me", "Удалить мои данные"),
            ],
            "en": [
                ("survey", "Take a survey"),
                ("results", "My region's results"),
                ("actions", "What my region is doing"),
                ("profile", "Change your profile"),
                ("privacy", "What data is stored"),
                ("mydata", "My data"),
                ("delete_me", "Erase my data"),
            ],
        }
        for language, pairs in commands.items():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in pairs],
                language_code=None if language == self.settings.default_locale else language,
            )


def _on_open(outbox: WaveOutbox, progress: ProgressReporter) -> WaveHook:
    """Opening a wave: queue its invitations, then show the admin the sending."""

    async def opened(wave: Wave) -> None:
        await outbox.open(wave)
        await progress.begin(wave)

    return opened


def _site_publisher(
    settings: Settings, database: Backend, catalog: RegionCatalog
) -> SitePublisher | None:
    """With `PUBLISH_DIR` set, what publishes the public site as each wave closes."""
    if settings.publish_dir is None:
        return None
    return SitePublisher(
        database,
        settings.publish_dir,
        min_cell_size=settings.min_cell_size,
        catalog=catalog,
        zone=settings.zone,
    )
