"""How the questionnaire looks in chat: each question's text, progress and buttons, and the
thanks at the end.

No aiogram here: `civicpulse surveys validate` renders these very screens at their longest
(`bot.chat.message_limits`) to refuse a survey Telegram would refuse, and that command
starts without aiogram. A screen is described by a `QuestionScreen`, which the
questionnaire builds from a respondent's session and the check from the worst case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from bot.chat.callback_packing import ANSWER_PREFIX, STEP_PREFIX, TOGGLE_PREFIX, pack
from bot.chat.texts import Texts, count
from surveys.model import CHOICE_TYPES, SCALE_RANGES, AnswerValue, Question, QuestionType, Survey
from surveys.progress import ProgressMark, progress_mark
from surveys.targeting import previous_question

if TYPE_CHECKING:  # for annotations only: both would load aiogram or the database
    from bot.chat.callbacks import StepAction
    from bot.telegram.plain_methods import PlainKeyboard
    from storage.participation import Session

#: One inline button as the Bot API takes it: `{"text": …, "callback_data": …}`.
Button = dict[str, str]

_HINTS = {
    QuestionType.LIKERT5: "question.likert_hint",
    QuestionType.NPS: "question.nps_hint",
    QuestionType.MULTI: "question.multi_hint",
}


@dataclass(frozen=True, slots=True)
class QuestionScreen:
    """Everything one question's screen shows, whoever it is shown to."""

    survey: Survey
    question: Question
    #: Where the question stands in the file: every button carries it.
    index: int
    #: The progress line: see `surveys.progress` for why it is not "question N of M".
    progress: ProgressMark
    #: The answers given so far; the question's own, if given, is echoed under it.
    answers: Mapping[str, AnswerValue]
    #: The response every button belongs to.
    response: int
    can_go_back: bool
    #: The ticked options of a multiple-choice question.
    selected: Sequence[str] = ()


def screen_of(session: Session, question: Question, selected: Sequence[str] = ()) -> QuestionScreen:
    """A question's screen in a respondent's session."""
    survey, track, answers = session.survey, session.track, session.answers
    return QuestionScreen(
        survey=survey,
        question=question,
        index=survey.question_index(question.id),
        progress=progress_mark(survey, track, answers, question.id),
        answers=answers,
        response=session.response.id,
        can_go_back=previous_question(survey, track, answers, question.id) is not None,
        selected=selected,
    )


def describe_answer(question: Question, value: AnswerValue, texts: Texts) -> str:
    if value is None:
        return texts("question.skipped")
    if question.type is QuestionType.NUMBER and question.unit is not None:
        if isinstance(value, int):
            return count(value, question.unit, texts.language)
        return texts("question.dont_know")
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


def question_text(screen: QuestionScreen, texts: Texts) -> str:
    question = screen.question
    topic = screen.survey.topic(question.topic)
    header = texts(
        "question.header",
        title=escape(screen.survey.title.get(texts.language)),
        number=screen.progress.number,
        percent=screen.progress.percent,
    )
    lines = [f"<i>{header}</i>"]
    if topic is not None:
        lines.append(f"<i>{escape(topic.title.get(texts.language))}</i>")
    lines += ["", f"<b>{escape(question.text.get(texts.language))}</b>"]
    if question.screening:
        lines += ["", *_situations(screen.survey, texts), ""]
    if question.type is QuestionType.TEXT:
        lines.append(texts("question.text_hint", limit=question.max_length))
    elif question.type is QuestionType.NUMBER:
        low, high = question.bounds
        lines.append(texts("question.number_hint", low=low, high=high, unit=question.unit))
    elif question.type in _HINTS:
        lines.append(texts(_HINTS[question.type]))
    if question.id in screen.answers:
        answer = describe_answer(question, screen.answers[question.id], texts)
        lines += ["", texts("question.current_answer", answer=answer)]
    return "\n".join(lines)


def _situations(survey: Survey, texts: Texts) -> list[str]:
    """What each situation of the screening question covers: its buttons carry only the
    titles, and a respondent must know whether their own case counts."""
    language = texts.language
    return [
        f"• <b>{escape(s.title.get(language))}</b> — {escape(s.description.get(language))}"
        for s in survey.situations
    ]


def option_buttons(screen: QuestionScreen, texts: Texts) -> list[Button]:
    """One button per option of a choice question, in the file's order (none for other
    types): a single choice answers at once, a multiple choice ticks or unticks.

    Only a ticked option carries a mark: where no emoji font can draw "☑️", it still shows
    as a box that the unticked options lack, so the state never rests on two glyphs
    telling apart (an empty "⬜️" beside a ticked one were both empty boxes there)."""
    question = screen.question
    if question.type not in CHOICE_TYPES:
        return []
    multi = question.type is QuestionType.MULTI
    buttons = []
    for i, option in enumerate(question.options):
        label = option.text.get(texts.language)
        if multi:
            label = f"☑️ {label}" if option.id in screen.selected else label
        buttons.append(_button(screen, label, TOGGLE_PREFIX if multi else ANSWER_PREFIX, i))
    return buttons


def question_keyboard(screen: QuestionScreen, texts: Texts) -> PlainKeyboard:
    """An inline keyboard as the Bot API's plain JSON: built for every answer, it skips
    aiogram's button models (see `bot.telegram.plain_methods`)."""
    question = screen.question
    rows: list[list[Button]] = []

    def step(label: str, action: StepAction) -> Button:
        return _button(screen, label, STEP_PREFIX, action)

    if question.type in SCALE_RANGES:
        low, high = SCALE_RANGES[question.type]
        values = list(range(low, high + 1))
        width = 6 if len(values) > 6 else len(values)
        rows += [
            [_button(screen, str(v), ANSWER_PREFIX, v) for v in values[start : start + width]]
            for start in range(0, len(values), width)
        ]
    rows += [[button] for button in option_buttons(screen, texts)]
    if question.type is QuestionType.MULTI:
        rows.append([step(texts("button.done"), "done")])
    if question.dont_know:
        rows.append([step(texts("button.dont_know"), "dont_know")])
    last_row = []
    if screen.can_go_back:
        last_row.append(step(texts("button.back"), "back"))
    if question.optional:
        last_row.append(step(texts("button.skip"), "skip"))
    if last_row:
        rows.append(last_row)
    return {"inline_keyboard": rows}


def _button(screen: QuestionScreen, label: str, prefix: str, value: int | str) -> Button:
    """A button of this screen's question: its data names the response, the question and
    the value, option index or step pressed."""
    return {"text": label, "callback_data": pack(prefix, screen.response, screen.index, value)}


def thanks_text(survey: Survey, texts: Texts) -> str:
    """The screen a completed questionnaire ends on."""
    return texts("survey.thanks", title=escape(survey.title.get(texts.language)))
