"""Waves on the calendar: opened and closed on time, the right people invited, reminded once.

Everything runs through the real bot and the fake Bot API server, on each database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram, buttons
from bot.settings import Settings
from bot.waves.scheduler import WaveScheduler
from storage.backend import Backend
from storage.clock import from_db
from storage.connect import open_database
from storage.repositories.waves import TrackSelection, Wave
from storage.store import Store
from storage.wave_planning import WavePlan, create_wave
from surveys.loader import load_surveys
from surveys.model import AnswerValue
from tests.harness import (
    Citizen,
    RunningBot,
    add_respondents,
    make_settings,
    start_bot,
    stored_answers,
    wait_until,
    wait_until_sent,
    wave_messages,
    wave_state,
)

PULSE_ANSWERS: dict[str, AnswerValue] = {
    "services_overall": 4,
    "healthcare_month": None,
    "schools_month": 3,
    "change_since_last_month": "same",
    "recommend_region": 7,
    "comment": None,
}


async def plan_wave(
    running: RunningBot,
    start_in: timedelta,
    *,
    regions: list[str] | None = None,
    tracks: TrackSelection = "all",
    remind_after_hours: float | None = None,
    lasts: timedelta = timedelta(days=7),
) -> int:
    app = running.app
    start = datetime.now(UTC) + start_in
    plan = WavePlan("pulse", start, start + lasts, regions, tracks, remind_after_hours)
    wave_id = await create_wave(app.store, app.surveys, plan)
    await app.scheduler.sweep()  # what a running bot's next sweep would do
    return wave_id


async def test_a_wave_opens_at_its_start_and_invites_exactly_its_audience(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    await add_respondents(
        app,
        [
            (5001, "49", "18-24"),  # Novgorod, youth: invited
            (5002, "65", "31-35"),  # Sverdlovsk, youth: invited
            (5003, "49", "45-54"),  # general track: not invited
            (5004, "05", "18-24"),  # another region: not invited
            (5005, "65", "25-30"),  # inactive (blocked the bot earlier): not invited
        ],
    )
    await app.store.respondents.set_active(5005, False)
    await app.store.respondents.record_consent(5006, "ru", "test")  # profile unfinished

    wave_id = await plan_wave(running, timedelta(seconds=2), regions=["49", "65"], tracks="youth")
    wave = await app.store.waves.get(wave_id)
    assert wave is not None and wave.state == "scheduled"
    assert await app.database.fetch_all("SELECT * FROM invitations") == []

    await server.wait_for(lambda: len(wave_messages(server, wave_id)) == 2, timeout=10)
    await wait_until_sent(app, wave_id)

    opened = await app.store.waves.get(wave_id)
    assert opened is not None and opened.state == "open"
    rows = await app.database.fetch_all("SELECT created_at FROM invitations")
    assert all(from_db(row["created_at"]) >= wave.starts_at for row in rows), "opened early"
    invited = Counter(request.params["chat_id"] for request in wave_messages(server, wave_id))
    assert invited == {5001: 1, 5002: 1}

    # The invitation is in the respondent's language, names the survey and starts it.
    invitation = server.last_message(5001)
    assert invitation is not None
    assert "Ежемесячный опрос о работе госуслуг" in (invitation.text or "")
    assert buttons(invitation) == [("▶️ Пройти опрос", f"sw:{wave_id}")]
    citizen = Citizen(server, server.user(5001))
    first = await citizen.tap("Пройти опрос")
    assert "вопрос 1 ·" in (first.text or "")


async def pulse_stored(settings: Settings) -> tuple[Backend, Store, int]:
    """The database as a wave is planned on it before the bot starts: the example survey
    stored, its version id to plan with. The caller closes the database."""
    database = await open_database(settings)
    store = Store(database)
    return database, store, await store.surveys.store(load_surveys(settings.surveys_dir)["pulse"])


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_start_and_an_end_missed_while_the_bot_was_down_are_caught_up_at_start(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path)
    database, store, version = await pulse_stored(settings)
    now = datetime.now(UTC)
    # Planned earlier: one should have opened an hour ago, the other is over by now.
    late = await store.waves.create(
        version, now - timedelta(hours=1), now + timedelta(days=1), None, "all"
    )
    over = await store.waves.create(
        version, now - timedelta(days=2), now - timedelta(days=1), None, "all"
    )
    await store.respondents.record_consent(5101, "en", "test")
    await store.respondents.update_profile(5101, region_code="49", age_band="45-54")
    await database.close()

    running = await start_bot(settings)
    try:
        await server.wait_for(lambda: len(wave_messages(server, late)) == 1, timeout=10)
        assert await wave_state(running.app, late) == "open"
        assert await wave_state(running.app, over) == "closed"
        assert wave_messages(server, over, delivered=False) == []
        english = server.last_message(5101)
        assert english is not None and "Monthly public services pulse" in (english.text or "")
    finally:
        await running.stop()


async def test_reminders_reach_only_those_who_have_not_completed_and_only_once(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    survey = app.surveys["pulse"].survey
    await add_respondents(app, [(5201, "49", "18-24"), (5202, "49", "55-64")])
    # Reminders one second after each invitation, so the test need not wait hours.
    wave_id = await plan_wave(running, timedelta(0), remind_after_hours=1 / 3600)
    await server.wait_for(lambda: len(wave_messages(server, wave_id)) == 2, timeout=10)

    finisher = Citizen(server, server.user(5201))
    await finisher.tap("Пройти опрос")
    await finisher.complete(survey, PULSE_ANSWERS)
    assert "Спасибо" in (finisher.last.text or "")

    await server.wait_for(
        lambda: len(wave_messages(server, wave_id, reminders=True)) == 1, timeout=10
    )
    await wait_until_sent(app, wave_id)
    reminded = [r.params["chat_id"] for r in wave_messages(server, wave_id, reminders=True)]
    assert reminded == [5202]

    # Later sweeps owe nobody anything more.
    await app.scheduler.sweep()
    await wait_until_sent(app, wave_id)
    assert len(wave_messages(server, wave_id, reminders=True)) == 1
    rows = await app.database.fetch_all(
        "SELECT respondent_id, COUNT(*) AS n FROM invitations WHERE kind = 'reminder'"
        " GROUP BY respondent_id"
    )
    assert [row["n"] for row in rows] == [1]

    # The reminder's button resumes the survey for the one who has not finished.
    late = Citizen(server, server.user(5202))
    resumed = await late.tap("Продолжить опрос")
    assert "вопрос 1 ·" in (resumed.text or "")


async def test_a_wave_closes_at_its_end_and_then_refuses_answers(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    await add_respondents(app, [(5301, "65", "36-44")])
    wave_id = await plan_wave(running, timedelta(0), lasts=timedelta(seconds=3))
    await server.wait_for(lambda: len(wave_messages(server, wave_id)) == 1, timeout=10)
    citizen = Citizen(server, server.user(5301))
    question = await citizen.tap("Пройти опрос")
    assert "вопрос 1 ·" in (question.text or "")

    async def closed() -> bool:
        return await wave_state(app, wave_id) == "closed"

    await wait_until(closed, timeout=10)
    first_answer = buttons(question)[0][1]
    refusal = await citizen.press_data(question.message_id, first_answer)
    assert "закрыт" in refusal
    assert await stored_answers(app, 5301) == {}
    again = await citizen.tap("Пройти опрос")
    assert "закрыт" in (again.text or "")


async def test_blocking_and_unblocking_the_bot_switches_invitations_off_and_on(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    await add_respondents(app, [(5401, "49", "18-24")])
    user = server.user(5401)
    user.block()

    async def active() -> bool:
        respondent = await app.store.respondents.by_telegram_id(5401)
        return respondent is not None and respondent.active

    async def inactive() -> bool:
        return not await active()

    await wait_until(inactive)
    user.unblock()
    await wait_until(active)


@pytest.mark.usefixtures("bot_database_pass")
async def test_stopping_lets_a_sweep_that_is_opening_a_wave_finish(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path)
    database, store, version = await pulse_stored(settings)
    now = datetime.now(UTC)
    wave_id = await store.waves.create(version, now, now + timedelta(days=1), None, "all")
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def slow_open(wave: Wave) -> None:  # queuing a large wave's invitations
        entered.set()
        await release.wait()
        finished.append(wave.id)

    scheduler = WaveScheduler(store, on_open=slow_open)
    try:
        await scheduler.start()
        await asyncio.wait_for(entered.wait(), 10)
        stopping = asyncio.create_task(scheduler.shutdown())
        await asyncio.sleep(0.2)
        assert not stopping.done(), "shutdown did not wait for the sweep"
        release.set()
        await asyncio.wait_for(stopping, 10)
        assert finished == [wave_id]
    finally:
        await database.close()
