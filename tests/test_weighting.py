"""Weighted estimates, the population file, and Kish's effective n (raking: test_raking)."""

from __future__ import annotations

import argparse
import io
import math
from dataclasses import astuple
from pathlib import Path

import pytest

from bot.cli import export as cli_export
from bot.settings import Settings
from storage.result_files import write_ratings_csv
from storage.results import compute_ratings
from surveys.aggregate import WAVE, Moments, estimate, round_half_up
from surveys.weighting import (
    PopulationError,
    kish_effective_n,
    load_population,
    parse_population,
    respondent_weights,
)
from tests.test_aggregate import MIN_CELL, ResultsWave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

Y, G = "18-24", "45-54"
#: Novgorod has three times as many 45–54-year-olds as 18–24-year-olds; the sample has as
#: many of each (3 and 3). Both bands are thin (under 5), so raking merges them: the file
#: then weighs regions against each other, 400 : 1800 : 1000 : 700.
POPULATION = (
    "region_code,age_band,population\n"
    "49,18-24,100\n49,45-54,300\n"
    "45,18-24,900\n45,45-54,900\n65,18-24,500\n65,45-54,500\n05,45-54,700\n"
)


#: Residents per respondent if 100 young and 300 older residents stood behind 3 + 3
#: respondents, each band weighted on its own: 100/3 and 300/3.
WEIGHTS = {("49", Y): 100 / 3, ("49", G): 100.0}


def test_shares_follow_weights() -> None:
    counts = {"young": 3, "older": 3}
    # Unweighted: every respondent 1/6; Kish n = (6·1/6)² / (6·1/36) = 6.
    plain = respondent_weights(counts)
    assert plain == {"young": pytest.approx(1 / 6), "older": pytest.approx(1 / 6)}
    assert kish_effective_n(plain, counts) == pytest.approx(6)
    # Weights 100/3 : 100 → the bands' shares 100 : 300 = 0.25 and 0.75, over 3 respondents
    # each: w = 0.25/3 = 1/12 and 0.75/3 = 1/4. Kish n = (Σw)² / Σw² = 1 / (3/144 + 3/16)
    # = 4.8.
    weighted = respondent_weights(counts, {"young": 100 / 3, "older": 100})
    assert weighted == {"young": pytest.approx(1 / 12), "older": pytest.approx(1 / 4)}
    assert kish_effective_n(weighted, counts) == pytest.approx(4.8)


def test_strata_without_respondents_drop_out() -> None:
    # Nobody in "old" is in this cell: the others share it, 2·1 : 1·6 = 1 : 3.
    weights = respondent_weights({"young": 2, "older": 1, "old": 0}, {"young": 1, "older": 6})
    assert weights == {"young": pytest.approx(0.25 / 2), "older": pytest.approx(0.75)}


def test_weighted_estimate_by_hand() -> None:
    # Novgorod health: 18-24 scored 90, 75, 55 (mean 73.33); 45-54 scored 37.5, 67.5, 85
    # (mean 63.33). Weighted mean = 0.25·73.33 + 0.75·63.33 = 18.33 + 47.50 = 65.83
    # (unweighted it is 68.33: the young, over-represented in the sample, are happier).
    # Σw·x² = (8100 + 5625 + 3025)/12 + (1406.25 + 4556.25 + 7225)/4 = 1395.83 + 3296.88
    #       = 4692.71; weighted variance = 4692.71 − 65.83² = 358.68;
    # s² = 358.68 · 4.8/3.8 = 453.07; se = √(453.07/4.8) = 9.7154;
    # t(0.975, df = 4.8 − 1 = 3.8) = 2.8350; half = 27.54 → [38.29, 93.38].
    # Satisfied (≥ 75): young 2 of 3, older 1 of 3 → 0.25·2/3 + 0.75·1/3 = 0.417.
    # Its Wilson interval on n = n_eff = 4.8 (the design effect), p = 5/12, z = 1.96:
    # z²/n = 3.8415/4.8 = 0.80030; centre = (0.41667 + 0.40015)/1.80030 = 0.45371;
    # half = 1.96/1.80030 · √(0.41667·0.58333/4.8 + 3.8415/(4·4.8²)) = 1.08869 · 0.30384
    # = 0.33079 → [0.12293, 0.78450]; on the 6 real respondents it would be [0.139, 0.759],
    # narrower than the weighted sample can support.
    strata = {("49", Y): Moments.of([90, 75, 55]), ("49", G): Moments.of([37.5, 67.5, 85])}
    result = estimate(strata, WEIGHTS)
    assert result is not None
    assert result.score == pytest.approx(65.8333333)
    assert result.effective_n == pytest.approx(4.8)
    half = 2.835035879 * math.sqrt(358.6805556 * 4.8 / 3.8 / 4.8)
    assert result.ci_low == pytest.approx(65.8333333 - half)
    assert result.ci_high == pytest.approx(65.8333333 + half)
    assert result.satisfied_share == pytest.approx(5 / 12)
    assert [round_half_up(v or 0, 1) for v in (result.score, result.ci_low, result.ci_high)] == [
        65.8,
        38.3,
        93.4,
    ]
    z, n, p = 1.959963985, 4.8, 5 / 12
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (result.share_low, result.share_high) == pytest.approx((centre - half, centre + half))
    assert [round_half_up(v or 0, 3) for v in (result.share_low, result.share_high)] == [
        0.123,
        0.784,
    ]
    assert result.standard_error == pytest.approx(math.sqrt(358.6805556 * 4.8 / 3.8 / 4.8))


