"""The progress line a citizen can trust, over every path through the bundled surveys.

Every answer that changes which questions follow is tried: every value of a question a
condition looks at (every option subset of a multiple choice), a skip of each optional
question, both tracks, and Back to any question with its answer kept or changed. Other
answers cannot change the path, so one value stands for them. Where several multiple
choices open sections (the services used, the life situations lived), each is walked
through every subset while the others take their first option: their sections hang on
their own choice only, and every subset of all of them at once would be thousands of times
the work. On every path the mark never moves backwards going forward, never changes while
the citizen is on the same question, and reaches 100% on the last question. Then the header
itself, through the real bot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import combinations, pairwise

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from surveys.loader import BUNDLED_SURVEYS_DIR, load_survey_file
from surveys.model import (
    AGE_BAND_IDS,
    DONT_KNOW,
    SCALE_RANGES,
    AnswerValue,
    Question,
    QuestionType,
    Survey,
    Track,
)
from surveys.progress import ProgressMark, progress_mark
from surveys.targeting import next_question, stale_answers, track_for
from tests.harness import Citizen, RunningBot, open_wave

Answers = Mapping[str, AnswerValue]
Route = tuple[str, Track]


@dataclass(frozen=True, slots=True)
class Screen:
    """A question as shown on one path, with the answers stored when it was shown."""

    question: Question
    answers: Answers
    mark: ProgressMark


@dataclass(frozen=True, slots=True)
class Path:
    """One way through a survey: the screens shown in order, and the answers at the end."""

    screens: tuple[Screen, ...]
    answers: Answers


def bundled(survey_id: str) -> Survey:
    return load_survey_file(BUNDLED_SURVEYS_DIR / f"{survey_id}.yaml")


SURVEYS = {survey_id: bundled(survey_id) for survey_id in ("pulse", "social_services")}
#: Every (survey, track) a respondent can be on, reached through the age bands.
ROUTES: list[Route] = sorted(
    {
        (survey_id, track_for(survey, band))
        for survey_id, survey in SURVEYS.items()
        for band in AGE_BAND_IDS
    }
)
ROUTE_IDS = [f"{survey_id}-{track}" for survey_id, track in ROUTES]


def looked_at(survey: Survey, question: Question) -> bool:
    """Whether a condition looks at this question's answer, so its answer changes the path."""
    return any(
        q.show_if is not None and q.show_if.question == question.id for q in survey.questions
    )


def choices(survey: Survey, question: Question, walked: str | None = None) -> list[AnswerValue]:
    """The answers that may lead different ways: every value (every option subset) of a
    question a condition looks at, one value of any other, and a skip if allowed. A multiple
    choice other than the one `walked` through every subset takes its first option."""
    if question.type in SCALE_RANGES:
        low, high = SCALE_RANGES[question.type]
        values: list[AnswerValue] = list(range(low, high + 1))
    elif question.type is QuestionType.SINGLE:
        values = [option.id for option in question.options]
    elif question.type is QuestionType.MULTI:
        ids = [option.id for option in question.options]
        values = [
            list(chosen) for size in range(1, len(ids) + 1) for chosen in combinations(ids, size)
        ]
        if walked is not None and question.id != walked:
            values = values[:1]
    elif question.type is QuestionType.NUMBER:
        values = [*question.bounds, DONT_KNOW] if question.dont_know else [*question.bounds]
    else:
        values = ["Больше вакансий"]
    return (values if looked_at(survey, question) else values[:1]) + [None] * question.optional


def forward_paths(
    survey: Survey, track: Track, answers: Answers, walked: str | None
) -> Iterator[Path]:
    """Every path forward from `answers`, answering each question as the bot stores it."""
    question = next_question(survey, track, answers)
    if question is None:
        yield Path((), answers)
        return
    screen = Screen(question, answers, progress_mark(survey, track, answers, question.id))
    for value in choices(survey, question, walked):
        for rest in forward_paths(survey, track, {**answers, question.id: value}, walked):
            yield Path((screen, *rest.screens), rest.answers)


@cache
def paths(route: Route) -> list[Path]:
    """Every path, each multiple choice that opens sections walked through in turn."""
    survey_id, track = route
    survey = SURVEYS[survey_id]
    gates = [
        q.id for q in survey.questions if q.type is QuestionType.MULTI and looked_at(survey, q)
    ]
    found: dict[str, Path] = {}
    for walked in gates or [None]:
        for path in forward_paths(survey, track, {}, walked):
            found.setdefault(repr(sorted(path.answers.items())), path)
    return list(found.values())


def answer_again(
    survey: Survey, track: Track, path: Path, screen: Screen, value: AnswerValue
) -> Answers:
    """The answers after Back from the end of `path` to `screen` and answering `value`: the
    bot drops what the new answer hides and keeps the rest."""
    answers = {**path.answers, screen.question.id: value}
    for hidden in stale_answers(survey, track, answers):
        del answers[hidden]
    return answers


def assert_forward(before: ProgressMark, after: ProgressMark) -> None:
    assert after.number > before.number and after.percent >= before.percent, (before, after)


