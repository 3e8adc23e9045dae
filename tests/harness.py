"""Runs the real bot (aiogram polling, a new database) against FakeTelegram.

Nothing of ours is mocked: the bot under test is the same `Application` that
`civicpulse run` starts, with TELEGRAM_API_URL pointing at the fake server. Its database is
SQLite in the test's temporary folder, or — in the PostgreSQL pass of a test that asks for
the `bot_database_pass` fixture — a new database of its own on the session's cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.chat.texts import Texts, age_band_label
from bot.sandbox.fake_telegram import (
    ChatMessage,
    FakeTelegram,
    FakeUser,
    RecordedRequest,
    buttons,
)
from bot.settings import Settings
from storage.wave_planning import WavePlan, create_wave
from surveys.model import DONT_KNOW, AnswerValue, Question, QuestionType, Survey

TOKEN = "123456:TEST-token"
#: The key that pseudonymises on a shared database, where no key file may be created.
SHARED_PSEUDONYM_KEY = "test-pseudonym-key-of-the-postgresql-pass"
#: Settings by which a test names its database itself.
DATABASE_SETTINGS = {"database_path", "database_url"}


@dataclass
class BotDatabase:
    """Where the bot under test keeps its data in the running test: set by the
    `bot_database_pass` fixture, read by `make_settings`."""

    #: Whether the running test asked for the fixture, and so runs in both passes.
    chosen: bool = False
    #: The PostgreSQL pass's database; None in the SQLite pass.
    url: str | None = None


#: The current test's database.
bot_database = BotDatabase()


def database_settings(directory: Path) -> dict[str, Any]:
    """The settings that put a bot's data in the current test's database."""
    if not bot_database.chosen:
        raise RuntimeError(
            "a test that starts the bot must ask for the bot_database_pass fixture"
            " (directly, through `running`, or with pytest.mark.usefixtures),"
            " so that it runs on both databases"
        )
    if bot_database.url is None:
        return {"database_path": directory / "civicpulse.db"}
    return {"database_url": bot_database.url, "pseudonym_key": SHARED_PSEUDONYM_KEY}


def database_environment(directory: Path) -> dict[str, str]:
    """`database_settings` as environment variables, for `civicpulse …` run by a test."""
    return {name.upper(): str(value) for name, value in database_settings(directory).items()}


def make_settings(server: FakeTelegram, directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": server.token,
        "telegram_api_url": server.base_url,
        **({} if DATABASE_SETTINGS & overrides.keys() else database_settings(directory)),
        "min_cell_size": 1,
        # Test citizens tap at machine speed; tests/test_throttle.py turns this back on.
        "throttle_rate": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningBot:
    app: Application
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop polling the way SIGTERM does and wait for the clean shutdown."""
        with contextlib.suppress(RuntimeError):
            await self.app.stop()
        await asyncio.wait_for(self.task, 20)


async def start_bot(settings: Settings) -> RunningBot:
    app = await Application.create(settings)
    task = asyncio.create_task(app.run_polling(polling_timeout=1, handle_signals=False))
    return RunningBot(app, task)


async def open_wave(
    app: Application,
    survey_id: str = "social_services",
    regions: Sequence[str] | None = None,
    tracks: str = "all",
) -> int:
    now = datetime.now(UTC)
    plan = WavePlan(survey_id, now - timedelta(seconds=1), now + timedelta(days=7), regions, tracks)  # type: ignore[arg-type]
    wave_id = await create_wave(app.store, app.surveys, plan)
    await app.scheduler.sweep()
    return wave_id


@dataclass(frozen=True)
class Groups:
    """Answers to the profile's optional questions, as stored (`yes`, `village`, …);
    `disability=None` declines its consent."""

    children: str = "undisclosed"
    disability: str | None = None
    settlement: str = "undisclosed"


_RUSSIAN = Texts("ru")


