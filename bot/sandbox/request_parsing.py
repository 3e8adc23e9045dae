"""A Bot API request's parameters, decoded the way Telegram interprets them.

aiogram sends parameters as form fields, JSON-encoded strings inside the form, or
multipart uploads referred to as ``attach://<name>``; other clients send JSON bodies or
query strings.  Decoding all of that here, with Telegram's 400s for what it cannot parse,
lets every method and every recorded request see one plain dict of typed values.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from aiohttp import web

from bot.sandbox.api_errors import BAD_MARKUP, ApiError, bad
from bot.sandbox.file_store import UploadedFile

__all__ = ["number", "read_params", "require_chat_id"]

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


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (form, multipart or JSON) and decode the values."""
    raw: dict[str, Any] = dict(request.query)
    if request.body_exists:
        ctype = request.content_type
        try:
            if ctype == "application/json":
                data = await request.json(loads=orjson.loads)
                if not isinstance(data, dict):
                    raise bad("JSON body must be an object")
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
        except ApiError:
            raise
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        except Exception as error:  # malformed JSON, form or multipart: a client error
            raise bad(f"can't parse request body: {error}") from None
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


def _decode_param(key: str, value: Any) -> Any:
    """Turn a form value into the type Telegram would interpret it as (400 if it can't)."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            if key == "reply_markup":
                raise ApiError(400, BAD_MARKUP) from None
            raise bad(f"can't parse {key} JSON object") from None
    if key == "chat_id":
        try:
            return int(value)
        except ValueError:
            if value.startswith("@"):
                return value
            raise bad("chat not found") from None
    if key in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            raise bad(f'field "{key}" must be an integer') from None
    if key in _BOOL_FIELDS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise bad(f'field "{key}" must be a boolean')
    return value


def number(value: Any, key: str) -> float:
    """Numeric parameter; fractions are accepted so tests can long-poll briefly."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad(f'field "{key}" must be a number') from None


def require_chat_id(params: dict[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad("chat_id is empty")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise bad("chat not found")  # @usernames and channels are not modelled
    return chat_id
