"""Honest ranks and share intervals on small hand-made waves, each figure worked out here.

Every expectation is recomputed in this file, not read back from the code under test: the
Wilson interval from its formula, place intervals from symmetry and from a plain-Python
simulation of its own, groups from the cells' t intervals, worked out in the comments.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from storage.result_files import rating_row
from surveys.aggregate import OVERALL, GroupStats, Moments, Ratings, build_ratings, estimate
from surveys.figures import format_figure, round_half_up
from surveys.rank_intervals import competition_places, to_published_tenths
from surveys.regions import load_catalog

Y, G = "18-24", "45-54"
MIN_CELL = 3
Z = 1.959963984540054  # the 97.5% point of the standard normal, from any table
T_DF9 = 2.2621571628  # t(0.975, 9), from a t table


def _groups(regions: Mapping[str, Sequence[float]]) -> list[GroupStats]:
    """One topic (so overall = health), everyone on the general track, no municipality."""
    return [
        GroupStats(region, "", "general", G, topic, Moments.of(scores))
        for region, scores in regions.items()
        for topic in ("health", OVERALL)
    ]


def _wave(regions: Mapping[str, Sequence[float]]) -> Ratings:
    return build_ratings(_groups(regions), ["health"], min_cell_size=MIN_CELL)


def _standings(
    ratings: Ratings,
) -> dict[str, tuple[int | None, int | None, int | None, str | None]]:
    return {
        cell.region_code: (cell.rank, cell.rank_low, cell.rank_high, cell.group)
        for cell in ratings.rows("region")
        if cell.track == "all" and cell.topic == OVERALL
    }


def _wilson(satisfied: float, n: float) -> tuple[float, float]:
    """(p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n), written out again."""
    p = satisfied / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


# Share intervals ------------------------------------------------------------------------------


def test_wilson_interval_of_a_small_cell_by_hand() -> None:
    # 100, 75, 50, 25, 0: two of five are satisfied (≥ 75), p = 0.4, n = 5.
    # z²/n = 3.8415/5 = 0.76829; centre = (0.4 + 0.38415)/1.76829 = 0.44345;
    # half = 1.96/1.76829 · √(0.4·0.6/5 + 3.8415/100) = 1.10839 · 0.29396 = 0.32583
    # → [0.11762, 0.76928], published 0.118 and 0.769.
    result = estimate({("49", Y): Moments.of([100, 75, 50, 25, 0])})
    assert result is not None
    assert (result.share_low, result.share_high) == pytest.approx(_wilson(2, 5))
    assert [format_figure(v or 0, 3) for v in (result.share_low, result.share_high)] == [
        "0.118",
        "0.769",
    ]


def test_a_unanimous_share_still_has_an_interval() -> None:
    # Six of six satisfied, p = 1: Wald's p ± z·√(p(1 − p)/n) would be the point 1.
    # Wilson: centre = (1 + 3.8415/12)/(1 + 3.8415/6) = 1.32012/1.64024 = 0.80484;
    # half = 1.96/1.64024 · √(3.8415/144) = 1.19492 · 0.16333 = 0.19517 → [0.610, 1.000].
    result = estimate({("49", Y): Moments.of([75, 80, 90, 100, 100, 75])})
    assert result is not None and result.satisfied_share == 1
    assert (result.share_low, result.share_high) == pytest.approx(_wilson(6, 6))
    assert format_figure(result.share_low or 0, 3) == "0.610"


def test_small_unanimous_cells_publish_no_share() -> None:
    # MIN_CELL 3, so cells under 6 respondents are "small". Region 01: youth 4 people, all
    # satisfied (a published 1.000 would say each of them is) → share withheld. Then
    # all = youth + general would give it back by subtraction (12·share_all − 8·share_gen
    # = 4 satisfied), so general's share goes too; all's stays (12 people, 7 satisfied).
    # Region 02: 6 people, none satisfied: not small (6 = 2 × 3), so 0.000 is published.
    groups = [
        GroupStats("01", "", "youth", Y, "health", Moments.of([75, 80, 100, 100])),
        GroupStats("01", "", "general", G, "health", Moments.of([0, 25, 50, 75, 100, 50, 25, 80])),
        GroupStats("02", "", "general", G, "health", Moments.of([0, 25, 50, 50, 25, 0])),
    ]
    ratings = build_ratings(groups, ["health"], min_cell_size=MIN_CELL)
    catalog = load_catalog()

    def row(region: str, track: str) -> tuple[object, ...]:
        cell = ratings.cell((region,), track, "health")  # type: ignore[arg-type]
        r = rating_row(1, cell, catalog)
        return (r.respondents, r.satisfied_share, r.share_low, r.share_high)

    assert row("01", "youth")[1:] == (None, None, None)
    assert row("01", "youth")[0] == 4  # the count and the score stay
    assert ratings.cell(("01",), "youth", "health").estimate is not None
    assert row("01", "general")[1:] == (None, None, None)
    respondents, share, low, high = row("01", "all")
    assert (respondents, share) == (12, pytest.approx(7 / 12))
    assert (low, high) == pytest.approx(_wilson(7, 12))
    respondents, share, low, high = row("02", "all")
    assert (respondents, share) == (6, 0)
    assert (low, high) == pytest.approx((0, _wilson(0, 6)[1]))


# Place intervals ------------------------------------------------------------------------------

#: Three regions a point apart with intervals ±7.5 wide, and a clear leader.
#: 01: ten people at 40 and 60 → 50; s² = 10·10²/9 = 111.1, s = 10.54, se = 3.33,
#:     half = t(0.975, 9)·se = 2.2622·3.33 = 7.54 → [42.5, 57.5]. 02 and 03 are the same
#:     answers one and two points higher: 51 [43.5, 58.5], 52 [44.5, 59.5].
#: 04: twenty people at 90 and 100 → 95; s = 5.13, se = 1.15 → [92.6, 97.4].
CLOSE = {
    "01": [40, 60] * 5,
    "02": [41, 61] * 5,
    "03": [42, 62] * 5,
    "04": [90, 100] * 10,
}


def test_close_scores_span_places_and_a_clear_leader_holds_one() -> None:
    # 04 is first in every draw: for 03 to pass even 92 it would need t(9) > 40/3.33 = 12,
    # about one draw in a million. The other three fight for places 2–4. Each pairwise
    # difference is 1–2 points against a standard error of the difference of √2·3.33 = 4.7,
    # so 01 (the lowest) still beats 02 with probability Φ(−1/4.7) ≈ 0.42 and 03 with
    # Φ(−2/4.7) ≈ 0.34; being second (ahead of both) has probability at least their product
    # (the events go together), 0.14 ≫ 2.5%. Symmetrically 03 is last in well over 2.5% of
    # the draws. So every one of them ranges over 2–4 although their places read 2, 3, 4.
    # Groups: the mean of the published scores is (50 + 51 + 52 + 95)/4 = 62; 04's interval
    # lies above it, and the three others' (highest bound 59.5) all lie below.
    assert _standings(_wave(CLOSE)) == {
        "04": (1, 1, 1, "above_average"),
        "03": (2, 2, 4, "below_average"),
        "02": (3, 2, 4, "below_average"),
        "01": (4, 2, 4, "below_average"),
    }


def test_place_intervals_match_an_independent_simulation() -> None:
    # Uneven cells, like a real wave's: 45 leads but its interval overlaps everyone's; 05
    # has three people and an interval over the whole scale. Recomputed below in plain
    # Python (t as Z/√(χ²/df), χ² from the gamma distribution): 45 is last in about 1.6% of
    # draws (< 2.5%, so its range stops at 3), 05 first in about 7% (> 2.5%).
    regions = {
        "45": [100, 85, 200 / 3, 100, 200 / 3, 50],
        "49": [280 / 3, 200 / 3, 55, 25, 235 / 3, 220 / 3],
        "65": [250 / 3, 250 / 3, 50, 125 / 3, 265 / 3, 45],
        "05": [50 / 3, 50, 65],
    }
    expected = _simulated_place_intervals(regions)
    assert expected == {"45": (1, 3), "49": (1, 4), "65": (1, 4), "05": (1, 4)}
    standings = _standings(_wave(regions))
    assert {region: (low, high) for region, (_, low, high, _) in standings.items()} == expected


def _simulated_place_intervals(
    regions: Mapping[str, Sequence[float]], draws: int = 20_000
) -> dict[str, tuple[int, int]]:
    """Each region's middle 95% of places, by a simulation that shares no code with ours."""
    generator = random.Random(7)
    cells = {}
    for region, scores in regions.items():
        n = len(scores)
        mean = sum(scores) / n
        s = math.sqrt(sum((x - mean) ** 2 for x in scores) / (n - 1))
        cells[region] = (mean, s / math.sqrt(n), n - 1)
    places: dict[str, Counter[int]] = {region: Counter() for region in regions}
    for _ in range(draws):
        drawn = {}
        for region, (mean, se, df) in cells.items():
            t = generator.gauss(0, 1) / math.sqrt(generator.gammavariate(df / 2, 2) / df)
            drawn[region] = math.floor(min(100.0, max(0.0, mean + se * t)) * 10 + 0.5)
        for region, value in drawn.items():
            places[region][1 + sum(other > value for other in drawn.values())] += 1
    tail = draws * 0.025
    intervals = {}
    for region, counts in places.items():
        ordered = sorted(counts.elements())
        intervals[region] = (ordered[int(tail)], ordered[draws - 1 - int(tail)])
    return intervals


