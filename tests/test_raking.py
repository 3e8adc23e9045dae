"""Raking to age bands and municipalities, collapse, trimming and Kish suppression, by hand.

Every expected weight is worked out in the comments (or by a few lines of arithmetic that
do not call the code under test): raking keeps the sample's odds ratios and matches the
margins, which on a 2 × 2 table is a quadratic equation.
"""

from __future__ import annotations

import argparse
import io
import math
from collections import defaultdict
from collections.abc import Hashable, Mapping
from pathlib import Path

import pytest

from bot.cli import export as cli_export
from bot.settings import Settings
from surveys.aggregate import OVERALL, GroupStats, Moments, Ratings, build_ratings
from surveys.model import Track
from surveys.raking import TRIM_CAP, Margin, rake
from surveys.weighting import (
    PopulationError,
    Stratum,
    collapse_bands,
    kept_municipalities,
    parse_population,
)
from tests.test_aggregate import MIN_CELL, Person, _person, build_results_wave

Y, G = "18-24", "45-54"
TOWN, DISTRICT = "49701000", "49603000"  # Veliky Novgorod, Batetsky district
FOUR_COLUMNS = "region_code,municipality_code,age_band,population\n"


def _population(text: str) -> str:
    return FOUR_COLUMNS + text


def _weighted_totals(
    counts: Mapping[Stratum, int], weights: Mapping[Stratum, float], position: int
) -> dict[str, float]:
    """Residents the respondents stand for, per municipality (1) or age band (2)."""
    totals: defaultdict[str, float] = defaultdict(float)
    for stratum, n in counts.items():
        totals[stratum[position]] += n * weights[stratum]
    return dict(totals)


# Raking ---------------------------------------------------------------------------------------

#: Town and district × young and older. The sample: the town 10 young + 5 older, the
#: district 5 young + 10 older. The region: 500 young, 500 older; 600 in the town, 400 in
#: the district.
TWO_BY_TWO = {
    ("49", TOWN, Y): 10,
    ("49", TOWN, G): 5,
    ("49", DISTRICT, Y): 5,
    ("49", DISTRICT, G): 10,
}
TWO_BY_TWO_POPULATION = _population(
    f"49,,{Y},500\n49,,{G},500\n49,{TOWN},,600\n49,{DISTRICT},,400\n"
)


def _two_by_two_by_hand() -> dict[Stratum, float]:
    """Raking keeps the sample's odds ratio, 10·10 / (5·5) = 4, and meets both margins.
    With t residents in the town's young cell the table is t, 600 − t / 500 − t, t − 100,
    so t(t − 100) = 4(600 − t)(500 − t), i.e. 3t² − 4300t + 1 200 000 = 0; the root
    within 100..500 is t = (4300 − √4 090 000)/6 = 379.60. Each cell's residents over its
    respondents is its weight."""
    t = (4300 - math.sqrt(4300**2 - 4 * 3 * 1_200_000)) / 6
    residents = {
        ("49", TOWN, Y): t,
        ("49", TOWN, G): 600 - t,
        ("49", DISTRICT, Y): 500 - t,
        ("49", DISTRICT, G): t - 100,
    }
    return {stratum: residents[stratum] / n for stratum, n in TWO_BY_TWO.items()}


def test_raking_to_age_bands_and_municipalities_by_hand() -> None:
    weights = parse_population(io.StringIO(TWO_BY_TWO_POPULATION)).weights(TWO_BY_TWO)
    expected = _two_by_two_by_hand()
    # 37.96, 44.08, 24.08, 27.96 residents per respondent; post-stratifying by age alone
    # would give 500/15 = 33.3 to everyone and leave the town at half the weight, not 60%.
    assert weights == {h: pytest.approx(w, rel=1e-5) for h, w in expected.items()}
    assert _weighted_totals(TWO_BY_TWO, weights, 1) == pytest.approx({TOWN: 600, DISTRICT: 400})
    assert _weighted_totals(TWO_BY_TWO, weights, 2) == pytest.approx({Y: 500, G: 500})


def test_respondents_without_a_municipality_follow_their_age_band() -> None:
    # One age band, so only the municipality margin moves anything. The town has 10
    # respondents and half the region's 1000 residents; the district (200 residents) has 3,
    # too few, so it joins the rest of the region with an unlisted municipality's 4: 7
    # respondents for 1000 − 500 = 500 residents. 5 more named no municipality.
    # Together the named 17 get the share of the weight they had, 17/22; the town and the
    # rest split it 500 : 500, and the 5 unnamed keep theirs, 5/22.
    counts = {
        ("49", TOWN, Y): 10,
        ("49", DISTRICT, Y): 3,
        ("49", "49606000", Y): 4,
        ("49", "", Y): 5,
    }
    table = parse_population(
        io.StringIO(_population(f"49,,{Y},1000\n49,{TOWN},,500\n49,{DISTRICT},,200\n"))
    )
    weights = table.weights(counts)
    named = 1000 * 17 / 22
    rest = named / 2 / 7
    assert weights == pytest.approx(
        {
            ("49", TOWN, Y): named / 2 / 10,  # 38.64 residents each
            ("49", DISTRICT, Y): rest,  # 55.19
            ("49", "49606000", Y): rest,
            ("49", "", Y): 1000 * 5 / 22 / 5,  # 45.45
        }
    )


