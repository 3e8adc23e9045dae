"""The bot against Bot API endpoints that are broken or hostile, served byte by byte here.

Whatever an endpoint answers, the request to it fails within its deadline with the
exception the rest of the bot handles (`TelegramNetworkError`, `ClientDecodeError`), the
event loop keeps running meanwhile (a ticking task never waits long, no exception escapes
to the loop), and requests to a healthy server (FakeTelegram) go on being served. A hung
loop cannot time itself out, so a watchdog signal fails such a test instead of freezing
the run. And the bot token shows nowhere: not in an exception, its traceback or the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiohttp import ClientSession

from bot.app import Application
from bot.sandbox.fake_telegram import FakeTelegram
from bot.settings import Settings
from bot.telegram.json_session import JsonBodySession
from bot.telegram.plain_methods import AnswerPress, SendText
from tests.harness import TOKEN, Citizen, database_settings, make_settings, start_bot
from tests.test_keepalive_http import Behaviour, ScriptedServer

USER_ID = 4242
#: Each request's deadline (the session's timeout), in seconds.
DEADLINE = 3.0
#: The longest the event loop may go without running a ready task.
LONGEST_GAP = 1.0
#: A test still running after this long has hung: the watchdog fails it.
WATCHDOG_SECONDS = 30
#: An "endless" answer stops here (three times the 16 MiB an answer may have) and waits, so
#: that a client without a cap holds it all (and times out) rather than fill the memory.
ENDLESS_STOP = 48 * 1024 * 1024


class Frozen(Exception):
    """Raised by the watchdog into a test whose event loop no longer comes back."""


@pytest.fixture
def watchdog() -> Iterator[None]:
    def fire(_signum: int, _frame: FrameType | None) -> None:
        raise Frozen(f"still running after {WATCHDOG_SECONDS} s: the event loop is stuck")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class LoopWatch:
    """Ticks every 10 ms and keeps the longest wait between ticks; collects what reaches
    the loop's exception handler (an exception a protocol callback let escape)."""

    def __init__(self) -> None:
        self.longest_gap = 0.0
        self.escaped: list[dict[str, Any]] = []

    async def tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            self.longest_gap = max(self.longest_gap, now - last)
            last = now

    def assert_calm(self) -> None:
        assert self.longest_gap < LONGEST_GAP, f"the loop stalled {self.longest_gap:.1f} s"
        assert not self.escaped, self.escaped


@pytest.fixture
async def loop_watch(watchdog: None) -> AsyncIterator[LoopWatch]:
    watch = LoopWatch()
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: watch.escaped.append(context))
    ticking = asyncio.create_task(watch.tick())
    try:
        yield watch
    finally:
        ticking.cancel()
        loop.set_exception_handler(previous)


