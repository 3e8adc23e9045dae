"""Crash safety: kill -9 at any moment loses no acknowledged answer; SIGTERM shuts down cleanly.

The bot runs as its own process (`python -m bot run`), the fake Bot API server in the
test. An answer counts as acknowledged once the server has recorded the bot's reply to it
(the question message edited into the next question): that is the moment a citizen
believes the answer was taken, so it must be in the database whatever happens next.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram, FakeUser, buttons
from bot.settings import Settings
from storage.connect import open_database
from storage.store import Store
from tests.bot_process import BotProcess, bot_environment, seed_wave
from tests.database_peek import peek, peek_one
from tests.harness import (
    Citizen,
    make_settings,
    open_wave,
    start_bot,
    table_snapshot,
    wave_messages,
)
from tests.harness import stored_answers as stored_answers_of

QUESTIONS = 8
FIRST_ID = 810_000
_POSITION = re.compile(r"вопрос (\d+) ·")
#: How long a citizen waits for a reply before pressing again (the bot may be dead).
PATIENCE = 3.0


def planned_value(user_id: int, position: int) -> int:
    """What a citizen answers at a question: the same on every retry, as a person would."""
    return 1 + (user_id + position) % 5


@dataclass
class AnsweringCitizen:
    """Answers a survey through whatever happens to the bot, pressing again when ignored."""

    server: FakeTelegram
    user: FakeUser
    acknowledged: dict[int, int] = field(default_factory=dict)  # position -> value
    #: Presses of each button at once: 2 is a double tap, whose copies may reach two
    #: instances of the bot at the same moment.
    presses: int = 1
    #: Presses the bot left unanswered for PATIENCE, so that the citizen pressed again.
    ignored: int = 0

    def screen(self) -> tuple[ChatMessage | None, int | None]:
        """The survey message and the question on it (QUESTIONS + 1 once thanked)."""
        for message in reversed(self.user.messages):
            text = message.text or ""
            if "Спасибо" in text:
                return message, QUESTIONS + 1
            match = _POSITION.search(text)
            if match and buttons(message):
                return message, int(match.group(1))
        return None, None

    async def answer_everything(self) -> None:
        while True:
            message, position = self.screen()
            if position is not None and position > QUESTIONS:
                return
            version = self.server.chat_version(self.user.id)
            if message is None or position is None:
                # Not waiting for an invitation, which is the broadcaster's business. Once a
                # question was shown, though, the dialog must resume without /survey.
                assert not self.acknowledged, f"{self.user.id} lost the survey message"
                self.user.send_command("/survey")
            else:
                value = planned_value(self.user.id, position)
                data = next(d for label, d in buttons(message) if label == str(value))
                for _ in range(self.presses):
                    self.user.press(message.message_id, data)
            try:
                await self.server.wait_for(
                    lambda v=version: self.server.chat_version(self.user.id) > v, PATIENCE
                )
            except AssertionError:  # ignored: press again, as people do
                self.ignored += 1
            _, now_at = self.screen()
            if position is not None and now_at is not None and now_at > position:
                self.acknowledged[position] = planned_value(self.user.id, position)


@dataclass
class Trap:
    """A server watcher that acts once, when armed, at a coming change in any chat.

    It runs inside the server's handling of the bot's request: the bot has sent its reply
    and is waiting for the answer, the moment between "stored" and "acknowledged".
    """

    action: Callable[[], None]
    _when: Callable[[], bool] | None = None

    @property
    def armed(self) -> bool:
        return self._when is not None

    def arm(self, when: Callable[[], bool] = lambda: True) -> None:
        """Act at the first change after which `when()` holds: checked by the server as the
        change happens, where a test polling for it would overshoot by whatever the bot
        did in a poll's 10 ms."""
        self._when = when

    def disarm(self) -> None:
        self._when = None

    def __call__(self, chat_id: int) -> None:
        if self._when is not None and self._when():
            self._when = None
            self.action()


def describe(citizens: list[AnsweringCitizen], bot: BotProcess) -> str:
    """Who is stuck where, and what the bot logged: what a failure needs to be understood."""
    lines = []
    for citizen in citizens:
        _, position = citizen.screen()
        if position is None or position <= QUESTIONS:
            seen = [
                (m.message_id, (m.text or "")[:30], buttons(m)[:2]) for m in citizen.user.messages
            ]
            lines.append(f"stuck {citizen.user.id} at {position}: {seen}")
    lines += [line for line in bot.log().splitlines() if "apscheduler" not in line][-60:]
    return "\n".join(lines)


