"""Life situations from the citizens' side: how satisfied, how many got what they needed,
and how long the path took, per area.

Each of a survey's situations is summarised by these measures, for those who lived it (only
they are asked its questions, so its answers are theirs):
- `score`: a respondent's score is the mean of their scored answers among the situation's
  questions; the cell's is their mean with a 95% t interval (`surveys.aggregate.estimate`);
- `got_needed`: the share who answered `needed_yes` among everyone who answered the
  situation's question offering it; "partly" is not "yes", so the share is of those who
  fully got what they came for, with a 95% Wilson interval;
- each `number` question: the median of its answers with the quartiles, "don't remember"
  left out (counted nowhere). Quartiles are the medians of the lower and the upper half,
  the middle answer of an odd count belonging to neither; answers are whole numbers, so
  every figure is a whole or a half, exact.

A cell is shown from `min_cell_size` answers on; complementary suppression over region =
Σ its municipalities keeps a hidden one from being one subtraction away. A shown
`got_needed` cell of fewer than 2 × `min_cell_size` answers where everyone, or no one, got
what they needed publishes no share (a 0 or 1 would say what each of them answered), with
the same complementary rule for the shares, as the ratings file does for its satisfied
share: its count stays, its value and interval are empty.

Against an earlier wave, a measure compares only if it is computed from the same questions,
each asked the same way: scored ones as `surveys.change.compare_surveys` decides, the others
with the same type, unit, bounds and options. The change is the later figure minus the
earlier ("7.5 months → 4 months" is a change of −3.5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from surveys.aggregate import Area, Level, Moments, estimate, suppress, wilson_interval
from surveys.change import compare_surveys
from surveys.model import Question, QuestionType, Survey

MeasureKind = Literal["score", "got_needed", "number"]
SCORE = "score"
GOT_NEEDED = "got_needed"
#: The option of a situation's question that says the respondent got what they needed.
NEEDED_YES = "needed_yes"


@dataclass(frozen=True, slots=True)
class Measure:
    situation: str
    #: `score`, `got_needed` or the number question's id: the file's `measure` column.
    id: str
    kind: MeasureKind
    #: The questions it is computed from.
    questions: tuple[str, ...]
    unit: str = ""


def situation_measures(survey: Survey) -> tuple[Measure, ...]:
    """Each situation's measures in survey order: score, got_needed, then its numbers.
    A situation without a scored question (or without a got_needed question) lacks that
    measure."""
    measures: list[Measure] = []
    for situation in survey.situations:
        own = [q for q in survey.questions if q.situation == situation.id]
        scored = tuple(q.id for q in own if q.is_scored)
        if scored:
            measures.append(Measure(situation.id, SCORE, "score", scored))
        needed = next((q for q in own if not q.is_scored and q.option(NEEDED_YES)), None)
        if needed is not None:
            measures.append(Measure(situation.id, GOT_NEEDED, "got_needed", (needed.id,)))
        measures += [
            Measure(situation.id, q.id, "number", (q.id,), q.unit or "")
            for q in own
            if q.type is QuestionType.NUMBER
        ]
    return tuple(measures)


def comparable_measures(old: Survey, new: Survey) -> frozenset[tuple[str, str]]:
    """(situation, measure) pairs of `new` that `old` measured from the same questions, each
    asked the same way."""
    common = compare_surveys(old, new).questions
    alike_scored = {q for questions in common.values() for q in questions}
    before = {(m.situation, m.id): m for m in situation_measures(old)}
    found = set()
    for measure in situation_measures(new):
        earlier = before.get((measure.situation, measure.id))
        if earlier is None or earlier.questions != measure.questions:
            continue
        if all(
            q in alike_scored
            if measure.kind == "score"
            else _asked_alike(old.question(q), new.question(q))
            for q in measure.questions
        ):
            found.add((measure.situation, measure.id))
    return frozenset(found)


def _asked_alike(old: Question | None, new: Question | None) -> bool:
    """An unscored question compares when what its answers can be did not change."""
    if old is None or new is None:
        return False

    def answers(question: Question) -> tuple[object, ...]:
        options = tuple(sorted(option.id for option in question.options))
        return (
            question.situation,
            question.type,
            question.unit,
            question.min,
            question.max,
            question.dont_know,
            options,
        )

    return answers(old) == answers(new)


# One cell's figures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    value: float
    low: float | None = None
    high: float | None = None
    q1: float | None = None
    q3: float | None = None


def quartiles(histogram: Mapping[int, int]) -> tuple[float | None, float, float | None]:
    """(q1, median, q3) of whole-number answers given as value → count.

    The median is the middle answer, or the mean of the two middle ones; q1 and q3 are the
    medians of the lower and the upper half, the middle answer of an odd count left out of
    both (none from a single answer). 1, 2, 3, 4, 100 → q1 1.5, median 3, q3 52.
    """
    ordered = sorted((value, count) for value, count in histogram.items() if count > 0)
    total = sum(count for _, count in ordered)
    if total == 0:
        raise ValueError("no answers to take a median of")

    def at(position: int) -> int:
        """The answer at `position` (1-based) in ascending order."""
        seen = 0
        for value, count in ordered:
            seen += count
            if seen >= position:
                return value
        raise IndexError(position)

    def median(first: int, last: int) -> float:
        size = last - first + 1
        return (at(first + (size - 1) // 2) + at(first + size // 2)) / 2

    half = total // 2
    if half == 0:
        return None, median(1, total), None
    return median(1, half), median(1, total), median(total - half + 1, total)


def _score_figure(moments: Moments) -> Figure | None:
    found = estimate({0: moments})
    return Figure(found.score, found.ci_low, found.ci_high) if found else None


def _share_figure(histogram: Mapping[int | str, int]) -> tuple[int, Figure | None]:
    answered = sum(histogram.values())
    if not answered:
        return 0, None
    share = histogram.get(NEEDED_YES, 0) / answered
    low, high = wilson_interval(share, answered)
    return answered, Figure(share, low, high)


def _number_figure(histogram: Mapping[int | str, int]) -> tuple[int, Figure | None]:
    numbers = {value: count for value, count in histogram.items() if isinstance(value, int)}
    answered = sum(numbers.values())
    if not answered:
        return 0, None
    q1, middle, q3 = quartiles(numbers)
    return answered, Figure(middle, q1=q1, q3=q3)


# The table ------------------------------------------------------------------------------------

#: (region, municipality, situation) → moments of its respondents' situation scores.
ScoreStats = Mapping[tuple[str, str, str], Moments]
#: (region, municipality, question) → answer (a whole number, an option id or `dont_know`)
#: → how many gave it.
AnswerCounts = Mapping[tuple[str, str, str], Mapping[int | str, int]]
CellKey = tuple[Area, str, str]


@dataclass(frozen=True, slots=True)
class SituationCell:
    area: Area
    measure: Measure
    respondents: int
    suppressed: bool
    #: None when suppressed.
    figure: Figure | None


@dataclass(frozen=True, slots=True)
class SituationLine:
    """A cell and, against an earlier wave, that wave's figure and the change since."""

    cell: SituationCell
    before: float | None = None
    change: float | None = None