def then_silence(answer: bytes) -> Behaviour:
    """Answers with `answer` and then says nothing more, keeping the connection open."""

    async def behaviour(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(answer)
        await writer.drain()
        await asyncio.Event().wait()

    return behaviour


def endless(head: bytes, piece: bytes) -> Behaviour:
    """Answers with `head`, then `piece` after `piece` (until `ENDLESS_STOP`)."""

    async def behaviour(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        for _ in range(ENDLESS_STOP // len(piece)):
            writer.write(piece)
            await writer.drain()
        await asyncio.Event().wait()

    return behaviour


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)


CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)
BIG_CHUNK = chunked(b"x" * 60_000)
NEGATIVE_CHUNK = CHUNKED_HEAD + b"-6\r\n{}\r\n0\r\n\r\n"

#: (behaviour, what the error says) for each way an answer can be hostile or broken.
HOSTILE = {
    # Minus six points back at the end of the head: a parser that believed it would go
    # round in circles there.
    "negative chunk size": (then_silence(NEGATIVE_CHUNK), "chunk size"),
    "chunk size over 16 hex digits": (
        then_silence(CHUNKED_HEAD + b"10000000000000000\r\n" + b"x" * 100),
        "chunk size",
    ),
    "endless chunked body": (endless(CHUNKED_HEAD, BIG_CHUNK), "16 MiB"),
    "endless body ended by the close": (
        endless(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", b"x" * 60_000),
        "16 MiB",
    ),
    "Content-Length over 16 MiB": (
        endless(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", b"x" * 60_000),
        "16 MiB",
    ),
    "endless header": (
        endless(b"HTTP/1.1 200 OK\r\n", b"X-Pad: " + b"a" * 990 + b"\r\n"),
        "header",
    ),
    "status code in superscript digits": (
        then_silence("HTTP/1.1 2²0 OK\r\nContent-Length: 2\r\n\r\n{}".encode("latin-1")),
        "status",
    ),
    "status code in Arabic-Indic digits": (
        then_silence("HTTP/1.1 ٢٠٠ OK\r\nContent-Length: 2\r\n\r\n{}".encode()),
        "status",
    ),
    "Content-Length in superscript digits": (
        then_silence("HTTP/1.1 200 OK\r\nContent-Length: 1²\r\n\r\n{}".encode("latin-1")),
        "Content-Length",
    ),
    "Content-Length in Arabic-Indic digits": (
        then_silence("HTTP/1.1 200 OK\r\nContent-Length: ٢\r\n\r\n{}".encode()),
        "Content-Length",
    ),
    "half an answer, then silence": (
        then_silence(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok":tr'),
        "timeout",
    ),
    "half a header, then silence": (then_silence(b"HTTP/1.1 200 OK\r\nContent-Le"), "timeout"),
}


def make_bot(origin: str, token: str = TOKEN) -> Bot:
    api = TelegramAPIServer.from_base(origin)
    return Bot(token, session=JsonBodySession(api=api, timeout=DEADLINE))


@pytest.fixture
async def healthy() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.user(USER_ID, "Анна")
        yield fake
    assert not fake.internal_errors, fake.internal_errors


class Traffic:
    """Sends message after message to the healthy server, counting those delivered."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.delivered = 0
        self._task = asyncio.create_task(self._send())

    async def _send(self) -> None:
        while True:
            await self.bot(SendText.of(USER_ID, f"Сообщение {self.delivered}", None))
            self.delivered += 1
            await asyncio.sleep(0.005)

    async def goes_on(self) -> None:
        """Returns once three more messages are delivered; raises what stopped them, if any."""
        target = self.delivered + 3
        async with asyncio.timeout(DEADLINE):
            while self.delivered < target:
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def side_by_side(
    behaviour: Behaviour, healthy: FakeTelegram
) -> AsyncIterator[tuple[Bot, Traffic]]:
    """A bot of an endpoint that answers with `behaviour`, and traffic to the healthy
    server going on meanwhile."""
    async with ScriptedServer(behaviour) as server:
        hostile_bot, healthy_bot = make_bot(server.origin), make_bot(healthy.base_url)
        traffic = Traffic(healthy_bot)
        try:
            yield hostile_bot, traffic
        finally:
            await traffic.stop()
            await hostile_bot.session.close()
            await healthy_bot.session.close()


@pytest.mark.parametrize(("behaviour", "says"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_answer_fails_its_request_alone(
    behaviour: Behaviour, says: str, healthy: FakeTelegram, loop_watch: LoopWatch
) -> None:
    loop = asyncio.get_running_loop()
    async with side_by_side(behaviour, healthy) as (bot, traffic):
        await traffic.goes_on()
        started = loop.time()
        with pytest.raises(TelegramNetworkError) as failure:
            await bot(AnswerPress.of("1"))
        took = loop.time() - started
        await traffic.goes_on()
    assert says.lower() in str(failure.value).lower()
    if says == "timeout":
        assert DEADLINE - 0.1 < took < DEADLINE + LONGEST_GAP
    else:
        assert took < DEADLINE / 2, "it failed on what it read, not by the deadline"
    loop_watch.assert_calm()


async def test_a_large_answer_in_one_byte_chunks_is_read_in_linear_time(
    healthy: FakeTelegram, loop_watch: LoopWatch
) -> None:
    """300,000 chunks of one byte, written a thousand at a time: a parser that went back
    to the start of the answer at each read would look at 45 million chunks."""
    body = b'{"ok":true,"result":true' + b" " * 299_975 + b"}"
    pieces = [
        chunked(*(body[at + n : at + n + 1] for n in range(1000)))
        for at in range(0, len(body), 1000)
    ]

    async def one_byte_chunks(_request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD)
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0)  # let the client read each piece on its own
        writer.write(b"0\r\n\r\n")

    loop = asyncio.get_running_loop()
    async with side_by_side(one_byte_chunks, healthy) as (bot, traffic):
        started = loop.time()
        assert await bot(AnswerPress.of("1")) is True
        took = loop.time() - started
        await traffic.goes_on()
    assert took < DEADLINE
    loop_watch.assert_calm()


class SabotagingProxy:
    """Stands between the bot and FakeTelegram, passing each request on and its answer
    back, except that a request about `victim`'s chat gets `hostile` bytes for an answer."""

    def __init__(self, fake: FakeTelegram, hostile: bytes) -> None:
        self.fake = fake
        self.hostile = hostile
        self.victim: int | None = None
        self.sabotaged = 0
        self._session = ClientSession()
        self._server = ScriptedServer(self._answer)

    async def __aenter__(self) -> SabotagingProxy:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.__aexit__(*exc_info)
        await self._session.close()

    @property
    def origin(self) -> str:
        return self._server.origin

    async def _answer(self, request: bytes, writer: asyncio.StreamWriter) -> None:
        head, _, body = request.partition(b"\r\n\r\n")
        if self.victim is not None and f'"chat_id":{self.victim}'.encode() in body:
            self.sabotaged += 1
            await then_silence(self.hostile)(request, writer)
            return
        path = head.split(b" ")[1].decode()
        content_type = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-type:")
        )
        async with self._session.post(
            self.fake.base_url + path, data=body, headers={"Content-Type": content_type}
        ) as response:
            status, answer = response.status, await response.read()
        writer.write(
            b"HTTP/1.1 %d -\r\nContent-Length: %d\r\n\r\n%s" % (status, len(answer), answer)
        )
        await writer.drain()


@pytest.mark.usefixtures("bot_database_pass")
async def test_the_bot_serves_everyone_else_while_one_chat_s_answers_are_hostile(
    server: FakeTelegram, tmp_path: Path, loop_watch: LoopWatch
) -> None:
    async with SabotagingProxy(server, NEGATIVE_CHUNK) as proxy:
        running = await start_bot(make_settings(server, tmp_path, telegram_api_url=proxy.origin))
        try:
            victim = Citizen(server, server.user(2001, "Борис"))
            await victim.command("/start")
            proxy.victim = victim.user.id
            victim.user.press_button("Согласен")
            await server.wait_for(lambda: proxy.sabotaged > 0)
            citizen = Citizen(server, server.user(2002, "Вера"))
            await citizen.command("/start")
            await citizen.tap("Согласен")
            assert "регион" in (await citizen.tap("Русский")).text.lower()
        finally:
            await running.stop()
    loop_watch.assert_calm()


#: A token of the real form, and the part of it that is secret.
SECRET_TOKEN = "123456789:AAH-secret-Part_of-the-token"
SECRET = SECRET_TOKEN.split(":")[1]


async def redirect_loop(request: bytes, writer: asyncio.StreamWriter) -> None:
    """Sends the request back to where it came from: aiohttp would follow it ten times."""
    path = request.split(b" ")[1]
    writer.write(
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % path
    )
    await writer.drain()


async def echo_as_answer(request: bytes, writer: asyncio.StreamWriter) -> None:
    """Sends the request back as if it were the answer: not HTTP, and it quotes the URL."""
    writer.write(request)
    await writer.drain()


async def echo_in_body(request: bytes, writer: asyncio.StreamWriter) -> None:
    """Answers with the request as the body of a page, as a debugging proxy might."""
    writer.write(
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n\r\n%s" % (len(request), request)
    )
    await writer.drain()


def assert_unseen(failure: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = "".join(traceback.format_exception(failure)) + str(failure) + repr(failure)
    assert SECRET not in shown
    assert SECRET not in caplog.text


@pytest.mark.parametrize("behaviour", [redirect_loop, echo_as_answer, echo_in_body])
@pytest.mark.parametrize("lane", ["aiohttp", "kept-alive"])
async def test_no_failure_shows_the_token(
    behaviour: Behaviour, lane: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(behaviour) as server:
        bot = make_bot(server.origin, SECRET_TOKEN)
        try:
            with pytest.raises((TelegramNetworkError, ClientDecodeError)) as failure:
                await (bot.get_me() if lane == "aiohttp" else bot(AnswerPress.of("1")))
        finally:
            await bot.session.close()
    assert len(server.requests) == 1, "a redirect is not followed"
    assert_unseen(failure.value, caplog)


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_redirect_loop_at_start_up_does_not_show_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(redirect_loop) as server:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            bot_token=SECRET_TOKEN,
            telegram_api_url=server.origin,
            **database_settings(tmp_path),
        )
        app = await Application.create(settings)
        with pytest.raises((TelegramNetworkError, ClientDecodeError)) as failure:
            await app.run_polling(polling_timeout=1, handle_signals=False)
    assert len(server.requests) == 1
    assert_unseen(failure.value, caplog)
