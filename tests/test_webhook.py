"""Webhook mode: Telegram's secret header is checked, a failed update is retried."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from pydantic import ValidationError

from bot.app import Application
from bot.sandbox.fake_telegram import FakeTelegram, Fault, buttons
from bot.settings import Settings
from bot.webhook_config import WebhookConfig, make_config, parse_listen
from storage import postgres
from tests.database_peek import peek_one
from tests.harness import Citizen, make_settings, start_bot, table_snapshot, wait_until

URL = "https://bot.example.org/civicpulse/hook"
SECRET = "correct-horse_battery-staple"
HEADER = "X-Telegram-Bot-Api-Secret-Token"

_update_ids = itertools.count(1)


@dataclass
class WebhookBot:
    app: Application
    task: asyncio.Task[None]
    endpoint: str
    http: aiohttp.ClientSession

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {HEADER: secret} if secret is not None else {}
        async with self.http.post(self.endpoint, json=update, headers=headers) as response:
            return response.status


def start_command(user_id: int) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": user_id, "type": "private", "first_name": "Вика"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Вика", "language_code": "ru"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def consent_press(user_id: int, server: FakeTelegram) -> dict[str, Any]:
    """Agreeing to take part: the first press that stores something about a citizen."""
    user = {"id": user_id, "is_bot": False, "first_name": "Вика", "language_code": "ru"}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"webhook-{user_id}",
            "from": user,
            "chat_instance": str(user_id),
            "data": "c:yes:ru",
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": user_id, "type": "private", "first_name": "Вика"},
                "from": server.bot_user,
                "text": "consent",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Согласен", "callback_data": "c:yes:ru"}]]
                },
            },
        },
    }


@pytest.fixture
async def webhook_bot(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[WebhookBot]:
    async with serving_webhook(server, tmp_path) as bot:
        yield bot


@contextlib.asynccontextmanager
async def serving_webhook(server: FakeTelegram, tmp_path: Path) -> AsyncIterator[WebhookBot]:
    """The bot serving its webhook on a local port, registered with the fake server."""
    app = await Application.create(make_settings(server, tmp_path, webhook_secret=SECRET))
    config = make_config(app.settings, URL, "127.0.0.1:0")
    task = asyncio.create_task(app.run_webhook(config, handle_signals=False))
    await server.wait_for(lambda: server.webhook is not None or task.done())
    assert app.webhook is not None
    host, port = app.webhook.address
    async with aiohttp.ClientSession() as http:
        bot = WebhookBot(app, task, f"http://{host}:{port}{config.path}", http)
        try:
            yield bot
        finally:
            if not task.done():
                await app.stop()
            await asyncio.wait_for(task, 20)


async def test_start_registers_the_webhook_with_its_secret(
    server: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    assert server.webhook == {"url": URL, "secret_token": SECRET}
    (registration,) = server.calls("setWebhook")
    assert "callback_query" in registration.params["allowed_updates"]


async def test_an_update_with_the_secret_is_served(
    server: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    assert await webhook_bot.post(start_command(4001)) == 200
    # Handled before the HTTP answer: the reply is already there.
    assert "согласие" in (server.last_message(4001).text or "")  # type: ignore[union-attr]


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_a_request_without_the_right_secret_is_rejected_and_changes_nothing(
    server: FakeTelegram, webhook_bot: WebhookBot, secret: str | None
) -> None:
    before = await table_snapshot(webhook_bot.app)
    assert await webhook_bot.post(consent_press(4002, server), secret=secret) == 401
    assert await webhook_bot.post(start_command(4002), secret=secret) == 401
    assert await table_snapshot(webhook_bot.app) == before
    assert server.chat(4002) == []
    # The same press with the secret does store the consent: the refusal was the header's.
    assert await webhook_bot.post(consent_press(4002, server)) == 200
    assert await webhook_bot.app.store.respondents.by_telegram_id(4002) is not None


async def test_a_failed_update_is_answered_with_an_error_so_telegram_sends_it_again(
    server: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    server.fail_sends(lambda method, chat, attempt: Fault.server_error() if attempt == 0 else None)
    update = start_command(4003)
    assert await webhook_bot.post(update) == 500
    assert server.chat(4003) == []
    assert await webhook_bot.post(update) == 200  # Telegram's redelivery
    assert len(server.chat(4003)) == 1


async def test_stopping_closes_the_database_and_deletes_the_webhook_unless_shared(
    server: FakeTelegram, webhook_bot: WebhookBot, bot_database_pass: str
) -> None:
    """On SQLite this instance is the only one, and its stop takes the webhook down. On
    PostgreSQL others may serve the same webhook behind the proxy: a stop leaves it set, so
    that a rolling restart cuts nobody off."""
    await webhook_bot.app.stop()
    await asyncio.wait_for(webhook_bot.task, 20)
    if bot_database_pass == "sqlite":
        assert server.webhook is None and server.calls("deleteWebhook")
    else:
        assert server.webhook == {"url": URL, "secret_token": SECRET}
        assert server.calls("deleteWebhook") == []
    await wait_until(lambda: database_closed(webhook_bot.app.settings))
    with pytest.raises(aiohttp.ClientConnectionError):
        await webhook_bot.post(start_command(4004))


async def database_closed(settings: Settings) -> bool:
    """Whether no connection of the bot's is left: with SQLite's write-ahead log, the last
    connection checkpoints the log into the file and removes it on close; PostgreSQL
    lists every open session of the database (the server ends one a moment after its
    client closed it, hence a wait)."""
    if settings.database_url is None:
        return not settings.database_path.with_name(f"{settings.database_path.name}-wal").exists()
    (others,) = peek_one(
        settings,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    return bool(others == 0)


@pytest.mark.usefixtures("bot_database_pass")
def test_the_command_line_is_checked(server: FakeTelegram, tmp_path: Path) -> None:
    settings = make_settings(server, tmp_path)
    config = make_config(settings, "https://example.org/tg", "0.0.0.0:8443")
    assert (config.host, config.port, config.path) == ("0.0.0.0", 8443, "/tg")
    assert config.secret and config.secret != make_config(settings, URL).secret
    assert WebhookConfig("https://example.org", "h", 1, "s").path == "/"
    assert parse_listen("[::1]:8080") == ("::1", 8080)
    for url in ("http://example.org/tg", "example.org", "https:///tg"):
        with pytest.raises(ValueError, match="https"):
            make_config(settings, url)
    for listen in ("8080", "localhost", ":80", "host:http", "host:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_listen(listen)


@pytest.mark.usefixtures("bot_database_pass")
@pytest.mark.parametrize("secret", ["has space", "ключ", "x" * 257])
def test_a_secret_telegram_would_refuse_is_refused_at_start(
    server: FakeTelegram, tmp_path: Path, secret: str
) -> None:
    with pytest.raises(ValidationError, match="webhook_secret"):
        make_settings(server, tmp_path, webhook_secret=secret)


@pytest.mark.usefixtures("bot_database_pass")
async def test_polling_after_a_killed_webhook_run_removes_the_webhook(
    server: FakeTelegram, tmp_path: Path
) -> None:
    server.webhook = {"url": URL, "secret_token": SECRET}  # what `kill -9` leaves behind
    running = await start_bot(make_settings(server, tmp_path))
    try:
        citizen = Citizen(server, server.user(4005, "Вика"))
        consent = await citizen.command("/start")
        assert server.webhook is None
        assert consent.text and buttons(consent)
    finally:
        await running.stop()


async def test_a_non_ascii_secret_is_refused_like_any_wrong_one(
    server: FakeTelegram, webhook_bot: WebhookBot
) -> None:
    assert await webhook_bot.post(start_command(4010), secret="пароль") == 401
    assert server.chat(4010) == []


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_failure_that_would_recur_is_logged_once_and_not_redelivered(
    server: FakeTelegram, webhook_bot: WebhookBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused message fails the same way each time: a 5xx would have Telegram
    redeliver it, and the bot fail and log it, for as long as Telegram keeps updates."""
    server.fail_sends(lambda method, chat, attempt: Fault.bad_request("message is too long"))
    assert await webhook_bot.post(start_command(4011)) == 200
    assert len(_errors(caplog)) == 1
    assert "TelegramBadRequest" in _errors(caplog)[0].getMessage()


