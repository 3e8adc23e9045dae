"""From per-respondent topic scores to the published cells of a ratings table.

A *cell* is wave × area (the whole wave, a region, or a municipality) × track (all, youth,
general) × topic (each scored topic of the survey, and `overall`). Everything here works on
sufficient statistics (count, sum, sum of squares, number satisfied) of respondents' topic
scores per region × municipality × track × age band: they add up across groups, so the
database hands over a few thousand small rows instead of millions of answers, every cell is
a sum of groups, and weighting (one weight per region × municipality × age band, see
`surveys.weighting`) needs no per-respondent data.

The method (docs/results.md, "How the numbers are computed", gives it for readers of
the ratings):
- a respondent's topic score is the mean of their scored answers in that topic; their
  overall score is the mean of their topic scores weighted by the survey's topic weights,
  over the topics they have a score in (the weights renormalised over those);
- a cell's score is the mean over its respondents (raked to the population when a population
  file is given), with a 95% Student t interval; `satisfied_share` is the share scoring
  ≥ 75, with a 95% Wilson interval on Kish's effective n;
- cells with fewer respondents than the minimum cell size are suppressed, weighted cells
  whose Kish effective n falls below it too, and so is every
  cell that would let a suppressed one be recovered by subtraction (complementary
  suppression); suppressed cells publish neither score nor respondent count;
- a small shown cell (under twice the minimum) where everyone or no one is satisfied
  withholds its share, and the same complementary rule keeps it from being subtracted out;
- rank is competition ranking (1, 1, 3) by the published overall score; the 95% interval of
  the place and the group above / at / below the average come from `surveys.rank_intervals`.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from statistics import NormalDist, fmean
from typing import TYPE_CHECKING, Literal, TypeVar

from surveys.composite_index import INDEX, IndexPart, composite
from surveys.figures import round_half_up
from surveys.model import Track
from surveys.scoring import SATISFIED_THRESHOLD
from surveys.weighting import PopulationTable, Stratum, kish_effective_n, respondent_weights

if TYPE_CHECKING:
    from surveys.rank_intervals import Group

CellTrack = Literal["all", "youth", "general"]
CELL_TRACKS: tuple[CellTrack, ...] = ("all", "youth", "general")
Level = Literal["region", "municipality"]
LEVELS: tuple[Level, ...] = ("region", "municipality")
OVERALL = "overall"
#: Topic scores are means of fractions such as 200/3; a hair of tolerance keeps a score
#: that is 75 on paper from missing the threshold by a rounding error of the float sum.
SCORE_TOLERANCE = 1e-9
CONFIDENCE = 0.95
#: The normal quantile of the two-sided 95% level, for the share's Wilson interval.
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)

#: () is the whole wave, (region,) a region, (region, municipality) a municipality; a
#: municipality code "" groups the region's respondents who named no municipality.
Area = tuple[str, ...]
WAVE: Area = ()
CellKey = tuple[Area, CellTrack, str]
K = TypeVar("K", bound=Hashable)


def is_satisfied(score: float) -> bool:
    return score >= SATISFIED_THRESHOLD - SCORE_TOLERANCE


# Respondent level ---------------------------------------------------------------------------
# storage.results computes these in SQL for speed; these are the reference definitions, used
# by tests to check the SQL and by anyone scoring a handful of respondents in memory.


def topic_score(answer_scores: Iterable[float]) -> float | None:
    scores = list(answer_scores)
    return fmean(scores) if scores else None


def overall_score(topic_scores: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Weighted mean of the topics the respondent has a score in, weights renormalised.

    A respondent who skipped every scored question of a topic is not counted as 0 there:
    the topic is left out and the remaining weights are scaled up to sum to 1.
    """
    present = [topic for topic in topic_scores if topic in weights]
    total = sum(weights[topic] for topic in present)
    if not present or total <= 0:
        return None
    return sum(weights[topic] * topic_scores[topic] for topic in present) / total