def test_regions_stand_for_their_population() -> None:
    # Each region's respondents stand for its residents, so the whole wave weighs regions
    # by size: 4 respondents for 1000 people against 5 for 100.
    table = parse_population(
        io.StringIO("region_code,age_band,population\n49,18-24,1000\n45,18-24,100\n")
    )
    weights = table.weights({("49", TOWN, Y): 4, ("45", "", Y): 5})
    assert weights == pytest.approx({("49", TOWN, Y): 250, ("45", "", Y): 20})


def test_contradictory_margins_name_the_region() -> None:
    # Everyone in the town is young and everyone in the district older, so young = town:
    # the file's 50% young and 90% in the town cannot both hold.
    table = parse_population(
        io.StringIO(_population(f"49,,{Y},100\n49,,{G},100\n49,{TOWN},,180\n49,{DISTRICT},,20\n"))
    )
    with pytest.raises(PopulationError, match="region 49: its respondents cannot match"):
        table.weights({("49", TOWN, Y): 5, ("49", DISTRICT, G): 5})


# Collapse -------------------------------------------------------------------------------------


def test_thin_bands_join_their_smaller_neighbour() -> None:
    sizes = {"14-17": 2, "18-24": 12, "25-30": 3, "31-35": 4, "36-44": 9, "55-64": 7, "65+": 1}
    # Thinnest first: 45-54 (nobody) joins 55-64 (7, smaller than 36-44's 9); then 65+ (1)
    # joins them; 14-17 (2) joins 18-24; 25-30 (3) joins 31-35 (4, smaller than 14–24's 14).
    assert collapse_bands(
        ["14-17", "18-24", "25-30", "31-35", "36-44", "45-54", "55-64", "65+"], sizes
    ) == [("14-17", "18-24"), ("25-30", "31-35"), ("36-44",), ("45-54", "55-64", "65+")]
    assert collapse_bands(["18-24", "45-54"], {"18-24": 3, "45-54": 1}) == [("18-24", "45-54")]


def test_a_collapsed_band_shares_its_neighbours_weight() -> None:
    # 25-30 has 2 respondents: alone they would stand for 300/2 = 150 residents each. It
    # joins 45-54 (8 respondents, smaller than 18-24's 10): 10 respondents for 300 + 600.
    table = parse_population(
        io.StringIO("region_code,age_band,population\n49,18-24,100\n49,25-30,300\n49,45-54,600\n")
    )
    counts = {("49", TOWN, Y): 10, ("49", TOWN, "25-30"): 2, ("49", TOWN, G): 8}
    assert table.weights(counts) == pytest.approx(
        {("49", TOWN, Y): 10, ("49", TOWN, "25-30"): 90, ("49", TOWN, G): 90}
    )


def test_thin_municipalities_pool_into_the_rest_of_the_region() -> None:
    listed = {"A": 1, "B": 1, "C": 1}
    # B (4) is thin and pooled; the pool then has 4, still thin, so the smallest kept
    # municipality, C (6), joins it: 10. A (12) stays on its own.
    assert kept_municipalities(listed, {"A": 12, "B": 4, "C": 6}) == {"A"}
    # An unlisted municipality's 5 make the pool big enough by themselves.
    assert kept_municipalities(listed, {"A": 12, "B": 6, "C": 6, "X": 5}) == {"A", "B", "C"}


# Trimming -------------------------------------------------------------------------------------


def test_trimming_caps_a_weight_at_five_times_the_mean() -> None:
    # Half the region is older, but 5 of 60 respondents are: each would stand for 50/5 = 10
    # residents against a mean of 100/60 = 1.667, six times the mean. Capped at 5 × 1.667
    # = 8.333, the 5 older stand for 41.67 and the 55 young share the other 58.33: 1.061
    # each. Raking again restores the six, the cap cuts it again: the trimmed weights stand.
    table = parse_population(
        io.StringIO("region_code,age_band,population\n49,18-24,50\n49,45-54,50\n")
    )
    weights = table.weights({("49", "", Y): 55, ("49", "", G): 5})
    mean = 100 / 60
    assert weights == pytest.approx({("49", "", G): 5 * mean, ("49", "", Y): 7 / 11 * mean})