class Citizen:
    """A person in a private chat: types, taps buttons and waits to see the bot's reply."""

    def __init__(self, server: FakeTelegram, user: FakeUser) -> None:
        self.server = server
        self.user = user

    @property
    def last(self) -> ChatMessage:
        message = self.user.last_message
        assert message is not None, "the bot has not written to this chat"
        return message

    async def reply(self) -> ChatMessage:
        return await self.server.wait_for_message(self.user.id)

    async def command(self, command: str) -> ChatMessage:
        self.user.send_command(command)
        return await self.reply()

    async def say(self, text: str) -> ChatMessage:
        self.user.send_text(text)
        return await self.reply()

    async def tap(self, label: str) -> ChatMessage:
        """Press a button; returns the screen that results (the edited or a new message)."""
        newest = self.last.message_id
        pressed = next(
            m for m in reversed(self.user.messages) if any(label in b for b, _ in buttons(m))
        )
        query = self.user.press_button(label)
        await self.reply()
        await self.server.wait_for(lambda: self.server.callback_answer(query) is not None)
        messages = self.user.messages
        if messages[-1].message_id != newest:
            return messages[-1]
        return next(m for m in messages if m.message_id == pressed.message_id)

    async def press_data(self, message_id: int, data: str) -> str:
        """Press a button with any payload, forged or stale; returns the popup text shown."""
        query = self.user.press(message_id, data)
        await self.server.wait_for(lambda: self.server.callback_answer(query) is not None)
        return (self.server.callback_answer(query) or {}).get("text") or ""

    async def onboard(
        self,
        region_query: str,
        region: str,
        municipality: str | None,
        age: str,
        groups: Groups | None = None,
    ) -> ChatMessage:
        """Register in Russian up to the first question of an open wave; the optional
        questions are skipped unless `groups` answers them."""
        await self.command("/start")
        await self.tap("Согласен")
        await self.tap("Русский")
        await self.say(region_query)
        await self.tap(region)
        if municipality is None:
            await self.tap("Другой / не знаю")
        else:
            await self.say(municipality)
            await self.tap(municipality)
        await self.tap(age_band_label(age, _RUSSIAN))
        await self.answer_groups(groups)
        self.user.press_button("Всё верно")
        return await self.server.wait_for_message(
            self.user.id, lambda message: "вопрос 1 ·" in (message.text or "")
        )

    async def answer_groups(self, groups: Groups | None) -> ChatMessage:
        """Answer the optional questions from the first of them to the profile summary;
        None skips them all at once."""
        if groups is None:
            return await self.tap("Пропустить необязательные вопросы")
        await self.tap(_RUSSIAN(f"groups.answer.{groups.children}"))
        if groups.disability is None:
            await self.tap("Нет, не спрашивать")
        else:
            await self.tap("Да, спросите")
            await self.tap(_RUSSIAN(f"groups.answer.{groups.disability}"))
        return await self.tap(_RUSSIAN(f"groups.answer.{groups.settlement}"))

    def shown_question(self, survey: Survey) -> Question:
        text = self.last.text or ""
        matches = [q for q in survey.questions if q.text.ru in text]
        assert len(matches) == 1, f"cannot tell which question is shown: {text!r}"
        return matches[0]

    async def answer(self, question: Question, value: AnswerValue) -> ChatMessage:
        if value is None:
            return await self.tap("Пропустить")
        if question.type is QuestionType.NUMBER and value == DONT_KNOW:
            return await self.tap("Не помню")
        if question.type in (QuestionType.TEXT, QuestionType.NUMBER):
            assert isinstance(value, str | int)
            shown = self.last.message_id
            self.user.send_text(str(value))
            # The old question loses its keyboard first; the next question is a new message.
            return await self.server.wait_for_message(
                self.user.id, lambda message: message.message_id != shown
            )
        if isinstance(value, int):
            return await self.tap(str(value))
        chosen = [value] if isinstance(value, str) else value
        labels = [option.text.ru for option in question.options if option.id in chosen]
        if question.type is QuestionType.SINGLE:
            return await self.tap(labels[0])
        for label in labels:
            await self.tap(label)
        return await self.tap("Готово")

    async def complete(self, survey: Survey, plan: Mapping[str, AnswerValue]) -> list[str]:
        """Answer every question shown, from `plan`; returns the ids in the order asked."""
        asked: list[str] = []
        while buttons(self.last) or "символов" in (self.last.text or ""):
            question = self.shown_question(survey)
            asked.append(question.id)
            await self.answer(question, plan[question.id])
            if "Спасибо" in (self.last.text or ""):
                break
        return asked


