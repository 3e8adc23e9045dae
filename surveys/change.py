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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from surveys.aggregate import (
    CONFIDENCE,
    Area,
    Cell,
    CellTrack,
    Estimate,
    Level,
    t_quantile,
)
from surveys.figures import round_half_up
from surveys.model import Question, Survey

if TYPE_CHECKING:
    from surveys.series import WaveSeries

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
    scored = {q.topic for q in (*old_scored.values(), *new_scored.values())}
    topics = _topics((old, new), scored)
    return Comparability(
        topics=topics,
        questions={topic: tuple(common[topic]) for topic in topics if topic in common},
        matches=tuple(matches),
    )


def compare_series(surveys: Sequence[Survey]) -> Comparability:
    """What every one of `surveys` (oldest first) asked the same way: a question compares
    only if each earlier version scores it as the newest does, so that a series of waves is
    one measure from end to end. Of two surveys, exactly `compare_surveys`. A question is
    described by the first earlier version that breaks it, if one does."""
    *earlier, newest = surveys
    pairs = [compare_surveys(old, newest) for old in earlier]
    if len(pairs) == 1:
        return pairs[0]
    topics = _topics(surveys, set().union(*(pair.topics for pair in pairs)))
    newest_common = pairs[-1].questions
    common = {
        topic: kept
        for topic in topics
        if (kept := tuple(q for q in newest_common.get(topic, ()) if _in_all(q, topic, pairs)))
    }
    matches: dict[str, QuestionMatch] = {}
    for match in (m for pair in pairs for m in pair.matches):
        known = matches.get(match.question_id)
        if known is None or (known.comparable and not match.comparable):
            matches[match.question_id] = match
    return Comparability(topics, common, tuple(matches.values()))


def _in_all(question_id: str, topic: str, pairs: Sequence[Comparability]) -> bool:
    return all(question_id in pair.questions.get(topic, ()) for pair in pairs)


def _topics(surveys: Sequence[Survey], scored: set[str]) -> tuple[str, ...]:
    """The scored topics, in the newest survey's order, then those only older ones had
    (newest first)."""
    order = [topic.id for survey in reversed(surveys) for topic in survey.topics]
    return tuple(dict.fromkeys(topic for topic in order if topic in scored))


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


def change_cells(series: WaveSeries, level: Level) -> Iterator[ChangeCell]:
    """The change file's rows: every area of `level` with respondents in either of the
    series' last two waves × track × topic, the later wave against the earlier.

    A cell is shown only where the series shows it, in both waves alike: its hidden set
    closes complementary suppression over both waves together and takes in what either
    wave's ratings file hides (`surveys.series`), so neither this file, nor it with the
    ratings files, gives a hidden figure away by one subtraction.
    """
    for line in series.lines(level):
        before, after = line[-2], line[-1]
        yield ChangeCell(
            after.area,
            after.track,
            after.topic,
            after.comparable,
            after.suppressed,
            before.cell,
            after.cell,
            after.change,
        )
