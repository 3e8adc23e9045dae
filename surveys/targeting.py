"""Which track a respondent is on and which questions they are asked, in what order.

The questionnaire runner keeps no cursor of its own: the next question is always derived
from the answers already stored, so a restart or a redelivered update cannot desynchronise
what the citizen sees from what the database holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys.model import AGE_BANDS, AnswerValue, Question, Survey, Track


def age_band_range(age_band: str) -> tuple[int, int | None]:
    for band, low, high in AGE_BANDS:
        if band == age_band:
            return low, high
    raise ValueError(f"unknown age band {age_band!r}")


def track_for(survey: Survey, age_band: str) -> Track:
    low, high = age_band_range(age_band)
    youth = survey.youth_age
    within = low >= youth.min and high is not None and high <= youth.max
    return "youth" if within else "general"


def is_visible(question: Question, track: Track, answers: Mapping[str, AnswerValue]) -> bool:
    if question.track is not None and question.track != track:
        return False
    condition = question.show_if
    return condition is None or condition.matches(answers.get(condition.question))


def visible_questions(
    survey: Survey, track: Track, answers: Mapping[str, AnswerValue]
) -> list[Question]:
    """Questions this respondent sees, given what they have answered so far.

    Conditions only look back, so one pass in file order settles every question.
    """
    return [q for q in survey.questions if is_visible(q, track, answers)]


def next_question(
    survey: Survey, track: Track, answers: Mapping[str, AnswerValue]
) -> Question | None:
    """The first visible question without a stored answer (a skip counts as an answer);
    None when the questionnaire is finished. (How far along that is: `surveys.progress`.)"""
    return next((q for q in visible_questions(survey, track, answers) if q.id not in answers), None)


def previous_question(
    survey: Survey, track: Track, answers: Mapping[str, AnswerValue], question_id: str
) -> Question | None:
    """The visible question before `question_id`: where the Back button leads."""
    visible = visible_questions(survey, track, answers)
    ids = [q.id for q in visible]
    if question_id not in ids:
        answered = [q for q in visible if q.id in answers]
        return answered[-1] if answered else None
    index = ids.index(question_id)
    return visible[index - 1] if index > 0 else None


def stale_answers(survey: Survey, track: Track, answers: Mapping[str, AnswerValue]) -> list[str]:
    """Answers to questions a changed earlier answer has hidden; they must not be kept."""
    visible = {q.id for q in visible_questions(survey, track, answers)}
    return [question_id for question_id in answers if question_id not in visible]
