"""The Bot API methods the fake server answers, with Telegram's checks and errors.

These are the only methods the bot calls.  Each one refuses what Telegram refuses (bad
targets, unchanged edits, blocked users, stale callback queries) with Telegram's status
and wording, because the bot's error handling is only tested if the fake fails the way
Telegram does.  The methods work on the shared :class:`TelegramState`; the bot's own
registrations (commands, menu buttons, webhook) and injected faults are kept here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from bot.sandbox.api_errors import (
    BLOCKED,
    NOT_MODIFIED,
    STALE_QUERY,
    ApiError,
    FaultPolicy,
    bad,
)
from bot.sandbox.chat_record import ChatMessage, ChatState
from bot.sandbox.file_store import UploadedFile, is_image
from bot.sandbox.message_content import (
    MAX_CAPTION_LENGTH,
    message_text,
    render,
    validate_markup,
)
from bot.sandbox.request_parsing import number, require_chat_id
from bot.sandbox.telegram_state import TelegramState

__all__ = ["BotApiMethods", "Handler", "MethodTable"]

JsonDict = dict[str, Any]
Handler = Callable[[dict[str, Any]], Awaitable[Any]]
MethodTable = Mapping[str, tuple[str, Handler]]
"""Handlers by lower-case method name, each with the name as Telegram spells it."""

MAX_CALLBACK_ANSWER_LENGTH: Final = 200

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
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


class BotApiMethods:
    """The method implementations, and what the bot registered through them."""

    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        """``setMyCommands`` results by (scope type, language code; "" for default)."""
        self.default_menu_button: JsonDict | None = None
        self.webhook: JsonDict | None = None
        self.fault_policy: FaultPolicy | None = None
        self.edit_fault_policy: FaultPolicy | None = None
        """Asked before each send; see :meth:`FakeTelegram.fail_sends`."""
        self.table: MethodTable = {
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

    # -- checks shared by several methods ---------------------------------------------

    def _bot_message(self, params: dict[str, Any], action: str) -> tuple[ChatState, ChatMessage]:
        """The bot message an edit/delete targets, with Telegram's errors for bad targets."""
        if "inline_message_id" in params:
            raise bad("inline messages are not supported by the fake server")
        chat_id = require_chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad("message identifier is not specified")
        state = self._state.chats.find(chat_id)
        message = state.by_id.get(message_id) if state is not None else None
        if state is None or message is None or message.deleted:
            raise bad(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise bad("message can't be edited")
        return state, message

    def _check_send(self, method: str, chat_id: int) -> None:
        """Blocked chats and injected faults, in the order Telegram would apply them."""
        state = self._state.chats.state(chat_id)
        attempt = state.send_attempts
        state.send_attempts += 1
        if state.blocked:
            raise ApiError(403, BLOCKED)
        _inject(self.fault_policy, method, chat_id, attempt)

    def _sent(self, message: ChatMessage) -> JsonDict:
        return self._state.message_json(self._state.chats.add(message))

    def _edited(self, message: ChatMessage) -> JsonDict:
        self._state.chats.mark_edited(message)
        return self._state.message_json(message)

    # -- the bot and its updates ------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> JsonDict:
        return self._state.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> list[JsonDict]:
        """Long polling with Telegram's offset confirmation and one-poller rule."""
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = number(params.get("timeout", 0), "timeout")
        return await self._state.updates.poll(offset, limit, timeout)

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._state.updates.drop_pending()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._state.updates.drop_pending()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> JsonDict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._state.updates),
        }

    # -- commands and menu buttons ----------------------------------------------------

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {}
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return str(scope_type), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
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
            self._state.chats.state(require_chat_id(params)).menu_button = button
        else:
            self.default_menu_button = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any]) -> JsonDict:
        if "chat_id" in params:
            button = self._state.chats.state(require_chat_id(params)).menu_button
            if button is not None:
                return button
        return self.default_menu_button or {"type": "commands"}

    # -- messages ---------------------------------------------------------------------

    async def _send_message(self, params: dict[str, Any]) -> JsonDict:
        chat_id = require_chat_id(params)
        raw_text, parse_mode, text = message_text(params)
        markup = validate_markup(params.get("reply_markup"))
        self._check_send("sendMessage", chat_id)
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self._state.chats.next_message_id(chat_id),
            date=int(time.time()),
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return self._sent(message)

    async def _send_file(self, params: dict[str, Any], kind: str) -> JsonDict:
        """sendDocument / sendPhoto: the file arrives as an upload or a known file_id."""
        chat_id = require_chat_id(params)
        file = params.get(kind)
        if file is None or file == "":
            raise bad(f"there is no {kind} in the request")
        if isinstance(file, str):  # resend by file_id
            stored = self._state.files.get(file)
            if stored is None:
                raise bad("wrong file identifier/HTTP URL specified")
            file = stored.upload
        if not isinstance(file, UploadedFile):
            raise bad(f"there is no {kind} in the request")
        if not file.content:
            raise bad("file must be non-empty")
        if kind == "photo" and not is_image(file.content):
            raise bad("IMAGE_PROCESS_FAILED")
        parse_mode = params.get("parse_mode")
        caption = params.get("caption")
        if caption is not None:
            caption = render(str(caption), parse_mode)
            if len(caption) > MAX_CAPTION_LENGTH:
                raise bad("message caption is too long")
        markup = validate_markup(params.get("reply_markup"))
        self._check_send("sendPhoto" if kind == "photo" else "sendDocument", chat_id)
        file_id = self._state.files.store(file, "photos" if kind == "photo" else "documents")
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self._state.chats.next_message_id(chat_id),
            date=int(time.time()),
            caption=caption or None,
            parse_mode=parse_mode,
            reply_markup=markup,
            document=file if kind == "document" else None,
            photo=file if kind == "photo" else None,
            file_id=file_id,
        )
        return self._sent(message)

    async def _send_document(self, params: dict[str, Any]) -> JsonDict:
        return await self._send_file(params, "document")

    async def _send_photo(self, params: dict[str, Any]) -> JsonDict:
        return await self._send_file(params, "photo")

    async def _edit_message_text(self, params: dict[str, Any]) -> JsonDict:
        raw_text, parse_mode, text = message_text(params)
        markup = validate_markup(params.get("reply_markup"), inline_only=True)
        state, message = self._bot_message(params, "edit")
        if state.blocked:
            raise ApiError(403, BLOCKED)
        state.edit_attempts += 1
        _inject(self.edit_fault_policy, "editMessageText", message.chat_id, state.edit_attempts - 1)
        if message.text is None:
            raise bad("there is no text in the message to edit")
        # Same visible text, same formatting source and same keyboard: Telegram refuses.
        # (An edit that omits reply_markup removes the keyboard, so None is compared too.)
        if (text, raw_text, markup) == (message.text, message.raw_text, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text, message.parse_mode = text, raw_text, parse_mode
        message.reply_markup = markup
        return self._edited(message)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> JsonDict:
        markup = validate_markup(params.get("reply_markup"), inline_only=True)
        state, message = self._bot_message(params, "edit")
        if state.blocked:
            raise ApiError(403, BLOCKED)
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(message)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        _, message = self._bot_message(params, "delete")
        self._state.chats.mark_deleted(message)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise bad("query_id is empty")
        query_id = str(query_id)
        callbacks = self._state.callbacks
        if query_id not in callbacks or callbacks[query_id] is not None:
            # Unknown, or answered already: Telegram accepts one answer per query.
            raise ApiError(400, STALE_QUERY)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        callbacks[query_id] = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat_id = require_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        if self._state.chats.state(chat_id).blocked:
            raise ApiError(403, BLOCKED)
        return True

    # -- chats and files --------------------------------------------------------------

    async def _get_chat(self, params: dict[str, Any]) -> JsonDict:
        chat_id = require_chat_id(params)
        if chat_id not in self._state.users and self._state.chats.find(chat_id) is None:
            raise bad("chat not found")
        return {
            **self._state.chat_json(chat_id),
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
        stored = self._state.files.get(str(file_id))
        if stored is None:
            raise bad("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.upload.content),
            "file_path": stored.file_path,
        }


def _inject(policy: FaultPolicy | None, method: str, chat_id: int, attempt: int) -> None:
    """Raise the fault a test's policy asks for, if any."""
    if policy is not None and (fault := policy(method, chat_id, attempt)) is not None:
        raise ApiError(fault.status, fault.description, fault.retry_after)
