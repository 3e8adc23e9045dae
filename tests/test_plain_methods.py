"""The plain-fields lane (`bot.telegram.json_session`, `bot.telegram.plain_methods`)
against the fake Bot API server: what a success gives back, and that every kind of failure
raises the same aiogram exception as aiogram's own path, since the handlers and the
broadcaster catch exactly those; and polled updates trimmed before parsing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import GetUpdates
from aiogram.types import Message

from bot.chat.callbacks import AnswerCb, ConsentCb
from bot.chat.handlers.questionnaire import trim_question_press
from bot.sandbox.fake_telegram import FakeTelegram, Fault, buttons
from bot.telegram.json_session import JsonBodySession, UpdateTrimmer
from bot.telegram.plain_methods import AnswerPress, EditText, SendText

USER_ID = 5151
KEYBOARD = {"inline_keyboard": [[{"text": "Да", "callback_data": "a:1:0:1"}]]}


def make_bot(base_url: str, trim_update: UpdateTrimmer | None = None) -> Bot:
    api = TelegramAPIServer.from_base(base_url)
    return Bot("123456:TEST", session=JsonBodySession(api=api, trim_update=trim_update))


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token="123456:TEST") as fake:
        fake.user(USER_ID, "Анна")
        yield fake
    assert not fake.internal_errors, fake.internal_errors


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(server.base_url)
    yield bot
    await bot.session.close()


async def test_send_and_edit_give_the_message_id(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot(SendText.of(USER_ID, "<b>Вопрос 1</b>", KEYBOARD))
    assert isinstance(sent, int)
    edited = await bot(EditText.of(USER_ID, sent, "<i>Вопрос 2</i>", None))
    assert edited == sent
    [message] = server.chat(USER_ID)
    assert (message.text, message.edited, buttons(message)) == ("Вопрос 2", 1, [])


async def test_edit_failures_raise_bad_request(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot(SendText.of(USER_ID, "Вопрос", KEYBOARD))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot(EditText.of(USER_ID, sent, "Вопрос", KEYBOARD))
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot(EditText.of(USER_ID, sent + 99, "x", None))
    assert server.chat(USER_ID)[0].edited == 0


async def test_a_forged_press_answer_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot(AnswerPress.of("no-such-query", text="Принято"))


async def test_limits_and_blocks_raise_their_own_exceptions(server: FakeTelegram, bot: Bot) -> None:
    server.fail_sends(lambda method, chat, attempt: Fault.retry_after(3) if attempt == 0 else None)
    with pytest.raises(TelegramRetryAfter) as paused:
        await bot(SendText.of(USER_ID, "Приглашение", KEYBOARD))
    assert paused.value.retry_after == 3
    server.fail_sends(lambda method, chat, attempt: Fault.forbidden())
    with pytest.raises(TelegramForbiddenError):
        await bot(SendText.of(USER_ID, "Приглашение", KEYBOARD))
    assert server.chat(USER_ID) == []


async def test_no_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = make_bot(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TelegramNetworkError):
            await bot(AnswerPress.of("1"))
    finally:
        await bot.session.close()


async def test_an_answer_that_is_not_json_is_a_decode_error() -> None:
    page = b"<html>Bad Gateway</html>"  # what a misconfigured proxy in front may answer

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 502 Bad Gateway\r\nContent-Length: {len(page)}\r\n\r\n"
        writer.write(head.encode() + page)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bot = make_bot(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ClientDecodeError, match="Failed to decode object"):
            await bot(AnswerPress.of("1"))
    finally:
        await bot.session.close()
        server.close()
        await server.wait_closed()


def press(data: str) -> dict[str, Any]:
    screen = {
        "message_id": 3,
        "date": 1_700_000_000,
        "chat": {"id": USER_ID, "type": "private", "first_name": "Анна"},
        "from": {"id": 1, "is_bot": True, "first_name": "Бот"},
        "text": "Вопрос",
        "entities": [{"type": "bold", "offset": 0, "length": 6}],
        "reply_markup": {"inline_keyboard": [[{"text": "1", "callback_data": data}]]},
    }
    sender = {"id": USER_ID, "is_bot": False, "first_name": "Анна"}
    query = {"id": "7", "from": sender, "chat_instance": "1", "data": data, "message": screen}
    return {"callback_query": query}


async def test_polled_question_presses_arrive_without_their_echoed_screen(
    server: FakeTelegram,
) -> None:
    bot = make_bot(server.base_url, trim_question_press)
    try:
        server.push_update(press(AnswerCb(response=1, question=0, value=4).pack()))
        server.push_update(press(ConsentCb(action="yes", lang="ru").pack()))
        answer, consent = await bot(GetUpdates(timeout=0))
    finally:
        await bot.session.close()
    assert answer.callback_query is not None and consent.callback_query is not None
    screen, kept = answer.callback_query.message, consent.callback_query.message
    assert isinstance(screen, Message) and isinstance(kept, Message)
    assert (screen.message_id, screen.chat.id, screen.text) == (3, USER_ID, "Вопрос")
    assert screen.reply_markup is None and screen.entities is None and screen.from_user is None
    # Consent checks the button against the keyboard it came with: that press stays whole.
    assert kept.reply_markup is not None and kept.entities is not None
    assert kept.from_user is not None


async def test_a_malformed_polled_update_is_a_decode_error(server: FakeTelegram) -> None:
    bot = make_bot(server.base_url, trim_question_press)
    try:
        server.push_update({"callback_query": {"id": 5}})
        with pytest.raises(ClientDecodeError):
            await bot(GetUpdates(timeout=0))
    finally:
        await bot.session.close()
