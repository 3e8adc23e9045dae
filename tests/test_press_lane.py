"""Which presses take the press lane (`bot.chat.press_lane`): only those the dispatcher would
surely route to a question handler. What a lane press then does is what every citizen
journey, navigation, hostile-input and throttle test checks end to end."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update

from bot.chat.callbacks import AnswerCb, StepCb, ToggleCb
from bot.chat.handlers.questionnaire import PRESS_HANDLERS
from bot.chat.press_lane import PressLane


def press(data: str, chat_type: str = "private", date: int = 1_700_000_000) -> Update:
    message: dict[str, Any] = {
        "message_id": 7,
        "date": date,
        "chat": {"id": 42, "type": chat_type, "title": "chat"},
    }
    return Update.model_validate(
        {
            "update_id": 1,
            "callback_query": {
                "id": "q1",
                "from": {"id": 42, "is_bot": False, "first_name": "Анна"},
                "chat_instance": "ci",
                "data": data,
                "message": message,
            },
        }
    )


@pytest.fixture
def lane() -> PressLane:
    return PressLane(PRESS_HANDLERS, [], [])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a:12:3:5", AnswerCb(response=12, question=3, value=5)),
        ("t:12:3:0", ToggleCb(response=12, question=3, option=0)),
        ("q:12:3:back", StepCb(response=12, question=3, action="back")),
    ],
)
def test_question_presses_in_a_private_chat_take_the_lane(
    lane: PressLane, data: str, expected: object
) -> None:
    assert lane.recognise(press(data)) == expected


@pytest.mark.parametrize(
    "update",
    [
        press("a:12:3:5", chat_type="group"),
        press("a:12:3:5", date=0),  # a message too old to reach: aiogram's InaccessibleMessage
        press("sw:3"),  # starting a wave: the dispatcher's
        press("c:yes:ru"),
        press("a:12:3"),  # malformed: no handler matches it on either path
        press("a:12:3:five"),
        press("q:12:3:jump"),
        press("a"),
        press(""),
        Update.model_validate(
            {
                "update_id": 2,
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": 42, "type": "private"},
                    "text": "a:12:3:5",
                },
            }
        ),
    ],
)
def test_everything_else_goes_to_the_dispatcher(lane: PressLane, update: Update) -> None:
    assert lane.recognise(update) is None
