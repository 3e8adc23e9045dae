"""The fake Bot API server, driven by the real aiogram client over HTTP.

These tests pin down the behaviour the end-to-end tests rely on: aiogram's requests are
understood, its responses parse into aiogram's models, and error bodies turn into the
exceptions the bot handles (retry-after, forbidden, bad request, not found).
"""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
)

from bot.sandbox.fake_telegram import (
    ChatMessage,
    FakeTelegram,
    Fault,
    FaultResult,
    UploadedFile,
    buttons,
)

USER_ID = 4242


class LocalSession(AiohttpSession):
    """aiogram's session minus the 250 ms grace sleep in ``close()``.

    That sleep lets SSL connections shut down; the fake server speaks plain HTTP, and the
    sleep alone would cost a quarter of a second per test.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class NoSuchMethod(TelegramMethod[bool]):
    """A method Telegram does not have, to see how an unknown method is answered."""

    __returning__: ClassVar[Any] = bool
    __api_method__: ClassVar[str] = "noSuchMethod"


def make_bot(server: FakeTelegram, token: str | None = None) -> Bot:
    api = TelegramAPIServer.from_base(server.base_url)
    return Bot(token or server.token, session=LocalSession(api=api))


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG, built by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
    assert not fake.internal_errors, fake.internal_errors


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(server)
    yield bot
    await bot.session.close()


@pytest.fixture
async def http(server: FakeTelegram) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.base_url) as session:
        yield session


# --- basics ------------------------------------------------------------------------------


async def test_get_me_identifies_the_bot_from_its_token(server: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == 123456
    assert me.is_bot
    assert me.username == "test_bot"
    [call] = server.calls("GETME")
    assert (call.method, call.status) == ("getMe", 200)


async def test_wrong_token_is_unauthorized(server: FakeTelegram) -> None:
    intruder = make_bot(server, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    assert server.requests[-1].status == 401


async def test_unknown_method_is_404(server: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot(NoSuchMethod())
    assert server.calls("noSuchMethod")[0].status == 404


# --- messages as the user sees them ------------------------------------------------------


async def test_send_and_edit_are_reflected_in_the_chat(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER_ID, "Как вы оцениваете работу МФЦ?", reply_markup=keyboard(("Хорошо", "q:1:good"))
    )

    assert sent.message_id == 1
    assert sent.chat.id == USER_ID
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    view = server.last_message(USER_ID)
    assert view is not None and view.text == "Как вы оцениваете работу МФЦ?"
    assert buttons(view) == [("Хорошо", "q:1:good")]
    assert server.calls("sendMessage")[0].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Хорошо", "callback_data": "q:1:good"}]]
    }

    edited = await bot.edit_message_text("Спасибо!", chat_id=USER_ID, message_id=1)
    assert isinstance(edited, Message) and edited.text == "Спасибо!"

    [view] = server.chat(USER_ID)
    assert (view.text, view.edited, view.reply_markup) == ("Спасибо!", 1, None)

    await bot.edit_message_reply_markup(
        chat_id=USER_ID, message_id=1, reply_markup=keyboard(("Ещё раз", "again"))
    )
    assert buttons(server.chat(USER_ID)[0]) == [("Ещё раз", "again")]
    assert server.chat(USER_ID)[0].edited == 2

    second = await bot.send_message(USER_ID, "Второе")
    assert second.message_id == 2  # ids increase per chat
    assert await bot.delete_message(USER_ID, 1)
    assert [m.text for m in server.chat(USER_ID)] == ["Второе"]
    assert [m.deleted for m in server.chat(USER_ID, include_deleted=True)] == [True, False]


async def test_edit_errors_match_telegram(server: FakeTelegram, bot: Bot) -> None:
    markup = keyboard(("Да", "yes"))
    await bot.send_message(USER_ID, "Вопрос", reply_markup=markup)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Вопрос", chat_id=USER_ID, message_id=1, reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=99)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER_ID, "я" * 4097)

    assert [r.status for r in server.calls("editMessageText")] == [400, 400]
    assert server.chat(USER_ID)[0].edited == 0


async def test_html_is_validated_and_stripped(server: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER_ID, "<b>Опрос</b> &amp; итоги", parse_mode="HTML")

    view = server.last_message(USER_ID)
    assert view is not None
    assert view.text == "Опрос & итоги"
    assert view.raw_text == "<b>Опрос</b> &amp; итоги"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER_ID, "1 < 2 <br>", parse_mode="HTML")


async def test_files_are_kept_for_inspection(server: FakeTelegram, bot: Bot) -> None:
    csv = "район;оценка\nЦентральный;5\n".encode()
    doc = await bot.send_document(
        USER_ID, BufferedInputFile(csv, filename="results.csv"), caption="Итоги"
    )
    photo = await bot.send_photo(USER_ID, BufferedInputFile(png(3, 2), filename="chart.png"))

    assert doc.document is not None and doc.document.file_name == "results.csv"
    assert doc.document.file_size == len(csv)
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    first, second = server.chat(USER_ID)
    assert first.document is not None and first.document.text() == "район;оценка\nЦентральный;5\n"
    assert first.caption == "Итоги"
    assert second.photo is not None and second.photo.content == png(3, 2)
    uploaded = server.calls("sendDocument")[0].params["document"]
    assert isinstance(uploaded, UploadedFile) and uploaded.filename == "results.csv"

    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER_ID, BufferedInputFile(b"not an image", filename="x.png"))


# --- errors the bot must handle ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.retry_after(7), TelegramRetryAfter),
        (Fault.forbidden(), TelegramForbiddenError),
        (Fault.bad_request("chat not found"), TelegramBadRequest),
        (Fault.server_error(), TelegramServerError),
    ],
)
async def test_injected_faults_raise_aiogram_errors(
    server: FakeTelegram, bot: Bot, fault: FaultResult, error: type[Exception]
) -> None:
    seen: list[tuple[str, int, int]] = []

    def first_try_fails(method: str, chat_id: int, attempt: int) -> FaultResult | None:
        seen.append((method, chat_id, attempt))
        return fault if attempt == 0 else None

    server.fail_sends(first_try_fails)

    with pytest.raises(error) as caught:
        await bot.send_message(USER_ID, "Новый опрос")
    assert server.chat(USER_ID) == []  # a faulted send creates no message
    await bot.send_message(USER_ID, "Новый опрос")

    if isinstance(caught.value, TelegramRetryAfter):
        assert caught.value.retry_after == 7
    assert seen == [("sendMessage", USER_ID, 0), ("sendMessage", USER_ID, 1)]
    assert [r.status for r in server.calls("sendMessage")] == [fault.status, 200]
    assert len(server.chat(USER_ID)) == 1


async def test_blocking_user_gets_403_and_my_chat_member(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(USER_ID, "Анна")
    blocked_update = user.block()

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "Напоминание")
    user.unblock()
    await bot.send_message(USER_ID, "Напоминание")

    updates = await bot.get_updates()
    kicked, member = (u.my_chat_member for u in updates)
    assert updates[0].update_id == blocked_update
    assert kicked is not None and kicked.new_chat_member.status == "kicked"
    assert member is not None and member.new_chat_member.status == "member"
    assert [m.text for m in server.chat(USER_ID)] == ["Напоминание"]


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"text": "hi"}, "chat_id is empty"),
        ({"chat_id": "1"}, "message text is empty"),
        ({"chat_id": "abc", "text": "hi"}, "chat not found"),
        ({"chat_id": "1", "text": "hi", "reply_markup": "{oops"}, "can't parse reply keyboard"),
        (
            {
                "chat_id": "1",
                "text": "hi",
                "reply_markup": '{"inline_keyboard": [[{"text": "x"}]]}',
            },
            "can't parse inline keyboard button",
        ),
        (
            {
                "chat_id": "1",
                "text": "hi",
                "reply_markup": '{"inline_keyboard": [[{"text": "x", "callback_data": "%s"}]]}'
                % ("d" * 65),
            },
            "BUTTON_DATA_INVALID",
        ),
    ],
)
async def test_malformed_requests_are_400(
    server: FakeTelegram, http: aiohttp.ClientSession, data: dict[str, str], description: str
) -> None:
    async with http.post(f"/bot{server.token}/sendmessage", data=data) as resp:
        body = await resp.json()

    assert resp.status == 400
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert description in body["description"]
    assert server.calls("sendMessage")[0].status == 400


async def test_broken_json_body_is_400_and_unknown_path_404(
    server: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    headers = {"Content-Type": "application/json"}
    async with http.post(f"/bot{server.token}/sendMessage", data="{", headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["description"].startswith("Bad Request")
    async with http.post(f"/bot{server.token}/fooBar", data={}) as resp:
        assert resp.status == 404
        assert await resp.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    async with http.get("/nowhere") as resp:
        assert resp.status == 404
    # Still serving after bad input.
    async with http.post(f"/bot{server.token}/getMe") as resp:
        assert (await resp.json())["result"]["is_bot"] is True


async def test_service_methods_parse_in_aiogram(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(USER_ID, "Ольга", username="olga")

    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    commands = [BotCommand(command="start", description="Начать опрос")]
    assert await bot.set_my_commands(commands, language_code="ru")
    assert server.commands[("default", "ru")] == [
        {"command": "start", "description": "Начать опрос"}
    ]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await bot.delete_my_commands(language_code="ru")
    assert server.commands == {}
    assert await bot.set_chat_menu_button(chat_id=USER_ID, menu_button=MenuButtonCommands())
    assert await bot.send_chat_action(USER_ID, "typing")
    chat = await bot.get_chat(USER_ID)
    assert (chat.id, chat.type, chat.username) == (USER_ID, "private", "olga")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(777)

    user.send_photo(png(2, 2), caption="яма на дороге")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.photo is not None
    file = await bot.get_file(update.message.photo[-1].file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == png(2, 2)
    assert await bot.log_out() and await bot.close()


# --- updates -------------------------------------------------------------------------------


async def test_updates_are_redelivered_until_confirmed(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(USER_ID, "Иван", language_code="en")
    first = user.send_text("привет")
    second = user.send_command("start")

    batch = await bot.get_updates()
    assert [u.update_id for u in batch] == [first, second]
    again = await bot.get_updates()  # no offset: nothing confirmed yet
    assert [u.update_id for u in again] == [first, second]

    rest = await bot.get_updates(offset=first + 1)
    assert [u.update_id for u in rest] == [second]
    command = rest[0].message
    assert command is not None and command.text == "/start"
    assert command.entities is not None and command.entities[0].type == "bot_command"
    assert command.from_user is not None and command.from_user.language_code == "en"

    assert await bot.get_updates(offset=second + 1) == []
    assert server.pending_updates == 0


async def test_long_poll_times_out_empty_and_wakes_on_update(
    server: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    async with http.post(f"/bot{server.token}/getUpdates", data={"timeout": "0.3"}) as resp:
        assert await resp.json() == {"ok": True, "result": []}
    assert 0.25 <= time.monotonic() - started < 1.5

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: server.waiting_polls == 1, message="poll did not start")
    started = time.monotonic()
    server.push_update(
        {
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": -100777, "type": "supergroup", "title": "Жители"},
                "from": {"id": 5, "is_bot": False, "first_name": "Пётр"},
                "text": "в группе",
            }
        }
    )
    [update] = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert update.message is not None and update.message.chat.type == "supergroup"


async def test_second_poller_terminates_the_first(
    server: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    url = f"/bot{server.token}/getUpdates"
    first = asyncio.create_task(http.post(url, data={"timeout": "5"}))
    await server.wait_for(lambda: server.waiting_polls == 1)
    async with http.post(url, data={"timeout": "0"}) as resp:
        assert await resp.json() == {"ok": True, "result": []}
    async with await asyncio.wait_for(first, 1) as resp:
        assert resp.status == 409
        assert "terminated by other getUpdates request" in (await resp.json())["description"]


async def test_callback_press_and_answer(server: FakeTelegram, bot: Bot) -> None:
    user = server.user(USER_ID)
    await bot.send_message(USER_ID, "Оцените", reply_markup=keyboard(("1", "r:1"), ("10", "r:10")))

    query_id = user.press_button("1")  # exact match wins over the "10" substring match
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "r:1"
    assert isinstance(query.message, Message) and query.message.message_id == 1
    assert server.unanswered_callbacks() == [query_id]

    await bot.answer_callback_query(query_id, text="Принято", show_alert=True)
    assert server.callback_answer(query_id) == {
        "text": "Принято",
        "show_alert": True,
        "url": None,
        "cache_time": None,
    }
    assert server.unanswered_callbacks() == []
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)

    with pytest.raises(AssertionError, match=r"offers \['1', '10'\]"):
        user.press_button("Нет такой")


# --- a real dispatcher ----------------------------------------------------------------------


async def test_dispatcher_polls_and_replies(server: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Выберите", reply_markup=keyboard(("Начать опрос", "go")))

    @dp.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text("Вопрос 1")

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        await message.answer(message.text)

    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        user = server.user(USER_ID, "Мария")
        user.send_command("/start")
        menu = await server.wait_for_message(USER_ID)
        assert buttons(menu) == [("Начать опрос", "go")]

        query_id = user.press_button("Начать")
        edited: ChatMessage = await server.wait_for_message(USER_ID, lambda m: m.edited == 1)
        assert (edited.message_id, edited.text, edited.reply_markup) == (2, "Вопрос 1", None)
        await server.wait_for(lambda: server.callback_answer(query_id) is not None)

        user.send_text("эхо")
        reply = await server.wait_for_message(USER_ID)
        assert reply.text == "эхо"
        assert [m.text for m in server.chat(USER_ID)] == ["Вопрос 1", "эхо"]
        everything = server.chat(USER_ID, include_user=True)
        assert [(m.message_id, m.from_bot, m.text) for m in everything] == [
            (1, False, "/start"),
            (2, True, "Вопрос 1"),
            (3, False, "эхо"),
            (4, True, "эхо"),
        ]

        user.send_sticker()
        await server.wait_until_idle()
        assert len(server.chat(USER_ID)) == 2  # no handler for stickers: nothing sent
    finally:
        await dp.stop_polling()
        await polling


async def test_wait_for_fails_with_message(server: FakeTelegram) -> None:
    with pytest.raises(AssertionError, match="never"):
        await server.wait_for(lambda: False, timeout=0.05, message="never")
    with pytest.raises(AssertionError, match="no matching message in chat 1"):
        await server.wait_for_message(1, timeout=0.05)


async def test_concurrent_sends_get_unique_ids(server: FakeTelegram, bot: Bot) -> None:
    await asyncio.gather(*(bot.send_message(USER_ID + i % 5, f"m{i}") for i in range(200)))

    for i in range(5):
        ids = [m.message_id for m in server.chat(USER_ID + i)]
        assert ids == list(range(1, 41))
    stamps = [r.at for r in server.calls("sendMessage")]
    assert len(stamps) == 200 and all(r.status == 200 for r in server.calls("sendmessage"))


# --- live views and starting over (the sandbox page) ------------------------------------------


async def test_watchers_hear_of_every_visible_change(server: FakeTelegram, bot: Bot) -> None:
    changed: list[int] = []
    unwatch = server.watch(changed.append)
    user = server.user(USER_ID)

    user.send_text("привет")  # the user's own message counts: the page shows it too
    sent = await bot.send_message(USER_ID, "Вопрос", reply_markup=keyboard(("Да", "y")))
    await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id)
    await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(TelegramBadRequest):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=99)  # no change
    assert changed == [USER_ID] * 4

    unwatch()
    await bot.send_message(USER_ID, "после")
    assert changed == [USER_ID] * 4


async def test_clear_forgets_chats_but_later_updates_still_arrive(
    server: FakeTelegram, bot: Bot
) -> None:
    user = server.user(USER_ID)
    first = user.send_text("до")
    [update] = await bot.get_updates()
    await bot.send_document(USER_ID, BufferedInputFile(b"a,b\n", filename="x.csv"))
    user.send_text("не доставлено")
    changed: list[int] = []
    server.watch(changed.append)

    server.clear()

    assert changed == [USER_ID]
    assert server.chat(USER_ID, include_user=True) == []
    assert (server.pending_updates, server.requests) == (0, [])
    # The bot's offset from before the reset still lets newer updates through.
    later = user.send_text("после")
    assert later > first
    [fresh] = await bot.get_updates(offset=update.update_id + 1)
    assert fresh.update_id == later and fresh.message is not None
    assert [m.message_id for m in server.chat(USER_ID, include_user=True)] == [1]
