"""Honest ranks: the 95% interval of a place, and whether a cell stands out from its field.

A place alone overstates what a survey knows. Regions a point apart, each with an interval
twenty points wide, get places 3 and 9 although the answers cannot tell them apart. So every
ranked cell also gets the range of places it plausibly holds, and a coarse group that only
says "above" or "below" when its interval clears the mean of the field.

The place interval is a parametric bootstrap, run per contest (the regions of a track; the
municipalities of a region in a track):

- each cell's score is drawn `DRAWS` times as score + se·T, with T Student's t on n_eff − 1
  degrees of freedom: the distribution the cell's published t interval comes from, so the
  middle 95% of its draws is its interval. Draws are clipped to the 0–100 scale, as the
  interval is. A cell with a single respondent has no standard error; it is drawn anywhere
  on the scale, since nothing narrower is known of it;
- every draw is rounded half up to one decimal and ranked by competition ranking (1, 1, 3),
  exactly as `rank` is on the published scores: cells that would read the same share a place
  within a draw too, and a cell whose every respondent gave the same score keeps its place;
- of the `DRAWS` places a cell got, the lowest and highest 2.5% are dropped: `rank_low` and
  `rank_high` bound the middle 95%.

Why numpy, when the rest of `surveys/` is plain Python: 85 regions × 10,000 draws is 850,000
numbers per track (and more for each region's municipalities), to be drawn, rounded, sorted
and ranked on every export and every refresh of the chat's `/results`. As arrays, a track of
85 regions takes under a tenth of a second; as Python loops, several seconds. numpy is
installed anyway, as matplotlib's dependency; it is imported only when ratings are built.

Reproducible: each contest draws from its own generator, seeded with a fixed seed and the
contest's name, its cells in code order. The same wave gives the same file every time, and a
region's municipalities get the same intervals whether or not other regions answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

Group = Literal["above_average", "average", "below_average"]

#: Draws per contest: with 10,000, the 2.5% tails hold 250 draws each, so a place at the
#: edge of an interval does not come and go with the seed.
DRAWS = 10_000
#: Any fixed number would do; this one is the project's first wave date.
SEED = 20261123
SCALE = (0.0, 100.0)


def place_intervals(
    scores: Sequence[float],
    standard_errors: Sequence[float | None],
    effective_ns: Sequence[float],
    *,
    contest: str,
    confidence: float,
) -> list[tuple[int, int]]:
    """Each cell's (rank_low, rank_high) among the cells given, in their order.

    `contest` names the contest (say `49/youth`) and seeds its draws; the cells must come in
    a fixed order, for the same reason. `confidence` is the share of draws the interval holds.
    """
    count = len(scores)
    if count < 2:  # alone in its contest: first in every draw
        return [(1, 1)] * count
    generator = np.random.default_rng([SEED, *contest.encode()])
    known = np.array([error is not None for error in standard_errors])
    freedom = np.where(known, np.asarray(effective_ns, dtype=float) - 1, 1.0)
    # One row per draw, one column per cell: a draw's cells lie side by side in memory,
    # which is what ranking them wants. Worked in place to keep one such array alive.
    draws = generator.standard_t(freedom, size=(DRAWS, count))
    draws *= [error or 0.0 for error in standard_errors]
    draws += scores
    if not known.all():
        draws[:, ~known] = generator.uniform(*SCALE, size=(DRAWS, int((~known).sum())))
    np.clip(draws, *SCALE, out=draws)
    places = competition_places(to_published_tenths(draws))
    tail = round(DRAWS * (1 - confidence) / 2)
    bounds = np.partition(places, (tail, DRAWS - 1 - tail), axis=0)
    return [
        (int(low), int(high))
        for low, high in zip(bounds[tail], bounds[DRAWS - 1 - tail], strict=True)
    ]


def to_published_tenths(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Scores (≥ 0) turned, in place, into whole tenths rounded as
    `surveys.figures.round_half_up` rounds them.

    The same two steps, vectorised: first to 9 decimals (8 decimals of tenths), so float noise
    such as 43.74999999999999 cannot pull a true 43.75 down, then half up.
    """
    scores *= 10
    np.round(scores, 8, out=scores)
    scores += 0.5
    return np.floor(scores, out=scores)


def competition_places(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """Each column's place within each row, 1 = highest; equal values share the best place
    and the next is skipped (1, 1, 3), like `surveys.aggregate.competition_ranks`."""
    order = np.argsort(-values, axis=1)
    ordered = np.take_along_axis(values, order, axis=1)
    starts_a_tie = np.ones(ordered.shape, dtype=bool)
    starts_a_tie[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    position = np.arange(1, values.shape[1] + 1, dtype=np.int32)
    ordered_places = np.maximum.accumulate(np.where(starts_a_tie, position, 0), axis=1)
    places = np.empty_like(ordered_places)
    np.put_along_axis(places, order, ordered_places, axis=1)
    return places


def group(ci_low: float | None, ci_high: float | None, field_mean: float) -> Group:
    """Above or below average only if the whole interval clears the field's mean.

    An interval that touches or straddles the mean, and a cell without one (a single
    respondent), cannot be told apart from the average.
    """
    if ci_low is not None and ci_low > field_mean:
        return "above_average"
    if ci_high is not None and ci_high < field_mean:
        return "below_average"
    return "average"
