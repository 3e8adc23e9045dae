"""Hostile input, generated: the running bot never crashes, answers every button press and
changes stored data only through a valid step of the citizen's own dialog.

One running bot per test; hypothesis throws its examples at it one after another, so the
bot also has to survive whatever state the earlier examples left it in. "Stored data" is
every table except the dialog state, which bad input may legitimately reset.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import Update
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import bot.dispatcher  # noqa: F401  (imports every router, so every CallbackData class)
from bot.chat.callbacks import AnswerCb
from bot.sandbox.fake_telegram import FakeTelegram, buttons
from tests.harness import (
    Citizen,
    RunningBot,
    make_settings,
    open_wave,
    start_bot,
    table_snapshot,
)

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CITIZEN = 6001  # registered, in the middle of the pulse survey
STRANGER = 6002  # never pressed /start
GROUP = {"id": -100500, "type": "group", "title": "Районный чат"}
SUPERGROUP = {"id": -1001234567, "type": "supergroup", "title": "Город"}
CHANNEL = {"id": -1007770001, "type": "channel", "title": "Новости"}


def _callback_classes(base: type[CallbackData]) -> Iterator[type[CallbackData]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _callback_classes(cls)


PREFIXES = sorted({cls.__prefix__ for cls in _callback_classes(CallbackData)})


def _fits(data: str) -> bool:
    return 1 <= len(data.encode()) <= 64


#: Numbers a forged payload or a typed argument may carry that Python's int() reads or
#: trips on, and SQLite cannot hold: superscripts, other scripts' digits, signs, spaces,
#: underscores, more than 64 bits.
ODD_NUMBERS = st.sampled_from(
    ["²", "٣", "１２", "-1", "+3", " 3", "1_0", "99999999999999999999", str(2**63), "0x1"]
)

FIELD = st.one_of(
    st.integers(min_value=-3, max_value=12).map(str),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
    st.integers(min_value=2**63, max_value=10**30).map(str),
    ODD_NUMBERS,
    st.sampled_from(["", "0", "1", "true", "yes", "no", "ru", "en", "back", "done", "skip", "49"]),
    st.text(max_size=6),
)


def _field_values(annotation: Any) -> st.SearchStrategy[str]:
    """Values of the field's own type (so that the payload parses) and some that are not."""
    if annotation is bool:
        return st.sampled_from(["0", "1"])
    if annotation is int:
        return st.one_of(st.integers(min_value=-2, max_value=12).map(str), FIELD)
    if get_origin(annotation) is Literal:
        return st.one_of(st.sampled_from([str(arg) for arg in get_args(annotation)]), FIELD)
    return st.one_of(st.sampled_from(["", "49", "65", "49701000"]), FIELD)


def _well_formed(cls: type[CallbackData]) -> st.SearchStrategy[str]:
    fields = [_field_values(info.annotation) for info in cls.model_fields.values()]
    return st.tuples(*fields).map(lambda values: ":".join([cls.__prefix__, *values]))


#: Payloads a modified client could send: free text, our prefixes with any fields, and
#: well-formed payloads of every button the bot has, aimed at other screens and ids.
CALLBACK_DATA = st.one_of(
    st.text(min_size=1, max_size=64),
    st.builds(
        lambda prefix, fields: ":".join([prefix, *fields]),
        st.sampled_from(PREFIXES),
        st.lists(FIELD, max_size=4),
    ),
    st.sampled_from(sorted(_callback_classes(CallbackData), key=str)).flatmap(_well_formed),
).filter(_fits)


def stored(snapshot: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: rows for table, rows in snapshot.items() if table != "fsm_states"}