def test_rows_that_read_the_same_share_a_place_in_every_draw() -> None:
    # Everyone in 01 gave 72.26 and everyone in 02 gave 72.34: no spread, so every draw is
    # the score itself. Both read 72.3, share rank 1, and keep sharing place 1 in the draws
    # (ranked on one decimal, like `rank`): the interval agrees with the published place.
    ratings = _wave({"01": [72.26] * 10, "02": [72.34] * 10, "03": [10, 30] * 5})
    standings = _standings(ratings)
    assert standings["01"][:3] == standings["02"][:3] == (1, 1, 1)
    assert standings["03"][:3] == (3, 3, 3)


def test_groups_above_average_and_below() -> None:
    # A: ten people at 85 and 95 → 90; s = √(10·25/9) = 5.27, se = 1.667,
    #    half = 2.2622·1.667 = 3.77 → [86.2, 93.8].
    # B: 20 and 80 → 50; s = √(10·30²/9) = 31.62, se = 31.62/√10 = 10.0, half = 22.6
    #    → [27.4, 72.6].
    # C: 5 and 15 → 10 → [6.2, 13.8].
    # Mean of the published scores (90 + 50 + 10)/3 = 50: A's interval lies above it, B's
    # straddles it, C's lies below.
    ratings = _wave({"01": [85, 95] * 5, "02": [20, 80] * 5, "03": [5, 15] * 5})
    b = ratings.cell(("02",), "all", OVERALL).estimate
    assert b is not None and b.ci_low == pytest.approx(50 - T_DF9 * 10)
    assert {region: g for region, (_, _, _, g) in _standings(ratings).items()} == {
        "01": "above_average",
        "02": "average",
        "03": "below_average",
    }


