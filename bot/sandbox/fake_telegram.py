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
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Self

import orjson
from aiohttp import web

__all__ = [
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

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024  # Telegram's limit for files uploaded by bots.

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"
STALE_QUERY: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BAD_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_BUTTON: Final = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)

# Parameters that Telegram expects as JSON-serialized objects (aiogram sends them as JSON
# strings inside the form); they are decoded before handlers and recording see them.
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
_INT_FIELDS: Final = frozenset(
    {
        "message_id",
        "from_chat_id",
        "user_id",
        "offset",
        "limit",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
    }
)
_BOOL_FIELDS: Final = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
    }
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_HTML_TAGS: Final = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
_BUTTON_ACTIONS: Final = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_TAG_RE: Final = re.compile(r"<(/?)([^\s<>/]*)[^<>]*>|<")
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
_IMAGE_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_PNG_1X1: Final = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


# ---------------------------------------------------------------------------------------
# Public value types
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the bot uploaded (or a user sent), kept whole so tests can read it back."""

    filename: str
    content: bytes
    content_type: str

    def text(self, encoding: str = "utf-8-sig") -> str:
        """Decode the content; the default strips a BOM, which CSV exports often carry."""
        return self.content.decode(encoding)


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


@dataclass(slots=True)
class ChatMessage:
    """A message as the chat's user sees it.

    ``text`` and ``caption`` are what is displayed (HTML markup removed); ``raw_text`` is
    the text exactly as the bot sent it.  ``edited`` counts successful edits.
    """

    chat_id: int
    message_id: int
    date: int
    from_bot: bool = True
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    reply_markup: JsonDict | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    file_id: str | None = None
    edited: int = 0
    edit_date: int | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class FaultResult:
    """An error response injected in place of a send (see :meth:`FakeTelegram.fail_sends`)."""

    status: int
    description: str
    retry_after: int | None = None


class Fault:
    """Constructors for the faults Telegram really produces during broadcasts."""

    @staticmethod
    def retry_after(seconds: int) -> FaultResult:
        """Flood control: 429 with ``parameters.retry_after`` (aiogram: TelegramRetryAfter)."""
        return FaultResult(429, f"Too Many Requests: retry after {seconds}", int(seconds))

    @staticmethod
    def forbidden(description: str = BLOCKED) -> FaultResult:
        """403, as for a user who blocked the bot (aiogram: TelegramForbiddenError)."""
        return FaultResult(403, description)

    @staticmethod
    def bad_request(description: str = "Bad Request: chat not found") -> FaultResult:
        """400 with the given description (aiogram: TelegramBadRequest)."""
        if not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return FaultResult(400, description)

    @staticmethod
    def server_error(description: str = "Internal Server Error") -> FaultResult:
        """500, a transient Telegram failure (aiogram: TelegramServerError)."""
        return FaultResult(500, description)


FaultPolicy = Callable[[str, int, int], FaultResult | None]
"""``(method, chat_id, attempt) -> FaultResult | None``; ``attempt`` counts earlier sends."""


def buttons(message: ChatMessage | None) -> list[tuple[str, str]]:
    """(text, callback_data) of the message's inline buttons, row by row.

    Buttons without callback data (URL, web app...) are listed with an empty string, so the
    list always mirrors what the user sees.
    """
    if message is None or not message.reply_markup:
        return []
    rows = message.reply_markup.get("inline_keyboard") or []
    return [
        (str(button.get("text", "")), str(button.get("callback_data") or ""))
        for row in rows
        for button in row
    ]


# ---------------------------------------------------------------------------------------
# Simulated users
# ---------------------------------------------------------------------------------------


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id).

    Every action pushes an update at once and returns its id; the bot sees it on its next
    ``getUpdates``.  Actions are synchronous on purpose: a test then awaits the visible
    outcome (``server.wait_for_message``) instead of sleeping.
    """

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str = "User",
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> JsonDict:
        """The ``User`` object Telegram puts in ``from`` fields."""
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def blocked(self) -> bool:
        return self.server._chat_state(self.id).blocked

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's visible messages in this user's chat."""
        return self.server.chat(self.id)

    @property
    def last_message(self) -> ChatMessage | None:
        return self.server.last_message(self.id)

    def send_text(self, text: str) -> int:
        """The user writes ``text``; returns the update id."""
        return self.server._user_message(self, {"text": text})

    def send_command(self, command: str) -> int:
        """The user sends ``/command [args]`` with the ``bot_command`` entity clients add."""
        text = command if command.startswith("/") else f"/{command}"
        length = len(text.split(maxsplit=1)[0])
        entity = {"type": "bot_command", "offset": 0, "length": length}
        return self.server._user_message(self, {"text": text, "entities": [entity]})

    def send_sticker(self, emoji: str = "👍") -> int:
        """The user sends a sticker, i.e. something that is neither text nor a command."""
        n = next(self.server._file_counter)
        sticker = {
            "file_id": f"sticker-{n}",
            "file_unique_id": f"us{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.server._user_message(self, {"sticker": sticker})

    def send_photo(self, content: bytes = _PNG_1X1, caption: str | None = None) -> int:
        """The user sends a photo; the bot can fetch it back through ``getFile``."""
        upload = UploadedFile("photo.png", content, "image/png")
        file_id = self.server._store_file(upload, "photos")
        payload: JsonDict = {"photo": [self.server._photo_size(file_id)]}
        if caption is not None:
            payload["caption"] = caption
        return self.server._user_message(self, payload, photo=upload, file_id=file_id)

    def press(self, message_id: int, data: str) -> str:
        """Press an inline button carrying ``data`` under the bot's message ``message_id``.

        ``data`` is not checked against the keyboard, so tests can also send stale or
        forged callback data.  Returns the callback query id.
        """
        return self.server._press(self, message_id, data)

    def press_button(self, text_substring: str) -> str:
        """Press the button whose text contains ``text_substring``.

        Looks through the bot's messages newest first and uses the latest one that has a
        matching callback button; an exact text match wins over substring matches.  Raises
        AssertionError (listing the buttons on offer) if there is no unique match.
        """
        messages = self.server.chat(self.id)
        for message in reversed(messages):
            options = [b for b in buttons(message) if text_substring in b[0]]
            if not options:
                continue
            exact = [b for b in options if b[0] == text_substring]
            if len(exact) == 1:
                options = exact
            if len(options) > 1:
                raise AssertionError(
                    f"{len(options)} buttons match {text_substring!r} in message "
                    f"{message.message_id} of chat {self.id}: {[b[0] for b in options]}"
                )
            text, data = options[0]
            if not data:
                raise AssertionError(f"button {text!r} has no callback_data (URL/web app?)")
            return self.press(message.message_id, data)
        with_keyboard = [m for m in messages if buttons(m)]
        if with_keyboard:
            latest = with_keyboard[-1]
            offer = f"message {latest.message_id} offers {[b[0] for b in buttons(latest)]}"
        else:
            offer = "no message in the chat has inline buttons"
        raise AssertionError(f"no button containing {text_substring!r} in chat {self.id}; {offer}")

    def block(self) -> int | None:
        """The user blocks the bot: later sends get 403 and a ``my_chat_member`` update is
        pushed (kicked).  Returns its update id, or None if the bot was already blocked."""
        return self.server._set_blocked(self, blocked=True)

    def unblock(self) -> int | None:
        """The user unblocks the bot (``my_chat_member``: member again)."""
        return self.server._set_blocked(self, blocked=False)

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"


# ---------------------------------------------------------------------------------------
# Server internals
# ---------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A Telegram error response; raised anywhere in a handler, rendered by the router."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _ChatState:
    """Everything the server knows about one chat; message ids are shared by both sides."""

    messages: list[ChatMessage] = field(default_factory=list)
    by_id: dict[int, ChatMessage] = field(default_factory=dict)
    last_message_id: int = 0
    version: int = 0  # bumped on every new/edited/deleted bot message
    action_version: int = 0  # ``version`` when the user last acted
    send_attempts: int = 0
    blocked: bool = False
    menu_button: JsonDict | None = None


@dataclass(frozen=True, slots=True)
class _StoredFile:
    upload: UploadedFile
    file_unique_id: str
    file_path: str
    width: int
    height: int


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class FakeTelegram:
    """The fake Bot API server.  See the module docstring for what it models.

    Use ``async with FakeTelegram() as server`` (or ``start()`` / ``stop()``) and point
    aiogram at it with ``TelegramAPIServer.from_base(server.base_url)``.
    """

    def __init__(self, token: str = "123456:TEST", bot_user: JsonDict | None = None) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: JsonDict = (
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
        self.requests: list[RecordedRequest] = []
        self.response_delay: float = 0.0
        """Seconds every request waits before being handled (simulated latency)."""
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        """``setMyCommands`` results by (scope type, language code; "" for default)."""
        self.default_menu_button: JsonDict | None = None
        self.webhook: JsonDict | None = None
        self.internal_errors: list[BaseException] = []
        """Unexpected exceptions inside the fake (answered with 500); should stay empty."""

        self._chats: dict[int, _ChatState] = {}
        self._users: dict[int, FakeUser] = {}
        self._updates: deque[JsonDict] = deque()
        self._next_update_id = 1
        self._update_event = asyncio.Event()
        self._poll_generation = 0
        self._waiting_polls = 0
        self._callbacks: dict[str, JsonDict | None] = {}
        self._callback_counter = itertools.count(1)
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._fault_policy: FaultPolicy | None = None
        self._watchers: list[Callable[[int], None]] = []
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
                "getFile": self._get_file,
            }.items()
        }

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 with an OS-chosen port (no clashes between parallel tests)."""
        if self._runner is not None:
            return
        self._closing = False
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
        """Stop serving; pending long polls return at once so shutdown is quick."""
        if self._runner is None:
            return
        self._closing = True
        self._wake_pollers()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # -- inspection -------------------------------------------------------------------

    def calls(self, method: str) -> list[RecordedRequest]:
        """Recorded requests to ``method`` (any case: "sendmessage" == "sendMessage")."""
        target = method.lower()
        return [r for r in self.requests if r.method.lower() == target]

    def chat(
        self, chat_id: int, *, include_deleted: bool = False, include_user: bool = False
    ) -> list[ChatMessage]:
        """The chat's messages in order: by default the bot's messages still visible."""
        state = self._chats.get(chat_id)
        if state is None:
            return []
        return [
            m
            for m in state.messages
            if (include_user or m.from_bot) and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> ChatMessage | None:
        """The bot's latest visible message in the chat."""
        state = self._chats.get(chat_id)
        if state is not None:
            for message in reversed(state.messages):
                if message.from_bot and not message.deleted:
                    return message
        return None

    def chat_version(self, chat_id: int) -> int:
        """Counter of bot-side changes (send, edit, delete) in the chat; see wait_for_message."""
        state = self._chats.get(chat_id)
        return state.version if state is not None else 0

    def callback_answer(self, callback_query_id: str) -> JsonDict | None:
        """How the bot answered a callback query (text, show_alert...), None if it did not."""
        return self._callbacks.get(callback_query_id)

    def unanswered_callbacks(self) -> list[str]:
        """Callback query ids the bot never answered; users would see a spinner."""
        return [qid for qid, answer in self._callbacks.items() if answer is None]

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests currently long-polling (the bot is listening)."""
        return self._waiting_polls

    @property
    def requests_in_flight(self) -> int:
        """Requests other than long polls that have arrived and not yet been answered."""
        return self._inflight

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a ``getUpdates`` with a higher offset."""
        return len(self._updates)

    # -- simulation -------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> FakeUser:
        """A user handle; the chat's state lives on the server, so handles are cheap."""
        user = FakeUser(self, user_id, first_name, language_code, username)
        self._users[user_id] = user
        self._chat_state(user_id)
        return user

    def push_update(self, update: JsonDict) -> int:
        """Queue a raw update (anything: group messages, channel posts, inline queries...).

        The server assigns ``update_id``; passing one is an error so ids stay increasing.
        """
        if "update_id" in update:
            raise ValueError("push_update assigns update_id itself")
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **update})
        self._last_activity = time.monotonic()
        self._wake_pollers()
        return update_id

    def fail_sends(self, policy: FaultPolicy | None) -> None:
        """Inject faults into sendMessage / sendDocument / sendPhoto (None clears).

        ``policy(method, chat_id, attempt)`` is asked before each valid send to a chat that
        has not blocked the bot; ``attempt`` counts earlier sends to that chat (including
        faulted ones), so "fail the first try" is ``attempt == 0``.  A faulted request is
        recorded with its status but creates no message.
        """
        self._fault_policy = policy

    def watch(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(chat_id)`` after every change a chat's user could see.

        A message sent by either side, an edit, a deletion or :meth:`clear`: what a live
        view of the chats (the sandbox page) must redraw.  Callbacks run inside request
        handling, so they must be quick and must not raise.  Returns the function that
        stops the notifications.
        """
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    def clear(self) -> None:
        """Forget every chat, pending update, callback query, file and recorded request.

        For starting over without restarting the server (the sandbox's reset).  User
        handles stay valid and update ids keep increasing, so a bot that confirmed updates
        before the reset still receives every update pushed after it.
        """
        chats = list(self._chats)
        self._chats.clear()
        self._updates.clear()
        self._callbacks.clear()
        self._files.clear()
        self._file_paths.clear()
        self.requests.clear()
        for chat_id in chats:
            self._changed(chat_id)

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
        state = self._chat_state(chat_id)
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
            return (
                not self._updates
                and self._inflight == 0
                and time.monotonic() - self._last_activity >= quiet
            )

        await self.wait_for(idle, timeout, f"server not idle within {timeout} s")

    # -- HTTP layer -------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        name = entry[0] if entry is not None else raw_method
        long_poll = name == "getUpdates"
        params: dict[str, Any] = {}
        status = 200
        if not long_poll:
            self._inflight += 1
        try:
            if self.response_delay > 0:
                await asyncio.sleep(self.response_delay)
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            if entry is None:
                raise _ApiError(404, "Not Found: method not found")
            params = await self._read_params(request)
            body: JsonDict = {"ok": True, "result": await entry[1](params)}
        except _ApiError as error:
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
                self._inflight -= 1
                self._last_activity = time.monotonic()
            self.requests.append(RecordedRequest(name, params, at, status))
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _download(self, request: web.Request) -> web.Response:
        """``/file/bot{token}/{file_path}``: what ``bot.download_file`` fetches."""
        path = request.match_info["path"]
        stored = self._file_paths.get(path)
        if request.match_info["token"] != self.token or stored is None:
            return await self._not_found(request)
        return web.Response(body=stored.upload.content, content_type=stored.upload.content_type)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Merge query string and body (form, multipart or JSON) and decode the values."""
        raw: dict[str, Any] = dict(request.query)
        if request.body_exists:
            ctype = request.content_type
            try:
                if ctype == "application/json":
                    data = await request.json(loads=orjson.loads)
                    if not isinstance(data, dict):
                        raise _bad("JSON body must be an object")
                    raw.update(data)
                elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                    form = await request.post()
                    for key, value in form.items():
                        if isinstance(value, web.FileField):
                            raw[key] = UploadedFile(
                                value.filename, value.file.read(), value.content_type
                            )
                        else:
                            raw[key] = value
            except _ApiError:
                raise
            except web.HTTPRequestEntityTooLarge:
                raise _ApiError(413, "Request Entity Too Large") from None
            except Exception as error:  # malformed JSON, form or multipart: a client error
                raise _bad(f"can't parse request body: {error}") from None
        params = {key: _decode_param(key, value) for key, value in raw.items()}
        # aiogram uploads a file as a separate part and refers to it as "attach://<name>";
        # resolve it so handlers and recordings see params["document"] as the file itself.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = params.get(value.removeprefix("attach://"))
                if isinstance(attached, UploadedFile):
                    params[key] = attached
                    del params[value.removeprefix("attach://")]
        return params

    # -- state helpers ----------------------------------------------------------------

    def _chat_state(self, chat_id: int) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState()
        return state

    def _chat_json(self, chat_id: int) -> JsonDict:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        user = self._users.get(chat_id)
        chat: JsonDict = {
            "id": chat_id,
            "type": "private",
            "first_name": user.first_name if user else "User",
        }
        if user is not None and user.username:
            chat["username"] = user.username
        return chat

    def _wake_pollers(self) -> None:
        event, self._update_event = self._update_event, asyncio.Event()
        event.set()

    def _add_message(self, chat_id: int, message: ChatMessage) -> ChatMessage:
        state = self._chat_state(chat_id)
        state.messages.append(message)
        state.by_id[message.message_id] = message
        if message.from_bot:
            state.version += 1
        self._changed(chat_id)
        return message

    def _changed(self, chat_id: int) -> None:
        for watcher in list(self._watchers):
            watcher(chat_id)

    def _next_message_id(self, chat_id: int) -> int:
        state = self._chat_state(chat_id)
        state.last_message_id += 1
        return state.last_message_id

    def _store_file(self, upload: UploadedFile, folder: str) -> str:
        n = next(self._file_counter)
        file_id = f"file-{n}"
        suffix = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        width, height = _image_size(upload.content)
        stored = _StoredFile(upload, f"u{n}", f"{folder}/file_{n}.{suffix}", width, height)
        self._files[file_id] = self._file_paths[stored.file_path] = stored
        return file_id

    def _photo_size(self, file_id: str) -> JsonDict:
        stored = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": len(stored.upload.content),
        }

    def _message_json(self, message: ChatMessage) -> JsonDict:
        """Render a bot message the way Telegram returns it (valid for aiogram's Message)."""
        data: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_json(message.chat_id),
            "from": self.bot_user,
        }
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        # Telegram echoes only inline keyboards; reply keyboards live on the client.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.file_id is not None:
            stored = self._files[message.file_id]
            if message.photo is not None:
                data["photo"] = [self._photo_size(message.file_id)]
            else:
                data["document"] = {
                    "file_id": message.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": stored.upload.filename,
                    "mime_type": stored.upload.content_type,
                    "file_size": len(stored.upload.content),
                }
        return data

    def _user_message(
        self,
        user: FakeUser,
        payload: JsonDict,
        *,
        photo: UploadedFile | None = None,
        file_id: str | None = None,
    ) -> int:
        state = self._chat_state(user.id)
        if state.blocked:
            raise AssertionError(f"user {user.id} blocked the bot; call unblock() first")
        message = ChatMessage(
            chat_id=user.id,
            message_id=self._next_message_id(user.id),
            date=int(time.time()),
            from_bot=False,
            text=payload.get("text"),
            raw_text=payload.get("text"),
            caption=payload.get("caption"),
            photo=photo,
            file_id=file_id,
        )
        self._add_message(user.id, message)
        state.action_version = state.version
        return self.push_update(
            {
                "message": {
                    "message_id": message.message_id,
                    "date": message.date,
                    "chat": self._chat_json(user.id),
                    "from": user.as_dict(),
                    **payload,
                }
            }
        )

    def _press(self, user: FakeUser, message_id: int, data: str) -> str:
        state = self._chat_state(user.id)
        message = state.by_id.get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise AssertionError(f"chat {user.id} has no bot message {message_id} to press on")
        if state.blocked:
            raise AssertionError(f"user {user.id} blocked the bot; call unblock() first")
        query_id = f"cbq-{next(self._callback_counter)}"
        self._callbacks[query_id] = None
        state.action_version = state.version
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": self._message_json(message),
                    "chat_instance": str(user.id),
                    "data": data,
                }
            }
        )
        return query_id

    def _set_blocked(self, user: FakeUser, *, blocked: bool) -> int | None:
        state = self._chat_state(user.id)
        if state.blocked == blocked:
            return None
        state.blocked = blocked
        member = {"user": self.bot_user, "status": "member"}
        kicked = {"user": self.bot_user, "status": "kicked", "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chat_json(user.id),
                    "from": user.as_dict(),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def _bot_message(self, params: dict[str, Any], action: str) -> tuple[_ChatState, ChatMessage]:
        """The bot message an edit/delete targets, with Telegram's errors for bad targets."""
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by the fake server")
        chat_id = _require_chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        state = self._chats.get(chat_id)
        message = state.by_id.get(message_id) if state is not None else None
        if state is None or message is None or message.deleted:
            raise _bad(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise _bad("message can't be edited")
        return state, message

    def _check_send(self, method: str, chat_id: int) -> None:
        """Blocked chats and injected faults, in the order Telegram would apply them."""
        state = self._chat_state(chat_id)
        attempt = state.send_attempts
        state.send_attempts += 1
        if state.blocked:
            raise _ApiError(403, BLOCKED)
        if self._fault_policy is not None:
            fault = self._fault_policy(method, chat_id, attempt)
            if fault is not None:
                raise _ApiError(fault.status, fault.description, fault.retry_after)

    # -- API methods ------------------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> JsonDict:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> list[JsonDict]:
        """Long polling with Telegram's offset confirmation and one-poller rule."""
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = _number(params.get("timeout", 0), "timeout")
        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older poll still waiting is now terminated (409)
        deadline = time.monotonic() + max(timeout, 0.0)
        self._waiting_polls += 1
        try:
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._update_event.wait(), remaining)
                except TimeoutError:
                    break
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
        finally:
            self._waiting_polls -= 1
        return list(itertools.islice(self._updates, limit))

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> JsonDict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {}
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return str(scope_type), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[JsonDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if "chat_id" in params:
            self._chat_state(_require_chat_id(params)).menu_button = button
        else:
            self.default_menu_button = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any]) -> JsonDict:
        if "chat_id" in params:
            button = self._chat_state(_require_chat_id(params)).menu_button
            if button is not None:
                return button
        return self.default_menu_button or {"type": "commands"}

    async def _send_message(self, params: dict[str, Any]) -> JsonDict:
        chat_id = _require_chat_id(params)
        raw_text, parse_mode, text = _message_text(params)
        markup = _validate_markup(params.get("reply_markup"))
        self._check_send("sendMessage", chat_id)
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return self._message_json(self._add_message(chat_id, message))

    async def _send_file(self, params: dict[str, Any], kind: str) -> JsonDict:
        """sendDocument / sendPhoto: the file arrives as an upload or a known file_id."""
        chat_id = _require_chat_id(params)
        file = params.get(kind)
        if file is None or file == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(file, str):  # resend by file_id
            stored = self._files.get(file)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            file = stored.upload
        if not isinstance(file, UploadedFile):
            raise _bad(f"there is no {kind} in the request")
        if not file.content:
            raise _bad("file must be non-empty")
        if kind == "photo" and not _is_image(file.content):
            raise _bad("IMAGE_PROCESS_FAILED")
        parse_mode = params.get("parse_mode")
        caption = params.get("caption")
        if caption is not None:
            caption = _render(str(caption), parse_mode)
            if len(caption) > MAX_CAPTION_LENGTH:
                raise _bad("message caption is too long")
        markup = _validate_markup(params.get("reply_markup"))
        self._check_send("sendPhoto" if kind == "photo" else "sendDocument", chat_id)
        file_id = self._store_file(file, "photos" if kind == "photo" else "documents")
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            caption=caption or None,
            parse_mode=parse_mode,
            reply_markup=markup,
            document=file if kind == "document" else None,
            photo=file if kind == "photo" else None,
            file_id=file_id,
        )
        return self._message_json(self._add_message(chat_id, message))

    async def _send_document(self, params: dict[str, Any]) -> JsonDict:
        return await self._send_file(params, "document")

    async def _send_photo(self, params: dict[str, Any]) -> JsonDict:
        return await self._send_file(params, "photo")

    async def _edit_message_text(self, params: dict[str, Any]) -> JsonDict:
        raw_text, parse_mode, text = _message_text(params)
        markup = _validate_markup(params.get("reply_markup"), inline_only=True)
        state, message = self._bot_message(params, "edit")
        if state.blocked:
            raise _ApiError(403, BLOCKED)
        if message.text is None:
            raise _bad("there is no text in the message to edit")
        # Same visible text, same formatting source and same keyboard: Telegram refuses.
        # (An edit that omits reply_markup removes the keyboard, so None is compared too.)
        if (text, raw_text, markup) == (message.text, message.raw_text, message.reply_markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text, message.parse_mode = text, raw_text, parse_mode
        message.reply_markup = markup
        return self._mark_edited(state, message)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> JsonDict:
        markup = _validate_markup(params.get("reply_markup"), inline_only=True)
        state, message = self._bot_message(params, "edit")
        if state.blocked:
            raise _ApiError(403, BLOCKED)
        if markup == message.reply_markup:
            raise _ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        return self._mark_edited(state, message)

    def _mark_edited(self, state: _ChatState, message: ChatMessage) -> JsonDict:
        message.edited += 1
        message.edit_date = int(time.time())
        state.version += 1
        self._changed(message.chat_id)
        return self._message_json(message)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        state, message = self._bot_message(params, "delete")
        message.deleted = True
        state.version += 1
        self._changed(message.chat_id)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise _bad("query_id is empty")
        query_id = str(query_id)
        if query_id not in self._callbacks or self._callbacks[query_id] is not None:
            # Unknown, or answered already: Telegram accepts one answer per query.
            raise _ApiError(400, STALE_QUERY)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        self._callbacks[query_id] = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat_id = _require_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        if self._chat_state(chat_id).blocked:
            raise _ApiError(403, BLOCKED)
        return True

    async def _get_chat(self, params: dict[str, Any]) -> JsonDict:
        chat_id = _require_chat_id(params)
        if chat_id not in self._users and not self._chats.get(chat_id):
            raise _bad("chat not found")
        return {
            **self._chat_json(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: dict[str, Any]) -> JsonDict:
        file_id = params.get("file_id")
        stored = self._files.get(str(file_id))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.upload.content),
            "file_path": stored.file_path,
        }