def test_population_file_tolerates_excel() -> None:
    table = parse_population(
        io.StringIO("\ufeffregion_code;age_band;population\r\n05;65+;1 234 567\r\n\r\n")
    )
    assert table.counts == {("05", "65+"): 1234567}


def test_population_file_errors_name_their_lines(tmp_path: Path) -> None:
    bad = tmp_path / "population.csv"
    bad.write_text(
        "region_code,age_band,population\n"
        "5,18-24,10\n"  # leading zero lost
        "49,18-25,10\n"  # not a band
        "49,45-54,0\n"  # not positive
        "49,45-54,abc\n"  # not a number
        "65,18-24,1\n65,18-24,2\n"  # repeated
        "65,45-54\n",  # short row
        encoding="utf-8",
    )
    with pytest.raises(PopulationError) as caught:
        load_population(bad)
    message = str(caught.value)
    for fragment in (
        "line 2: region code '5'",
        "write 05",
        "line 3: age band '18-25'",
        "line 4: population '0'",
        "line 5: population 'abc'",
        "line 7: region 65, band 18-24 repeated",
        "line 8: expected 3 columns",
    ):
        assert fragment in message
    with pytest.raises(PopulationError, match="line 1: the header must be"):
        parse_population(io.StringIO("region,band,people\n49,18-24,1\n"))
    with pytest.raises(PopulationError, match="cannot read"):
        load_population(tmp_path / "missing.csv")


async def test_weighted_ratings_through_storage(results_wave: ResultsWave) -> None:
    population = parse_population(io.StringIO(POPULATION))
    _, ratings = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL, population=population
    )
    _, plain = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
    )
    # Every region's bands are thin (Novgorod 3 + 3, Sverdlovsk 4 + 2, ...) and merge into
    # one: within a region everyone weighs the same, and its figures are the plain ones
    # (test_aggregate works them out). The count stays the real 6 people.
    for region in ("05", "45", "49", "65"):
        for topic in ("health", "overall"):
            weighted, unweighted = (r.cell((region,), "all", topic) for r in (ratings, plain))
            assert weighted.estimate and unweighted.estimate
            assert astuple(weighted.estimate) == pytest.approx(astuple(unweighted.estimate))
    assert ratings.cell(("49",), "all", "health").respondents == 6
    # The whole wave weighs each region by its residents. Health means: Novgorod 410/6,
    # Moscow 477.5/6, Sverdlovsk 390/6, Primorsky 147.5/3; with 400, 1800, 1000 and 700
    # residents: (400·68.33 + 1800·79.58 + 1000·65 + 700·49.17)/3900 = 270 000/3900 = 69.23
    # (unweighted 1425/21 = 67.86). Residents per respondent 66.7, 300, 166.7, 233.3, so
    # n_eff = 3900² / (6·66.7² + 6·300² + 6·166.7² + 3·233.3²) = 16.96 of 21 respondents.
    wave = ratings.cell(WAVE, "all", "health").estimate
    assert wave is not None
    assert wave.score == pytest.approx(270_000 / 3900)
    per_respondent = {6: [400 / 6, 1800 / 6, 1000 / 6], 3: [700 / 3]}
    squares = sum(n * w * w for n, ws in per_respondent.items() for w in ws)
    assert wave.effective_n == pytest.approx(3900**2 / squares)
    assert round_half_up(wave.effective_n, 2) == 16.96


async def test_missing_population_is_an_error(results_wave: ResultsWave) -> None:
    partial = parse_population(io.StringIO("region_code,age_band,population\n49,18-24,100\n"))
    with pytest.raises(PopulationError, match="no population for region/age band 05/45-54"):
        await write_ratings_csv(
            results_wave.database,
            results_wave.wave_id,
            io.BytesIO(),
            min_cell_size=MIN_CELL,
            population=partial,
        )


async def test_cli_weights(
    results_wave: ResultsWave, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    cli_export.register(parser.add_subparsers(dest="command", required=True))
    settings = Settings(
        _env_file=None,
        database_path=results_wave.database.path,  # type: ignore[call-arg]
        min_cell_size=MIN_CELL,
    )
    weights, output = tmp_path / "population.csv", tmp_path / "ratings.csv"
    weights.write_text(POPULATION, encoding="utf-8")
    args = parser.parse_args(
        ["export", "ratings", "--wave", "1", "--weights", str(weights), "-o", str(output)]
    )
    assert await args.handler(args, settings) == 0
    line = next(
        x
        for x in output.read_text("utf-8").splitlines()
        if x.startswith("1,49,") and ",all,health," in x
    )
    # Novgorod's bands merged (see test_weighted_ratings_through_storage): its plain figures.
    assert line.endswith(",6,68.3,47.8,88.9,0.500,,0,,,,0.188,0.812")

    weights.write_text("region_code,age_band,population\n49,18-24,100\n", encoding="utf-8")
    output.unlink()
    assert await args.handler(args, settings) == 1
    assert "no population for region/age band" in capsys.readouterr().err
    assert not output.exists()
