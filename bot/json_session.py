"""Requests go to the Bot API as one JSON body instead of a urlencoded form.

aiogram posts every method as a form, and percent-encoding a message's text and its
keyboard byte by byte in Python was the largest single cost of a send in the broadcast
profile (about a third of the broadcaster's CPU). The Bot API accepts `application/json`
for every request that uploads nothing, and `json.dumps` does the same work in C. A
request that carries a file still goes as aiogram's multipart form.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import FormData, JsonPayload

# UTF-8 rather than \u escapes: Cyrillic text stays a third of the size.
_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class PlainFields:
    """A method that can give its request fields as plain JSON data itself.

    aiogram's generic walk (dump the model, then resolve defaults and files value by
    value) costs more than the HTTP request for a message with a keyboard; a method sent
    thousands of times a second with ready-made data skips it.
    """

    def plain_fields(self) -> dict[str, Any]:
        raise NotImplementedError


class JsonBodySession(AiohttpSession):
    def build_form_data(  # type: ignore[override]
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> FormData | JsonPayload:
        if isinstance(method, PlainFields):
            return JsonPayload(method.plain_fields(), dumps=_dumps)
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":
                fields[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        return JsonPayload(fields, dumps=_dumps)
