"""Requests go to the Bot API as one JSON body instead of a urlencoded form.

aiogram posts every method as a form, and percent-encoding a message's text and its
keyboard byte by byte in Python was the largest single cost of a send in the broadcast
profile (about a third of the broadcaster's CPU). The Bot API accepts `application/json`
for every request that uploads nothing. The JSON is made and read by orjson: the standard
library's encoder spends about 24 µs on one question edit (Cyrillic text with its keyboard,
kept as UTF-8), orjson about 1.3 µs, and it reads an answer three times as fast. A request
that carries a file still goes as aiogram's multipart form.

The requests made thousands of times a second (invitations; the edit and the button
answer behind every citizen's answer) take a shorter lane still: `PlainFields` methods
give their fields as ready-made JSON data and read back only what they need from a
successful answer. aiogram's own path validates the method, walks its fields value by
value and parses every answer into full models — the echoed message with its keyboard,
its chat, its sender — which costs twice the HTTP request itself. Error answers still go
through aiogram's `check_response`, so they raise the same exceptions as everywhere else.
Polled updates can be trimmed before aiogram parses them (`trim_update`), for the parts of
a frequent update that no handler reads. This lane and the polls travel over
`bot.telegram.keepalive_http`, a client that costs a quarter of aiohttp's CPU per request; the
other methods stay on aiohttp, which is not let follow a redirect: Telegram never redirects,
and following one sends the request on to wherever the answer points.

The bot token is in the path of every request, and so in the URL that aiohttp's errors quote
(a redirect loop's `TooManyRedirects`, a connection timeout, an answer it cannot parse) and
in whatever a broken server echoes back. No exception raised here carries it: neither in its
text nor in the chain of causes a traceback prints.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update
from aiohttp import ClientError, ClientTimeout, FormData, JsonPayload
from pydantic import ValidationError

from bot.telegram.keepalive_http import HttpProtocolError, KeepAliveClient

#: What the bot token is replaced with in an error (as in the logs).
REDACTED = "<redacted>"


def _dumps(value: Any) -> str:
    """For aiohttp's JSON payload, which takes text; UTF-8 rather than \\u escapes keeps
    Cyrillic text a third of the size (orjson never escapes)."""
    return orjson.dumps(value).decode()


def _network_error(
    method: TelegramMethod[Any], error: BaseException, token: str
) -> TelegramNetworkError:
    """What aiogram raises for a request that failed on its way, with `token` nowhere in it.

    Chained to its cause unless the cause's traceback shows the token: the broadcaster tells
    by the cause a request that never left (`ConnectionFailed`), safe to send again.
    """
    if isinstance(error, TimeoutError):
        message = "Request timeout error"  # aiogram's own words
    else:
        message = f"{type(error).__name__}: {error}".replace(token, REDACTED)
    failure = TelegramNetworkError(method=method, message=message)
    # Setting the cause (even to None) also keeps Python from printing the error handled
    # when this one is raised.
    failure.__cause__ = None if token in "".join(traceback.format_exception(error)) else error
    return failure


class PlainFields:
    """A method that gives its request fields as plain JSON data and reads its own result."""

    def plain_fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def read_result(self, result: Any) -> Any:
        """The method's return value from the `result` of a successful answer."""
        raise NotImplementedError


#: Given one raw update before it is parsed; may drop parts no handler reads.
UpdateTrimmer = Callable[[dict[str, Any]], dict[str, Any]]


class JsonBodySession(AiohttpSession):
    """`trim_update`, if given, sees every polled update before aiogram parses it."""

    def __init__(self, *args: Any, trim_update: UpdateTrimmer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trim_update = trim_update
        base = urlsplit(self.api.base)  # every method's URL is on this one origin
        self._client = KeepAliveClient(f"{base.scheme}://{base.netloc}")
        self._paths: dict[tuple[str, str], str] = {}  # (token, method) -> URL path

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, PlainFields):
            result = await self._result(bot, method, method.plain_fields(), timeout)
            return method.read_result(result)  # type: ignore[no-any-return]
        if isinstance(method, GetUpdates) and self._trim_update is not None:
            fields = method.model_dump(exclude_none=True)
            raw = await self._result(bot, method, fields, timeout)
            trim, context = self._trim_update, {"bot": bot}
            try:
                updates = [Update.model_validate(trim(update), context=context) for update in raw]
            except ValidationError as error:
                raise ClientDecodeError("Failed to deserialize object", error, raw) from error
            return updates  # type: ignore[return-value]
        return await self._form_request(bot, method, timeout)

    async def _result(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        fields: dict[str, Any],
        timeout: int | None,
    ) -> Any:
        """The `result` of a successful answer, as plain JSON data."""
        path = self._paths.get((bot.token, method.__api_method__))
        if path is None:  # formatted and split once per method, not for every request
            url = self.api.api_url(token=bot.token, method=method.__api_method__)
            path = self._paths[bot.token, method.__api_method__] = urlsplit(url).path
        try:
            status, body = await self._client.post_json(
                path, orjson.dumps(fields), self.timeout if timeout is None else timeout
            )
        except (OSError, HttpProtocolError) as error:  # a timeout is an OSError too
            raise _network_error(method, error, bot.token)  # noqa: B904 (it sets the cause)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        if status == 200 and isinstance(parsed, dict) and parsed.get("ok") is True:
            return parsed.get("result")
        return self._checked(bot, method, status, body.decode("utf-8", errors="replace"))

    async def _form_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None
    ) -> Any:
        """aiogram's own request (a form, or JSON: `build_form_data`) over aiohttp, whose
        answer is taken as it comes: a redirect is not followed, and `_checked` refuses it."""
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        seconds = self.timeout if timeout is None else timeout
        try:
            async with session.post(
                url,
                data=self.build_form_data(bot, method),
                timeout=ClientTimeout(total=seconds),
                allow_redirects=False,
            ) as response:
                status, content = response.status, await response.text()
        except (TimeoutError, ClientError) as error:
            raise _network_error(method, error, bot.token)  # noqa: B904 (it sets the cause)
        return self._checked(bot, method, status, content)

    def _checked(self, bot: Bot, method: TelegramMethod[Any], status: int, content: str) -> Any:
        """The `result` of an answer that aiogram's own check accepts; otherwise that check
        raises the exception the answer means (`ClientDecodeError` for one it cannot read,
        which quotes it: a server that echoes the request would put the token there)."""
        content = content.replace(bot.token, REDACTED)
        return self.check_response(bot, method, status, content).result

    async def close(self) -> None:
        await self._client.close()
        await super().close()

    def build_form_data(  # type: ignore[override]
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> FormData | JsonPayload:
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":
                fields[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        return JsonPayload(fields, dumps=_dumps)