async def stored_answers(app: Application, telegram_id: int) -> dict[str, AnswerValue]:
    rows = await app.database.fetch_all(
        "SELECT a.question_id, a.value FROM answers a JOIN responses r ON r.id = a.response_id"
        " JOIN respondents p ON p.id = r.respondent_id WHERE p.telegram_id = ?",
        (telegram_id,),
    )
    return {
        row["question_id"]: None if row["value"] is None else json.loads(row["value"])
        for row in rows
    }


async def table_snapshot(app: Application) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except dialog state, to prove bad input changed nothing."""
    listing = _TABLES[app.database.dialect.name]
    tables = [row["name"] for row in await app.database.fetch_all(listing)]
    return {
        table: [
            tuple(row) for row in await app.database.fetch_all(f"SELECT * FROM {table} ORDER BY 1")
        ]
        for table in sorted(tables)
        # Which instance sends: written by the bot's start-up, whenever that runs.
        if table != "sender_role"
    }


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "postgresql": "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
}


async def add_respondents(
    app: Application, people: Sequence[tuple[int, str, str]], language: str = "ru"
) -> None:
    """Registered citizens (telegram id, region code, age band), stored as onboarding would."""
    for telegram_id, region_code, age_band in people:
        await app.store.respondents.record_consent(telegram_id, language, "test")
        await app.store.respondents.update_profile(
            telegram_id, region_code=region_code, age_band=age_band
        )


def wave_messages(
    server: FakeTelegram, wave_id: int, *, reminders: bool = False, delivered: bool = True
) -> list[RecordedRequest]:
    """sendMessage requests carrying the wave's start button: invitations, or reminders.

    `delivered=False` includes the attempts Telegram refused (429, 403, ...).
    """
    data = f"sw:{wave_id}"
    found = []
    for request in server.calls("sendMessage"):
        markup = request.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        if not any(button.get("callback_data") == data for row in rows for button in row):
            continue
        text = str(request.params.get("text", ""))
        is_reminder = text.startswith(("<b>Напоминание", "<b>Reminder"))
        if is_reminder == reminders and (request.status == 200 or not delivered):
            found.append(request)
    return found


async def wait_until_sent(app: Application, wave_id: int, timeout: float = 20.0) -> None:
    """Wait until the wave's outbox has nothing waiting or in flight, all of it recorded."""

    async def settled() -> bool:
        return not await app.store.invitations.unsettled(wave_id) and app.broadcaster.idle

    await wait_until(settled, timeout, f"wave {wave_id} still sending after {timeout} s")


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0, message: str = ""
) -> None:
    """Like `FakeTelegram.wait_for`, for conditions that need the database to tell."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


async def wave_state(app: Application, wave_id: int) -> str | None:
    wave = await app.store.waves.get(wave_id)
    return wave.state if wave else None


def write_scale_survey(directory: Path, questions: int = 20, survey_id: str = "scale") -> Path:
    """A survey of `questions` 1-5 scale questions (no conditions, no skips) in `directory`:
    every step is one button press, which is what load and crash tests want to repeat."""
    directory.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f"  - id: q{n:02d}\n    type: likert5\n    topic: services\n"
        f"    text: {{ru: Оцените услугу номер {n}, en: Rate service number {n}}}\n"
        for n in range(1, questions + 1)
    )
    path = directory / f"{survey_id}.yaml"
    path.write_text(
        f"id: {survey_id}\nversion: 1\ntitle: {{ru: Шкала, en: Scale}}\n"
        "topics:\n  - id: services\n    title: {ru: Услуги, en: Services}\n"
        f"questions:\n{items}",
        encoding="utf-8",
    )
    return path