def test_both_tracks_of_the_social_services_survey_are_walked() -> None:
    assert ("social_services", "youth") in ROUTES and ("social_services", "general") in ROUTES
    # Every subset of the six services, and of the six answers about life situations, each
    # with the nine ways through the youth questions.
    assert len(paths(("social_services", "youth"))) > 2 * 63 * 9


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_going_forward_the_mark_only_rises_and_ends_at_100(route: Route) -> None:
    for path in paths(route):
        marks = [screen.mark for screen in path.screens]
        assert [mark.number for mark in marks] == list(range(1, len(marks) + 1))
        for before, after in pairwise(marks):
            assert_forward(before, after)
        assert marks[-1].percent == 100, [screen.question.id for screen in path.screens]
        assert all(mark.percent < 100 for mark in marks[:-1])


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_the_mark_never_changes_on_the_same_question(route: Route) -> None:
    """Whatever is ticked or answered on the question itself, and whatever later answers are
    kept when the citizen comes back to it, its mark is the one it was first shown with."""
    survey_id, track = route
    survey = SURVEYS[survey_id]
    seen: set[tuple[str, str]] = set()
    for path in paths(route):
        for screen in path.screens:
            question_id = screen.question.id
            assert progress_mark(survey, track, path.answers, question_id) == screen.mark
            shown = (question_id, repr(sorted(screen.answers.items())))
            if shown in seen:
                continue
            seen.add(shown)
            for value in choices(survey, screen.question):
                answered = {**screen.answers, question_id: value}
                assert progress_mark(survey, track, answered, question_id) == screen.mark


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_back_then_a_changed_answer_still_moves_forward(route: Route) -> None:
    """From the end of a path, Back to a question a condition looks at and another answer:
    the bot shows the first question left unanswered, never at a lower mark. Paths that
    differ only in answers no condition looks at (skips) end the same, so one of them is
    tried."""
    survey_id, track = route
    survey = SURVEYS[survey_id]
    deciding = [question.id for question in survey.questions if looked_at(survey, question)]
    tried: set[str] = set()
    for path in paths(route):
        decided = repr([path.answers.get(question_id) for question_id in deciding])
        if decided in tried:
            continue
        tried.add(decided)
        for screen in path.screens:
            if screen.question.id not in deciding:
                continue
            for value in choices(survey, screen.question):
                answers = answer_again(survey, track, path, screen, value)
                following = next_question(survey, track, answers)
                if following is not None:
                    assert_forward(screen.mark, progress_mark(survey, track, answers, following.id))


def test_ticking_services_no_longer_changes_the_first_question() -> None:
    """The issue's case: on the youth track the first question read "1 / 7", and "1 / 14"
    once services were ticked. Now it is 1 of at most 47 (itself, the five service sections,
    the life situations' screening question and their 24 questions, the five youth questions
    and the last two): 2%, ticked or not; with school and clinic ticked, the second is 2 of at
    most 40 (38 may follow: two more school, four clinic, the 25 about life situations, five
    youth, the last two): 5%."""
    social = SURVEYS["social_services"]
    ticked: dict[str, AnswerValue] = {"services_used": ["school", "clinic"]}

    assert progress_mark(social, "youth", {}, "services_used") == ProgressMark(1, 2)
    assert progress_mark(social, "youth", ticked, "services_used") == ProgressMark(1, 2)
    assert progress_mark(social, "youth", ticked, "school_teaching") == ProgressMark(2, 5)


async def test_the_header_shows_the_mark_and_keeps_it_while_ticking(
    server: FakeTelegram, running: RunningBot
) -> None:
    """General track: the first question is 1 of 1 + 43 that may follow (2%); with school and
    clinic ticked, the second is 2 of 2 + 35 (5%); Back shows the first as it was."""
    await open_wave(running.app, regions=["05"])
    citizen = Citizen(server, server.user(4101, "Вера"))
    first = await citizen.onboard("Примор", "Приморский", "Владивосток", "45-54")
    header = "Качество государственных и муниципальных услуг в регионе · вопрос 1 · 2% пути"
    assert header in (first.text or "")

    for label in ("Школа", "Поликлиника"):
        ticked = await citizen.tap(label)
        assert header in (ticked.text or "")
    second = await citizen.tap("Готово")
    assert "вопрос 2 · 5% пути" in (second.text or "")
    back = await citizen.tap("Назад")
    assert header in (back.text or "") and "Ваш ответ: Школа, Поликлиника" in (back.text or "")


async def test_the_english_header(server: FakeTelegram, running: RunningBot) -> None:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(4102, "Jane", language_code="en"))
    await citizen.command("/start")
    await citizen.tap("I agree")
    await citizen.tap("English")
    await citizen.say("Novgorod")
    await citizen.tap("Novgorod Region")
    await citizen.tap("Other / don't know")
    await citizen.tap("65 and over")
    await citizen.tap("Skip the optional questions")
    citizen.user.press_button("All correct")
    header = "Monthly public services pulse · question 1 · 16% of the way"
    # The pulse survey asks its six questions of everyone: the first is 1 of 6, rounded down.
    await server.wait_for_message(4102, lambda message: header in (message.text or ""))
    second = await citizen.tap("4")
    assert "question 2 · 33% of the way" in (second.text or "")
