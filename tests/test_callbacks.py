"""The fast packing of question buttons must give exactly what aiogram's models give: the
handlers unpack every press with the models."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.chat.callback_packing import pack
from bot.chat.callbacks import AnswerCb, StepCb, ToggleCb


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (AnswerCb(response=12345678, question=19, value=0), (12345678, 19, 0)),
        (AnswerCb(response=1, question=0, value=10), (1, 0, 10)),
        (ToggleCb(response=7, question=3, option=11), (7, 3, 11)),
        (StepCb(response=7, question=3, action="done"), (7, 3, "done")),
        (StepCb(response=99, question=0, action="back"), (99, 0, "back")),
    ],
)
def test_packed_matches_the_model(model: CallbackData, values: tuple[int | str, ...]) -> None:
    data = pack(type(model).__prefix__, *values)
    assert data == model.pack()
    assert type(model).unpack(data) == model