def stored_answers(settings: Settings) -> dict[tuple[int, int], int]:
    """(telegram id, question position) -> stored value, read with the bot stopped."""
    rows = peek(
        settings,
        "SELECT p.telegram_id, a.question_id, a.value FROM answers a"
        " JOIN responses r ON r.id = a.response_id JOIN respondents p ON p.id = r.respondent_id",
    )
    return {(user, int(question[1:])): json.loads(value) for user, question, value in rows}


def unstored(citizens: list[AnsweringCitizen], settings: Settings) -> list[tuple[int, int, int]]:
    stored = stored_answers(settings)
    return [
        (citizen.user.id, position, value)
        for citizen in citizens
        for position, value in citizen.acknowledged.items()
        if stored.get((citizen.user.id, position)) != value
    ]


def assert_sqlite_file_sound(settings: Settings, *, closed: bool) -> None:
    """On SQLite the bot's own process writes the file, so a kill can cut a write short:
    every page and index must still be sound, and after a clean stop no write-ahead log
    is left (the last connection checkpoints it into the file and removes it). On
    PostgreSQL the server writes the pages, and nothing of the bot's end shows there."""
    if settings.database_url is not None:
        return
    if closed:
        assert not settings.database_path.with_name(f"{settings.database_path.name}-wal").exists()
    assert peek_one(settings, "PRAGMA integrity_check") == ("ok",)


def wave_states(settings: Settings) -> dict[int, str]:
    """Wave id -> state, as committed."""
    return dict(peek(settings, "SELECT id, state FROM waves"))


