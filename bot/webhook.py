"""Receiving updates over an HTTPS webhook instead of long polling.

Telegram POSTs each update to the URL given to `setWebhook`, with the secret chosen there
in the `X-Telegram-Bot-Api-Secret-Token` header; aiogram's `SimpleRequestHandler` answers
401 to any request without the right secret, before the body is even read, so a forged
update changes nothing. The bot listens on plain HTTP on a local address; TLS is the
reverse proxy's job (README.md, "Webhook mode behind a reverse proxy", has an
nginx example).

Updates are handled *before* the HTTP answer (`handle_in_background=False`). With
aiogram's default (in the background) Telegram gets 200 at once, so an update whose
handler fails is lost, exactly as in polling. Handled in the foreground, a failure becomes
a 500 and Telegram delivers the update again — safe because every handler is idempotent
(an answer is an upsert, the next screen is derived from stored answers), and cheap
because handlers take milliseconds. Telegram keeps up to `max_connections` requests open
in parallel, so one slow update does not hold up the others.

The secret comes from `WEBHOOK_SECRET`, or is generated at each start: `setWebhook` is
called on every start anyway, so a fresh secret costs nothing and never sits in a file.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.webhook_config import WebhookConfig

#: Seconds a stopping server waits for requests in flight before closing their connections.
SHUTDOWN_TIMEOUT = 10.0


class WebhookServer:
    """The local HTTP endpoint; the application decides when it starts and stops."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, config: WebhookConfig) -> None:
        self.config = config
        app = web.Application()
        handler = SimpleRequestHandler(
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
