"""The fake Bot API server's HTTP side: routes, token check, responses and the record of
every request.

The bot talks to the fake through aiogram's real HTTP session, so everything aiogram
relies on at the wire — ``/bot{token}/{method}`` routing, ``{"ok": false, ...}`` bodies
with Telegram's status codes, file downloads — is served here, apart from what the methods
do.  Recording each request with its decoded parameters and status is what lets tests
assert on send rates, retries and what the bot asked for.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Final

import orjson
from aiohttp import web

from bot.sandbox.api_errors import ApiError
from bot.sandbox.bot_api_methods import MethodTable
from bot.sandbox.file_store import FileStore
from bot.sandbox.request_parsing import read_params

__all__ = ["ApiEndpoint", "RecordedRequest"]

JsonDict = dict[str, Any]

MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024  # Telegram's limit for files uploaded by bots.


@dataclass(slots=True)
class RecordedRequest:
    """One API call as the server saw it.

    ``params`` holds the decoded parameters: JSON-typed fields (``reply_markup``,
    ``entities``, ``commands``...) as Python objects, ids and counters as ``int``, flags
    as ``bool``, uploaded files as :class:`UploadedFile`, anything else as sent (``str``).
    ``at`` is ``time.monotonic()`` when the request arrived, so tests can measure send
    rates; requests are appended when they complete, so the list is ordered by completion.
    """

    method: str
    params: dict[str, Any]
    at: float
    status: int


class ApiEndpoint:
    """Serves ``methods`` and the files in ``files`` on 127.0.0.1 for one bot token."""

    def __init__(self, token: str, methods: MethodTable, files: FileStore) -> None:
        self.token = token
        self.requests: list[RecordedRequest] = []
        self.response_delay: float = 0.0
        """Seconds every request waits before being handled (simulated latency)."""
        self.internal_errors: list[BaseException] = []
        """Unexpected exceptions inside the fake (answered with 500); should stay empty."""
        self.in_flight = 0
        """Requests other than long polls that have arrived and not yet been answered."""
        self.last_answer = time.monotonic()
        """``time.monotonic()`` when the last request other than a long poll was answered
        (or the endpoint was made)."""
        self._methods = methods
        self._files = files
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an OS-chosen port (no clashes between parallel tests)."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        # No access log: per-request logging would dominate broadcast benchmarks.
        # Handler cancellation lets an abandoned long poll end with its client.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    # -- requests ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        name = entry[0] if entry is not None else raw_method
        long_poll = name == "getUpdates"
        params: dict[str, Any] = {}
        status = 200
        if not long_poll:
            self.in_flight += 1
        try:
            if self.response_delay > 0:
                await asyncio.sleep(self.response_delay)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            params = await read_params(request)
            body: JsonDict = {"ok": True, "result": await entry[1](params)}
        except ApiError as error:
            status = error.status
            body = error.body()
        except asyncio.CancelledError:
            status = 499  # the client went away (e.g. polling stopped mid long poll)
            raise
        except Exception as error:
            self.internal_errors.append(error)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {error!r}",
            }
        finally:
            if not long_poll:
                self.in_flight -= 1
                self.last_answer = time.monotonic()
            self.requests.append(RecordedRequest(name, params, at, status))
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _download(self, request: web.Request) -> web.Response:
        """``/file/bot{token}/{file_path}``: what ``bot.download_file`` fetches."""
        stored = self._files.at_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return await self._not_found(request)
        return web.Response(body=stored.upload.content, content_type=stored.upload.content_type)
