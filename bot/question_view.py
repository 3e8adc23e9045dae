"""How one question looks in chat: its text, progress and buttons."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AnswerCb, StepAction, StepCb, ToggleCb
from bot.texts import Texts
from storage.participation import Session
from surveys.model import SCALE_RANGES, AnswerValue, Question, QuestionType
from surveys.targeting import position_of, previous_question

_HINTS = {
    QuestionType.LIKERT5: "question.likert_hint",
    QuestionType.NPS: "question.nps_hint",
    QuestionType.MULTI: "question.multi_hint",
}


def describe_answer(question: Question, value: AnswerValue, texts: Texts) -> str:
    if value is None:
        return texts("question.skipped")
    if isinstance(value, int):
        return str(value)
    chosen = [value] if isinstance(value, str) else value
    if question.type is QuestionType.TEXT:
        return escape(str(value))
    return ", ".join(
        escape(option.text.get(texts.language))
        for option_id in chosen
        if (option := question.option(option_id)) is not None
    )


def question_text(session: Session, question: Question, texts: Texts) -> str:
    progress = position_of(session.survey, session.track, session.answers, question.id)
    topic = session.survey.topic(question.topic)
    header = texts(
        "question.header",
        title=escape(session.survey.title.get(texts.language)),
        position=progress.position,
        total=progress.total,
    )
    lines = [f"<i>{header}</i>"]
    if topic is not None:
        lines.append(f"<i>{escape(topic.title.get(texts.language))}</i>")
    lines += ["", f"<b>{escape(question.text.get(texts.language))}</b>"]
    if question.type is QuestionType.TEXT:
        lines.append(texts("question.text_hint", limit=question.max_length))
    elif question.type in _HINTS:
        lines.append(texts(_HINTS[question.type]))
    if question.id in session.answers:
        answer = describe_answer(question, session.answers[question.id], texts)
        lines += ["", texts("question.current_answer", answer=answer)]
    return "\n".join(lines)


def question_keyboard(
    session: Session, question: Question, texts: Texts, selected: Sequence[str] = ()
) -> InlineKeyboardMarkup:
    response = session.response.id
    index = session.survey.questions.index(question)
    rows: list[list[InlineKeyboardButton]] = []

    def answer(label: str, value: int) -> InlineKeyboardButton:
        data = AnswerCb(response=response, question=index, value=value).pack()
        return InlineKeyboardButton(text=label, callback_data=data)

    def step(label: str, action: StepAction) -> InlineKeyboardButton:
        data = StepCb(response=response, question=index, action=action).pack()
        return InlineKeyboardButton(text=label, callback_data=data)

    if question.type in SCALE_RANGES:
        low, high = SCALE_RANGES[question.type]
        values = list(range(low, high + 1))
        width = 6 if len(values) > 6 else len(values)
        rows += [
            [answer(str(v), v) for v in values[start : start + width]]
            for start in range(0, len(values), width)
        ]
    elif question.type is QuestionType.SINGLE:
        rows += [
            [answer(option.text.get(texts.language), i)]
            for i, option in enumerate(question.options)
        ]
    elif question.type is QuestionType.MULTI:
        for i, option in enumerate(question.options):
            mark = "☑️" if option.id in selected else "⬜️"
            data = ToggleCb(response=response, question=index, option=i).pack()
            label = f"{mark} {option.text.get(texts.language)}"
            rows.append([InlineKeyboardButton(text=label, callback_data=data)])
        rows.append([step(texts("button.done"), "done")])
    last_row = []
    if previous_question(session.survey, session.track, session.answers, question.id):
        last_row.append(step(texts("button.back"), "back"))
    if question.optional:
        last_row.append(step(texts("button.skip"), "skip"))
    if last_row:
        rows.append(last_row)
    return InlineKeyboardMarkup(inline_keyboard=rows)