# ---------------------------------------------------------------------------------------
# Parameter decoding and validation
# ---------------------------------------------------------------------------------------


def _decode_param(key: str, value: Any) -> Any:
    """Turn a form value into the type Telegram would interpret it as (400 if it can't)."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            if key == "reply_markup":
                raise _ApiError(400, BAD_MARKUP) from None
            raise _bad(f"can't parse {key} JSON object") from None
    if key == "chat_id":
        try:
            return int(value)
        except ValueError:
            if value.startswith("@"):
                return value
            raise _bad("chat not found") from None
    if key in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            raise _bad(f'field "{key}" must be an integer') from None
    if key in _BOOL_FIELDS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise _bad(f'field "{key}" must be a boolean')
    return value


def _number(value: Any, key: str) -> float:
    """Numeric parameter; fractions are accepted so tests can long-poll briefly."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(f'field "{key}" must be a number') from None


def _require_chat_id(params: dict[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise _bad("chat_id is empty")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise _bad("chat not found")  # @usernames and channels are not modelled
    return chat_id


def _validate_markup(markup: Any, *, inline_only: bool = False) -> JsonDict | None:
    """Check a reply_markup the way Telegram rejects broken keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, BAD_MARKUP)
    if "inline_keyboard" not in markup:
        if inline_only:
            raise _bad("inline keyboard expected")
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise _ApiError(400, BAD_MARKUP)
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _ApiError(400, BAD_BUTTON)
            if not _BUTTON_ACTIONS & button.keys():
                raise _ApiError(400, BAD_BUTTON)
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad("BUTTON_DATA_INVALID")
    return markup


def _message_text(params: dict[str, Any]) -> tuple[str, Any, str]:
    """(text as sent, parse_mode, text as shown), refused as Telegram refuses them."""
    raw_text = params.get("text")
    if not isinstance(raw_text, str) or not raw_text.strip():
        raise _bad("message text is empty")
    parse_mode = params.get("parse_mode")
    text = _render(raw_text, parse_mode)
    if not text:
        raise _bad("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise _bad("message is too long")
    return raw_text, parse_mode, text


def _render(text: str, parse_mode: Any) -> str:
    """What the user sees: HTML validated and stripped like Telegram, others verbatim."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        text = _strip_html(text)
    return text.strip()


def _strip_html(text: str) -> str:
    """Remove supported tags; reject what Telegram's HTML parser rejects (400)."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG_RE.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        offset = len(text[: match.start()].encode())
        if match.group(0) == "<":
            raise _bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")
        name = match.group(2).lower()
        if name not in _HTML_TAGS:
            raise _bad(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
            )
        if match.group(1):
            if not stack or stack[-1] != name:
                expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected {expected}, found "</{name}>"'
                )
            stack.pop()
        else:
            stack.append(name)
    if stack:
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    out.append(text[position:])
    return html.unescape("".join(out))


def _is_image(content: bytes) -> bool:
    return content.startswith(_IMAGE_SIGNATURES) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    )


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height from a PNG header (0, 0 for anything else); enough for PhotoSize."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 0, 0
