"""The questionnaire as a survey file describes it.

A survey is immutable once loaded: answers are stored against the exact version that was
asked, so every rule that decides what a respondent sees lives here, next to the data.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from surveys.text import LocalizedText

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$", strip_whitespace=True)
]
Track = Literal["youth", "general"]
TRACKS: tuple[Track, ...] = ("youth", "general")

#: Age bands a respondent picks from. Their edges (17/18, 24/25, 30/31, 35/36, …) are the
#: only places a survey's youth range may end, so a band is never split between tracks.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("14-17", 14, 17),
    ("18-24", 18, 24),
    ("25-30", 25, 30),
    ("31-35", 31, 35),
    ("36-44", 36, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)
AGE_BAND_IDS: tuple[str, ...] = tuple(band for band, _, _ in AGE_BANDS)
MAX_TEXT_ANSWER = 2000
#: A choice value is an option id, a scale value an integer; multi-choice answers are lists.
AnswerValue = int | str | list[str] | None


class QuestionType(StrEnum):
    LIKERT5 = "likert5"
    NPS = "nps"
    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"


SCALE_RANGES: dict[QuestionType, tuple[int, int]] = {
    QuestionType.LIKERT5: (1, 5),
    QuestionType.NPS: (0, 10),
}
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTI})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Topic(_Strict):
    id: Identifier
    title: LocalizedText
    weight: float = Field(default=1.0, gt=0)


class Option(_Strict):
    id: Identifier
    text: LocalizedText
    score: float | None = Field(default=None, ge=0, le=100)


class Condition(_Strict):
    """Shows a question only when an earlier answer matches.

    `any_of` lists option ids (choice questions) or numbers (scales); `min`/`max` bound a
    scale answer. A skipped earlier question never matches.
    """

    question: Identifier
    any_of: tuple[int | str, ...] | None = None
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _has_a_test(self) -> Self:
        if self.any_of is None and self.min is None and self.max is None:
            raise ValueError("a condition needs `any_of`, `min` or `max`")
        return self

    def matches(self, value: AnswerValue) -> bool:
        if value is None:
            return False
        if isinstance(value, list):
            return self.any_of is not None and any(v in self.any_of for v in value)
        if self.any_of is not None and value not in self.any_of:
            return False
        if self.min is not None or self.max is not None:
            if not isinstance(value, int):
                return False
            if self.min is not None and value < self.min:
                return False
            if self.max is not None and value > self.max:
                return False
        return True


class Question(_Strict):
    id: Identifier
    type: QuestionType
    topic: Identifier
    text: LocalizedText
    optional: bool = False
    track: Track | None = None
    show_if: Condition | None = None
    options: tuple[Option, ...] = ()
    max_length: int = Field(default=1000, ge=1, le=MAX_TEXT_ANSWER)

    @model_validator(mode="after")
    def _options_fit_type(self) -> Self:
        if self.type in CHOICE_TYPES:
            if len(self.options) < 2:
                raise ValueError(f"a `{self.type}` question needs at least two options")
            ids = [option.id for option in self.options]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate option id {', '.join(duplicates)}")
        elif self.options:
            raise ValueError(f"a `{self.type}` question takes no options")
        return self

    @property
    def is_scored(self) -> bool:
        if self.type in SCALE_RANGES:
            return True
        return any(option.score is not None for option in self.options)

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)

    def accepts(self, value: AnswerValue) -> bool:
        """Whether `value` is a well-formed answer, so forged input never reaches storage."""
        if value is None:
            return self.optional
        if self.type in SCALE_RANGES:
            low, high = SCALE_RANGES[self.type]
            return type(value) is int and low <= value <= high
        if self.type is QuestionType.SINGLE:
            return isinstance(value, str) and self.option(value) is not None
        if self.type is QuestionType.MULTI:
            return (
                isinstance(value, list)
                and len(value) > 0
                and len(set(value)) == len(value)
                and all(isinstance(v, str) and self.option(v) is not None for v in value)
            )
        return isinstance(value, str) and 0 < len(value) <= self.max_length


class YouthAge(_Strict):
    min: int = 14
    max: int = 35

    @model_validator(mode="after")
    def _on_band_edges(self) -> Self:
        lows = {low for _, low, _ in AGE_BANDS}
        highs = {high for _, _, high in AGE_BANDS if high is not None}
        if self.min not in lows or self.max not in highs or self.min > self.max:
            raise ValueError(
                f"the youth range must start at one of {sorted(lows)} and end at one of "
                f"{sorted(highs)}, so that no age band is split between tracks"
            )
        return self


class Survey(_Strict):
    id: Identifier
    version: int = Field(ge=1)
    title: LocalizedText
    intro: LocalizedText | None = None
    youth_age: YouthAge = YouthAge()
    topics: tuple[Topic, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        """Cross-field rules; each error names the question so the loader can point at it."""
        topic_ids = [topic.id for topic in self.topics]
        seen: dict[str, Question] = {}
        problems: list[str] = []
        duplicate_topics = sorted({t for t in topic_ids if topic_ids.count(t) > 1})
        if duplicate_topics:
            problems.append(f"duplicate topic id {', '.join(duplicate_topics)}")
        for index, question in enumerate(self.questions):
            where = f"questions.{index}"
            if question.id in seen:
                problems.append(f"{where}.id: duplicate question id `{question.id}`")
            if question.topic not in topic_ids:
                problems.append(f"{where}.topic: unknown topic `{question.topic}`")
            condition = question.show_if
            if condition is not None:
                problems.extend(_condition_problems(f"{where}.show_if", condition, seen))
            seen.setdefault(question.id, question)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def _condition_problems(
    where: str, condition: Condition, earlier: dict[str, Question]
) -> list[str]:
    target = earlier.get(condition.question)
    if target is None:
        return [
            f"{where}.question: `{condition.question}` is not an earlier question "
            "(a condition may only look back)"
        ]
    problems: list[str] = []
    for value in condition.any_of or ():
        if target.type in CHOICE_TYPES:
            valid = isinstance(value, str) and target.option(value) is not None
        else:
            valid = target.accepts(value) and value is not None
        if not valid:
            problems.append(f"{where}.any_of: `{value}` is not a possible answer to `{target.id}`")
    if (condition.min is not None or condition.max is not None) and target.type not in SCALE_RANGES:
        problems.append(f"{where}: `min`/`max` need a scale question, `{target.id}` is not one")
    return problems
