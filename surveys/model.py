"""The questionnaire as a survey file describes it.

A survey is immutable once loaded: answers are stored against the exact version that was
asked, so every rule that decides what a respondent sees lives here, next to the data.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
    options: tuple[Option, ...] = Field(default=(), validate_default=True)
    max_length: int = Field(default=1000, ge=1, le=MAX_TEXT_ANSWER)

    @field_validator("options")
    @classmethod
    def _options_fit_type(
        cls, options: tuple[Option, ...], info: ValidationInfo
    ) -> tuple[Option, ...]:
        """A field validator (not a model one) so the error points at `options` itself."""
        kind = info.data.get("type")
        if kind is None:  # the type itself is invalid and already reported
            return options
        if kind in CHOICE_TYPES:
            if len(options) < 2:
                raise ValueError(f"a {kind} question needs at least two options")
            ids = [option.id for option in options]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate option id {', '.join(map(_quoted, duplicates))}")
        elif options:
            raise ValueError(f"a {kind} question takes no options")
        return options

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
        """Cross-field rules, all reported at once in one error of its own type.

        The loader recognises the `survey_references` type and re-runs `reference_problems`
        itself (also on files whose fields are broken), so each problem gets its own line.
        """
        problems = reference_problems(
            [topic.id for topic in self.topics],
            [QuestionRefs.of(question) for question in self.questions],
        )
        if problems:
            summary = "; ".join(str(problem) for problem in problems)
            raise PydanticCustomError(REFERENCES_ERROR, "{summary}", {"summary": summary})
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def question_index(self, question_id: str) -> int:
        """Where a question stands in the file; by id, since `questions.index` would compare
        whole question models field by field (a measurable cost behind every answer)."""
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


#: The pydantic error type under which `Survey` reports broken cross-references.
REFERENCES_ERROR = "survey_references"

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ReferenceProblem:
    """One broken cross-reference, located by its path in the survey data.

    `related` points at the place the problem collides with (the first use of a duplicate
    id), so that a loader can tell the author where to look.
    """

    loc: Location
    message: str
    related: Location | None = None

    def __str__(self) -> str:
        return f"{'.'.join(map(str, self.loc))}: {self.message}"


@dataclass(frozen=True, slots=True)
class QuestionRefs:
    """What the cross-reference rules need from one question.

    A part is None when it is absent or failed its own validation; such parts are skipped,
    so a file with broken fields still gets every *other* reference checked, without
    follow-on noise. `question` is the fully valid question, needed to check condition
    values against its answers.
    """

    id: str | None
    topic: str | None = None
    track: Track | None = None
    show_if: Condition | None = None
    question: Question | None = None

    @classmethod
    def of(cls, question: Question) -> QuestionRefs:
        return cls(question.id, question.topic, question.track, question.show_if, question)


def reference_problems(
    topic_ids: Sequence[str | None], questions: Sequence[QuestionRefs]
) -> list[ReferenceProblem]:
    """Every broken cross-reference, in file order: ids, topics and conditions."""
    problems = _duplicate_ids("topics", "topic", topic_ids)
    problems += _duplicate_ids("questions", "question", [q.id for q in questions])
    known_topics = sorted({t for t in topic_ids if t is not None})
    positions: dict[str, int] = {}
    for index, refs in enumerate(questions):
        if refs.id is not None:
            positions.setdefault(refs.id, index)
    for index, refs in enumerate(questions):
        where: Location = ("questions", index)
        if refs.topic is not None and refs.topic not in known_topics:
            message = f"unknown topic {_quoted(refs.topic)}{_suggestion(refs.topic, known_topics)}"
            problems.append(ReferenceProblem((*where, "topic"), message))
        if refs.show_if is not None:
            problems += _condition_problems(index, refs.show_if, refs, questions, positions)
    return problems


def _duplicate_ids(section: str, noun: str, ids: Sequence[str | None]) -> list[ReferenceProblem]:
    first: dict[str, int] = {}
    problems: list[ReferenceProblem] = []
    for index, item_id in enumerate(ids):
        if item_id is None:
            continue
        if item_id in first:
            problems.append(
                ReferenceProblem(
                    (section, index, "id"),
                    f"duplicate {noun} id {_quoted(item_id)}",
                    related=(section, first[item_id], "id"),
                )
            )
        else:
            first[item_id] = index
    return problems


def _condition_problems(
    index: int,
    condition: Condition,
    refs: QuestionRefs,
    questions: Sequence[QuestionRefs],
    positions: dict[str, int],
) -> list[ReferenceProblem]:
    """Conditions may only look back, so the questionnaire settles in one pass."""
    where: Location = ("questions", index)
    loc: Location = (*where, "show_if", "question")
    target_index = positions.get(condition.question)
    if target_index is None:
        known = sorted(positions)
        message = (
            f"unknown question {_quoted(condition.question)}"
            f"{_suggestion(condition.question, known)}"
        )
        return [ReferenceProblem(loc, message)]
    if target_index == index:
        return [ReferenceProblem(loc, "a question cannot depend on its own answer")]
    if target_index > index:
        message = (
            f"question {_quoted(condition.question)} comes later; "
            "a condition may only look at an earlier question"
        )
        return [ReferenceProblem(loc, message, related=("questions", target_index, "id"))]
    target = questions[target_index]
    problems: list[ReferenceProblem] = []
    if refs.track is not None and target.track is not None and refs.track != target.track:
        problems.append(
            ReferenceProblem(
                loc,
                f"this {refs.track}-track question depends on {_quoted(condition.question)}, "
                f"which only the {target.track} track is asked, so it would never be shown",
            )
        )
    if target.question is not None:
        problems += _condition_value_problems((*where, "show_if"), condition, target.question)
    return problems


def _condition_value_problems(
    where: Location, condition: Condition, target: Question
) -> list[ReferenceProblem]:
    problems: list[ReferenceProblem] = []
    for position, value in enumerate(condition.any_of or ()):
        if target.type in CHOICE_TYPES:
            valid = isinstance(value, str) and target.option(value) is not None
        else:
            valid = target.accepts(value) and value is not None
        if not valid:
            problems.append(
                ReferenceProblem(
                    (*where, "any_of", position),
                    f"{_quoted(value)} is not a possible answer to {_quoted(target.id)}"
                    f"{_possible_answers(target)}",
                )
            )
    if (condition.min is not None or condition.max is not None) and target.type not in SCALE_RANGES:
        problems.append(
            ReferenceProblem(
                where,
                f"min/max need a likert5 or nps question, and {_quoted(target.id)} "
                f"is a {target.type} question",
            )
        )
    return problems


def _possible_answers(question: Question) -> str:
    if question.type in CHOICE_TYPES:
        return "; its options are " + ", ".join(option.id for option in question.options)
    if question.type in SCALE_RANGES:
        low, high = SCALE_RANGES[question.type]
        return f"; {question.type} answers are whole numbers {low} to {high}"
    return ""


def _suggestion(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {_quoted(close[0])}?)" if close else ""


def _quoted(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
