"""A fake Telegram Bot API server that the real aiogram client talks to over HTTP.

Why a server and not a mocked session: the bot's correctness depends on details that only
show up on the wire — how aiogram encodes parameters (form fields, JSON-encoded
``reply_markup``, multipart uploads), how it parses ``{"ok": false, ...}`` bodies into
``TelegramRetryAfter`` / ``TelegramForbiddenError`` / ``TelegramBadRequest``, and how
``Dispatcher.start_polling`` confirms updates through ``getUpdates(offset=...)``.  Serving
the real HTTP API on ``127.0.0.1`` exercises all of that with no network access.

The server models what a test (or a sandbox user) needs to observe:

* every request, with decoded parameters and the HTTP status it got (:attr:`requests`);
* each chat as its user sees it — messages in order, edits, deletions, keyboards,
  uploaded files (:meth:`FakeTelegram.chat`);
* users who write, press inline buttons, send stickers or photos, block and unblock the
  bot (:class:`FakeUser`), delivered through ``getUpdates`` with long polling;
* Telegram's error behaviour for the cases the bot must survive: flood control (429),
  blocked users (403), malformed requests and "message is not modified" (400), unknown
  methods (404), plus injected faults (:meth:`FakeTelegram.fail_sends`).

Only formatting with ``parse_mode="HTML"`` is interpreted (validated and stripped, as
Telegram does); other parse modes are stored verbatim.  Updates are served through
``getUpdates`` only: a webhook can be registered but the server does not push to it.

Handlers are O(1) apart from the payload itself and nothing is logged per request, so the
server keeps up with broadcast benchmarks of tens of thousands of messages.

This module assembles the server and is the one place callers import from.  The parts:
``http_endpoint`` (routes, responses, the request record) with ``request_parsing``;
``bot_api_methods`` (what each method does) with ``message_content`` (text, HTML and
keyboard rules) and ``api_errors`` (Telegram's errors and injected faults);
``telegram_state`` (what both sides share) over ``chat_record``, ``update_queue`` and
``file_store``; ``fake_users`` (the people in the chats).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Self

from bot.sandbox.api_errors import Fault, FaultPolicy, FaultResult
from bot.sandbox.bot_api_methods import BotApiMethods
from bot.sandbox.chat_record import ChatMessage, buttons
from bot.sandbox.fake_users import FakeUser
from bot.sandbox.file_store import UploadedFile
from bot.sandbox.http_endpoint import ApiEndpoint, RecordedRequest
from bot.sandbox.message_content import MAX_TEXT_LENGTH
from bot.sandbox.telegram_state import TelegramState

__all__ = [
    "MAX_TEXT_LENGTH",
    "ChatMessage",
    "FakeTelegram",
    "FakeUser",
    "Fault",
    "FaultPolicy",
    "FaultResult",
    "RecordedRequest",
    "UploadedFile",
    "buttons",
]

JsonDict = dict[str, Any]


class FakeTelegram:
    """The fake Bot API server.  See the module docstring for what it models.

    Use ``async with FakeTelegram() as server`` (or ``start()`` / ``stop()``) and point
    aiogram at it with ``TelegramAPIServer.from_base(server.base_url)``.
    """

    def __init__(self, token: str = "123456:TEST", bot_user: JsonDict | None = None) -> None:
        bot_id = token.split(":", 1)[0]
        self._state = TelegramState(
            dict(bot_user)
            if bot_user
            else {
                "id": int(bot_id) if bot_id.isdigit() else 1,
                "is_bot": True,
                "first_name": "Test Bot",
                "username": "test_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )
        self._api = BotApiMethods(self._state)
        self._endpoint = ApiEndpoint(token, self._api.table, self._state.files)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an OS-chosen port (no clashes between parallel tests)."""
        self._state.updates.reopen()
        await self._endpoint.start()

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once so shutdown is quick."""
        self._state.updates.close()
        await self._endpoint.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        return self._endpoint.base_url

    @property
    def token(self) -> str:
        return self._endpoint.token

    @property
    def bot_user(self) -> JsonDict:
        """The ``User`` object ``getMe`` returns."""
        return self._state.bot_user

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # -- what the bot registered ------------------------------------------------------

    @property
    def commands(self) -> dict[tuple[str, str], list[JsonDict]]:
        """``setMyCommands`` results by (scope type, language code; "" for default)."""
        return self._api.commands

    @property
    def default_menu_button(self) -> JsonDict | None:
        """``setChatMenuButton`` without a chat; None until the bot sets one."""
        return self._api.default_menu_button

    @property
    def webhook(self) -> JsonDict | None:
        """``{"url", "secret_token"}`` from ``setWebhook``; None without a webhook."""
        return self._api.webhook

    @webhook.setter
    def webhook(self, value: JsonDict | None) -> None:
        self._api.webhook = value

    # -- inspection -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in order of completion."""
        return self._endpoint.requests

    @property
    def response_delay(self) -> float:
        """Seconds every request waits before being handled (simulated latency)."""
        return self._endpoint.response_delay

    @response_delay.setter
    def response_delay(self, seconds: float) -> None:
        self._endpoint.response_delay = seconds

    @property
    def internal_errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the fake (answered with 500); should stay empty."""
        return self._endpoint.internal_errors

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests to ``method`` (any case: "sendmessage" == "sendMessage")."""
        target = method.lower()
        return [r for r in self.requests if r.method.lower() == target]

    def chat(
        self, chat_id: int, *, include_deleted: bool = False, include_user: bool = False
    ) -> list[ChatMessage]:
        """The chat's messages in order: by default the bot's messages still visible."""
        return self._state.chats.messages(
            chat_id, include_deleted=include_deleted, include_user=include_user
        )

    def last_message(self, chat_id: int) -> ChatMessage | None:
        """The bot's latest visible message in the chat."""
        return self._state.chats.last_message(chat_id)

    def chat_version(self, chat_id: int) -> int:
        """Counter of bot-side changes (send, edit, delete) in the chat; see wait_for_message."""
        return self._state.chats.version(chat_id)

    def callback_answer(self, callback_query_id: str) -> JsonDict | None:
        """How the bot answered a callback query (text, show_alert...), None if it did not."""
        return self._state.callbacks.get(callback_query_id)

    def unanswered_callbacks(self) -> list[str]:
        """Callback query ids the bot never answered; users would see a spinner."""
        return [qid for qid, answer in self._state.callbacks.items() if answer is None]

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests currently long-polling (the bot is listening)."""
        return self._state.updates.waiting_polls

    @property
    def requests_in_flight(self) -> int:
        """Requests other than long polls that have arrived and not yet been answered."""
        return self._endpoint.in_flight

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a ``getUpdates`` with a higher offset."""
        return len(self._state.updates)

    # -- simulation -------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> FakeUser:
        """A user handle; the chat's state lives on the server, so handles are cheap."""
        # Users push through push_update, looked up at each action, so a test that wraps
        # it (to record or deliver updates again) sees what users do as well.
        user = FakeUser(
            self._state,
            lambda update: self.push_update(update),
            user_id,
            first_name,
            language_code,
            username,
        )
        self._state.users[user_id] = user
        self._state.chats.state(user_id)
        return user

    def push_update(self, update: JsonDict) -> int:
        """Queue a raw update (anything: group messages, channel posts, inline queries...).

        The server assigns ``update_id``; passing one is an error so ids stay increasing.
        """
        return self._state.updates.push(update)

    def fail_sends(self, policy: FaultPolicy | None) -> None:
        """Inject faults into sendMessage / sendDocument / sendPhoto (None clears).

        ``policy(method, chat_id, attempt)`` is asked before each valid send to a chat that
        has not blocked the bot; ``attempt`` counts earlier sends to that chat (including
        faulted ones), so "fail the first try" is ``attempt == 0``.  A faulted request is
        recorded with its status but creates no message.
        """
        self._api.fault_policy = policy

    def fail_edits(self, policy: FaultPolicy | None) -> None:
        """Inject faults into editMessageText, as `fail_sends` does into sends; ``attempt``
        counts earlier edits in that chat."""
        self._api.edit_fault_policy = policy

    def watch(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(chat_id)`` after every change a chat's user could see.

        A message sent by either side, an edit, a deletion or :meth:`clear`: what a live
        view of the chats (the sandbox page) must redraw.  Callbacks run inside request
        handling, so they must be quick and must not raise.  Returns the function that
        stops the notifications.
        """
        return self._state.chats.watch(callback)

    def clear(self) -> None:
        """Forget every chat, pending update, callback query, file and recorded request.

        For starting over without restarting the server (the sandbox's reset).  User
        handles stay valid and update ids keep increasing, so a bot that confirmed updates
        before the reset still receives every update pushed after it.
        """
        self._state.updates.drop_pending()
        self._state.callbacks.clear()
        self._state.files.clear()
        self.requests.clear()
        # Last, because it tells the watchers, who should find everything else gone too.
        self._state.chats.clear()

    # -- waiting ----------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, message: str = ""
    ) -> None:
        """Poll ``predicate`` every 10 ms; AssertionError(message) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(message or f"condition not met within {timeout} s")
            await asyncio.sleep(0.01)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> ChatMessage:
        """Wait until the chat's latest bot message is new and satisfies ``predicate``.

        "New" means the chat changed (message sent, edited or deleted) after ``since``, a
        :meth:`chat_version` value.  By default ``since`` is the version at the user's
        last action in that chat, so ``user.send_text(...)`` followed by this call waits
        for the reply even if it arrived before the call, and never returns the message
        the user was answering.  Edits of the latest message count as changes.
        """
        state = self._state.chats.state(chat_id)
        baseline = state.action_version if since is None else since

        def ready() -> bool:
            if state.version <= baseline:
                return False
            latest = self.last_message(chat_id)
            return latest is not None and (predicate is None or predicate(latest))

        try:
            await self.wait_for(ready, timeout)
        except AssertionError:
            latest = self.last_message(chat_id)
            shown = None if latest is None else (latest.text or latest.caption, buttons(latest))
            raise AssertionError(
                f"no matching message in chat {chat_id} within {timeout} s; latest: {shown}"
            ) from None
        latest = self.last_message(chat_id)
        assert latest is not None
        return latest

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> None:
        """Wait until every update is confirmed, no request (other than a long poll) is in
        flight and nothing happened for ``quiet`` seconds.  For asserting that something
        did *not* happen, e.g. that the bot ignored a sticker."""

        def idle() -> bool:
            last_activity = max(self._state.updates.last_push, self._endpoint.last_answer)
            return (
                not self.pending_updates
                and self.requests_in_flight == 0
                and time.monotonic() - last_activity >= quiet
            )

        await self.wait_for(idle, timeout, f"server not idle within {timeout} s")