@pytest.mark.parametrize(
    "body",
    [b"<html>proxy error</html>", b'{"update_id": "first"}', b"[]"],
    ids=["not json", "not an update", "a list"],
)
async def test_a_body_that_is_not_an_update_is_logged_once_and_not_redelivered(
    webhook_bot: WebhookBot, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    headers = {HEADER: SECRET, "Content-Type": "application/json"}
    async with webhook_bot.http.post(webhook_bot.endpoint, data=body, headers=headers) as answer:
        assert answer.status == 200
    (error,) = _errors(caplog)
    assert "not an update" in error.getMessage()


@contextlib.asynccontextmanager
async def write_lock(settings: Settings, table: str) -> AsyncIterator[None]:
    """Another process in the middle of a write that keeps the bot's out: on SQLite any
    write (one writer at a time), on PostgreSQL one holding a lock on `table` that lets
    only reads through (as an ALTER TABLE or a bulk load may)."""
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.database_path)) as other:
            other.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                other.rollback()
        return
    other = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        async with other.transaction():
            await other.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield
    finally:
        await other.close()


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_database_locked_for_a_moment_asks_for_redelivery(
    server: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the lock the write needs: the consent cannot be stored now,
    so the update is answered 500 and stored when Telegram delivers it again."""
    # The bot waits for a lock a bounded time: SQLite's busy timeout (10 s), on PostgreSQL
    # the lock timeout of a citizen's turn (30 s). Here a moment, to fail fast.
    monkeypatch.setattr(postgres, "TURN_LOCK_TIMEOUT", "200ms")
    async with serving_webhook(server, tmp_path) as webhook_bot:
        app = webhook_bot.app
        if app.settings.database_url is None:
            await app.database.execute("PRAGMA busy_timeout = 100")
        update = consent_press(4012, server)
        async with write_lock(app.settings, "respondents"):
            assert await asyncio.wait_for(webhook_bot.post(update), 10) == 500
        assert await app.store.respondents.by_telegram_id(4012) is None
        assert await webhook_bot.post(update) == 200  # Telegram's redelivery
        assert await app.store.respondents.by_telegram_id(4012) is not None
