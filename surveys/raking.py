"""Raking (iterative proportional fitting) of group counts to population margins, trimmed.

Post-stratification can match one margin; a region's respondents also have to stand for its
municipalities, and a sample as large as one cell per municipality × age band does not
exist. Raking matches every margin at once: starting from equal weights, it scales the
strata of each margin's categories in turn to their share of the population, sweep after
sweep, until every margin holds to a millionth. The result is the weighting closest to
equal weights (in Kullback–Leibler divergence) that meets the margins, so the sample's own
mix within a category is kept where the population gives nothing finer.

A few respondents standing for thousands make every figure hinge on them, so the weights
are trimmed: a weight above `TRIM_CAP` times the mean respondent weight is cut to the cap,
the excess spread over the others (the total stays), and the strata raked again from there.
This stops when raking stays within the cap; when the trimmed weights stop changing, or
after `TRIM_ROUNDS` rounds, margins and cap cannot both hold, and the trimmed weights stand:
the cap wins, and the margins are missed by what it took (trimming trades that bias for a
smaller variance).

Why not weightipy (or ipfn): they rake a pandas frame with a row per respondent. The input
here is a few thousand group counts; a library would need them blown back up into rows and
pandas (today only a benchmark extra) at run time, and would still leave the collapse of
thin categories, the pooled rest of a region and the respondents outside a margin to us.
The fitting itself is the few lines below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

H = TypeVar("H", bound=Hashable)

#: No stratum's respondents weigh more than this many times the mean respondent weight of
#: the strata raked together. 5 is the usual rule of thumb: it bounds the design effect a
#: single stratum can cause while leaving ordinary weights (0.3–3) untouched.
TRIM_CAP = 5.0
#: Margins are met to a millionth of their target, far below a published decimal.
TOLERANCE = 1e-6
MAX_SWEEPS = 2000
#: Rounds of trimming and raking again before the trimmed weights stand as they are.
TRIM_ROUNDS = 10


class RakingError(ValueError):
    """The margins contradict each other for these respondents: raking does not converge."""


@dataclass(frozen=True, slots=True)
class Margin(Generic[H]):
    """One margin: the category of each stratum, and each category's population.

    A stratum missing from `categories` is outside the margin (its respondents' category is
    unknown) and keeps its weight when the margin is matched; the strata inside share their
    current total weight in proportion to the populations of the categories that have
    respondents. A category nobody answered for drops out: no one can speak for it.
    """

    categories: Mapping[H, Hashable]
    populations: Mapping[Hashable, float]


def rake(counts: Mapping[H, int], margins: Sequence[Margin[H]]) -> dict[H, float]:
    """The weight of one respondent in each stratum (`counts` > 0), mean weight 1.

    Raking and trimming both keep the total Σ n·w, so the mean stays 1 and the cap is
    `TRIM_CAP` itself. Raises `RakingError` when the margins cannot be met together.
    """
    weights = dict.fromkeys(counts, 1.0)
    for _ in range(TRIM_ROUNDS):
        raked = _fit(counts, margins, weights)
        if max(raked.values()) <= TRIM_CAP * (1 + TOLERANCE):
            return raked
        trimmed = _trim(counts, raked)
        if all(abs(trimmed[h] - weights[h]) <= TOLERANCE for h in weights):
            return trimmed
        weights = trimmed
    return weights


def _fit(
    counts: Mapping[H, int], margins: Sequence[Margin[H]], weights: Mapping[H, float]
) -> dict[H, float]:
    """Sweeps over the margins from `weights` until none needs a factor off 1 by more than
    `TOLERANCE`; margins that contradict each other swing the weights for ever instead."""
    fitted = dict(weights)
    for _ in range(MAX_SWEEPS):
        settled = True
        for margin in margins:
            factors = _factors(counts, margin, fitted)
            settled &= all(abs(factor - 1) <= TOLERANCE for factor in factors.values())
            for stratum, category in margin.categories.items():
                fitted[stratum] *= factors[category]
        if settled:
            return fitted
    raise RakingError(f"raking does not converge in {MAX_SWEEPS} sweeps")


def _factors(
    counts: Mapping[H, int], margin: Margin[H], weights: Mapping[H, float]
) -> dict[Hashable, float]:
    """What each category's weights must be multiplied by to reach its share."""
    weighted: defaultdict[Hashable, float] = defaultdict(float)
    for stratum, category in margin.categories.items():
        weighted[category] += counts[stratum] * weights[stratum]
    inside = sum(weighted.values())
    population = sum(margin.populations[category] for category in weighted)
    return {
        category: margin.populations[category] / population * inside / current
        for category, current in weighted.items()
    }


def _trim(counts: Mapping[H, int], weights: Mapping[H, float]) -> dict[H, float]:
    """Weights above the cap cut to it, the excess spread over the others in proportion.

    Spreading can lift another weight over the cap; it is cut too and the rest spread
    again, until none is over. The total weight, and so the mean of 1, stays: the cap is
    above the mean, so some stratum always stays below it to take the excess.
    """
    total = sum(counts[h] * w for h, w in weights.items())
    trimmed = dict(weights)
    capped: set[H] = set()
    while over := {h for h, w in trimmed.items() if w > TRIM_CAP and h not in capped}:
        capped |= over
        free = sum(counts[h] * w for h, w in trimmed.items() if h not in capped)
        scale = (total - TRIM_CAP * sum(counts[h] for h in capped)) / free
        trimmed = {h: TRIM_CAP if h in capped else w * scale for h, w in trimmed.items()}
    return trimmed
