"""/results says in words whether the citizen's region got better or worse since last time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from bot.chat import results_cache
from bot.chat.results_cache import ClosedWaveResults
from bot.sandbox.fake_telegram import FakeTelegram
from storage.change import ChangeError, WaveChange
from storage.database import Database
from tests.harness import (
    Citizen,
    RunningBot,
    add_respondents,
    make_settings,
    open_wave,
    start_bot,
    wave_messages,
)

NOVGOROD, SVERDLOVSK = "49", "65"
PEOPLE = [(5401, NOVGOROD, "18-24"), (5402, NOVGOROD, "45-54"), (5403, SVERDLOVSK, "25-30")]
#: Services, healthcare, schools, the change question, the recommendation (0–10), comment.
#: Everyone in Novgorod answers alike, so each cell has no spread and the change no doubt.
FIRST = ("1", "3", "Пропустить", "Не изменилась", "8", "Пропустить")
SECOND = ("4", "3", "Пропустить", "Не изменилась", "6", "Пропустить")
ELSEWHERE = ("3", "3", "Пропустить", "Не изменилась", "8", "Пропустить")


@pytest.fixture
async def running(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    running = await start_bot(make_settings(server, tmp_path))
    yield running  # the lines after yield run whatever the outcome of the test
    await running.stop()


async def closed_pulse(
    server: FakeTelegram, running: RunningBot, answers: Mapping[int, tuple[str, ...]]
) -> int:
    """A pulse wave everyone is invited to, answered with `answers` by label, then closed."""
    wave = await open_wave(running.app, survey_id="pulse", regions=[NOVGOROD, SVERDLOVSK])
    await server.wait_for(lambda: len(wave_messages(server, wave)) == len(answers), timeout=10)
    for user_id, labels in answers.items():
        citizen = Citizen(server, server.user(user_id))
        await citizen.tap("Пройти опрос")
        for label in labels:
            await citizen.tap(label)
        assert "Спасибо" in (citizen.last.text or "")
    assert await running.app.store.waves.transition(wave, ("open",), "closed")
    return wave


def line(message: str, start: str) -> str:
    return next(text for text in message.splitlines() if text.startswith(start))


async def test_results_say_what_got_better_worse_or_stayed_since_the_last_wave(
    server: FakeTelegram, running: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_respondents(running.app, PEOPLE)
    citizen = Citizen(server, server.user(5401))

    await closed_pulse(server, running, {5401: FIRST, 5402: FIRST, 5403: ELSEWHERE})
    first = (await citizen.command("/results")).raw_text or ""
    assert "Госуслуги в целом: <b>25,0</b>" in first
    assert "прошл" not in first  # the survey's first wave: nothing to compare with

    await closed_pulse(server, running, {5401: SECOND, 5402: SECOND, 5403: ELSEWHERE})
    second = (await citizen.command("/results")).raw_text or ""
    # Public services, the mean of services_overall and the change question ("no change",
    # 50): (0 + 50) / 2 = 25 then (75 + 50) / 2 = 62.5, everyone alike: +37.5 for sure.
    # The whole wave adds Sverdlovsk's (50 + 50) / 2 = 50: (62.5 + 62.5 + 50) / 3 = 58.3.
    assert line(second, "Госуслуги в целом").endswith(
        "<b>62,5</b> (58,3) — лучше, чем в прошлый раз: +37,5"
    )
    # Recommending the region, 8 then 6 of 10: 80 then 60.
    assert line(second, "Жизнь в регионе").endswith("— хуже, чем в прошлый раз: −20,0")
    # Healthcare answered 3 both times: 50 and 50, no change, and no figure for it.
    assert line(second, "Здравоохранение").endswith(
        "<b>50,0</b> (50,0) — без явных изменений с прошлого раза"
    )
    # Overall, on topics weighted 1, 1.5 and 0.5: (25 + 75 + 40) / 3 = 46.67 then
    # (62.5 + 75 + 30) / 3 = 55.83, so +9.17 as the file rounds it: +9.2.
    assert line(second, "Общий индекс").endswith("— лучше, чем в прошлый раз: +9,2")
    assert "Школы" not in second  # nobody in Novgorod rated schools either time

    await running.app.store.respondents.update_profile(5401, language="en")
    english = (await citizen.command("/results")).raw_text or ""
    assert line(english, "Public services overall").endswith("— better than last time: +37.5")
    assert line(english, "Living in the region").endswith("— worse than last time: −20.0")
    assert line(english, "Healthcare").endswith("— no clear change since last time")

    # Two waves that cannot be compared (no question asked alike): the scores, no word more.
    async def incomparable(*_: object) -> WaveChange:
        raise ChangeError("share no question asked the same way")

    monkeypatch.setattr(ClosedWaveResults, "change", incomparable)
    unchanged = (await citizen.command("/results")).raw_text or ""
    assert "Public services overall: <b>62.5</b> (58.3)" in unchanged
    assert "last time" not in unchanged


async def test_an_erasure_forgets_the_changes_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A change computed with an erased person's answers is computed again, without them."""
    computed: list[tuple[int, int]] = []

    async def compute(_: object, wave_id: int, against: int, **__: object) -> object:
        computed.append((wave_id, against))
        return object()

    monkeypatch.setattr(results_cache, "compute_change", compute)
    results = ClosedWaveResults(cast(Database, None), min_cell_size=1)
    first = await results.change(2, 1)
    assert await results.change(2, 1) is first and computed == [(2, 1)]
    results.forget()
    assert await results.change(2, 1) is not first and computed == [(2, 1), (2, 1)]


async def test_the_previous_wave_is_the_last_closed_one_of_the_same_survey(
    running: RunningBot,
) -> None:
    store = running.app.store
    surveys = running.app.surveys
    pulse = await store.surveys.store(surveys["pulse"].survey)
    other = await store.surveys.store(surveys["social_services"].survey)
    now = datetime.now(UTC)

    async def wave(version: int, ended_days_ago: int, state: str = "closed") -> int:
        ends = now - timedelta(days=ended_days_ago)
        wave_id = await store.waves.create(version, ends - timedelta(days=7), ends, None, "all")
        if state != "scheduled":
            await store.waves.transition(wave_id, ("scheduled",), state)  # type: ignore[arg-type]
        return wave_id

    oldest = await wave(pulse, 60)
    older = await wave(pulse, 30)
    await wave(pulse, 20, "cancelled")
    await wave(other, 10)  # another survey, however recent
    latest = await wave(pulse, 1)

    previous = await store.waves.previous_closed(latest)
    assert previous is not None and previous.id == older
    before_older = await store.waves.previous_closed(older)
    assert before_older is not None and before_older.id == oldest
    assert await store.waves.previous_closed(oldest) is None