@dataclass(frozen=True, slots=True)
class SituationTable:
    measures: tuple[Measure, ...]
    cells: Mapping[CellKey, SituationCell]

    def lines(
        self,
        level: Level,
        before: SituationTable | None = None,
        comparable: frozenset[tuple[str, str]] = frozenset(),
    ) -> Iterator[SituationLine]:
        """One level's cells in file order (area, situation, measure), each with its change
        since `before` where the measure compares and both waves show the cell."""
        depth = 1 if level == "region" else 2
        for area in sorted({area for area, _, _ in self.cells if len(area) == depth}):
            for measure in self.measures:
                cell = self.cells[(area, measure.situation, measure.id)]
                old = before.cells.get((area, measure.situation, measure.id)) if before else None
                if (
                    old is None
                    or old.figure is None
                    or cell.figure is None
                    or (measure.situation, measure.id) not in comparable
                ):
                    yield SituationLine(cell)
                else:
                    change = cell.figure.value - old.figure.value
                    yield SituationLine(cell, old.figure.value, change)


def build_situations(
    measures: Sequence[Measure],
    scores: ScoreStats,
    answers: AnswerCounts,
    *,
    min_cell_size: int,
) -> SituationTable:
    """Every region's and municipality's cell of every measure, suppressed and computed."""
    moments: defaultdict[tuple[Area, str], Moments] = defaultdict(Moments)
    for (region, municipality, situation), found in scores.items():
        for area in ((region,), (region, municipality)):
            moments[(area, situation)] += found
    counts: defaultdict[tuple[Area, str], defaultdict[int | str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for (region, municipality, question), histogram in answers.items():
        for area in ((region,), (region, municipality)):
            for value, count in histogram.items():
                counts[(area, question)][value] += count
    areas = {area for area, _ in moments} | {area for area, _ in counts}
    figures: dict[CellKey, tuple[int, Figure | None]] = {}
    for area in areas:
        for measure in measures:
            key = (area, measure.situation, measure.id)
            if measure.kind == "score":
                found = moments.get((area, measure.situation), Moments())
                figures[key] = (found.count, _score_figure(found))
            elif measure.kind == "got_needed":
                figures[key] = _share_figure(counts.get((area, measure.questions[0]), {}))
            else:
                figures[key] = _number_figure(counts.get((area, measure.questions[0]), {}))
    respondents = {key: n for key, (n, _) in figures.items()}
    hidden = suppress(respondents, _partitions(areas, measures), min_cell_size)
    shares = [m for m in measures if m.kind == GOT_NEEDED]
    unanimous = {
        key
        for key, (n, figure) in figures.items()
        if key[2] in {m.id for m in shares}
        and key not in hidden
        and n < 2 * min_cell_size
        and figure is not None
        and figure.value in (0.0, 1.0)
    }
    withheld = suppress(
        respondents, _partitions(areas, shares), min_cell_size, also=hidden | unanimous
    )
    cells = {
        key: SituationCell(
            key[0],
            measure,
            respondents[key],
            key in hidden,
            None if key in withheld else figures[key][1],
        )
        for measure in measures
        for key in ((area, measure.situation, measure.id) for area in areas)
    }
    return SituationTable(tuple(measures), cells)


def _partitions(
    areas: set[Area], measures: Sequence[Measure]
) -> Iterator[tuple[CellKey, list[CellKey]]]:
    """Each region = its municipalities ("" for those who named none), per measure."""
    municipalities: defaultdict[Area, list[Area]] = defaultdict(list)
    for area in sorted(areas):
        if len(area) == 2:
            municipalities[area[:1]].append(area)
    for region, children in sorted(municipalities.items()):
        for m in measures:
            yield (region, m.situation, m.id), [(c, m.situation, m.id) for c in children]
