"""The plain-fields lane (`bot.json_session`, `bot.plain_methods`) against the fake Bot
API server: what a success gives back, and that every kind of failure raises the same
aiogram exception as aiogram's own path, since the handlers and the broadcaster catch
exactly those."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)

from bot.json_session import JsonBodySession
from bot.plain_methods import AnswerPress, EditText, SendText
from bot.sandbox.fake_telegram import FakeTelegram, Fault, buttons

USER_ID = 5151
KEYBOARD = {"inline_keyboard": [[{"text": "Да", "callback_data": "a:1:0:1"}]]}


def make_bot(base_url: str) -> Bot:
    return Bot("123456:TEST", session=JsonBodySession(api=TelegramAPIServer.from_base(base_url)))


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
