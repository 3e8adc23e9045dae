"""Receiving updates over an HTTPS webhook instead of long polling.

Telegram POSTs each update to the URL given to `setWebhook`, with the secret chosen there
in the `X-Telegram-Bot-Api-Secret-Token` header; aiogram's `SimpleRequestHandler` answers
401 to any request without the right secret, before the body is even read, so a forged
update changes nothing. The bot listens on plain HTTP on a local address; TLS is the
reverse proxy's job (docs/operating.md, "Webhook mode behind a reverse proxy", has an
nginx example).

Updates are handled *before* the HTTP answer (`handle_in_background=False`). With
aiogram's default (in the background) Telegram gets 200 at once, so an update whose
handler fails is lost, exactly as in polling. Handled in the foreground, a failure that a
later attempt can cure (the database locked for a moment, Telegram itself failing: see
`TRANSIENT`) becomes a 500 and Telegram delivers the update again — safe because every
handler is idempotent (an answer is an upsert, the next screen is derived from stored
answers), and cheap because handlers take milliseconds. Any other failure (a bug, an edit
Telegram refuses, a body that is not an update) would fail the same way at every
redelivery, for as long as Telegram keeps the update: it is logged once and answered 200.
Telegram keeps up to `max_connections` requests open in parallel, so one slow update does
not hold up the others.

The secret comes from `WEBHOOK_SECRET`, or is generated at each start: `setWebhook` is
called on every start anyway, so a fresh secret costs nothing and never sits in a file.
Several instances behind one proxy (PostgreSQL) must all check the same secret, so there
`civicpulse run` requires `WEBHOOK_SECRET`.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.webhook_config import WebhookConfig
from storage.database import TRANSIENT_ERRORS as SQLITE_TRANSIENT
from storage.postgres import TRANSIENT_ERRORS as POSTGRES_TRANSIENT

log = logging.getLogger(__name__)

#: Failures worth Telegram's redelivery: they may be gone when the update comes again.
TRANSIENT: tuple[type[Exception], ...] = (
    *SQLITE_TRANSIENT,
    *POSTGRES_TRANSIENT,
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
    TimeoutError,
)

#: Seconds a stopping server waits for requests in flight before closing their connections.
SHUTDOWN_TIMEOUT = 10.0


class UpdateHandler(SimpleRequestHandler):
    """aiogram's handler, with an answer that tells Telegram whether to deliver again."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # compare_digest raises TypeError on non-ASCII text, which aiohttp answers with 500:
        # such a header is simply not the secret.
        return telegram_secret_token.isascii() and super().verify_secret(telegram_secret_token, bot)

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            body = await request.json(loads=bot.session.json_loads)
            update = Update.model_validate(body, context={"bot": bot})
        except ValueError as error:  # not JSON, or JSON that is not an update
            # Only the kind of error: the body may hold what a person wrote.
            log.error("a webhook request that is not an update was dropped (%s)", type(error))
            return web.Response(status=200)
        try:
            result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        except TRANSIENT:
            # Logged by aiogram with its traceback; the 500 asks Telegram to deliver again.
            return web.Response(status=500)
        except Exception:
            # Logged by aiogram with its traceback; delivered again, it would fail again.
            return web.Response(status=200)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


class WebhookServer:
    """The local HTTP endpoint; the application decides when it starts and stops."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, config: WebhookConfig) -> None:
        self.config = config
        app = web.Application()
        handler = UpdateHandler(
            dispatcher, bot, handle_in_background=False, secret_token=config.secret
        )
        # Not `handler.register(app)`: that would close the bot session when the server
        # stops, before the application has drained the updates still being handled.
        app.router.add_post(config.path, handler.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: with port 0 the system picks one (tests)."""
        if self._address is None:
            raise RuntimeError("the webhook server is not started")
        return self._address

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        bound = self._runner.addresses[0]
        self._address = (str(bound[0]), int(bound[1]))

    async def stop(self) -> None:
        """Stop accepting; requests already in progress are given time to finish."""
        await self._runner.cleanup()
        self._address = None