# Sufficient statistics ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, sum, sum of squares and number satisfied of some respondents' scores."""

    count: int = 0
    total: float = 0.0
    squares: float = 0.0
    satisfied: int = 0

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.count + other.count,
            self.total + other.total,
            self.squares + other.squares,
            self.satisfied + other.satisfied,
        )

    @classmethod
    def of(cls, scores: Iterable[float]) -> Moments:
        values = list(scores)
        return cls(
            len(values),
            math.fsum(values),
            math.fsum(v * v for v in values),
            sum(is_satisfied(v) for v in values),
        )


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One topic's moments for respondents alike in everything a cell or a weight splits on."""

    region_code: str
    municipality_code: str
    track: Track
    age_band: str
    topic: str
    moments: Moments


# One cell's estimate --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Estimate:
    score: float
    ci_low: float | None
    ci_high: float | None
    #: None only for the consolidated index, which is not a mean of respondents' verdicts.
    satisfied_share: float | None
    effective_n: float
    #: s/√n_eff, what the rank intervals draw with; None, like the interval, from one person.
    standard_error: float | None = None
    #: The satisfied share's 95% Wilson interval (None only where built by hand without it).
    share_low: float | None = None
    share_high: float | None = None


def estimate(
    strata: Mapping[K, Moments], weights: Mapping[K, float] | None = None
) -> Estimate | None:
    """Weighted mean, 95% t interval and satisfied share of one cell; None when empty.

    `weights` are the strata's weights per respondent (`PopulationTable.weights`), None for
    the unweighted figures. With each respondent's share w of the cell (the shares summing
    to 1): mean m = Σ w·x; the weighted variance Σ w·x² − m² is scaled by n_eff/(n_eff − 1)
    like a sample variance, and the interval is m ± t(0.975, n_eff − 1)·s/√n_eff with
    Kish's effective n. Unweighted, w = 1/n and this is exactly the textbook t interval on
    the respondents' scores. The share's interval is Wilson's on the same n_eff
    (`wilson_interval`).
    """
    if weights is None and len(strata) == 1:
        # An unweighted cell of one stratum (every cell of the published unweighted files):
        # the same arithmetic without the mappings, which cost more than it for 200,000
        # cells of a national wave.
        (only,) = strata.values()
        if only.count <= 0:
            return None
        w = 1 / only.count
        mean, second, share = w * only.total, w * only.squares, w * only.satisfied
        effective_n = (only.count * w) ** 2 / (only.count * w * w)
    else:
        counts = _respondents(strata)
        if not counts:
            return None
        shares = respondent_weights(counts, weights)
        mean = sum(w * strata[h].total for h, w in shares.items())
        second = sum(w * strata[h].squares for h, w in shares.items())
        share = sum(w * strata[h].satisfied for h, w in shares.items())
        effective_n = kish_effective_n(shares, counts)
    error = standard_error(max(second - mean * mean, 0.0), effective_n)
    low, high = t_interval(mean, error, effective_n)
    share_low, share_high = wilson_interval(share, effective_n)
    return Estimate(mean, low, high, share, effective_n, error, share_low, share_high)


def _effective_n(strata: Mapping[K, Moments], weights: Mapping[K, float]) -> float:
    """Kish's effective n of one cell under `weights`: what its weighted figures are worth."""
    counts = _respondents(strata)
    return kish_effective_n(respondent_weights(counts, weights), counts) if counts else 0.0


def _respondents(strata: Mapping[K, Moments]) -> dict[K, int]:
    return {h: m.count for h, m in strata.items() if m.count > 0}


def standard_error(weighted_variance: float, effective_n: float) -> float | None:
    """s/√n_eff, s² being the weighted variance scaled by n_eff/(n_eff − 1) like a sample
    variance; none from a single respondent, whose spread is unknown."""
    if effective_n <= 1 + 1e-9:
        return None
    return math.sqrt(weighted_variance * effective_n / (effective_n - 1) / effective_n)


def t_interval(
    mean: float, error: float | None, effective_n: float
) -> tuple[float | None, float | None]:
    """The 95% interval, clipped to the 0–100 scale; none without a standard error."""
    if error is None:
        return None, None
    half = t_quantile(0.5 + CONFIDENCE / 2, effective_n - 1) * error
    return max(mean - half, 0.0), min(mean + half, 100.0)


