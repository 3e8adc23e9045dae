"""How one question looks in chat: its text, progress and buttons."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.chat.callbacks import AnswerCb, StepAction, StepCb, ToggleCb, packed
from bot.chat.texts import Texts
from bot.telegram.plain_methods import PlainKeyboard
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
) -> PlainKeyboard:
    """An inline keyboard as the Bot API's plain JSON: built for every answer, it skips
    aiogram's button models (see `bot.telegram.plain_methods`)."""
    response = session.response.id
    index = session.survey.question_index(question.id)
    rows: list[list[dict[str, str]]] = []

    def answer(label: str, value: int) -> dict[str, str]:
        return {"text": label, "callback_data": packed(AnswerCb, response, index, value)}

    def step(label: str, action: StepAction) -> dict[str, str]:
        return {"text": label, "callback_data": packed(StepCb, response, index, action)}

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
            label = f"{mark} {option.text.get(texts.language)}"
            rows.append([{"text": label, "callback_data": packed(ToggleCb, response, index, i)}])
        rows.append([step(texts("button.done"), "done")])
    last_row = []
    if previous_question(session.survey, session.track, session.answers, question.id):
        last_row.append(step(texts("button.back"), "back"))
    if question.optional:
        last_row.append(step(texts("button.skip"), "skip"))
    if last_row:
        rows.append(last_row)
    return {"inline_keyboard": rows}