@pytest.mark.usefixtures("bot_database_pass")
async def test_kill_9_at_random_moments_loses_no_acknowledged_answer(
    server: FakeTelegram, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    ids = list(range(FIRST_ID, FIRST_ID + 12))
    wave_id = await seed_wave(tmp_path, ids, QUESTIONS)
    env = bot_environment(
        server, tmp_path, surveys_dir=str(tmp_path / "surveys"), throttle_rate="0"
    )
    bot = BotProcess(env, tmp_path)
    citizens = [AnsweringCitizen(server, server.user(user_id, "Житель")) for user_id in ids]
    settings = make_settings(server, tmp_path)
    await bot.start()
    answering = [asyncio.create_task(citizen.answer_everything()) for citizen in citizens]

    def replied() -> int:
        """Answers the bot has acknowledged by now, read off the citizens' screens."""
        return sum(max((citizen.screen()[1] or 1) - 1, 0) for citizen in citizens)

    # One trap kills between the bot's request and its answer; the other only marks the
    # moment, and the kill that follows it lands wherever the bot is in its work.
    in_request = Trap(lambda: os.kill(bot.pid, signal.SIGKILL))
    in_work = Trap(lambda: None)
    stop_watching = [server.watch(in_request), server.watch(in_work)]
    replied_at_kills: list[int] = []
    try:
        for _ in range(5):
            target = replied() + rng.randint(3, 10)
            trap = in_request if rng.random() < 0.5 else in_work
            trap.arm(lambda target=target: replied() >= target)
            await server.wait_for(
                lambda trap=trap: not trap.armed or all(t.done() for t in answering),
                timeout=60,
            )
            trap.disarm()
            replied_at_kills.append(replied())
            status = await bot.kill()
            assert status == -signal.SIGKILL
            assert unstored(citizens, settings) == [], bot.log()[-2000:]
            await bot.start()
        # Every kill interrupted the answering, however fast the machine answers.
        assert max(replied_at_kills) < len(ids) * QUESTIONS, replied_at_kills
        await asyncio.wait_for(asyncio.gather(*answering), 120)
        await bot.serving()  # SIGTERM for the bot, not for a Python still loading modules
        assert await bot.terminate() == 0, bot.log()[-2000:]
    finally:
        for stop in stop_watching:
            stop()
        for task in answering:
            task.cancel()
        if bot.running:
            await bot.kill()
        print(describe(citizens, bot))  # shown by pytest only when the test fails

    assert_sqlite_file_sound(settings, closed=True)  # before a read of ours opens the file
    # Once shown a question, nobody needed /survey again: each dialog resumed where it was.
    stored = stored_answers(settings)
    assert stored == {
        (user_id, position): planned_value(user_id, position)
        for user_id in ids
        for position in range(1, QUESTIONS + 1)
    }
    assert wave_states(settings) == {wave_id: "open"}
    assert peek_one(
        settings,
        "SELECT count(*) FROM responses WHERE wave_id = ? AND completed_at IS NOT NULL",
        (wave_id,),
    ) == (len(ids),)
    assert bot.starts == 6


@pytest.mark.usefixtures("bot_database_pass")
async def test_sigterm_finishes_the_work_in_flight_and_closes_the_database(
    server: FakeTelegram, tmp_path: Path
) -> None:
    user_id = FIRST_ID + 500
    await seed_wave(tmp_path, [user_id], QUESTIONS)
    env = bot_environment(server, tmp_path, surveys_dir=str(tmp_path / "surveys"))
    bot = BotProcess(env, tmp_path)
    citizen = AnsweringCitizen(server, server.user(user_id, "Жительница"))
    await bot.start()
    answering = asyncio.create_task(citizen.answer_everything())

    def terminate() -> None:
        answering.cancel()  # no press after this one: the bot is going away
        bot.send_signal(signal.SIGTERM)

    trap = Trap(terminate)
    stop_watching = server.watch(trap)
    try:
        await server.wait_for(lambda: len(citizen.acknowledged) >= 3, timeout=30)
        trap.arm()  # SIGTERM while the bot waits for Telegram's answer to a reply
        status = await bot.wait()
    finally:
        stop_watching()
        answering.cancel()
        if bot.running:
            await bot.kill()

    assert status == 0, bot.log()[-2000:]
    # The update being handled at SIGTERM was finished: its button press was answered.
    assert server.unanswered_callbacks() == []
    assert "Polling stopped" in bot.log()
    settings = make_settings(server, tmp_path)
    assert_sqlite_file_sound(settings, closed=True)
    _, position = citizen.screen()
    assert position is not None and position >= 4
    stored = stored_answers(settings)
    assert stored == {(user_id, p): planned_value(user_id, p) for p in range(1, position)}


@pytest.mark.parametrize(
    ("run_args", "serving"),
    [
        ((), "Start polling"),
        (("--webhook", "https://bot.example.org/hook", "--listen", "127.0.0.1:0"), "serving"),
    ],
    ids=["polling", "webhook"],
)
@pytest.mark.usefixtures("bot_database_pass")
async def test_sigterm_while_starting_stops_cleanly_before_serving(
    server: FakeTelegram, tmp_path: Path, run_args: tuple[str, ...], serving: str
) -> None:
    wave_id = await seed_wave(tmp_path, [FIRST_ID + 600], QUESTIONS)
    # A webhook on PostgreSQL, shared by instances behind one proxy, wants a fixed secret.
    env = bot_environment(
        server, tmp_path, surveys_dir=str(tmp_path / "surveys"), webhook_secret="crash-test"
    )
    bot = BotProcess(env, tmp_path, run_args=run_args)
    server.response_delay = 1.0  # Telegram slow to answer: start-up hangs in the commands
    await bot.start()
    try:
        await server.wait_for(lambda: server.requests_in_flight > 0, timeout=30)
        bot.send_signal(signal.SIGTERM)
        status = await bot.wait()
    finally:
        if bot.running:
            await bot.kill()

    assert status == 0, bot.log()[-2000:]
    assert "received SIGTERM while starting" in bot.log()
    assert serving not in bot.log()
    assert server.calls("getUpdates") == server.calls("setWebhook") == []
    settings = make_settings(server, tmp_path)
    assert_sqlite_file_sound(settings, closed=True)
    # Nothing was served: the wave the bot would open at start is still only planned.
    assert wave_states(settings) == {wave_id: "scheduled"}


TWO_TEXTS = """\
id: notes
version: 1
title: {ru: Заметки, en: Notes}
topics:
  - id: services
    title: {ru: Услуги, en: Services}
questions:
  - id: rating
    type: likert5
    topic: services
    text: {ru: Оцените услуги, en: Rate the services}
  - id: liked
    type: text
    topic: services
    text: {ru: "Что понравилось?", en: "What did you like?"}
  - id: disliked
    type: text
    topic: services
    text: {ru: "Что не понравилось?", en: "What did you dislike?"}
"""


class Redelivery:
    """Records the updates users send, to deliver one again as Telegram does after a restart.

    (The fake server gives the copy a new update_id; nothing in the bot looks at it.)
    """

    def __init__(self, server: FakeTelegram) -> None:
        self.sent: list[dict[str, object]] = []
        self._push = server.push_update
        server.push_update = self._record  # type: ignore[method-assign]

    def _record(self, update: dict[str, object]) -> int:
        self.sent.append(update)
        return self._push(update)

    def again(self) -> None:
        self._push(dict(self.sent[-1]))


@pytest.mark.usefixtures("bot_database_pass")
async def test_an_update_delivered_twice_changes_nothing_the_second_time(
    server: FakeTelegram, tmp_path: Path
) -> None:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "notes.yaml").write_text(TWO_TEXTS, encoding="utf-8")
    running = await start_bot(make_settings(server, tmp_path, surveys_dir=surveys))
    redelivery = Redelivery(server)
    citizen = Citizen(server, server.user(820_001, "Инна"))

    async def then_again(step: Callable[[], Awaitable[object]]) -> None:
        await step()
        await server.wait_until_idle()
        before = await table_snapshot(running.app)
        redelivery.again()
        await server.wait_until_idle()
        assert await table_snapshot(running.app) == before, redelivery.sent[-1]

    try:
        await open_wave(running.app, survey_id="notes", regions=["49"])
        await then_again(lambda: citizen.command("/start"))
        await then_again(lambda: citizen.tap("Согласен"))
        await then_again(lambda: citizen.tap("Русский"))
        await then_again(lambda: citizen.say("Новгород"))
        await then_again(lambda: citizen.tap("Новгородская"))
        await then_again(lambda: citizen.tap("Другой / не знаю"))
        await then_again(lambda: citizen.tap("36–44 года"))
        await then_again(lambda: citizen.tap("Пропустить необязательные вопросы"))
        await then_again(lambda: citizen.tap("Всё верно"))
        await then_again(lambda: citizen.tap("4"))
        await then_again(lambda: citizen.say("Вежливые сотрудники"))
        await then_again(lambda: citizen.say("Долгие очереди"))
        assert any("Спасибо" in (m.text or "") for m in citizen.user.messages)
        assert await stored_answers_of(running.app, 820_001) == {
            "rating": 4,
            "liked": "Вежливые сотрудники",
            "disliked": "Долгие очереди",
        }
        assert server.internal_errors == []
    finally:
        await running.stop()