def test_trimming_then_raking_again_keeps_the_cap_and_the_total() -> None:
    # A tiny older group in the town needs weight 6 (mean 1) to meet both margins; the
    # cap holds it at 5 and the rest is raked as close to the margins as that allows.
    counts = {("A", Y): 60, ("A", G): 4, ("B", Y): 20, ("B", G): 10}
    age: Margin[tuple[str, str]] = Margin({h: h[1] for h in counts}, {Y: 300, G: 700})
    place: Margin[tuple[str, str]] = Margin({h: h[0] for h in counts}, {"A": 500, "B": 500})
    weights = rake(counts, [age, place])
    assert max(weights.values()) == pytest.approx(TRIM_CAP)
    assert weights[("A", G)] == pytest.approx(TRIM_CAP)
    assert sum(n * weights[h] for h, n in counts.items()) == pytest.approx(sum(counts.values()))
    shares: defaultdict[Hashable, float] = defaultdict(float)
    for h, n in counts.items():
        shares[h[1]] += n * weights[h] / 94
    assert shares[G] == pytest.approx(0.7, abs=0.01)  # within a point of the margin


# Kish suppression -----------------------------------------------------------------------------


def _groups(region: str, band: str, track: Track, scores: list[float]) -> list[GroupStats]:
    moments = Moments.of(scores)
    return [GroupStats(region, TOWN, track, band, t, moments) for t in ("health", OVERALL)]


def test_a_cell_worth_too_few_respondents_is_suppressed() -> None:
    # 20 aged 18-24 for 100 residents (5 each), 5 aged 25-30 for 400 (80 each), 40 aged
    # 45-54 for 2000 (50 each); the largest weight, 80, is 2.1 × the mean 2500/65 = 38.5.
    # Youth: n = 25, but n_eff = (100 + 400)² / (20·5² + 5·80²) = 250 000 / 32 500 = 7.7,
    # under 10: hidden. The region's all-ages cell (n_eff = 2500² / (32 500 + 40·50²) = 47.2)
    # is shown, so general, though 40 strong, is hidden with youth: all − general = youth.
    groups = [
        *_groups("49", Y, "youth", [80.0] * 20),
        *_groups("49", "25-30", "youth", [20.0] * 5),
        *_groups("49", G, "general", [50.0] * 40),
    ]
    table = parse_population(
        io.StringIO("region_code,age_band,population\n49,18-24,100\n49,25-30,400\n49,45-54,2000\n")
    )
    weighted = build_ratings(groups, ["health"], min_cell_size=10, population=table)
    youth = weighted.cell(("49",), "youth", "health")
    assert youth.respondents == 25 and youth.suppressed
    assert weighted.cell(("49",), "general", "health").suppressed
    region = weighted.cell(("49",), "all", "health").estimate
    assert region is not None
    assert region.effective_n == pytest.approx(2500**2 / (32_500 + 40 * 50**2))
    plain = build_ratings(groups, ["health"], min_cell_size=10)
    assert not plain.cell(("49",), "youth", "health").suppressed


def test_weighted_figures_hide_what_the_unweighted_figures_hide() -> None:
    """Region 49, all young: A has 5 people (too few), B 20 aged 18-24 and 5 aged 25-30,
    C 12 aged 18-24. Unweighted, A alone hidden would be region − B − C, so the smaller
    of B and C goes with it: C. Weighted (18-24: 100 residents for 37 people, 2.70 each;
    25-30: 140 for 5, 28 each, under the cap of 5 × 240/42 = 28.6), B is worth
    (20·2.70 + 140)² / (20·2.70² + 5·28²) = 9.3 people, under 10: hidden. A and B hidden
    would protect each other, but C must stay hidden too: the chat, always unweighted,
    shows B's count, and region − B − C is A."""
    a, b, c = TOWN, DISTRICT, "49606000"

    def people(municipality: str, band: str, count: int) -> list[GroupStats]:
        moments = Moments.of([60.0] * count)
        return [
            GroupStats("49", municipality, "youth", band, t, moments) for t in ("health", OVERALL)
        ]

    groups = [*people(a, Y, 5), *people(b, Y, 20), *people(b, "25-30", 5), *people(c, Y, 12)]
    table = parse_population(
        io.StringIO("region_code,age_band,population\n49,18-24,100\n49,25-30,140\n")
    )
    plain = build_ratings(groups, ["health"], min_cell_size=10)
    weighted = build_ratings(groups, ["health"], min_cell_size=10, population=table)

    def hidden(ratings: Ratings) -> set[str]:
        return {m for m in (a, b, c) if ratings.cell(("49", m), "all", "health").suppressed}

    assert hidden(plain) == {a, c}
    assert hidden(weighted) == {a, b, c}
    thin = weighted.cell(("49", b), "all", "health")
    assert thin.respondents == 25
    w1, w2 = 100 / 37, 140 / 5
    assert (20 * w1 + 5 * w2) ** 2 / (20 * w1**2 + 5 * w2**2) < 10


