"""The questionnaire as a survey file describes it.

A survey is immutable once loaded: answers are stored against the exact version that was
asked, so every rule that decides what a respondent sees lives here, next to the data.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, get_args

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
#: The largest answer a `number` question may allow: ten thousand days is over 27 years, more
#: than any path through an agency takes, and a typo of extra zeros is refused, not stored.
MAX_NUMBER_ANSWER = 10_000
#: What a `number` question counts; each has its plural forms in the chat's catalog.
NumberUnit = Literal["days", "weeks", "months", "visits", "documents", "times"]
NUMBER_UNITS: tuple[NumberUnit, ...] = get_args(NumberUnit)
#: The answer "I don't remember" to a `number` question that offers it.
DONT_KNOW = "dont_know"
#: A choice value is an option id, a scale or number value an integer (or DONT_KNOW);
#: multi-choice answers are lists.
AnswerValue = int | str | list[str] | None


class QuestionType(StrEnum):
    LIKERT5 = "likert5"
    NPS = "nps"
    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"
    NUMBER = "number"


SCALE_RANGES: dict[QuestionType, tuple[int, int]] = {
    QuestionType.LIKERT5: (1, 5),
    QuestionType.NPS: (0, 10),
}
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTI})


def _unset(value: object) -> bool:
    return value is None or value is False


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


class Situation(_Strict):
    """A life situation, such as applying for a child payment: a path through the agencies
    that a survey follows only with those who went through it."""

    id: Identifier
    topic: Identifier
    title: LocalizedText
    description: LocalizedText


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
    # The fields below are left out of a dump while unset, so that a survey version stored
    # before they existed keeps its fingerprint (`surveys.loader.survey_fingerprint`).
    #: The situation this question follows; asked only of those who lived it.
    situation: Identifier | None = Field(default=None, exclude_if=_unset)
    #: The one multi question asking which situations a respondent lived.
    screening: bool = Field(default=False, exclude_if=_unset)
    min: int | None = Field(
        default=None, ge=0, le=MAX_NUMBER_ANSWER, validate_default=True, exclude_if=_unset
    )
    max: int | None = Field(
        default=None, ge=0, le=MAX_NUMBER_ANSWER, validate_default=True, exclude_if=_unset
    )
    unit: NumberUnit | None = Field(default=None, validate_default=True, exclude_if=_unset)
    dont_know: bool = Field(default=False, exclude_if=_unset)

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

    @field_validator("min", "max", "unit", "dont_know")
    @classmethod
    def _number_fields_fit_type(cls, value: Any, info: ValidationInfo) -> Any:
        """A number question needs `min`, `max` and `unit`; no other type takes them, nor
        `dont_know`, so a misplaced field is named instead of silently ignored."""
        kind, name = info.data.get("type"), info.field_name
        if kind is None:
            return value
        if kind is not QuestionType.NUMBER:
            if value not in (None, False):
                raise ValueError(f"only a number question takes `{name}`")
            return value
        if value is None:
            raise ValueError(f"a number question needs `{name}`")
        low = info.data.get("min")
        if name == "max" and low is not None and value <= low:
            raise ValueError(f"`max` must be greater than `min` ({low})")
        return value

    @field_validator("screening")
    @classmethod
    def _screening_is_multi(cls, screening: bool, info: ValidationInfo) -> bool:
        kind = info.data.get("type")
        if screening and kind is not None and kind is not QuestionType.MULTI:
            raise ValueError(
                f"the screening question must be a multi question (one may live several "
                f"situations), not a {kind} question"
            )
        return screening

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
        if self.type is QuestionType.NUMBER:
            if value == DONT_KNOW:
                return self.dont_know
            low, high = self.bounds
            return type(value) is int and low <= value <= high
        return isinstance(value, str) and 0 < len(value) <= self.max_length

    @property
    def bounds(self) -> tuple[int, int]:
        """The smallest and largest answer a number question accepts."""
        assert self.min is not None and self.max is not None, "only number questions have bounds"
        return self.min, self.max


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
    situations: tuple[Situation, ...] = Field(default=(), exclude_if=lambda value: not value)
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
            [SituationRefs(situation.id, situation.topic) for situation in self.situations],
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

    def situation(self, situation_id: str) -> Situation | None:
        return next((s for s in self.situations if s.id == situation_id), None)


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
    situation: str | None = None
    screening: bool = False

    @classmethod
    def of(cls, question: Question) -> QuestionRefs:
        return cls(
            question.id,
            question.topic,
            question.track,
            question.show_if,
            question,
            question.situation,
            question.screening,
        )


@dataclass(frozen=True, slots=True)
class SituationRefs:
    """What the cross-reference rules need from one situation (None: absent or invalid)."""

    id: str | None
    topic: str | None = None


def situation_condition(screening_id: str, situation_id: str) -> Condition:
    """What `situation: ID` means: shown to those who ticked ID in the screening question,
    whose option ids are the situation ids. It is an ordinary `show_if`, so targeting,
    progress and dropping answers after Back need nothing of their own for situations."""
    return Condition(question=screening_id, any_of=(situation_id,))


def reference_problems(
    topic_ids: Sequence[str | None],
    questions: Sequence[QuestionRefs],
    situations: Sequence[SituationRefs] = (),
) -> list[ReferenceProblem]:
    """Every broken cross-reference, in file order: ids, topics, situations and conditions."""
    problems = _duplicate_ids("topics", "topic", topic_ids)
    problems += _duplicate_ids("situations", "situation", [s.id for s in situations])
    problems += _duplicate_ids("questions", "question", [q.id for q in questions])
    known_topics = sorted({t for t in topic_ids if t is not None})
    for index, situation in enumerate(situations):
        if situation.topic is not None and situation.topic not in known_topics:
            problems.append(
                _unknown_topic(("situations", index, "topic"), situation.topic, known_topics)
            )
    positions: dict[str, int] = {}
    for index, refs in enumerate(questions):
        if refs.id is not None:
            positions.setdefault(refs.id, index)
    screening, screening_problems = _screening_question(questions, situations)
    problems += screening_problems
    for index, refs in enumerate(questions):
        where: Location = ("questions", index)
        if refs.topic is not None and refs.topic not in known_topics:
            problems.append(_unknown_topic((*where, "topic"), refs.topic, known_topics))
        if refs.situation is not None:
            problems += _situation_question_problems(index, questions, situations, screening)
        if refs.show_if is not None and not _is_gate(refs, questions, screening):
            problems += _condition_problems(index, refs.show_if, refs, questions, positions)
    return problems + _situations_without_questions(situations, questions)


def _unknown_topic(loc: Location, topic: str, known: Sequence[str]) -> ReferenceProblem:
    return ReferenceProblem(loc, f"unknown topic {_quoted(topic)}{_suggestion(topic, known)}")


def _screening_question(
    questions: Sequence[QuestionRefs], situations: Sequence[SituationRefs]
) -> tuple[int | None, list[ReferenceProblem]]:
    """Where the one screening question stands, and what is wrong with having it or not."""
    marked = [index for index, refs in enumerate(questions) if refs.screening]
    problems: list[ReferenceProblem] = []
    if situations and not marked:
        problems.append(
            ReferenceProblem(
                ("situations",),
                "a survey with situations needs one screening question: a multi question with "
                "`screening: true` asking which of them the respondent or their family went "
                "through",
            )
        )
    if marked and not situations:
        problems.append(
            ReferenceProblem(
                ("questions", marked[0], "screening"),
                "there are no `situations:` to ask about; declare them or remove `screening: true`",
            )
        )
    problems += [
        ReferenceProblem(
            ("questions", index, "screening"),
            "a survey has one screening question, and this is a second",
            related=("questions", marked[0], "id"),
        )
        for index in marked[1:]
    ]
    return (marked[0] if marked else None), problems


def _is_gate(refs: QuestionRefs, questions: Sequence[QuestionRefs], screening: int | None) -> bool:
    """Whether a question's `show_if` is the one its `situation:` stands for."""
    if screening is None or refs.situation is None or refs.show_if is None:
        return False
    screening_id = questions[screening].id
    return screening_id is not None and refs.show_if == situation_condition(
        screening_id, refs.situation
    )


