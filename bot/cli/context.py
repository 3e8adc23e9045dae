"""What most commands need: the database, and the surveys on disk synced into it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.chat.message_limits import message_limit_problems
from bot.settings import Settings
from storage.backend import Backend, DatabaseOpenError
from storage.connect import open_database
from storage.repositories.surveys import SurveyVersionConflict
from storage.store import Store
from storage.survey_sync import StoredSurvey, sync_surveys


@dataclass(frozen=True, slots=True)
class CommandContext:
    store: Store
    surveys: dict[str, StoredSurvey]


async def open_command_database(settings: Settings) -> Backend:
    """The database a command works on. One that cannot be opened (unreachable, refusing
    us, of a newer schema) ends the command with one line and status 1, not a traceback."""
    try:
        return await open_database(settings)
    except DatabaseOpenError as error:
        raise SystemExit(f"civicpulse: {error}") from None


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The database alone, for commands that read or change staff data and no survey: they
    need not load the surveys from disk."""
    database = await open_command_database(settings)
    try:
        yield Store(database)
    finally:
        await database.close()


@asynccontextmanager
async def command_context(settings: Settings) -> AsyncIterator[CommandContext]:
    database = await open_command_database(settings)
    try:
        store = Store(database)
        try:
            surveys = await sync_surveys(store, settings.surveys_dir, message_limit_problems)
        except SurveyVersionConflict as error:
            # A survey file changed under a version already stored (on another server of
            # the deployment, say): one line, as for a survey file that does not load.
            raise SystemExit(f"civicpulse: {error}") from None
        yield CommandContext(store, surveys)
    finally:
        await database.close()
