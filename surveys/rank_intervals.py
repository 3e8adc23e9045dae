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

A national wave ranks some 500 contests, so the ranking is kept cheap next to the draws it
cannot change (the t draws are most of the cost, and must stay as they are for the seed to
give the same file). Rounded draws are whole tenths 0–1000, so they are ranked as small
ints, not floats: a place is 1 + the number of cells strictly above in that draw, counted
pair by pair for a region's couple of dozen municipalities and by sorting each draw for
larger contests. Only how many draws gave each cell each place is kept, and the interval's
ends are read off its running total: the same order statistics a sort of the places gives.

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
    tail = round(DRAWS * (1 - confidence) / 2)
    if not 0 <= tail < DRAWS:
        raise ValueError(f"confidence {confidence} leaves no draws to take places from")
    generator = np.random.default_rng([SEED, *contest.encode()])
    known = np.array([error is not None for error in standard_errors])
    freedom = np.where(known, np.asarray(effective_ns, dtype=float) - 1, 1.0)
    # One row per draw, one column per cell, drawn in that order: the seed's stream, and so
    # the published file, depends on it. Worked in place to keep one such array alive.
    draws = generator.standard_t(freedom, size=(DRAWS, count))
    draws *= [error or 0.0 for error in standard_errors]
    draws += scores
    if not known.all():
        draws[:, ~known] = generator.uniform(*SCALE, size=(DRAWS, int((~known).sum())))
    np.clip(draws, *SCALE, out=draws)
    tally = place_tally(to_published_tenths(draws))
    return list(
        zip(
            order_statistic(tally, tail).tolist(),
            order_statistic(tally, DRAWS - 1 - tail).tolist(),
            strict=True,
        )
    )


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


#: Up to this many cells a contest's places are counted by comparing every pair of cells
#: (count² cheap vector passes), above it by sorting each draw (count·log count, dearer per
#: step): measured, the two cost the same at about 25 cells, the size of a region's
#: municipalities. Must stay under 256: the comparison counts places in bytes.
COMPARE_UP_TO = 24
#: The top of the scale in whole tenths, the highest value `to_published_tenths` gives.
TOP_TENTHS = round(SCALE[1] * 10)


def place_tally(tenths: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """How many draws (rows of `tenths`) put each cell (column) in each place: row = cell,
    column = place − 1. Places are competition ranks, as `competition_places` gives them.

    Only this count is needed for the interval, not which draw gave which place, and on whole
    tenths within the scale it can be had without a float argsort per draw. NaN (a cell with a
    zero standard error drawn at an infinite t) is not a tenth: such draws are ranked as they
    always were, NaN below every number.
    """
    count = tenths.shape[1]
    if np.isnan(tenths).any():
        places = competition_places(tenths)
        return np.stack([np.bincount(cell - 1, minlength=count) for cell in places.T])
    if count <= COMPARE_UP_TO:
        return _tally_by_comparison(tenths)
    return _tally_by_sorting(tenths)


def _tally_by_comparison(tenths: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """A competition place is 1 + the number of cells strictly above in that draw: one pass
    per cell adds up, for every cell at once, whether that cell is above it.

    Cell-major small ints, so each pass is a long run of vector compares and byte adds.
    """
    draws, count = tenths.shape
    values = np.empty((count, draws), dtype=np.int16)
    np.copyto(values, tenths.T, casting="unsafe")  # whole tenths 0–1000: exact
    above = np.zeros((count, draws), dtype=np.uint8)
    is_above = np.empty((count, draws), dtype=np.bool_)
    for cell_values in values:
        np.greater(cell_values, values, out=is_above)
        above += is_above.view(np.uint8)
    # Row by row: one index array over all the draws would be a fresh 8 bytes per draw and
    # cell, and touching that much new memory costs more than the counting itself.
    return np.stack([np.bincount(cell, minlength=count) for cell in above])


def _tally_by_sorting(tenths: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Each draw sorted best first as one int per cell, (TOP_TENTHS − value, cell), so the
    cell rides along; a cell's place is 1 + the position where its value's run of ties begins.
    """
    draws, count = tenths.shape
    bits = count.bit_length()
    key_type = np.int32 if (TOP_TENTHS + 1) << bits <= np.iinfo(np.int32).max else np.int64
    keys = tenths.astype(key_type)  # whole tenths: exact
    np.subtract(TOP_TENTHS, keys, out=keys)
    keys <<= bits
    keys |= np.arange(count, dtype=key_type)
    keys.sort(axis=1)
    # Position-major from here: each step below is one vector op over all the draws.
    # Fresh memory is slow to touch, so the arrays below reuse what they can.
    ordered = np.ascontiguousarray(keys.T)
    cells = np.bitwise_and(ordered, (1 << bits) - 1, out=keys.reshape(count, draws))
    ordered >>= bits
    # place − 1: a position where a new value starts, carried on through its ties.
    places = np.zeros((count, draws), dtype=key_type)
    np.not_equal(ordered[1:], ordered[:-1], out=places[1:])
    places *= np.arange(count, dtype=key_type)[:, np.newaxis]
    for position in range(1, count):
        np.maximum(places[position], places[position - 1], out=places[position])
    cells *= count
    places += cells  # (cell, place − 1) as one index
    tally = np.zeros(count * count, dtype=np.intp)
    for index in places:  # a row at a time, for the same reason
        tally += np.bincount(index, minlength=count * count)
    return tally.reshape(count, count)


def order_statistic(tally: npt.NDArray[np.intp], k: int) -> npt.NDArray[np.intp]:
    """Each cell's k-th lowest place (from 0) over the draws, as a sort of them would show:
    the first place by which more than k draws are counted."""
    return (np.cumsum(tally, axis=1) <= k).sum(axis=1) + 1


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
