"""The repositories, the dialog storage and the migrations on both databases CivicPulse runs
on: every test here runs once on SQLite and once on a throw-away PostgreSQL server (the
`backend` fixture), and must see the same values come back from each.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import asyncpg
import pytest
from aiogram.fsm.storage.base import StorageKey

from storage.access import StaffMember
from storage.backend import Backend, Statement
from storage.dialect import POSTGRESQL, SQLITE, Dialect, numbered_placeholders
from storage.fsm import DialogStorage
from storage.migrations import available_migrations
from storage.personal_data import personal_data
from storage.repositories.invitations import Outcome
from storage.repositories.respondents import GroupAnswers
from storage.repositories.responses import AnswerRecord
from storage.staff_changes import StaffError, add_staff, remove_staff
from storage.store import Store
from storage.wave_stats import wave_stats
from surveys.actions import ActionDraft
from surveys.loader import BUNDLED_SURVEYS_DIR, load_surveys
from surveys.model import AGE_BAND_IDS
from tests.store_data import BAND, NOW, citizen, open_wave


def test_placeholders_are_numbered_outside_literals_names_and_casts() -> None:
    assert numbered_placeholders("SELECT ? , '?', \"a?\" -- ?\n, ?") == (
        "SELECT $1 , '?', \"a?\" -- ?\n, $2",
        (),
    )
    assert numbered_placeholders("UPDATE t SET a = ?1 WHERE b = ?2 AND c = ?1") == (
        "UPDATE t SET a = $1 WHERE b = $2 AND c = $1",
        (),
    )
    assert numbered_placeholders("SELECT CAST(x AS json)::text, :wave, ':no', :first, :wave") == (
        "SELECT CAST(x AS json)::text, $1, ':no', $2, $1",
        ("wave", "first"),
    )
    assert numbered_placeholders("SELECT 'it''s ?', ?") == ("SELECT 'it''s ?', $1", ())


async def test_every_migration_is_applied_once_and_recorded(backend: Backend) -> None:
    rows = await backend.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
    expected = [(version, name) for version, name, _ in available_migrations(backend.dialect)]
    assert [(row["version"], row[1]) for row in rows] == expected


def test_both_dialects_have_the_same_migrations() -> None:
    def names(dialect: Dialect) -> list[str]:
        return [name for _, name, _ in available_migrations(dialect)]

    assert names(POSTGRESQL) == names(SQLITE)


async def test_respondents_consent_profile_groups_activity_and_erasure(backend: Backend) -> None:
    store = Store(backend)
    first = await store.respondents.record_consent(7_000_000_001, "ru", "v1")
    again = await store.respondents.record_consent(7_000_000_001, "ru", "v1")
    assert again.consented_at == first.consented_at  # a double tap keeps the first time
    assert (again.id, again.telegram_id, again.active, again.profile_complete) == (
        first.id,
        7_000_000_001,
        True,
        False,
    )
    await citizen(store, 7_000_000_001, children="yes", settlement="village")
    await store.respondents.consent_to_disability_question(7_000_000_001)
    assert await store.respondents.record_disability(7_000_000_001, "yes")
    respondent = await store.respondents.by_telegram_id(7_000_000_001)
    assert respondent is not None
    assert respondent.groups == GroupAnswers("yes", "yes", "village")
    assert respondent.segments == {"families_with_children", "disability", "village"}
    assert await store.respondents.withdraw_disability_consent(7_000_000_001)
    assert not await store.respondents.withdraw_disability_consent(7_000_000_001)
    assert await store.respondents.set_active(7_000_000_001, False)
    inactive = await store.respondents.by_telegram_id(7_000_000_001)
    assert inactive is not None and inactive.active is False and inactive.groups.disability is None
    assert await store.respondents.delete(7_000_000_001)
    assert await store.respondents.by_telegram_id(7_000_000_001) is None
    assert not await store.respondents.delete(7_000_000_001)


async def test_surveys_waves_and_their_regions_round_trip(backend: Backend) -> None:
    store = Store(backend)
    survey = load_surveys(BUNDLED_SURVEYS_DIR)["pulse"]
    version_id = await store.surveys.store(survey)
    assert await store.surveys.store(survey) == version_id
    assert await Store(backend).surveys.get(version_id) == survey
    wave_id = await store.waves.create(
        version_id,
        NOW,
        NOW + timedelta(days=3),
        ["65", "49"],
        "youth",
        remind_after_hours=48,
        created_by=8_000_000_000,
        segments=["village"],
    )
    wave = await store.waves.get(wave_id)
    assert wave is not None
    assert (wave.survey_id, wave.survey_version, wave.regions, wave.tracks) == (
        "pulse",
        survey.version,
        ("49", "65"),
        "youth",
    )
    assert (wave.starts_at, wave.ends_at, wave.all_regions) == (NOW, NOW + timedelta(days=3), False)
    assert (wave.remind_after_hours, wave.created_by, wave.segments) == (
        48.0,
        8_000_000_000,
        ("village",),
    )
    assert wave.state == "scheduled"
    assert await store.waves.transition(wave_id, ["scheduled"], "open")
    assert not await store.waves.transition(wave_id, ["scheduled"], "open")
    assert [w.id for w in await store.waves.in_state("open")] == [wave_id]
    assert [w.id for w in await store.waves.open_in_region("65")] == [wave_id]
    assert await store.waves.open_in_region("05") == []
    assert await store.waves.transition(wave_id, ["open"], "closed")
    later = await open_wave(store)
    previous = await store.waves.previous_closed(later)
    assert previous is not None and previous.id == wave_id
    assert [w.id for w in await store.waves.all()] == [wave_id, later]


async def test_responses_answers_replacement_dropping_and_completion(backend: Backend) -> None:
    store = Store(backend)
    respondent_id = await citizen(store, 1001, children="no")
    wave_id = await open_wave(store)
    wave = await store.waves.get(wave_id)
    assert wave is not None
    groups = GroupAnswers(children="no")
    response = await store.responses.start(
        wave_id, respondent_id, wave.survey_version_id, "49", None, BAND, "general", groups
    )
    assert (
        await store.responses.start(
            wave_id, respondent_id, wave.survey_version_id, "65", None, BAND, "youth"
        )
        == response
    )
    assert (response.region_code, response.track, response.groups, response.completed) == (
        "49",
        "general",
        groups,
        False,
    )
    await store.responses.save_answer(response.id, AnswerRecord("q1", "healthcare", 4, 75.0))
    await store.responses.save_answer(
        response.id, AnswerRecord("q2", "education", ["a", "b"], None)
    )
    await store.responses.save_answer(response.id, AnswerRecord("q3", "education", "text", None))
    await store.responses.save_answer(
        response.id, AnswerRecord("q1", "healthcare", 5, 100), drop=["q3"]
    )
    assert await store.responses.answers(response.id) == {"q1": 5, "q2": ["a", "b"]}
    answering = await store.responses.answering_state(response.id)
    assert answering is not None and answering.response == response
    assert (answering.wave_state, answering.answers) == ("open", {"q1": 5, "q2": ["a", "b"]})
    assert await store.responses.answering_state(response.id + 1000) is None
    assert await store.responses.scores(response.id) == [("healthcare", 100.0)]
    assert await store.responses.complete(response.id)
    assert not await store.responses.complete(response.id)
    fetched = await store.responses.get(response.id)
    assert fetched is not None and fetched.completed
    assert await store.responses.for_respondent(wave_id, respondent_id) == fetched
    await store.waves.transition(wave_id, ["open"], "closed")
    latest = await store.responses.latest_in_closed_wave(respondent_id)
    assert latest is not None and latest.id == response.id
    respondent = await store.respondents.by_telegram_id(1001)
    assert respondent is not None
    data = await personal_data(store, respondent)
    assert (data.started, data.completed, data.answers, data.invitations) == (1, 1, 2, 0)


async def test_the_outbox_fills_claims_sends_settles_and_recovers(backend: Backend) -> None:
    store = Store(backend)
    first = await citizen(store, 2001)
    await citizen(store, 2002, region="65")
    await citizen(store, 2003, settlement="village")
    await citizen(store, 2004, settlement="village")
    await store.respondents.set_active(2004, False)
    wave_id = await open_wave(store, ["49"], segments=["village"])
    assert await store.invitations.unfilled_open_waves() == [wave_id]
    assert await store.invitations.fill(wave_id, AGE_BAND_IDS, NOW) == 1  # 2003 alone
    assert await store.invitations.fill(wave_id, AGE_BAND_IDS, NOW) is None
    assert await store.invitations.unfilled_open_waves() == []
    assert await store.waves.transition(wave_id, ["open"], "cancelled")
    everyone = await open_wave(store)
    assert await store.invitations.fill(everyone, [BAND], NOW) == 3
    assert await store.invitations.next_due() == NOW

    claim = await store.invitations.claim(NOW, 10, busy=lambda chat: chat == 2002)
    assert (len(claim.items), claim.deferred, claim.skipped) == (2, 1, 1)
    assert {(item.chat_id, item.kind, item.language) for item in claim.items} == {
        (2001, "invitation", "ru"),
        (2003, "invitation", "ru"),
    }
    ids = [item.id for item in claim.items]
    assert await store.invitations.start_sending(ids, NOW) == ids
    assert await store.invitations.start_sending(ids, NOW) is None  # no longer claimed
    by_chat = {item.chat_id: item for item in claim.items}
    await store.invitations.settle(
        [
            Outcome(by_chat[2001].id, 2001, "delivered", message_id=9_000_000_001),
            Outcome(by_chat[2003].id, 2003, "blocked", error="403"),
        ],
        NOW,
    )
    blocked = await store.respondents.by_telegram_id(2003)
    assert blocked is not None and not blocked.active
    assert await store.invitations.unsettled(everyone) == 1

    again = await store.invitations.claim(NOW, 10, busy=lambda chat: False)
    assert [item.chat_id for item in again.items] == [2002]
    await store.invitations.release([item.id for item in again.items])
    third = await store.invitations.claim(NOW, 10, busy=lambda chat: False)
    await store.invitations.start_sending([third.items[0].id], NOW)
    recovered = await store.invitations.recover_interrupted(NOW)
    assert (recovered.released, recovered.unconfirmed) == (0, 1)

    assert await store.invitations.first_unreminded(everyone) == NOW
    assert await store.invitations.queue_reminders(everyone, NOW, NOW) == 2  # 2001 and 2002
    assert await store.invitations.queue_reminders(everyone, NOW, NOW) == 0
    await store.responses.start(everyone, first, 1, "49", None, BAND, "general")
    response = await store.responses.for_respondent(everyone, first)
    assert response is not None and await store.responses.complete(response.id)
    reminders = await store.invitations.claim(NOW, 10, busy=lambda chat: False)
    assert ([i.chat_id for i in reminders.items], reminders.skipped) == ([2002], 1)

    wave = await store.waves.get(everyone)
    assert wave is not None
    stats = await wave_stats(store, wave, NOW)
    assert (stats.total.invited, stats.total.delivered, stats.total.unconfirmed) == (3, 2, 1)
    assert (stats.total.blocked, stats.total.started, stats.total.completed) == (1, 1, 1)
    assert (stats.total.reached, stats.total.reminded, stats.total.waiting) == (2, 0, 1)
    assert sorted(stats.regions) == ["49", "65"]


async def test_a_wave_closed_after_the_claim_is_skipped_not_sent(backend: Backend) -> None:
    store = Store(backend)
    await citizen(store, 3001)
    wave_id = await open_wave(store)
    await store.invitations.fill(wave_id, AGE_BAND_IDS, NOW)
    claim = await store.invitations.claim(NOW, 10, busy=lambda chat: False)
    await store.waves.transition(wave_id, ["open"], "cancelled")
    assert await store.invitations.start_sending([i.id for i in claim.items], NOW) == []
    row = await backend.fetch_one("SELECT state, error FROM invitations")
    assert row is not None and (row["state"], row["error"]) == ("skipped", "wave cancelled")


async def test_staff_changes_audit_and_progress(backend: Backend) -> None:
    store = Store(backend)
    analyst = StaffMember(9_000_000_001, "analyst", frozenset({"49", "53"}), microdata=True)
    assert await add_staff(store, analyst, admin_ids=frozenset(), by="ops") is None
    federal = StaffMember(9_000_000_002, "federal", None, name="Анна")
    await add_staff(store, federal, admin_ids=frozenset(), by="ops")
    before = await add_staff(
        store,
        StaffMember(9_000_000_001, "regional", frozenset({"49"})),
        admin_ids=frozenset(),
        by="ops",
    )
    assert before is not None and before.regions == {"49", "53"} and before.microdata
    member = await store.staff.member(9_000_000_001, frozenset())
    assert member is not None and (member.role, member.regions, member.microdata) == (
        "regional",
        frozenset({"49"}),
        False,
    )
    with pytest.raises(StaffError, match="last federal member"):
        await remove_staff(store, 9_000_000_002, admin_ids=frozenset(), by="ops")
    await remove_staff(store, 9_000_000_001, admin_ids=frozenset(), by="ops")
    assert [m.telegram_id for m in await store.staff.all()] == [9_000_000_002]

    await store.audit.record("chat", 9_000_000_002, "wave.cancel", {"wave": 1}, role="federal")
    actions = [entry.action for entry in await store.audit.entries()]
    assert actions == ["staff.add", "staff.add", "staff.change", "staff.remove", "wave.cancel"]
    about = await store.audit.entries(staff=9_000_000_001)
    assert [entry.action for entry in about] == ["staff.add", "staff.change", "staff.remove"]
    assert about[0].detail == {
        "telegram_id": 9_000_000_001,
        "role": "analyst",
        "regions": "49,53",
        "microdata": True,
        "name": None,
    }
    assert [e.action for e in await store.audit.entries(staff=9_000_000_002)][-1] == "wave.cancel"
    assert (await store.audit.recent(1))[0].role == "federal"

    wave_id = await open_wave(store)
    await store.progress.add(wave_id, 9_000_000_002, 77)
    await store.progress.add(wave_id, 9_000_000_002, 78)  # the first message stays
    assert await store.progress.exists(wave_id)
    assert [(p.chat_id, p.message_id) for p in await store.progress.unfinished()] == [
        (9_000_000_002, 77)
    ]
    await store.progress.finish(wave_id)
    assert await store.progress.unfinished() == []


async def test_actions_are_added_listed_by_area_updated_and_removed(backend: Backend) -> None:
    store = Store(backend)
    whole = ActionDraft("49", "Новая поликлиника", topic="healthcare", link="https://x.ru")
    local = ActionDraft("49", "Школа", municipality_code="49701000", status="done")
    elsewhere = ActionDraft("49", "Дорога", municipality_code="49625000")
    ids = [await store.actions.add(draft, "ops") for draft in (whole, local, elsewhere)]
    assert len(set(ids)) == 3
    shown = await store.actions.for_area("49", "49701000")
    assert [(a.title_ru, a.status) for a in shown] == [
        ("Новая поликлиника", "planned"),
        ("Школа", "done"),
    ]
    assert await store.actions.update(
        ids[0], ActionDraft("49", "Поликлиника", status="in_progress")
    )
    updated = await store.actions.get(ids[0])
    assert updated is not None and (updated.title_ru, updated.topic, updated.link) == (
        "Поликлиника",
        None,
        None,
    )
    assert await store.actions.remove(ids[2])
    assert not await store.actions.remove(ids[2])
    assert [a.id for a in await store.actions.listed(["49"])] == ids[:2]
    assert await store.actions.listed(["65"]) == []


async def test_dialogs_survive_a_new_storage_and_are_forgotten(backend: Backend) -> None:
    key = StorageKey(bot_id=1, chat_id=4_000_000_001, user_id=4_000_000_001)
    dialogs = DialogStorage(backend)
    await dialogs.set_state(key, "Questionnaire:answering")
    await dialogs.set_data(key, {"response": 5, "text": "ответ"})
    fresh = DialogStorage(backend)
    assert await fresh.get_state(key) == "Questionnaire:answering"
    assert await fresh.get_data(key) == {"response": 5, "text": "ответ"}
    await fresh.forget_user(4_000_000_001)
    assert await DialogStorage(backend).get_state(key) is None
    await dialogs.set_state(key, None)
    await dialogs.set_data(key, {})
    assert await backend.fetch_all("SELECT * FROM fsm_states") == []


async def test_what_is_kept_in_memory_of_dialogs_is_bounded(backend: Backend) -> None:
    """A citizen whose turn read no dialog is remembered as having none, so that reading
    one costs no query; beyond the cache's size the oldest knowledge goes, and a read asks
    the database again (here it finds a dialog another instance wrote)."""
    dialogs = DialogStorage(backend, cache_size=2)
    users = [4_100_000_001, 4_100_000_002, 4_100_000_003]
    for user in users:
        dialogs.remember_turn(user, [])
    keys = [StorageKey(bot_id=1, chat_id=user, user_id=user) for user in users]
    elsewhere = DialogStorage(backend)
    for key in keys:
        await elsewhere.set_data(key, {"seen": True})
    seen = [await dialogs.get_data(key) for key in keys]
    assert sorted(map(len, seen)) == [0, 0, 1]


async def test_an_answer_and_the_dialog_past_it_are_stored_together_or_not_at_all(
    backend: Backend,
) -> None:
    store = Store(backend)
    respondent_id = await citizen(store, 1002)
    wave_id = await open_wave(store)
    response = await store.responses.start(wave_id, respondent_id, 1, "49", None, BAND, "general")
    key = StorageKey(bot_id=1, chat_id=1002, user_id=1002)
    dialogs = DialogStorage(backend)
    await dialogs.set_dialog(key, "Questionnaire:answering", {"question": 0})
    with dialogs.writing(key, "Questionnaire:answering", {"question": 1}) as dialog:
        await store.responses.save_answer(
            response.id, AnswerRecord("q1", "healthcare", 4, 75.0), along=[dialog]
        )
    assert await store.responses.answers(response.id) == {"q1": 4}
    assert await DialogStorage(backend).get_data(key) == {"question": 1}

    # The last answer: the response completes and the dialog ends, or, if any of the
    # writes fails, nothing of it happens, and the dialog kept in memory is read afresh.
    async def answer_last(dialog: Statement, *more: Statement) -> None:
        last = AnswerRecord("q2", "education", "x", None)
        await store.responses.save_answer(
            response.id, last, drop=["q1"], complete=True, along=[dialog, *more]
        )

    refused = Statement("INSERT INTO answers (response_id) VALUES (?)", (response.id,))
    with (
        pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)),
        dialogs.writing(key, None, {}) as dialog,
    ):
        await answer_last(dialog, refused)
    assert await store.responses.answers(response.id) == {"q1": 4}
    assert await dialogs.get_data(key) == {"question": 1}
    unfinished = await store.responses.get(response.id)
    assert unfinished is not None and not unfinished.completed
    with dialogs.writing(key, None, {}) as dialog:
        await answer_last(dialog)
    assert await store.responses.answers(response.id) == {"q2": "x"}
    completed = await store.responses.get(response.id)
    assert completed is not None and completed.completed
    assert await backend.fetch_all("SELECT * FROM fsm_states") == []


async def test_a_transaction_is_all_or_nothing_and_a_reader_reads(backend: Backend) -> None:
    with pytest.raises(RuntimeError):
        async with backend.transaction() as connection:
            await connection.execute(
                "INSERT INTO fsm_states (storage_key, user_id) VALUES (?, ?)", ("k", 1)
            )
            raise RuntimeError("undone")
    assert tuple(await backend.fetch_one("SELECT count(*) FROM fsm_states") or ()) == (0,)
    insert = "INSERT INTO fsm_states (storage_key, user_id) VALUES (?, ?)"
    assert await backend.execute(insert, ("k", 1)) == 1
    async with backend.reader() as connection:  # the long scans bind parameters by name
        cursor = await connection.execute(
            "SELECT storage_key, user_id FROM fsm_states WHERE user_id = :user", {"user": 1}
        )
        assert [tuple(row) for row in await cursor.fetchall()] == [("k", 1)]
    assert await backend.truncate_log()
