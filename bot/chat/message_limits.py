"""Would Telegram carry every message a survey puts into chat? Checked before any is sent.

Telegram refuses a message past its limits for good: an invitation too long for it fails
for every respondent, and the wave is lost. So `civicpulse surveys validate` and the bot at
start-up render every message a survey's texts flow into — the invitation, the reminder,
each question's screen, the thanks and the /results message — in each language, at its
longest (the longest options, a typed answer of the maximum length echoed back, the
largest numbers a button carries), with the very functions the bot sends them with, and
report each message over a limit at the line of the text to shorten.

The limits, as Telegram counts them:
- a message's text: 4,096 characters after its entities are parsed, i.e. as the reader
  sees it: tags take no room and `&amp;` is one character;
- a button's callback data: 64 bytes;
- a button's label: Telegram documents no limit, and clients show one line of it, cut in
  the middle. We allow 100 characters: room for a plain answer option with its tick mark
  (the bundled surveys' longest label is 84), while a pasted sentence is caught.
No text of a survey goes into a caption (the bot's captions carry only wave numbers), so
the 1,024-character caption limit has nothing to check here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.chat.callback_packing import MAX_NUMBER
from bot.chat.question_view import (
    QuestionScreen,
    option_buttons,
    question_keyboard,
    question_text,
    thanks_text,
)
from bot.chat.report_groups_view import SituationFigures, region_wave_text
from bot.chat.report_series_view import (
    MIN_REPORT_WAVES,
    ReportTopic,
    ReportWave,
    region_series_text,
)
from bot.chat.results_view import region_results_text
from bot.chat.text_length import MAX_TEXT_LENGTH, visible_length
from bot.chat.texts import Texts
from bot.waves.invitation_text import invitation_message
from surveys.aggregate import OVERALL, Cell, Estimate
from surveys.change import DECLINED, IMPROVED, NO_CLEAR_CHANGE, ChangeEstimate
from surveys.model import (
    DONT_KNOW,
    SCALE_RANGES,
    AnswerValue,
    Location,
    Question,
    QuestionType,
    Survey,
)
from surveys.progress import ProgressMark
from surveys.region_summary import RegionComparison, TopicComparison
from surveys.segments import SEGMENTS, Gap, GapVerdict, Segment, SegmentCell
from surveys.series import SeriesCell
from surveys.situations import Figure, Measure, SituationCell, situation_measures
from surveys.text import LANGUAGES

MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTON_TEXT_LENGTH = 100

#: A place in the survey data and what to fix there (see `surveys.loader.SurveyCheck`).
Finding = tuple[Location, str]

_IN_LANGUAGE = {"ru": "in Russian", "en": "in English"}
#: Any moment will do: the wave's end is always shown as 16 characters (dd.mm.yyyy hh:mm).
_WAVE_END = datetime(2000, 1, 1, tzinfo=UTC)
#: Room for a region's name in /results: the bundled catalog's longest is 40 characters.
_REGION_NAME = "W" * 64
#: A region's place "of N": three digits, more than Russia's 89 subjects.
_MOST_REGIONS = 999
_TOP_SCORE = Estimate(score=100.0, ci_low=None, ci_high=None, satisfied_share=1.0, effective_n=1.0)
#: A change of each verdict at its widest: a full 100 points either way, or none clear.
_WIDEST_CHANGES = (
    ChangeEstimate(100.0, 100.0, 100.0, IMPROVED),
    ChangeEstimate(-100.0, -100.0, -100.0, DECLINED),
    ChangeEstimate(0.0, None, None, NO_CLEAR_CHANGE),
)
#: /report across waves at its widest: a full interval, a million waves' ids and respondents
#: enough for the longest plural, on the longest date.
_WIDEST_SCORE = Estimate(
    score=100.0, ci_low=100.0, ci_high=100.0, satisfied_share=1.0, effective_n=1.0
)
_MOST_WAVE_ID = 999_999
_MOST_RESPONDENTS = 9_999_999
_LONGEST_DATE = date(2000, 12, 31)


def message_limit_problems(survey: Survey) -> list[Finding]:
    """Every message of `survey` that Telegram would refuse, at the text to shorten."""
    found: list[Finding] = []
    for language in LANGUAGES:
        texts = Texts(language)
        found += _invitation_problems(survey, texts)
        for index, question in enumerate(survey.questions):
            found += _question_problems(survey, index, question, texts)
        found += _too_long(
            ("title", language), f"the thanks {_IN_LANGUAGE[language]}", thanks_text(survey, texts)
        )
        found += _too_long(
            ("topics",),
            f"the /results message listing every topic {_IN_LANGUAGE[language]}",
            _longest_results(survey, texts),
        )
        found += _too_long(
            ("topics",),
            f"/report's region across waves listing every topic {_IN_LANGUAGE[language]}",
            _longest_region_series(survey, texts),
        )
        found += _too_long(
            ("situations",),
            f"/report's region in one wave listing every situation {_IN_LANGUAGE[language]}",
            _longest_region_wave(survey, texts),
        )
    return found + _button_data_problems(survey)


def _too_long(loc: Location, message: str, text: str) -> list[Finding]:
    length = visible_length(text)
    if length <= MAX_TEXT_LENGTH:
        return []
    return [
        (
            loc,
            f"{message} would be {length:,} characters long, and Telegram refuses a message "
            f"over {MAX_TEXT_LENGTH:,}; shorten this text by {length - MAX_TEXT_LENGTH:,}",
        )
    ]


def _invitation_problems(survey: Survey, texts: Texts) -> list[Finding]:
    language = texts.language
    invitation, _ = invitation_message(survey, "invitation", texts, _WAVE_END, UTC)
    reminder, _ = invitation_message(survey, "reminder", texts, _WAVE_END, UTC)
    because = ("intro", language) if survey.intro else ("title", language)
    return _too_long(because, f"the invitation {_IN_LANGUAGE[language]}", invitation) + _too_long(
        ("title", language), f"the reminder {_IN_LANGUAGE[language]}", reminder
    )


def _question_problems(
    survey: Survey, index: int, question: Question, texts: Texts
) -> list[Finding]:
    language, where = texts.language, ("questions", index)
    screens = _longest_screens(survey, index, question, language)
    longest = max((question_text(screen, texts) for screen in screens), key=visible_length)
    listed = ", the situations with their descriptions" if question.screening else ""
    found = _too_long(
        (*where, "text", language),
        f"the screen of this question {_IN_LANGUAGE[language]} (survey title, progress, topic, "
        f"question{listed}, hint and the longest answer echoed back)",
        longest,
    )
    for option_index, button in enumerate(option_buttons(screens[0], texts)):
        length = len(button["text"])
        if length > MAX_BUTTON_TEXT_LENGTH:
            found.append(
                (
                    (*where, "options", option_index, "text", language),
                    f"the button of this option would read {length} characters, more than "
                    f"the {MAX_BUTTON_TEXT_LENGTH} a button may show; shorten it",
                )
            )
    return found


def _button_data_problems(survey: Survey) -> list[Finding]:
    """Buttons carry numbers only (response, question and option indexes, never ids), the
    same in every language; measured at the largest response id a button may carry."""
    texts = Texts(LANGUAGES[0])
    found: list[Finding] = []
    for index, question in enumerate(survey.questions):
        screen = _longest_screens(survey, index, question, texts.language)[0]
        rows = question_keyboard(screen, texts)["inline_keyboard"]
        data = max((button["callback_data"] for row in rows for button in row), key=_bytes)
        if _bytes(data) > MAX_CALLBACK_DATA_BYTES:
            found.append(
                (
                    ("questions", index),
                    f"a button of this question would carry {_bytes(data)} bytes of data "
                    f"({data}), and Telegram refuses more than {MAX_CALLBACK_DATA_BYTES}",
                )
            )
    return found


def _longest_screens(
    survey: Survey, index: int, question: Question, language: str
) -> list[QuestionScreen]:
    """The question's screen at its longest, once for each answer that may be echoed the
    longest: the last of as many questions as the file holds, at 100% of the way, with every
    option ticked, Back and (if optional) Skip, and the largest response id a button may
    carry."""
    return [
        QuestionScreen(
            survey=survey,
            question=question,
            index=index,
            progress=ProgressMark(number=len(survey.questions), percent=100),
            answers={question.id: answer},
            response=MAX_NUMBER,
            can_go_back=True,
            selected=[option.id for option in question.options],
        )
        for answer in _longest_answers(question, language)
    ]


def _longest_answers(question: Question, language: str) -> list[AnswerValue]:
    """The answers whose echo is longest: one per question type, and a skip if allowed."""
    answers: list[AnswerValue] = [None] if question.optional else []
    if question.type in SCALE_RANGES:
        answers.append(SCALE_RANGES[question.type][1])
    elif question.type is QuestionType.TEXT:
        answers.append("W" * question.max_length)
    elif question.type is QuestionType.NUMBER:
        answers += [question.bounds[1], DONT_KNOW] if question.dont_know else [question.bounds[1]]
    elif question.type is QuestionType.SINGLE:
        answers.append(max(question.options, key=lambda o: len(o.text.get(language))).id)
    else:
        answers.append([option.id for option in question.options])
    return answers


def _longest_results(survey: Survey, texts: Texts) -> str:
    """/results with every topic shown, scores and places at their widest, every topic
    saying how it changed, in whichever of the three verdicts reads longest, and a line for
    every situation, as if the citizen had lived them all."""
    topics = [TopicComparison(OVERALL, None, _TOP_SCORE, _TOP_SCORE)]
    topics += [TopicComparison(t.id, t.title, _TOP_SCORE, _TOP_SCORE) for t in survey.topics]
    comparison = RegionComparison(0, "", "all", tuple(topics), _MOST_REGIONS, _MOST_REGIONS)
    title = survey.title.get(texts.language)
    lived = [(situation.title.get(texts.language), 100.0) for situation in survey.situations]
    renderings = (
        region_results_text(
            title, _REGION_NAME, comparison, texts, {t.topic: change for t in topics}, lived
        )
        for change in _WIDEST_CHANGES
    )
    return max(renderings, key=visible_length)


def _bytes(data: str) -> int:
    return len(data.encode("utf-8"))


def _longest_region_series(survey: Survey, texts: Texts) -> str:
    """/report WAVE REGION with every topic in the fewest waves it shows (it leaves older
    waves out to fit), each point at its widest, and each topic ending with whichever
    verdict reads longest."""
    waves = [ReportWave(_MOST_WAVE_ID, _LONGEST_DATE)] * MIN_REPORT_WAVES
    names = [texts("results.overall"), *(t.title.get(texts.language) for t in survey.topics)]
    cell = Cell((), "all", OVERALL, _MOST_RESPONDENTS, False, _WIDEST_SCORE)

    def topics(change: ChangeEstimate) -> list[ReportTopic]:
        point = SeriesCell(_MOST_WAVE_ID, (), "all", OVERALL, True, False, cell, change)
        return [ReportTopic(name, [point] * MIN_REPORT_WAVES) for name in names]

    title = survey.title.get(texts.language)
    renderings = (
        region_series_text(title, _REGION_NAME, waves, topics(change), texts)
        for change in _WIDEST_CHANGES
    )
    return max(renderings, key=visible_length)


def _longest_region_wave(survey: Survey, texts: Texts) -> str:
    """/report WAVE REGION's second message with every situation and every measure shown at
    its widest (the most respondents, medians and quartiles as halves near the question's
    largest answer) and every group with a full gap, in whichever verdict reads longest."""
    measures = situation_measures(survey)
    situations = [
        SituationFigures(
            situation.title.get(texts.language),
            [
                SituationCell(("",), measure, _MOST_RESPONDENTS, False, _widest(survey, measure))
                for measure in measures
                if measure.situation == situation.id
            ],
        )
        for situation in survey.situations
    ]
    renderings = (
        region_wave_text(
            _MOST_WAVE_ID,
            _REGION_NAME,
            situations,
            [_widest_gap(segment, verdict) for segment in SEGMENTS],
            texts,
        )
        for verdict in ("worse_off", "better_off", "no_clear_gap")
    )
    return max(renderings, key=visible_length)


def _widest(survey: Survey, measure: Measure) -> Figure:
    if measure.kind == "score":
        return Figure(100.0, 100.0, 100.0)
    if measure.kind == "got_needed":
        return Figure(1.0, 1.0, 1.0)
    question = survey.question(measure.questions[0])
    half = (question.bounds[1] if question else MAX_NUMBER) - 0.5
    return Figure(half, q1=half, q3=half)


def _widest_gap(segment: Segment, verdict: GapVerdict) -> SegmentCell:
    gap = Gap(-100.0, -100.0, -100.0, verdict)
    return SegmentCell((), "all", OVERALL, segment, False, 1, _WIDEST_SCORE, 1, _WIDEST_SCORE, gap)