# The population file --------------------------------------------------------------------------


def test_four_column_file() -> None:
    table = parse_population(
        io.StringIO(_population(f"49;;{Y};500\n49;{TOWN};;400\n").replace(",", ";"))
    )
    assert table.counts == {("49", Y): 500}
    assert table.municipalities == {("49", TOWN): 400}


def test_four_column_errors_name_their_lines() -> None:
    text = _population(
        f"49,,{Y},500\n"  # line 2, fine
        f"49,{TOWN},{Y},10\n"  # 3: both
        "49,,,10\n"  # 4: neither
        "05,5701000,,10\n"  # 5: leading zero lost
        "49,45000000,,10\n"  # 6: another region's
        f"49,{TOWN},,300\n49,{TOWN},,300\n"  # 7, 8: repeated
        f"49,{DISTRICT},,300\n"  # 9: with the town's, 600 > 500
        "65,65701000,,10\n"  # 10: no age bands for region 65
    )
    with pytest.raises(PopulationError) as caught:
        parse_population(io.StringIO(text))
    message = str(caught.value)
    for fragment in (
        "line 3: a row gives an age band or a municipality, not both",
        "line 4: age band '' is not one of",
        "(or give a municipality code)",
        "line 5: municipality code '5701000' must be 8 digits (OKTMO)",
        "write 05",
        "line 6: municipality 45000000 is not in region 49",
        f"line 8: region 49, municipality {TOWN} repeated",
        "lines 7, 8, 9: the municipalities of region 49 add up to 600, more than its age"
        " bands' 500",
        "line 10: region 65 has municipalities but no age bands",
    ):
        assert fragment in message
    with pytest.raises(PopulationError, match=r"line 1: the header must be .* or "):
        parse_population(io.StringIO("region_code,municipality,population\n"))


def test_unlisted_municipalities_need_room_in_the_region() -> None:
    table = parse_population(io.StringIO(_population(f"49,,{Y},500\n49,{TOWN},,500\n")))
    with pytest.raises(PopulationError, match=r"region 49: .* \(49603000\)"):
        table.weights({("49", TOWN, Y): 5, ("49", DISTRICT, Y): 5})


# End to end -----------------------------------------------------------------------------------


def _people(count: int, municipality: str, band: str, clinic: int) -> list[Person]:
    return [
        _person(f"{municipality}-{band}-{i}", "49", municipality, band, clinic, None, "good")
        for i in range(count)
    ]


async def test_cli_rakes_to_a_four_column_file(tmp_path: Path) -> None:
    # The 2 × 2 sample above, health scores 100 (town, young), 75 (town, older; district,
    # young) and 0 (district, older). Unweighted: (10·100 + 5·75 + 5·75)/30 = 58.3. Raked,
    # with t = 379.60 residents in the town's young cell: (100t + 75(600 − t) + 75(500 − t)
    # + 0)/1000 = (82 500 − 50t)/1000 = 63.5.
    people = [
        *_people(10, TOWN, Y, 5),
        *_people(5, TOWN, G, 4),
        *_people(5, DISTRICT, Y, 4),
        *_people(10, DISTRICT, G, 1),
    ]
    wave = await build_results_wave(tmp_path, people)
    try:
        parser = argparse.ArgumentParser()
        cli_export.register(parser.add_subparsers(dest="command", required=True))
        settings = Settings(
            _env_file=None,
            database_path=wave.database.path,  # type: ignore[call-arg]
            min_cell_size=MIN_CELL,
        )
        weights, output = tmp_path / "population.csv", tmp_path / "ratings.csv"
        weights.write_text(TWO_BY_TWO_POPULATION, encoding="utf-8")
        command = ["export", "ratings", "--wave", str(wave.wave_id), "-o", str(output)]

        async def health() -> list[str]:
            args = parser.parse_args(command)
            assert await args.handler(args, settings) == 0
            line = next(
                x
                for x in output.read_text("utf-8").splitlines()
                if x.startswith(f"{wave.wave_id},49,") and ",all,health," in x
            )
            return line.split(",")[7:9]

        assert await health() == ["30", "58.3"]
        command += ["--weights", str(weights)]
        t = (4300 - math.sqrt(4_090_000)) / 6
        assert await health() == ["30", f"{(82_500 - 50 * t) / 1000:.1f}"] == ["30", "63.5"]
    finally:
        await wave.database.close()