@dataclass
class Scene:
    server: FakeTelegram
    running: RunningBot
    citizen: Citizen
    caplog: pytest.LogCaptureFixture

    async def stored(self) -> dict[str, list[tuple[Any, ...]]]:
        return stored(await table_snapshot(self.running.app))

    async def settle(self) -> None:
        """Every update handled and every reply sent; then nothing may have gone wrong.

        The server counts as idle once the bot has taken the updates and nothing has
        happened for a moment; a handler still computing (a /report's figures, in a
        thread) can reply after that, so its end is waited for too, then the server again.
        """
        await self.server.wait_until_idle(timeout=10)
        assert await self.running.app.inflight.drain(10), "an update still runs after 10 s"
        await self.server.wait_until_idle(timeout=10)
        assert not self.running.task.done(), "the bot stopped"
        errors = [r for r in self.caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], errors[0].getMessage()
        assert self.server.internal_errors == []
        assert self.server.unanswered_callbacks() == []

    async def press_on_screen(self, data: str) -> None:
        """Press a button with `data` on the message on screen; it must be answered."""
        query = self.citizen.user.press(self.citizen.last.message_id, data)
        await self.settle()
        assert self.server.callback_answer(query) is not None


@pytest.fixture
async def scene(
    server: FakeTelegram, running: RunningBot, caplog: pytest.LogCaptureFixture
) -> Scene:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(CITIZEN, "Дарья"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "36-44")
    server.user(STRANGER, "Незнакомец")
    return Scene(server, running, citizen, caplog)


@settings(HYPOTHESIS, max_examples=120)
@given(data=CALLBACK_DATA)
# Presses that act without a dialog state to check: erasure, consent, starting a wave.
@example(data="dm:1")
@example(data="c:yes:en")
@example(data="sw:1")
@example(data="sm:ok")
# Numbers that do not fit: far too large, negative, Unicode digits.
@example(data="a:99999999999999999999:0:1")
@example(data="a:-1:0:1")
@example(data="a:²:0:1")
@example(data="t:1:٣:0")
@example(data="sw:99999999999999999999")
@example(data="ag:99999999999999999999")
async def test_any_button_payload_is_answered_and_only_a_shown_button_changes_anything(
    scene: Scene, data: str
) -> None:
    screen = scene.citizen.last
    shown = {payload for _, payload in buttons(screen)}
    before = await scene.stored()
    await scene.press_on_screen(data)
    if data not in shown:
        assert await scene.stored() == before


@HYPOTHESIS
@given(
    who=st.sampled_from([CITIZEN, STRANGER]),
    text=st.one_of(
        st.text(max_size=300),
        st.text(min_size=4000, max_size=4096),
        st.just(""),
        st.sampled_from(["/start", "/survey", "/delete_me", "/privacy", "/profile", "/admin"]),
        st.text(max_size=30).map(lambda t: "/" + t),
    ),
)
async def test_any_text_changes_nothing_stored(scene: Scene, who: int, text: str) -> None:
    """No question of the pulse survey before the last takes text, and neither does /start
    of a stranger (nothing is stored before consent): so no text may change stored data."""
    before = await scene.stored()
    user = scene.server.user(who)
    if text.startswith("/") and len(text) > 1:
        user.send_command(text)
    else:
        user.send_text(text)
    await scene.settle()
    assert await scene.stored() == before


def _media() -> dict[str, Any]:
    return {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "us",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
        "photo": [{"file_id": "p", "file_unique_id": "up", "width": 1, "height": 1}],
        "voice": {"file_id": "v", "file_unique_id": "uv", "duration": 3},
        "contact": {"phone_number": "+70000000000", "first_name": "Иван"},
        "location": {"latitude": 58.52, "longitude": 31.27},
        "document": {"file_id": "d", "file_unique_id": "ud"},
        "video_note": {"file_id": "vn", "file_unique_id": "uvn", "length": 240, "duration": 2},
        "dice": {"emoji": "🎲", "value": 3},
        "venue": {
            "location": {"latitude": 58.52, "longitude": 31.27},
            "title": "МФЦ",
            "address": "ул. Большая Московская, 24",
        },
        "animation": {
            "file_id": "a",
            "file_unique_id": "ua",
            "width": 1,
            "height": 1,
            "duration": 1,
        },
        "audio": {"file_id": "au", "file_unique_id": "uau", "duration": 1},
        "video": {"file_id": "vi", "file_unique_id": "uvi", "width": 1, "height": 1, "duration": 1},
    }