def test_the_same_wave_gives_the_same_intervals_in_any_order() -> None:
    groups = _groups(CLOSE)
    first = build_ratings(groups, ["health"], min_cell_size=MIN_CELL)
    again = build_ratings(groups[::-1], ["health"], min_cell_size=MIN_CELL)
    assert _standings(first) == _standings(again)


def test_only_ranked_rows_get_a_range_and_a_group() -> None:
    # 02 has two people: suppressed, and with it (complementary suppression) one more region.
    # Other topics and suppressed cells get no place, no range and no group.
    ratings = _wave({"01": [40, 60] * 5, "02": [50, 60], "03": [45, 65] * 5, "04": [50] * 12})
    ranked = 0
    for cell in ratings.rows("region"):
        standing = (cell.rank, cell.rank_low, cell.rank_high, cell.group)
        if cell.topic == OVERALL and not cell.suppressed:
            assert None not in standing
            ranked += 1
        else:
            assert standing == (None,) * 4
    assert ranked == 4  # two regions × the all and general tracks


# The vectorised pieces, against the reference definitions -------------------------------------


def test_draws_are_rounded_as_published_figures_are() -> None:
    import numpy as np

    values = [72.25, 43.74999999999999, 0.15, 65.2777, 0.05, 99.95, 100.0, 0.0, 12.3449999]
    tenths = to_published_tenths(np.array(values))
    assert [t / 10 for t in tenths] == [round_half_up(v, 1) for v in values]


def test_places_in_a_draw_are_competition_ranks() -> None:
    import numpy as np

    draws = np.array([[80.0, 80.0, 70.0, 90.0], [1.0, 2.0, 3.0, 3.0]])
    assert competition_places(draws).tolist() == [[2, 2, 4, 1], [4, 3, 1, 1]]


@pytest.mark.parametrize("count", [2, 3, 24, 25, 85])
def test_both_ways_of_counting_places_agree_with_ranking_each_draw(count: int) -> None:
    import numpy as np

    from surveys import rank_intervals

    # Whole tenths with many ties, the scale's ends included, as rounded draws give them.
    draws = np.random.default_rng(count).choice([0.0, 1.0, 437.0, 438.0, 1000.0], (500, count))
    places = competition_places(draws)
    expected = [
        [int((places[:, cell] == p).sum()) for p in range(1, count + 1)] for cell in range(count)
    ]
    for tally in (
        rank_intervals.place_tally(draws),
        rank_intervals._tally_by_comparison(draws),
        rank_intervals._tally_by_sorting(draws),
    ):
        assert tally.tolist() == expected
        for k in (0, 12, 250, 499):
            assert (
                rank_intervals.order_statistic(tally, k).tolist()
                == np.sort(places, axis=0)[k].tolist()
            )


def test_a_draw_that_is_not_a_number_is_ranked_last_as_before() -> None:
    import numpy as np

    from surveys.rank_intervals import place_tally

    # A unanimous cell (standard error 0) drawn at an infinite t: 0 · ∞ is NaN.
    draws = np.array([[500.0, float("nan"), 700.0], [500.0, 600.0, 700.0]])
    assert place_tally(draws).tolist() == [[0, 1, 1], [0, 1, 1], [2, 0, 0]]
