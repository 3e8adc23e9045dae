"""The sandbox page and the small JSON API behind it, on 127.0.0.1.

The page acts as the personas' Telegram clients: it reads chats from the stand-in and
acts through the same `FakeUser` calls the tests use, so a click here is exactly the
update a press in Telegram would produce. It runs on its own port; the stand-in's Bot API
routes are untouched.

API (JSON in, JSON out; errors are ``{"error": text}``):

- ``GET  /api/state?chat=ID&since=REV&session=S`` — personas, the chat, the bot's command
  menu. Long-polls while nothing changed after ``REV`` (of the same ``session``).
- ``POST /api/chats/{id}/messages`` ``{"text": ...}`` — the persona writes (``/x`` is a command).
- ``POST /api/chats/{id}/press`` ``{"message_id": ..., "data": ...}`` — presses a button
  still on screen; answers with the bot's callback answer (toast or alert).
- ``GET  /api/chats/{id}/files/{message_id}`` — a document (download) or photo (inline).
- ``POST /api/personas`` ``{"name": ...}`` — adds a citizen.
- ``POST /api/reset`` — empty chats and a new database.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from bot.sandbox.changes import ChangeFeed
from bot.sandbox.chat_view import chat_view, preview
from bot.sandbox.fake_telegram import MAX_TEXT_LENGTH, buttons
from bot.sandbox.personas import Persona
from bot.sandbox.runtime import SandboxRuntime

__all__ = ["STATIC_DIR", "SandboxPage"]

STATIC_DIR: Final = Path(__file__).with_name("static")
_LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "[::1]"})
#: How long a press waits for the bot's callback answer before the page stops spinning.
_ANSWER_WAIT: Final = 10.0

JsonDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SandboxPage:
    """Serves the page for one `SandboxRuntime`; ``start()`` returns the URL to open."""

    def __init__(self, runtime: SandboxRuntime, long_poll_seconds: float = 25.0) -> None:
        self.runtime = runtime
        self.feed = ChangeFeed()
        self.session = secrets.token_hex(4)
        self._long_poll = long_poll_seconds
        self._unwatch: Callable[[], None] | None = None
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    # -- lifecycle --------------------------------------------------------------------

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC_DIR)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/chats/{chat}/messages", self._send)
        app.router.add_post("/api/chats/{chat}/press", self._press)
        app.router.add_get("/api/chats/{chat}/files/{message}", self._file)
        app.router.add_post("/api/personas", self._add_persona)
        app.router.add_post("/api/reset", self._reset)
        app.on_startup.append(self._watch)
        app.on_cleanup.append(self._stop_watching)
        return app

    async def start(self, port: int = 8080, host: str = "127.0.0.1") -> str:
        """Serve on ``host:port`` (0 picks a free port); raises OSError if it is taken."""
        runner = web.AppRunner(self.build(), access_log=None, handler_cancellation=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.url = f"http://{host}:{runner.addresses[0][1]}/"
        return self.url

    async def stop(self) -> None:
        self.feed.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _watch(self, app: web.Application) -> None:
        self._unwatch = self.runtime.telegram.watch(self.feed.notify)

    async def _stop_watching(self, app: web.Application) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    # -- middleware -------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Only this machine's browser may drive the sandbox, and only from its own page.

        A local-only Host header defeats DNS rebinding; requiring a JSON body on POST makes
        a cross-site form unable to act (browsers send JSON cross-site only after a CORS
        preflight, which this server never grants).
        """
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        if host not in _LOCAL_HOSTS:
            return _error(403, "the sandbox answers only on this machine")
        if request.method == "POST" and request.content_type != "application/json":
            return _error(415, "send JSON")
        try:
            return await handler(request)
        except _Refused as refusal:
            return _error(refusal.status, str(refusal))

    # -- page ---------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        chat_id = _optional_int(request.query.get("chat"))
        since = _optional_int(request.query.get("since"))
        if since is not None and request.query.get("session") == self.session:
            await self.feed.wait(since, self._long_poll)
        return web.json_response(self.state(chat_id))

    def state(self, chat_id: int | None) -> JsonDict:
        """Everything the page draws, as of ``self.feed.revision``."""
        telegram = self.runtime.telegram
        persona = self.runtime.personas.get(chat_id) if chat_id is not None else None
        return {
            "session": self.session,
            "revision": self.feed.revision,
            "language": self.runtime.personas.language,
            "bot": {
                "name": self.runtime.bot_name,
                "username": telegram.bot_user.get("username"),
            },
            "personas": [
                {**p.as_json(), **preview(telegram, p.id), "changed": self.feed.changed_at(p.id)}
                for p in self.runtime.personas
            ],
            "chat": (
                chat_view(telegram, persona.id, self.runtime.zone) if persona is not None else None
            ),
            "commands": self._commands(persona),
        }

    def _commands(self, persona: Persona | None) -> list[JsonDict]:
        """The bot's command menu as the persona's Telegram client would show it."""
        if persona is None:
            return []
        commands = self.runtime.telegram.commands
        found = commands.get(("default", persona.language)) or commands.get(("default", ""))
        return list(found or [])

    # -- actions ------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        persona = self._persona(request)
        text = str((await _json(request)).get("text") or "").strip()
        if not 1 <= len(text) <= MAX_TEXT_LENGTH:
            raise _Refused(400, f"a message is 1 to {MAX_TEXT_LENGTH} characters")
        user = self.runtime.telegram.user(persona.id, persona.name, persona.language)
        if text.startswith("/"):
            user.send_command(text)
        else:
            user.send_text(text)
        return web.json_response({"revision": self.feed.revision})

    async def _press(self, request: web.Request) -> web.Response:
        """Press a button that is on screen now; a stale view gets 409 and redraws."""
        persona = self._persona(request)
        body = await _json(request)
        message_id = _optional_int(body.get("message_id"))
        data = body.get("data")
        telegram = self.runtime.telegram
        message = next((m for m in telegram.chat(persona.id) if m.message_id == message_id), None)
        if message is None or not isinstance(data, str):
            raise _Refused(409, "that message is gone")
        if data not in {d for _, d in buttons(message) if d}:
            raise _Refused(409, "that button is no longer there")
        user = telegram.user(persona.id, persona.name, persona.language)
        query = user.press(message.message_id, data)
        try:
            await telegram.wait_for(
                lambda: telegram.callback_answer(query) is not None, _ANSWER_WAIT
            )
        except AssertionError:
            return web.json_response({"answer": None})
        answer = telegram.callback_answer(query) or {}
        return web.json_response(
            {"answer": {"text": answer.get("text"), "show_alert": answer.get("show_alert")}}
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        persona = self._persona(request)
        message_id = _optional_int(request.match_info["message"])
        message = next(
            (
                m
                for m in self.runtime.telegram.chat(persona.id, include_user=True)
                if m.message_id == message_id
            ),
            None,
        )
        upload = None if message is None else (message.document or message.photo)
        if upload is None:
            raise _Refused(404, "no file in that message")
        disposition = "inline" if message is not None and message.photo else "attachment"
        return web.Response(
            body=upload.content,
            content_type=upload.content_type or "application/octet-stream",
            headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(upload.filename)}",
                "X-Content-Type-Options": "nosniff",
                # A downloaded file never runs script in the page's origin.
                "Content-Security-Policy": "sandbox",
            },
        )

    async def _add_persona(self, request: web.Request) -> web.Response:
        name = str((await _json(request)).get("name") or "")
        try:
            persona = self.runtime.add_citizen(name)
        except ValueError as error:
            raise _Refused(400, str(error)) from None
        self.feed.notify(persona.id)
        return web.json_response(persona.as_json())

    async def _reset(self, request: web.Request) -> web.Response:
        # Shielded: a page closed mid-reset must not leave the sandbox without a bot.
        await asyncio.shield(self.runtime.reset())
        return web.json_response({"revision": self.feed.revision})

    def _persona(self, request: web.Request) -> Persona:
        persona = self.runtime.personas.get(_optional_int(request.match_info["chat"]) or 0)
        if persona is None:
            raise _Refused(404, "no such persona")
        return persona


async def _json(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except ValueError:
        raise _Refused(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    return body


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
