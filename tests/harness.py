"""Runs the real bot (aiogram polling, SQLite in a temporary folder) against FakeTelegram.

Nothing of ours is mocked: the bot under test is the same `Application` that
`civicpulse run` starts, with TELEGRAM_API_URL pointing at the fake server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram, FakeUser, buttons
from bot.settings import Settings
from storage.wave_planning import WavePlan, create_wave
from surveys.model import AnswerValue, Question, QuestionType, Survey

TOKEN = "123456:TEST-token"


def make_settings(server: FakeTelegram, directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": server.token,
        "telegram_api_url": server.base_url,
        "database_path": directory / "civicpulse.db",
        "min_cell_size": 1,
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
        self, region_query: str, region: str, municipality: str | None, age: str
    ) -> ChatMessage:
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
        await self.tap(f"{age} лет")
        self.user.press_button("Всё верно")
        return await self.server.wait_for_message(
            self.user.id, lambda message: "вопрос 1 /" in (message.text or "")
        )

    def shown_question(self, survey: Survey) -> Question:
        text = self.last.text or ""
        matches = [q for q in survey.questions if q.text.ru in text]
        assert len(matches) == 1, f"cannot tell which question is shown: {text!r}"
        return matches[0]

    async def answer(self, question: Question, value: AnswerValue) -> ChatMessage:
        if value is None:
            return await self.tap("Пропустить")
        if question.type is QuestionType.TEXT:
            assert isinstance(value, str)
            shown = self.last.message_id
            self.user.send_text(value)
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
    tables = [
        row["name"]
        for row in await app.database.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        table: [tuple(row) for row in await app.database.fetch_all(f"SELECT * FROM {table}")]
        for table in sorted(tables)
    }
