"""A restart resumes a questionnaire where it stopped; erasure erases everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Application
from bot.chat.texts import count
from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import Citizen, RunningBot, make_settings, open_wave, start_bot, stored_answers


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_restart_resumes_at_the_question_where_it_stopped(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path)
    first = await start_bot(settings)
    await open_wave(first.app, survey_id="pulse", regions=["65"])
    citizen = Citizen(server, server.user(3001, "Егор"))
    await citizen.onboard("Свердлов", "Свердловская", "Екатеринбург", "18-24")
    await citizen.tap("4")
    second_question = await citizen.tap("Пропустить")
    assert "вопрос 3 · 50%" in (second_question.text or "")
    await first.stop()

    second = await start_bot(settings)
    try:
        # The same message, still on screen after the restart, keeps working.
        resumed = await citizen.tap("5")
        assert "вопрос 4 · 66%" in (resumed.text or "")
        assert await stored_answers(second.app, 3001) == {
            "services_overall": 4,
            "healthcare_month": None,
            "schools_month": 5,
        }
        # /survey after a restart shows the current question again rather than restarting.
        again = await citizen.command("/survey")
        assert "вопрос 4 · 66%" in (again.text or "")
    finally:
        await second.stop()


async def erase(citizen: Citizen) -> None:
    """/delete_me, confirmed."""
    await citizen.command("/delete_me")
    done = await citizen.tap("Да, удалить")
    assert "удалены" in (done.text or "")


async def test_privacy_explains_and_delete_me_erases_everything(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(3002, "Жанна"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "31-35")
    await citizen.tap("3")
    assert await stored_answers(running.app, 3002) == {"services_overall": 3}

    privacy = await citizen.command("/privacy")
    assert "Что мы храним и зачем" in (privacy.text or "")

    await citizen.command("/delete_me")
    cancelled = await citizen.tap("Отмена")
    assert "Ничего не удалено" in (cancelled.text or "")
    assert await running.app.store.respondents.by_telegram_id(3002) is not None

    await erase(citizen)
    db = running.app.database
    for table in ("respondents", "responses", "answers", "fsm_states"):
        row = await db.fetch_one(f"SELECT count(*) AS n FROM {table}")
        assert row is not None and row["n"] == 0, table


async def test_english_speakers_get_english(server: FakeTelegram, running: RunningBot) -> None:
    citizen = Citizen(server, server.user(3003, "Jane", language_code="en"))
    consent = await citizen.command("/start")
    assert "To take part we need your consent" in (consent.text or "")
    russian = await citizen.tap("Русский")
    assert "нужно ваше согласие" in (russian.text or "")


def _traces(telegram_id: int, text: str) -> dict[str, bytes]:
    """How a Telegram id or a typed answer can sit in SQLite's files: the id as text (in
    the dialog's storage key), as a 6- or 8-byte big-endian integer (in a record), and the
    answer as UTF-8."""
    return {
        "id as text": str(telegram_id).encode(),
        "id as 8 bytes": telegram_id.to_bytes(8, "big"),
        "id as 6 bytes": telegram_id.to_bytes(6, "big"),
        "answer": text.encode(),
    }


#: For the tests that look for erased data in the bytes of SQLite's files, which a
#: PostgreSQL server keeps where the bot cannot see them.
IN_THE_SQLITE_FILES = pytest.mark.sqlite_only(
    "reads the bytes of the SQLite file and its write-ahead log"
)


def database_files(app: Application) -> list[Path]:
    """The SQLite database and its write-ahead log: where erased data could linger."""
    database = app.settings.database_path
    return [database, database.with_name(database.name + "-wal")]


def traces_found(files: list[Path], traces: dict[str, bytes]) -> set[str]:
    """Which of the named byte strings are in which of the files: "<name> in <file>"."""
    found = set()
    for path in files:
        data = path.read_bytes() if path.exists() else b""
        found |= {f"{name} in {path.name}" for name, trace in traces.items() if trace in data}
    return found


@IN_THE_SQLITE_FILES
async def test_erasure_leaves_no_bytes_in_the_database_or_its_log(
    server: FakeTelegram, running: RunningBot
) -> None:
    telegram_id = 7_301_234_567
    comment = "Мой-отзыв-про-поликлинику-QZX-41"
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(telegram_id, "Злата"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "31-35")
    plan = {
        "services_overall": 2,
        "healthcare_month": 3,
        "schools_month": None,
        "change_since_last_month": "worse",
        "recommend_region": 4,
        "comment": comment,
    }
    await citizen.complete(running.app.surveys["pulse"].survey, plan)
    assert (await stored_answers(running.app, telegram_id))["comment"] == comment
    files = database_files(running.app)
    traces = _traces(telegram_id, comment)
    # The check can fail: before the erasure the traces are there to be found (SQLite
    # stores an id of this size in six bytes; the eight-byte form is looked for anyway, and
    # shows up where the record's header before it ends in NULL columns' zero bytes).
    before = {name.split(" in ")[0] for name in traces_found(files, traces)}
    assert {"id as text", "id as 6 bytes", "answer"} <= before

    await erase(citizen)

    # Read while the bot still runs, as anyone with the files could.
    assert traces_found(files, traces) == set()
    assert files[1].stat().st_size == 0  # the log was cut, not only rewritten


@pytest.mark.parametrize(
    ("number", "russian", "english"),
    [
        (1, "1 день", "1 day"),
        (2, "2 дня", "2 days"),
        (4, "4 дня", "4 days"),
        (5, "5 дней", "5 days"),
        (11, "11 дней", "11 days"),
        (14, "14 дней", "14 days"),
        (21, "21 день", "21 days"),
        (22, "22 дня", "22 days"),
        (30, "30 дней", "30 days"),
        (111, "111 дней", "111 days"),
        (101, "101 день", "101 days"),
    ],
)
def test_counts_take_each_languages_plural_form(number: int, russian: str, english: str) -> None:
    assert count(number, "days", "ru") == russian
    assert count(number, "days", "en") == english


@pytest.mark.usefixtures("bot_database_pass")
async def test_privacy_says_what_remains_after_erasure_and_for_how_long(
    server: FakeTelegram, tmp_path: Path
) -> None:
    running = await start_bot(make_settings(server, tmp_path, backup_retention_days=21))
    try:
        russian = await Citizen(server, server.user(3101, "Ия")).command("/privacy")
        english = await Citizen(server, server.user(3102, "Ann", language_code="en")).command(
            "/privacy"
        )
    finally:
        await running.stop()
    assert "Что остаётся после удаления" in (russian.text or "")
    assert "срок их хранения — 21 день" in (russian.text or "")
    assert "идентификаторы администраторов" in (russian.text or "")
    assert "What remains after erasure" in (english.text or "")
    assert "at most 21 days" in (english.text or "")
    assert "administrators' ids" in (english.text or "")