@st.composite
def other_updates(draw: st.DrawFn) -> dict[str, Any]:
    """Every kind of update a public bot can be sent, from a citizen or from a stranger."""
    user_id = draw(st.sampled_from([CITIZEN, STRANGER]))
    user = {"id": user_id, "is_bot": False, "first_name": "Кто-то", "language_code": "ru"}
    private = {"id": user_id, "type": "private", "first_name": "Кто-то"}
    chat = draw(st.sampled_from([private, GROUP, SUPERGROUP]))
    text = draw(st.one_of(st.text(max_size=50), st.sampled_from(["/start", "/survey@test_bot"])))
    kind, payload = draw(st.sampled_from(sorted(_media().items())))
    content = draw(st.sampled_from([{kind: payload}, {"text": text or "."}]))
    if content.get("text", "").startswith("/"):
        length = len(content["text"].split()[0])
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    message = {"message_id": draw(st.integers(1, 10**6)), "date": 1, "chat": chat, "from": user}
    member = {"chat": draw(st.sampled_from([GROUP, SUPERGROUP])), "from": user, "date": 1}
    statuses = st.sampled_from(
        [{"user": user, "status": "left"}, {"user": user, "status": "member"}]
    )
    channel_post = {"message_id": 1, "date": 1, "chat": CHANNEL, "sender_chat": CHANNEL}
    return draw(
        st.sampled_from(
            [
                {"message": {**message, **content}},
                {"edited_message": {**message, **content, "edit_date": 2}},
                {"channel_post": {**channel_post, **content}},
                {"edited_channel_post": {**channel_post, **content, "edit_date": 2}},
                {"inline_query": {"id": "iq", "from": user, "query": text, "offset": ""}},
                {"chosen_inline_result": {"result_id": "r", "from": user, "query": text}},
                {
                    "callback_query": {
                        "id": f"inline-{draw(st.integers(0, 10**9))}",
                        "from": user,
                        "chat_instance": "ci",
                        "inline_message_id": "im",
                        "data": AnswerCb(response=1, question=0, value=5).pack(),
                    }
                },
                {
                    "callback_query": {
                        "id": f"group-{draw(st.integers(0, 10**9))}",
                        "from": user,
                        "chat_instance": "ci",
                        "message": {**message, "chat": GROUP, "text": "опрос"},
                        "data": draw(CALLBACK_DATA),
                    }
                },
                {
                    "my_chat_member": {
                        **member,
                        "old_chat_member": draw(statuses),
                        "new_chat_member": draw(statuses),
                    }
                },
                {
                    "chat_member": {
                        **member,
                        "old_chat_member": draw(statuses),
                        "new_chat_member": draw(statuses),
                    }
                },
                {"chat_join_request": {**member, "user_chat_id": user_id}},
                {
                    "poll_answer": {
                        "poll_id": "p",
                        "user": user,
                        "option_ids": [0],
                        "option_persistent_ids": ["a"],
                    }
                },
                {
                    "message_reaction": {
                        "chat": private,
                        "message_id": 1,
                        "user": user,
                        "date": 1,
                        "old_reaction": [],
                        "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                    }
                },
            ]
        )
    )


@HYPOTHESIS
@given(update=other_updates())
async def test_every_other_kind_of_update_is_survived_and_changes_nothing(
    scene: Scene, update: dict[str, Any]
) -> None:
    Update.model_validate({"update_id": 1, **update})  # what Telegram could really send
    before = await scene.stored()
    scene.server.push_update(update)
    await scene.settle()
    assert await scene.stored() == before
    query = update.get("callback_query")
    if query is not None:  # pressed on a message the fake server never saw: still answered
        answered = {
            r.params.get("callback_query_id") for r in scene.server.calls("answerCallbackQuery")
        }
        assert query["id"] in answered


async def answer_rows(scene: Scene) -> list[tuple[Any, ...]]:
    rows = await scene.running.app.database.fetch_all(
        "SELECT question_id, value, answered_at FROM answers ORDER BY question_id"
    )
    return [tuple(row) for row in rows]


async def test_a_question_is_answered_once_except_through_back(scene: Scene) -> None:
    citizen, server = scene.citizen, scene.server
    first = citizen.last
    one = {label: data for label, data in buttons(first)}
    await citizen.tap("5")
    answered = await answer_rows(scene)
    assert [(q, v) for q, v, _ in answered] == [("services_overall", "5")]

    # The first question's buttons again, on the same message: refused, nothing rewritten.
    assert "устарела" in await citizen.press_data(first.message_id, one["3"])
    # A double tap on the second question: one answer, the second press is stale.
    screen = citizen.last
    two = {label: data for label, data in buttons(screen)}
    taps = [citizen.user.press(screen.message_id, two["4"]) for _ in range(2)]
    await scene.settle()
    popups = [(server.callback_answer(q) or {}).get("text") for q in taps]
    assert popups[0] is None and "устарела" in (popups[1] or "")
    rows = await answer_rows(scene)
    assert rows[-1] == answered[-1] and [(q, v) for q, v, _ in rows] == [
        ("healthcare_month", "4"),
        ("services_overall", "5"),
    ]
    # Changing an answer is a step of its own: Back, then another value.
    await citizen.tap("Назад")
    await citizen.tap("2")
    assert ("healthcare_month", "2") in [(q, v) for q, v, _ in await answer_rows(scene)]


ADMIN = 6900


@pytest.fixture
async def admin_scene(
    server: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture, bot_database_pass: str
) -> AsyncIterator[Scene]:
    running = await start_bot(make_settings(server, tmp_path, admin_ids={ADMIN}))
    try:
        await open_wave(running.app, survey_id="pulse", regions=["49"])
        admin = Citizen(server, server.user(ADMIN, "Админ"))
        await admin.command("/admin")
        yield Scene(server, running, admin, caplog)
    finally:
        await running.stop()


@HYPOTHESIS
@given(
    command=st.sampled_from(["/stats", "/export", "/report"]),
    argument=st.one_of(ODD_NUMBERS, st.integers(-5, 10**25).map(str), st.text(max_size=20)),
)
# A NUL character, which SQLite's text holds and PostgreSQL's does not: the staff's message is
# written to the audit log as typed.
@example(command="/stats", argument="1\x00")
async def test_an_admin_command_with_any_argument_gets_a_reply_and_no_error(
    admin_scene: Scene, command: str, argument: str
) -> None:
    """`/stats ²` once reached int() and failed with a traceback; every argument now gets
    a reply (a wave's figures, the list of waves, or "no such wave")."""
    admin = admin_scene.citizen
    sent_before = len(admin.user.messages)
    admin.user.send_command(f"{command} {argument}")
    await admin_scene.settle()
    assert len(admin.user.messages) > sent_before


@settings(HYPOTHESIS, max_examples=40)
@given(
    data=st.sampled_from(["st", "wx", "rs"])
    .flatmap(
        lambda prefix: st.lists(FIELD, min_size=1, max_size=2).map(
            lambda fields: ":".join([prefix, *fields])
        )
    )
    .filter(_fits)
)
@example(data="st:99999999999999999999")
@example(data="wx:²:ask")
@example(data="rs:-1:export")
async def test_an_admin_button_with_odd_numbers_is_answered_and_no_error(
    admin_scene: Scene, data: str
) -> None:
    await admin_scene.press_on_screen(data)
