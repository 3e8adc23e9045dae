"""The sandbox's moving parts in one process: the Bot API stand-in and the real bot.

The bot is the same `Application` that `civicpulse run` starts; only its settings differ
(TELEGRAM_API_URL is the stand-in, a fixed token, its own database, the administrator
persona in ADMIN_IDS). There is no sandbox code path inside the bot, so what someone
sees here is what citizens would see in Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Final, Self
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.app import Application
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.personas import Persona, PersonaBook
from bot.settings import Settings
from storage.pseudonym_key import key_file_path

__all__ = [
    "DEFAULT_DATABASE",
    "SANDBOX_TOKEN",
    "SandboxRuntime",
    "erase_database",
    "sandbox_settings",
]

log = logging.getLogger(__name__)

#: Shaped like a real token (digits:text) because aiogram checks the shape; worthless anywhere else.
SANDBOX_TOKEN: Final = "7000000001:sandbox-token-not-valid-in-telegram"
DEFAULT_DATABASE: Final = Path("data/sandbox/civicpulse.db")
_BOT_USER: Final = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "CivicPulse",
    "username": "civicpulse_sandbox_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def sandbox_settings(
    base: Settings, api_url: str, database_path: Path, admin_ids: frozenset[int]
) -> Settings:
    """The operator's settings with the sandbox's own Telegram, database and admins.

    Surveys, region catalog, locale and time zone are kept, so an analyst can try their
    own survey files. MIN_CELL_SIZE drops to 1: with a handful of personas nothing would
    ever be published otherwise, and the sandbox holds no real people to protect.
    """
    if database_path.resolve() == base.database_path.resolve():
        raise ValueError(f"the sandbox must not use the production database {base.database_path}")
    return base.model_copy(
        update={
            "bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": api_url,
            "database_path": database_path,
            "database_url": None,  # never the operator's PostgreSQL: the sandbox is SQLite
            "admin_ids": admin_ids,
            "pseudonym_key": None,
            "min_cell_size": 1,
        }
    )


def erase_database(database_path: Path) -> None:
    """Delete the sandbox database with its WAL files and its pseudonym key."""
    for path in (
        database_path,
        database_path.with_name(database_path.name + "-wal"),
        database_path.with_name(database_path.name + "-shm"),
        key_file_path(database_path),
    ):
        path.unlink(missing_ok=True)


class SandboxRuntime:
    """Starts, resets and stops the stand-in and the bot; the page server drives it."""

    def __init__(
        self,
        base_settings: Settings,
        database_path: Path = DEFAULT_DATABASE,
        polling_timeout: int = 25,
    ) -> None:
        self.telegram = FakeTelegram(SANDBOX_TOKEN, _BOT_USER)
        self.personas = PersonaBook(base_settings.default_locale)
        self.database_path = database_path
        self._base_settings = base_settings
        self._polling_timeout = polling_timeout
        self._app: Application | None = None
        self._polling: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def app(self) -> Application:
        """The running bot (its store and scheduler are what tests and demos reach for)."""
        if self._app is None:
            raise RuntimeError("the sandbox bot is not running")
        return self._app

    @property
    def zone(self) -> ZoneInfo:
        """The bot's TIMEZONE, kept by `sandbox_settings`: the page tells the time in it."""
        return self._base_settings.zone

    @property
    def bot_name(self) -> str:
        return str(self.telegram.bot_user["first_name"])

    async def start(self, *, reset: bool = False) -> None:
        await self.telegram.start()
        for persona in self.personas:
            self._register(persona)
        if reset:
            erase_database(self.database_path)
        await self._start_bot()

    async def reset(self) -> None:
        """Start over: empty chats and a new database, with the same personas."""
        async with self._lock:
            await self._stop_bot()
            self.telegram.clear()
            erase_database(self.database_path)
            await self._start_bot()

    async def stop(self) -> None:
        """Let the bot finish what it is handling, then stop the stand-in it talks to."""
        async with self._lock:
            await self._stop_bot()
            await self.telegram.stop()

    def add_citizen(self, name: str) -> Persona:
        persona = self.personas.add_citizen(name)
        self._register(persona)
        return persona

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _register(self, persona: Persona) -> None:
        self.telegram.user(persona.id, persona.name, persona.language)

    async def _start_bot(self) -> None:
        settings = sandbox_settings(
            self._base_settings,
            self.telegram.base_url,
            self.database_path,
            self.personas.admin_ids,
        )
        app = await Application.create(settings)
        self._app = app
        self._polling = asyncio.create_task(
            app.run_polling(polling_timeout=self._polling_timeout, handle_signals=False),
            name="sandbox-bot-polling",
        )
        self._polling.add_done_callback(_report_crash)

    async def _stop_bot(self) -> None:
        app, task = self._app, self._polling
        self._app = self._polling = None
        if app is None or task is None:
            return
        # stop_polling refuses until polling has begun (the bot first announces its
        # commands), so a stop right after a start waits for that moment.
        while not task.done():
            try:
                await app.stop()
                break
            except RuntimeError:
                await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the sandbox bot stopped with an error", exc_info=task.exception())