def _situation_question_problems(
    index: int,
    questions: Sequence[QuestionRefs],
    situations: Sequence[SituationRefs],
    screening: int | None,
) -> list[ReferenceProblem]:
    """A situation's question: a known situation, in its topic, after the screening
    question, and shown only to those who lived the situation."""
    refs, where = questions[index], ("questions", index)
    assert refs.situation is not None
    known: dict[str, SituationRefs] = {}
    for candidate in situations:  # a duplicate id is reported on its own: the first counts
        if candidate.id is not None:
            known.setdefault(candidate.id, candidate)
    situation = known.get(refs.situation)
    if situation is None:
        message = (
            f"unknown situation {_quoted(refs.situation)}"
            f"{_suggestion(refs.situation, sorted(known))}"
        )
        return [ReferenceProblem((*where, "situation"), message)]
    problems: list[ReferenceProblem] = []
    if situation.topic is not None and refs.topic is not None and refs.topic != situation.topic:
        problems.append(
            ReferenceProblem(
                (*where, "topic"),
                f"this question follows situation {_quoted(situation.id)}, whose topic is "
                f"{_quoted(situation.topic)}; a situation's questions belong to its topic",
            )
        )
    if screening is None:
        return problems  # reported once, at `situations:`
    screening_id = questions[screening].id
    if screening == index:
        message = "the screening question cannot belong to a situation"
        problems.append(ReferenceProblem((*where, "situation"), message))
    elif screening > index:
        if not any(q.situation is not None for q in questions[:index]):  # said once
            message = (
                f"the screening question {_quoted(screening_id)} comes later; put it before "
                "the questions of every situation"
            )
            related = ("questions", screening, "id")
            problems.append(ReferenceProblem((*where, "situation"), message, related))
    elif refs.show_if is None and screening_id is not None:
        problems.append(
            ReferenceProblem(
                (*where, "situation"),
                f"this question must be shown only to those who lived {_quoted(situation.id)}: "
                f"give it `show_if: {{question: {screening_id}, any_of: [{situation.id}]}}`",
            )
        )
    elif refs.show_if is not None and not _is_gate(refs, questions, screening):
        target = next((q for q in questions if q.id == refs.show_if.question), None)
        if target is not None and target.situation != situation.id:
            problems.append(
                ReferenceProblem(
                    (*where, "show_if", "question"),
                    f"a question of situation {_quoted(situation.id)} may depend only on another "
                    "question of that situation, so that it is still asked only of those who "
                    "lived it",
                )
            )
    return problems


def _situations_without_questions(
    situations: Sequence[SituationRefs], questions: Sequence[QuestionRefs]
) -> list[ReferenceProblem]:
    followed = {refs.situation for refs in questions}
    return [
        ReferenceProblem(
            ("situations", index),
            f"situation {_quoted(situation.id)} has no questions; mark at least one question "
            f"with `situation: {situation.id}`",
        )
        for index, situation in enumerate(situations)
        if situation.id is not None and situation.id not in followed
    ]


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
    numeric = target.type in SCALE_RANGES or target.type is QuestionType.NUMBER
    if (condition.min is not None or condition.max is not None) and not numeric:
        problems.append(
            ReferenceProblem(
                where,
                f"min/max need a likert5, nps or number question, and {_quoted(target.id)} "
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
    if question.type is QuestionType.NUMBER:
        low, high = question.bounds
        dont_know = f" or {_quoted(DONT_KNOW)}" if question.dont_know else ""
        return f"; its answers are whole numbers {low} to {high}{dont_know}"
    return ""


def _suggestion(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {_quoted(close[0])}?)" if close else ""


def _quoted(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