def wilson_interval(share: float, effective_n: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a share p on n = n_eff respondents:

        (p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n)

    The textbook p ± z·√(p(1 − p)/n) collapses to a point at a share of 0 or 1 and leaves
    0–1 in small cells; Wilson's does neither. Weighting spends precision, so n is Kish's
    effective n (the design-effect adjustment); unweighted it is the count of respondents.
    """
    n = effective_n
    denominator = 1 + Z * Z / n
    centre = (share + Z * Z / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(share * (1 - share) / n + Z * Z / (4 * n * n))
    # Mathematically inside 0–1; the clip only keeps float noise from printing as -0.000.
    return max(centre - half, 0.0), min(centre + half, 1.0)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile for 0.5 < p < 1 and any df > 0 (weighting makes df fractional).

    SciPy's `stdtrit`: the change between waves asks for tens of thousands of distinct
    fractional df (Welch's) per publication, which no cache serves and a pure-Python
    inversion of the incomplete beta function took seconds over; SciPy's is accurate to
    near the float's precision in a microsecond. Imported here, not with the module: SciPy
    takes a quarter of a second to import, and the command line imports this module for
    commands that compute no interval (`export`).
    """
    known = _T_QUANTILES.get((p, df))
    if known is not None:
        return known
    if not 0.5 < p < 1 or df <= 0:
        raise ValueError("t_quantile needs 0.5 < p < 1 and df > 0")
    from scipy.special import stdtrit

    quantile = float(stdtrit(df, p))
    if len(_T_QUANTILES) < _T_QUANTILES_KEPT:
        _T_QUANTILES[(p, df)] = quantile
    return quantile


#: Quantiles already computed. Unweighted cells of the same size share a df, and a
#: national wave's 300,000 cells have only a few thousand sizes; Welch's df, nearly all
#: distinct, stop being kept once the cache is full, so it stays small in a bot that runs
#: for months.
_T_QUANTILES: dict[tuple[float, float], float] = {}
_T_QUANTILES_KEPT = 50_000


# Suppression and ranks ------------------------------------------------------------------------


def suppress(
    counts: Mapping[K, int],
    partitions: Iterable[tuple[K, Sequence[K]]],
    min_cell_size: int,
    also: Iterable[K] = (),
) -> set[K]:
    """Cells to hide: the small ones (and `also`), and enough others that none can be
    recovered.

    A partition is a parent cell and the children that make it up exactly (all = youth +
    general; a region = its municipalities; the wave = its regions). Counts and sums add up,
    so parent = Σ children is an equation, and if exactly one of its terms is hidden, that
    term is the others' difference. Then one more term is hidden: a shown child, or the
    parent when no child is left to hide. Among the children, the one whose hiding breaks
    the fewest other partitions goes, then the smallest (it carries the least information).
    Hiding one cell can expose another in a crossing partition (a municipality's youth cell
    sits in its municipality's track split and in its region's youth split), so this repeats
    until nothing changes. Pass partitions from the finest areas up: local fixes then often
    settle the wider equations too. Empty cells are not terms: they have nothing to disclose.
    """
    partitions = list(partitions)
    hidden = {cell for cell, count in counts.items() if count < min_cell_size}
    hidden.update(also)
    # Set lookups by `map` and `filter` rather than generator expressions: the groups' file
    # of a national wave runs this over 300,000 equations, several times.
    is_term = {cell for cell, count in counts.items() if count > 0}.__contains__
    terms = [list(filter(is_term, (parent, *children))) for parent, children in partitions]
    memberships: defaultdict[K, list[int]] = defaultdict(list)
    for index, row in enumerate(terms):
        for term in row:
            memberships[term].append(index)
    # Hidden terms per partition, kept up to date by `hide`: recounting them for every
    # partition on every pass, and for every candidate's damage, took seconds on a national
    # wave.
    unknowns = [sum(map(hidden.__contains__, row)) for row in terms]

    def hide(cell: K) -> None:
        if cell not in hidden:
            hidden.add(cell)
            for index in memberships[cell]:
                unknowns[index] += 1

    def damage(cell: K, current: int) -> int:
        """Partitions that hiding `cell` would leave with exactly one unknown."""
        return sum(1 for index in memberships[cell] if index != current and unknowns[index] == 0)

    # With an empty parent, terms[index] holds children only: no equation to close.
    equations = [index for index, (parent, _) in enumerate(partitions) if is_term(parent)]
    changed = True
    while changed:
        changed = False
        for index in equations:
            if unknowns[index] != 1:
                continue
            parent, *children = terms[index]
            shown = [c for c in children if c not in hidden]
            hide(
                min(shown, key=lambda c: (damage(c, index), counts[c], repr(c)))
                if shown
                else parent
            )
            changed = True
    return hidden


def competition_ranks(scores: Mapping[K, float]) -> dict[K, int]:
    """1 = best; equal scores share a place and the next place is skipped (1, 1, 3)."""
    ordered = sorted(scores.values(), reverse=True)
    first_place: dict[float, int] = {}
    for place, score in enumerate(ordered, start=1):
        first_place.setdefault(score, place)
    return {key: first_place[score] for key, score in scores.items()}


# The table ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    area: Area
    track: CellTrack
    topic: str
    respondents: int
    suppressed: bool
    #: None when suppressed (or empty, which is always suppressed).
    estimate: Estimate | None
    #: Place by the `overall` (or `index`) score among the shown areas ranked together;
    #: None for other topics and hidden cells.
    rank: int | None = None
    #: The 95% interval of that place, and how the cell stands against the field's mean.
    rank_low: int | None = None
    rank_high: int | None = None
    group: Group | None = None
    #: A shown cell whose satisfied share (and its interval) is not published; see
    #: `build_ratings`.
    share_withheld: bool = False

    @property
    def region_code(self) -> str:
        return self.area[0] if self.area else ""

    @property
    def municipality_code(self) -> str:
        return self.area[1] if len(self.area) > 1 else ""


@dataclass(frozen=True, slots=True)
class Ratings:
    """Every cell of a wave: the whole wave, each region and each municipality.

    Both levels are always built, because suppression has to be decided once for all of
    them: the region file, the municipality file and the chat are published side by side,
    and a cell hidden in one must not be recoverable from the others.
    """

    #: Scored topics in survey order, then `overall`, then `index` when it was asked for.
    topics: tuple[str, ...]
    cells: Mapping[CellKey, Cell] = field(repr=False)

    @property
    def scored_topics(self) -> tuple[str, ...]:
        """The survey's own topics, without `overall` and `index`."""
        return tuple(topic for topic in self.topics if topic not in (OVERALL, INDEX))

    def hidden(self) -> frozenset[CellKey]:
        """The suppressed cells: what another file published beside this one must not let
        a reader recover."""
        return frozenset(key for key, cell in self.cells.items() if cell.suppressed)

    def cell(self, area: Area, track: CellTrack, topic: str) -> Cell:
        return self.cells[(area, track, topic)]

    def areas(self, level: Level) -> list[Area]:
        """Regions or municipalities that have respondents, sorted by code."""
        depth = _DEPTH[level]
        return sorted({area for area, _, _ in self.cells if len(area) == depth})

    def rows(self, level: Level) -> Iterator[Cell]:
        """The cells of one level in the order the ratings file lists them."""
        for area in self.areas(level):
            for track in CELL_TRACKS:
                for topic in self.topics:
                    yield self.cells[(area, track, topic)]


_DEPTH: Mapping[Level, int] = {"region": 1, "municipality": 2}


def build_ratings(
    groups: Iterable[GroupStats],
    topics: Sequence[str],
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    ranked: bool = True,
    topic_weights: Mapping[str, float] | None = None,
) -> Ratings:
    """Every cell of the wave, suppressed, estimated and (unless `ranked` is false) ranked.

    The change between waves publishes no places: it passes `ranked=False` and saves the
    rank intervals' 10,000 draws per ranking, twice over.

    `topics` are the survey's scored topics in order; `overall` is added after them and is
    read from the groups like any other topic. With `topic_weights` (the survey's weight
    of each topic) the consolidated `index` follows, computed from the topic cells
    (`surveys.composite_index`) and ranked like `overall`.

    A shown cell of fewer than 2 × `min_cell_size` respondents where everyone, or no one,
    is satisfied withholds its share: a published 0 or 1 would say what each of them
    answered. Satisfied counts add up like respondent counts (share × respondents), so the
    same complementary rule as for suppression withholds other shares until no single
    subtraction recovers a withheld one. The whole wave's share is published nowhere (the
    chat shows the wave's score only), so its equations give nothing away and are left out:
    publish it, and they must come back in.

    With a `population`, every cell is weighted (`surveys.weighting`), and a cell whose
    Kish effective n falls below `min_cell_size` is suppressed like a small one, with the
    same complementary suppression: its weighted figures rest on fewer people's worth than
    a small cell's.
    """
    all_topics = (*topics, OVERALL)
    strata = _cell_strata(groups, all_topics, pooled=population is None)
    weights = _stratum_weights(strata, population)
    counts = {key: sum(m.count for m in cell.values()) for key, cell in strata.items()}
    partitions = list(cell_partitions(counts, all_topics))
    hidden = suppress(counts, partitions, min_cell_size)
    if weights is not None:
        # Hide at least what the unweighted figures of the wave hide (the chat's /results,
        # an unweighted file): counts are the same in both, so a count shown in one must
        # not complete an equation the other leaves open. Then the thin cells, closed again.
        thin = _thin(strata, weights, min_cell_size)
        hidden = suppress(counts, partitions, min_cell_size, also=hidden | thin)
    unanimous = {
        key
        for key, cell in strata.items()
        if key not in hidden
        and counts[key] < 2 * min_cell_size
        and sum(m.satisfied for m in cell.values()) in (0, counts[key])
    }
    published_shares = [(parent, parts) for parent, parts in partitions if parent[0] != WAVE]
    withheld = suppress(counts, published_shares, min_cell_size, also=hidden | unanimous)
    withheld -= hidden
    cells = {
        key: Cell(
            area=key[0],
            track=key[1],
            topic=key[2],
            respondents=counts[key],
            suppressed=key in hidden,
            estimate=None if key in hidden else estimate(strata[key], weights),
            share_withheld=key in withheld,
        )
        for key in strata
    }
    if topic_weights is not None:
        cells |= _index_cells(cells, topics, topic_weights)
        all_topics = (*all_topics, INDEX)
    built = Ratings(all_topics, cells)
    return with_places(built) if ranked else built


def _index_cells(
    cells: Mapping[CellKey, Cell], topics: Sequence[str], weights: Mapping[str, float]
) -> dict[CellKey, Cell]:
    """Each area and track's index, empty (suppressed) unless every topic and `overall` is
    shown there. It publishes `overall`'s respondents, which is why a hidden `overall`
    hides it too. It has no satisfied share (its estimate's is None), so nothing of it is
    withheld either."""
    index: dict[CellKey, Cell] = {}
    for area, track in {(area, track) for area, track, _ in cells}:
        overall = cells[(area, track, OVERALL)]
        parts = [cells[(area, track, topic)] for topic in topics]
        shown = all(cell.estimate is not None for cell in (overall, *parts))
        index[(area, track, INDEX)] = Cell(
            area=area,
            track=track,
            topic=INDEX,
            respondents=overall.respondents,
            suppressed=not shown,
            estimate=_index_estimate(parts, weights) if shown else None,
        )
    return index


def _index_estimate(parts: Sequence[Cell], weights: Mapping[str, float]) -> Estimate:
    value = composite(
        [
            IndexPart(weights[cell.topic], e.score, e.standard_error, e.effective_n)
            for cell in parts
            if (e := cell.estimate) is not None
        ]
    )
    low, high = t_interval(value.score, value.standard_error, value.effective_n)
    return Estimate(value.score, low, high, None, value.effective_n, value.standard_error)


def _stratum_weights(
    strata: Mapping[CellKey, Mapping[Stratum, Moments]], population: PopulationTable | None
) -> dict[Stratum, float] | None:
    """One weight per stratum for the whole wave, raked on everyone with an overall score
    (both tracks): a topic's respondents are among them, and every cell weighs alike."""
    if population is None:
        return None
    everyone = strata.get((WAVE, "all", OVERALL), {})
    return population.weights({h: m.count for h, m in everyone.items()})


def _thin(
    strata: Mapping[CellKey, Mapping[Stratum, Moments]],
    weights: Mapping[Stratum, float] | None,
    min_cell_size: int,
) -> set[CellKey]:
    """Weighted cells worth fewer respondents than the minimum (Kish's effective n), however
    many they count. Unweighted, n_eff is n and the count already decides."""
    if weights is None:
        return set()
    # Equal weights give n back only up to float noise: 9.999999999999998 is 10 people.
    limit = min_cell_size - 1e-9
    return {key for key, cell in strata.items() if _effective_n(cell, weights) < limit}


def _cell_strata(
    groups: Iterable[GroupStats], topics: Sequence[str], *, pooled: bool = False
) -> dict[CellKey, dict[Stratum, Moments]]:
    """Each cell's moments per region × municipality × age band stratum (what a weight
    applies to); `pooled`, all in one stratum, since unweighted figures need no strata and
    a national wave's cells hold half a million stratum entries to walk."""
    split = _pooled if pooled else _by_area
    strata = {
        (area, track, topic): cell
        for (track, topic), sums in _stratum_sums(groups, topics).items()
        for area, cell in split(sums).items()
    }
    # Every area gets the full grid of tracks and topics, empty cells included, so a reader
    # sees a suppressed row rather than a gap that itself says "nobody here".
    areas_seen = {area for area, _, _ in strata}
    return {
        (area, track, topic): strata.get((area, track, topic), {})
        for area in areas_seen
        for track in CELL_TRACKS
        for topic in topics
    }


def _stratum_sums(
    groups: Iterable[GroupStats], topics: Sequence[str]
) -> dict[tuple[CellTrack, str], dict[Stratum, Moments]]:
    """The wave's moments per track ("all" too) and topic, per stratum, added up in the
    groups' order.

    A stratum lies in one municipality, so these are its moments in the region's and the
    municipality's cell too (`_by_area`): summed once, not once per area, they cost a third
    of the additions of frozen `Moments`, which took seconds on a national wave.
    """
    sums: defaultdict[tuple[CellTrack, str], dict[Stratum, list[float]]] = defaultdict(dict)
    known = set(topics)
    for group in groups:
        if group.topic not in known:
            continue
        stratum = (group.region_code, group.municipality_code, group.age_band)
        for track in ("all", group.track):
            add_moments(sums[(track, group.topic)], stratum, group.moments)
    return {cell: frozen_moments(running) for cell, running in sums.items()}


def add_moments(running: dict[K, list[float]], key: K, moments: Moments) -> None:
    """`moments` added into `running[key]` in place: the same additions in the same order
    as adding frozen `Moments`, without making a new one each time."""
    known = running.get(key)
    if known is None:
        running[key] = [moments.count, moments.total, moments.squares, moments.satisfied]
    else:
        known[0] += moments.count
        known[1] += moments.total
        known[2] += moments.squares
        known[3] += moments.satisfied


def frozen_moments(running: Mapping[K, list[float]]) -> dict[K, Moments]:
    return {
        key: Moments(int(n), total, squares, int(satisfied))
        for key, (n, total, squares, satisfied) in running.items()
    }


def _by_area(strata: Mapping[Stratum, Moments]) -> dict[Area, dict[Stratum, Moments]]:
    """The wave's, each region's and each municipality's share of `strata`, in their order
    (the order the cell's figures are summed in)."""
    areas: defaultdict[Area, dict[Stratum, Moments]] = defaultdict(dict)
    for stratum, moments in strata.items():
        region, municipality, _ = stratum
        for area in (WAVE, (region,), (region, municipality)):
            areas[area][stratum] = moments
    return areas


#: The one stratum of a pooled cell.
_ALL_STRATA: Stratum = ("", "", "")


def _pooled(strata: Mapping[Stratum, Moments]) -> dict[Area, dict[Stratum, Moments]]:
    """The wave's, each region's and each municipality's moments, each as one stratum."""
    totals: dict[Area, list[float]] = {}
    for (region, municipality, _), moments in strata.items():
        for area in (WAVE, (region,), (region, municipality)):
            add_moments(totals, area, moments)
    return {area: {_ALL_STRATA: moments} for area, moments in frozen_moments(totals).items()}


def cell_partitions(
    counts: Mapping[CellKey, int], topics: Sequence[str]
) -> Iterator[tuple[CellKey, list[CellKey]]]:
    """The equations a wave's published cells satisfy (parent = Σ children), finest areas
    first, as `suppress` wants them; `surveys.series` closes several waves' over them."""
    areas = {area for area, _, _ in counts}
    children: defaultdict[Area, list[Area]] = defaultdict(list)
    for area in areas:
        if area:
            children[area[:-1]].append(area)
    for area in sorted(areas, key=lambda area: (-len(area), area)):  # finest first
        for topic in topics:
            yield (area, "all", topic), [(area, "youth", topic), (area, "general", topic)]
            if children[area]:
                for track in CELL_TRACKS:
                    yield (
                        (area, track, topic),
                        [(child, track, topic) for child in sorted(children[area])],
                    )


#: Threads drawing the place intervals' contests side by side.
RANKING_THREADS = max(1, min(4, os.cpu_count() or 1))


def with_places(ratings: Ratings) -> Ratings:
    """`ratings` (built with `ranked=False`) with their places: what `build_ratings` adds
    by default, apart so that a caller may start work that needs no places first.

    Regions ranked within their track; municipalities within their region and track;
    by `overall`, and separately by `index`.

    Ties are judged on the published (rounded) score, so two rows that read 72.3 never get
    different places. The "no municipality named" group is not a place and is not ranked.
    The group compares the published interval with the mean of the contest's published
    scores, so a reader can check it from the file alone.

    A national wave holds some 500 contests. Their draws are numpy's, which leaves the
    interpreter free while it draws, so contests are drawn side by side, one thread per
    core; each draws from its own seeded generator, so the places are the same in any order.
    """
    contests: defaultdict[tuple[Area, CellTrack, str], dict[CellKey, Estimate]] = defaultdict(dict)
    for key, cell in ratings.cells.items():
        area, track, topic = key
        if topic in _RANKED_TOPICS and area and area[-1] and cell.estimate is not None:
            contests[(area[:-1], track, topic)][key] = cell.estimate
    ranked = dict(ratings.cells)
    with ThreadPoolExecutor(max_workers=RANKING_THREADS) as pool:
        for contest_places in pool.map(_contest_places, contests.items()):
            for key, (place, low, high, verdict) in contest_places.items():
                ranked[key] = replace(
                    ranked[key], rank=place, rank_low=low, rank_high=high, group=verdict
                )
    return Ratings(ratings.topics, ranked)


def _contest_places(
    contest: tuple[tuple[Area, CellTrack, str], Mapping[CellKey, Estimate]],
) -> dict[CellKey, tuple[int, int, int, Group]]:
    """Each cell's place, place interval and group within one contest."""
    # numpy, which the place intervals draw with, takes 150 ms to import: only ratings pay
    # it, not every start of the command line (which imports this module for `export`).
    from surveys.rank_intervals import group, place_intervals

    (parent, track, topic), cells = contest
    keys = sorted(cells)
    estimates = [cells[key] for key in keys]
    scores = {key: round_half_up(cells[key].score, 1) for key in keys}
    places = competition_ranks(scores)
    intervals = place_intervals(
        [e.score for e in estimates],
        [e.standard_error for e in estimates],
        [e.effective_n for e in estimates],
        # `overall` keeps the seed it had before `index` was ranked too.
        contest="/".join((*parent, track, *((topic,) if topic != OVERALL else ()))),
        confidence=CONFIDENCE,
    )
    field_mean = fmean(scores.values())
    return {
        key: (
            places[key],
            low,
            high,
            group(_published(e.ci_low), _published(e.ci_high), field_mean),
        )
        for key, e, (low, high) in zip(keys, estimates, intervals, strict=True)
    }


_RANKED_TOPICS = (OVERALL, INDEX)


def _published(bound: float | None) -> float | None:
    return None if bound is None else round_half_up(bound, 1)
