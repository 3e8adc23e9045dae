"""A citizen's turn on PostgreSQL reads the dialog and the respondent as the previous
holder left them, even when it had to wait for that holder: the reads run after the lock
is granted, never with a snapshot from before the wait."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import orjson
import pytest
from aiogram.fsm.storage.base import StorageKey

from storage.coordination import CitizenReading
from storage.fsm import DialogStorage
from storage.postgres import PostgresDatabase
from storage.repositories.responses import AnswerRecord
from storage.store import Store
from tests.store_data import BAND, citizen, open_wave

pytestmark = pytest.mark.postgresql

CITIZEN = 7_100_000_001


@pytest.fixture
async def two_instances(postgres_url: str) -> AsyncIterator[tuple[PostgresDatabase, ...]]:
    """Two databases opened apart, as two bot processes would: no connection shared."""
    first = await PostgresDatabase.open(postgres_url)
    second = await PostgresDatabase.open(postgres_url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _read_in_turn(database: PostgresDatabase) -> CitizenReading:
    async with database.citizen_turn(CITIZEN) as reading:
        return reading


async def test_a_turn_taken_after_a_wait_reads_what_the_holder_committed(
    two_instances: tuple[PostgresDatabase, ...],
) -> None:
    first, second = two_instances
    key = StorageKey(bot_id=1, chat_id=CITIZEN, user_id=CITIZEN)
    async with first.citizen_turn(CITIZEN) as before:
        assert before.respondent is None and list(before.dialogs) == []
        waiting = asyncio.create_task(_read_in_turn(second))
        await asyncio.sleep(0.5)  # the second instance's call is on the server, waiting
        assert not waiting.done()
        await Store(first).respondents.record_consent(CITIZEN, "en", "v1")
        await DialogStorage(first).set_data(key, {"question": 3})
    async with asyncio.timeout(10):
        reading = await waiting
    assert reading.respondent is not None
    assert (reading.respondent.telegram_id, reading.respondent.language) == (CITIZEN, "en")
    ((storage_key, state, data),) = reading.dialogs
    assert storage_key.endswith(f":{CITIZEN}:{CITIZEN}:default") and state is None
    assert orjson.loads(data) == {"question": 3}


async def test_the_dialog_kept_for_a_turn_is_the_one_read_in_it(
    two_instances: tuple[PostgresDatabase, ...],
) -> None:
    """The FSM storage keeps what the turn read: a dialog changed by another instance
    meanwhile is seen, and a dialog that has no row reads as empty without a query."""
    first, second = two_instances
    key = StorageKey(bot_id=1, chat_id=CITIZEN, user_id=CITIZEN)
    other_key = StorageKey(bot_id=1, chat_id=CITIZEN, user_id=CITIZEN, destiny="other")
    kept = DialogStorage(second)
    await kept.set_data(key, {"question": 1})
    await DialogStorage(first).set_data(key, {"question": 2})
    assert await kept.get_data(key) == {"question": 1}  # its copy, stale by now
    async with second.citizen_turn(CITIZEN) as reading:
        kept.remember_turn(CITIZEN, reading.dialogs)
        # Any read of the table from here on would fail.
        await first.execute("ALTER TABLE fsm_states RENAME TO fsm_states_away")
        try:
            assert await kept.get_data(key) == {"question": 2}
            assert await kept.get_data(other_key) == {}
        finally:
            await first.execute("ALTER TABLE fsm_states_away RENAME TO fsm_states")


async def test_a_turn_reads_the_response_the_dialog_is_answering(postgres_url: str) -> None:
    """The response a press or a typed answer reads next comes with the turn, as the
    repository would read it; a dialog that names no response reads none."""
    database = await PostgresDatabase.open(postgres_url)
    try:
        store = Store(database)
        respondent_id = await citizen(store, CITIZEN)
        wave_id = await open_wave(store)
        response = await store.responses.start(
            wave_id, respondent_id, 1, "49", None, BAND, "general"
        )
        await store.responses.save_answer(response.id, AnswerRecord("q1", "healthcare", 4, 75.0))
        await store.responses.save_answer(response.id, AnswerRecord("q2", "education", None, None))
        dialogs = DialogStorage(database)
        key = StorageKey(bot_id=1, chat_id=CITIZEN, user_id=CITIZEN)
        await dialogs.set_dialog(key, "Questionnaire:onboarding", {"region": "49"})
        async with database.citizen_turn(CITIZEN) as reading:
            assert reading.answering is None
        await dialogs.set_dialog(key, "Questionnaire:answering", {"response": response.id})
        async with database.citizen_turn(CITIZEN) as reading:
            assert reading.answering is not None
            assert reading.answering == await store.responses.answering_state(response.id)
            assert reading.answering.answers == {"q1": 4, "q2": None}
    finally:
        await database.close()


async def test_turns_are_given_in_the_order_they_were_asked_for(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every turn's connection in use, updates get one in the order they asked.
    asyncpg's pool alone lets an update that asks just as a connection is given back take
    it from one that has waited; under load some presses waited ten times the median."""
    monkeypatch.setattr("storage.postgres.TURN_POOL_SIZE", 1)
    database = await PostgresDatabase.open(postgres_url)
    rng = random.Random(7)
    asked: list[int] = []
    given: list[int] = []

    async def press(citizen: int) -> None:
        for _ in range(rng.randrange(400)):  # arrives at some moment of the others' turns
            await asyncio.sleep(0)
        asked.append(citizen)
        async with database.citizen_turn(citizen):
            given.append(citizen)

    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(press(CITIZEN + number) for number in range(100)))
    finally:
        await database.close()
    assert given == asked


async def test_closing_cuts_a_connection_a_stuck_handler_still_holds(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that outlived the shutdown's drain keeps its citizen's turn: closing the
    database waits for it a while, then cuts it, so that the process can stop at all."""
    monkeypatch.setattr("storage.postgres.CLOSE_TIMEOUT", 0.5)
    database = await PostgresDatabase.open(postgres_url)
    never = asyncio.Event()

    async def stuck_handler() -> None:
        async with database.citizen_turn(CITIZEN):
            await never.wait()

    handler = asyncio.create_task(stuck_handler())
    await asyncio.sleep(0.3)  # it holds the turn now
    async with asyncio.timeout(10):
        await database.close()
    assert "still in use" in caplog.text
    handler.cancel()
    await asyncio.wait([handler])  # however it ends, its connection is gone
