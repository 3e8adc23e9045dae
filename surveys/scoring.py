"""Maps one answer to the 0–100 satisfaction scale every aggregate is built on."""

from __future__ import annotations

from statistics import fmean

from surveys.model import AnswerValue, Question, QuestionType

#: A topic score at or above this counts the respondent as satisfied.
SATISFIED_THRESHOLD = 75.0


def answer_score(question: Question, value: AnswerValue) -> float | None:
    """likert5: (x−1)/4·100; nps: x·10; choice: the option's score (mean over a multi-choice).

    Returns None for unscored answers (text, a number, a skip, options without a score) so
    they never pull a mean towards zero.
    """
    if value is None or not question.is_scored:
        return None
    if question.type is QuestionType.LIKERT5 and isinstance(value, int):
        return (value - 1) / 4 * 100
    if question.type is QuestionType.NPS and isinstance(value, int):
        return float(value * 10)
    chosen = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    scores = [
        option.score
        for option_id in chosen
        if (option := question.option(option_id)) is not None and option.score is not None
    ]
    return fmean(scores) if scores else None