async def add_waves_around(settings: Settings) -> tuple[int, int]:
    """A wave that ended while the bot was down, and one that starts tomorrow."""
    database = await open_database(settings)
    try:
        store = Store(database)
        (version_id,) = [
            row["id"] for row in await database.fetch_all("SELECT id FROM survey_versions")
        ]
        now = datetime.now(UTC)
        ended = await store.waves.create(
            version_id, now - timedelta(days=2), now - timedelta(days=1), None, "all"
        )
        later = await store.waves.create(
            version_id, now + timedelta(days=1), now + timedelta(days=2), None, "all"
        )
        return ended, later
    finally:
        await database.close()


def outbox_rows(settings: Settings, wave_id: int) -> dict[int, str]:
    """Telegram id -> invitation state, as committed while the bot runs."""
    rows = peek(
        settings,
        "SELECT p.telegram_id, i.state FROM invitations i"
        " JOIN respondents p ON p.id = i.respondent_id"
        " WHERE i.wave_id = ? AND i.kind = 'invitation'",
        (wave_id,),
    )
    return dict(rows)


@pytest.mark.usefixtures("bot_database_pass")
async def test_kill_9_during_a_broadcast_invites_everyone_at_most_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    rng = random.Random(7)
    ids = list(range(FIRST_ID + 1000, FIRST_ID + 1240))
    settings = make_settings(server, tmp_path)
    wave_id = await seed_wave(tmp_path, ids, QUESTIONS)
    ended, later = await add_waves_around(settings)
    env = bot_environment(
        server, tmp_path, surveys_dir=str(tmp_path / "surveys"), broadcast_rate="120"
    )
    bot = BotProcess(env, tmp_path)

    def delivered() -> list[int]:
        return [r.params["chat_id"] for r in wave_messages(server, wave_id)]

    def settled() -> bool:
        states = outbox_rows(settings, wave_id)
        return len(states) == len(ids) and not {"pending", "claimed", "sending"} & set(
            states.values()
        )

    trap = Trap(lambda: os.kill(bot.pid, signal.SIGKILL))
    stop_watching = server.watch(trap)
    await bot.start()
    try:
        for _ in range(3):
            target = len(delivered()) + rng.randint(20, 50)
            await server.wait_for(lambda target=target: len(delivered()) >= target, timeout=30)
            if rng.random() < 0.5:
                trap.arm()  # kill while Telegram is taking an invitation
                await server.wait_for(lambda: not trap.armed, timeout=10)
            assert await bot.kill() == -signal.SIGKILL
            await bot.start()
        await server.wait_for(settled, timeout=60)
        await bot.serving()  # everything may have settled before the last kill
        assert await bot.terminate() == 0
    finally:
        stop_watching()
        if bot.running:
            await bot.kill()
        print(describe([], bot))  # shown by pytest only when the test fails

    sent = delivered()
    assert len(sent) == len(set(sent)), "someone was invited twice"
    states = outbox_rows(settings, wave_id)
    missed = set(ids) - set(sent)
    # The documented gap (bot/waves/broadcast.py): a kill between committing `sending` and the
    # request reaching Telegram leaves the row `unconfirmed` and unsent. Nobody else.
    assert all(states[user_id] == "unconfirmed" for user_id in missed), missed
    assert len(missed) <= 3 * 16
    assert wave_states(settings) == {wave_id: "open", ended: "closed", later: "scheduled"}
