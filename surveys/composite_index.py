"""The consolidated index: the survey's topic weights applied to an area's topic scores.

`overall` and `index` answer different questions. `overall` is the mean of each
respondent's own weighted score, so a topic counts in it as often as people answered it:
where few people use hospitals, hospitals weigh little. `index` is the composite-indicator
practice of the OECD/JRC handbook on composite indicators: each topic's published score
counts with the weight the survey gives it, whoever answered, which is what a rating of
regions built from topic scores means. An area with a topic suppressed or empty has no
index: reweighting over the topics left would put a different measure beside the others
under the same name.

The interval: a topic's score and another's are means over largely the same people, and
the database keeps no cross-topic products to estimate how they move together. The
standard error used is Σ wₜ·seₜ (weights summing to 1), the largest any correlation
between topics allows (Cauchy–Schwarz), on the smallest effective n of the topics: the
interval holds at least 95%, and is wider than it would be if the correlation were known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The topic the ratings file lists the index under, after `overall`.
INDEX = "index"


@dataclass(frozen=True, slots=True)
class IndexPart:
    """One topic's published estimate and the survey's weight for it."""

    weight: float
    score: float
    standard_error: float | None
    effective_n: float


@dataclass(frozen=True, slots=True)
class IndexValue:
    score: float
    #: None when a topic has none (a single respondent): then the index has no interval.
    standard_error: float | None
    effective_n: float


def composite(parts: Sequence[IndexPart]) -> IndexValue:
    """Σ wₜ·scoreₜ / Σ wₜ, with the conservative standard error of the module docstring."""
    if not parts:
        raise ValueError("an index needs at least one topic")
    total = sum(part.weight for part in parts)
    score = sum(part.weight * part.score for part in parts) / total
    known = [(p.weight, p.standard_error) for p in parts if p.standard_error is not None]
    error = sum(w * e for w, e in known) / total if len(known) == len(parts) else None
    return IndexValue(score, error, min(part.effective_n for part in parts))
