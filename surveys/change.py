"""Change between two waves: which questions compare, the change's interval and its verdict.

"Did this region's services get better?" is answered by comparing two waves, and two waves
are two independent samples of different people: the change of a cell's score is the
difference of two means with Welch's t interval (unequal variances, Welch–Satterthwaite
degrees of freedom), never a paired test.

Only what was asked the same way in both waves is compared. Comparability is decided per
question, not per survey version: a question compares when both waves asked it under the
same id, in the same topic, with the same type (hence scale) and the same options with the
same scores. Reworded text or a raised `version` alone changes nothing that is scored; a
new scale or option set does, and such a question drops out of both waves' topic scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from surveys.aggregate import (
    CELL_TRACKS,
    CONFIDENCE,
    OVERALL,
    Area,
    Cell,
    CellTrack,
    Estimate,
    Level,
    Ratings,
    t_quantile,
)
from surveys.figures import round_half_up
from surveys.model import Question, Survey

# Comparability --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionMatch:
    """One scored question of either wave, and whether (or why not) it compares."""

    question_id: str
    topic: str
    comparable: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Comparability:
    """What two survey versions have in common, topic by topic."""

    #: Every topic scored in either wave: the new survey's order, then topics only the old
    #: survey scored. Topics without a common question are in it, to be reported as such.
    topics: tuple[str, ...]
    #: The comparable topics and the common scored questions each is computed on.
    questions: Mapping[str, tuple[str, ...]]
    matches: tuple[QuestionMatch, ...]

    @property
    def comparable_topics(self) -> tuple[str, ...]:
        return tuple(topic for topic in self.topics if topic in self.questions)


def _scoring(question: Question) -> tuple[object, ...]:
    """What decides a question's scores: its topic, its type (and so its scale) and its
    options with their scores. Texts, `optional` and `show_if` are left out on purpose."""
    options = sorted((option.id, option.score) for option in question.options)
    return (question.topic, question.type, tuple(options))


def _difference(old: Question, new: Question) -> str:
    if old.topic != new.topic:
        return f"topic changed from {old.topic} to {new.topic}"
    if old.type != new.type:
        return f"type changed from {old.type} to {new.type}"
    return "options or their scores changed"


def compare_surveys(old: Survey, new: Survey) -> Comparability:
    """Which scored questions the two versions share with the same meaning, per topic."""
    matches: list[QuestionMatch] = []
    common: dict[str, list[str]] = {}
    old_scored = {q.id: q for q in old.questions if q.is_scored}
    new_scored = {q.id: q for q in new.questions if q.is_scored}
    for question in new_scored.values():
        before = old_scored.get(question.id)
        if before is None:
            matches.append(
                QuestionMatch(question.id, question.topic, False, "not in the old survey")
            )
        elif _scoring(before) != _scoring(question):
            reason = _difference(before, question)
            matches.append(QuestionMatch(question.id, question.topic, False, reason))
        else:
            matches.append(QuestionMatch(question.id, question.topic, True, "same scoring"))
            common.setdefault(question.topic, []).append(question.id)
    for question in old_scored.values():
        if question.id not in new_scored:
            matches.append(
                QuestionMatch(question.id, question.topic, False, "not in the new survey")
            )
    order = [t.id for t in new.topics] + [t.id for t in old.topics]
    scored = {q.topic for q in (*old_scored.values(), *new_scored.values())}
    topics = tuple(dict.fromkeys(topic for topic in order if topic in scored))
    return Comparability(
        topics=topics,
        questions={topic: tuple(common[topic]) for topic in topics if topic in common},
        matches=tuple(matches),
    )


# One cell's change ----------------------------------------------------------------------------

Verdict = Literal["improved", "declined", "no_clear_change"]
IMPROVED: Verdict = "improved"
DECLINED: Verdict = "declined"
NO_CLEAR_CHANGE: Verdict = "no_clear_change"


@dataclass(frozen=True, slots=True)
class ChangeEstimate:
    change: float
    low: float | None
    high: float | None
    verdict: Verdict


def welch_change(new: Estimate, old: Estimate) -> ChangeEstimate:
    """new − old with Welch's 95% interval, the samples being independent.

    se = √(se_new² + se_old²); df = se⁴ / (se_new⁴/(n_new − 1) + se_old⁴/(n_old − 1)) with
    n the (Kish effective) number of respondents; change ± t(0.975, df) · se, clipped to
    −100…100. Two cells where everyone gave the same score have se = 0 and a point
    interval. A cell of one respondent has no standard error, so no interval and no verdict
    beyond `no_clear_change`.
    """
    change = new.score - old.score
    if new.standard_error is None or old.standard_error is None:
        return ChangeEstimate(change, None, None, NO_CLEAR_CHANGE)
    se_new, se_old = new.standard_error**2, old.standard_error**2
    variance = se_new + se_old
    if variance == 0:
        low = high = change
    else:
        df = variance**2 / (se_new**2 / (new.effective_n - 1) + se_old**2 / (old.effective_n - 1))
        half = t_quantile(0.5 + CONFIDENCE / 2, df) * math.sqrt(variance)
        low, high = max(change - half, -100.0), min(change + half, 100.0)
    return ChangeEstimate(change, low, high, verdict(low, high))


def verdict(low: float, high: float) -> Verdict:
    """Judged on the published (rounded) bounds, so a reader can check it from the file:
    an interval that reads 0.0 at one end touches zero and is no clear change."""
    if round_half_up(low, 1) > 0:
        return IMPROVED
    if round_half_up(high, 1) < 0:
        return DECLINED
    return NO_CLEAR_CHANGE


# The table ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeCell:
    area: Area
    track: CellTrack
    topic: str
    comparable: bool
    suppressed: bool
    #: Both None unless the cell is comparable and shown.
    before: Cell | None
    after: Cell | None
    change: ChangeEstimate | None


def change_cells(
    new: Ratings, old: Ratings, comparability: Comparability, level: Level
) -> Iterator[ChangeCell]:
    """Every area of `level` that has respondents in either wave × track × topic.

    Both Ratings are computed on the common questions only. A cell is shown only where both
    waves show it under their own suppression (small and complementary cells): each wave's
    hidden cells stay hidden, and as the union of two sets that each leave no equation with
    a single hidden term leaves none either, no figure of either wave can be subtracted out
    of this file. A cell nobody is in, in either wave, is suppressed like a small one.
    """
    areas = sorted({*new.areas(level), *old.areas(level)})
    topics = (*comparability.topics, OVERALL)
    for area in areas:
        for track in CELL_TRACKS:
            for topic in topics:
                if topic != OVERALL and topic not in comparability.questions:
                    yield ChangeCell(area, track, topic, False, False, None, None, None)
                    continue
                before = old.cells.get((area, track, topic))
                after = new.cells.get((area, track, topic))
                if not _shown(before) or not _shown(after):
                    yield ChangeCell(area, track, topic, True, True, None, None, None)
                    continue
                assert before and after and before.estimate and after.estimate
                change = welch_change(after.estimate, before.estimate)
                yield ChangeCell(area, track, topic, True, False, before, after, change)


def _shown(cell: Cell | None) -> bool:
    return cell is not None and not cell.suppressed and cell.estimate is not None
