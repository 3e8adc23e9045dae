"""How far along a respondent is, as the question screen shows it: "вопрос 3 · 40% пути".

A progress line has to be one a citizen can trust: it never moves backwards as they go
forward, never changes while they are still on the same question (ticking options, or
coming back to change an answer), and is at its end on the last question. "Question 3 of 12"
cannot keep those promises: conditional questions change the total as answers arrive, so
the same question read "1 / 7" and, once services were ticked, "1 / 14". Nor can sections by
topic: the bundled surveys come back to a topic after others ("region" opens and closes
the social-services survey), and a condition can add or remove a whole topic.

So a question's mark depends only on the answers *before* it, never on its own answer or
on later ones (kept after Back):
- `number`: its place among the questions this respondent has been shown, counting it;
- `percent`: `number` out of `number` plus every later question that may still follow,
  rounded down. A later question "may follow" if it is on the respondent's track and its
  condition is met by an earlier answer or rests on one not given yet.

Going forward, `number` grows by one for each question passed, and the questions that may
still follow shrink by at least as many (each question passed was one of them, and what is
known only grows), so the share only rises. It errs towards too little, never too much,
until conditions settle: a citizen who uses no service jumps ahead, one who uses many does
not lose ground. It is 100 only where nothing can follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from surveys.model import AnswerValue, Question, Survey, Track
from surveys.targeting import is_visible


@dataclass(frozen=True, slots=True)
class ProgressMark:
    """What the progress line shows on one question's screen."""

    number: int
    percent: int


def progress_mark(
    survey: Survey, track: Track, answers: Mapping[str, AnswerValue], question_id: str
) -> ProgressMark:
    """The mark of `question_id` for a respondent on `track`, from the answers before it."""
    index = survey.question_index(question_id)
    earlier = survey.questions[:index]
    settled = {question.id for question in earlier}
    number = 1 + sum(is_visible(question, track, answers) for question in earlier)
    ahead = sum(
        _may_follow(question, track, answers, settled) for question in survey.questions[index + 1 :]
    )
    return ProgressMark(number, 100 * number // (number + ahead))


def _may_follow(
    question: Question, track: Track, answers: Mapping[str, AnswerValue], settled: Set[str]
) -> bool:
    """Whether a later question can still be shown: on the track, with its condition met by
    a settled answer or resting on one not given yet (the current question's or a later
    one's, which must not move the mark)."""
    condition = question.show_if
    if condition is not None and condition.question not in settled:
        return question.track in (None, track)
    return is_visible(question, track, answers)
