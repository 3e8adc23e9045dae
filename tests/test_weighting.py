"""Post-stratification by region × age band, the population file, and Kish's effective n."""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import pytest

from bot.cli import export as cli_export
from bot.settings import Settings
from storage.result_files import ratings_rows, write_ratings_csv
from surveys.aggregate import Moments, estimate, round_half_up
from surveys.weighting import (
    PopulationError,
    PopulationTable,
    kish_effective_n,
    load_population,
    parse_population,
    respondent_weights,
)
from tests.test_aggregate import MIN_CELL, ResultsWave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

Y, G = "18-24", "45-54"
#: Novgorod has three times as many 45–54-year-olds as 18–24-year-olds; the sample has as
#: many of each (3 and 3), so the older respondents must count three times as much.
POPULATION = (
    "region_code,age_band,population\n"
    "49,18-24,100\n49,45-54,300\n"
    "45,18-24,900\n45,45-54,900\n65,18-24,500\n65,45-54,500\n05,45-54,700\n"
)


def test_weights_follow_population_shares() -> None:
    counts = {"young": 3, "older": 3}
    # Unweighted: every respondent 1/6; Kish n = (6·1/6)² / (6·1/36) = 6.
    plain = respondent_weights(counts)
    assert plain == {"young": pytest.approx(1 / 6), "older": pytest.approx(1 / 6)}
    assert kish_effective_n(plain, counts) == pytest.approx(6)
    # Population 100 : 300 → shares 0.25 and 0.75, over 3 respondents each:
    # w = 0.25/3 = 1/12 and 0.75/3 = 1/4. Kish n = (Σw)² / Σw² = 1 / (3/144 + 3/16) = 4.8.
    weighted = respondent_weights(counts, {"young": 100, "older": 300})
    assert weighted == {"young": pytest.approx(1 / 12), "older": pytest.approx(1 / 4)}
    assert kish_effective_n(weighted, counts) == pytest.approx(4.8)


def test_strata_without_respondents_drop_out() -> None:
    # Nobody aged 65+ answered: the other two bands share the whole weight, 1 : 3.
    weights = respondent_weights(
        {"young": 2, "older": 1, "old": 0}, {"young": 100, "older": 300, "old": 600}
    )
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
    population = PopulationTable({("49", Y): 100, ("49", G): 300})
    result = estimate(strata, population)
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
    rows = await ratings_rows(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL, population=population
    )
    by_key = {(r.region_code, r.track, r.topic): r for r in rows}
    health = by_key[("49", "all", "health")]
    # As worked out in test_weighted_estimate_by_hand; the count stays the real 6 people.
    assert health.respondents == 6
    assert [round_half_up(v or 0, 1) for v in (health.score, health.ci_low, health.ci_high)] == [
        65.8,
        38.3,
        93.4,
    ]
    assert round_half_up(health.satisfied_share or 0, 3) == 0.417
    # One age band per youth cell: weighting has nothing to rebalance there.
    youth = by_key[("49", "youth", "health")]
    assert round_half_up(youth.score or 0, 1) == 73.3
    # Equal populations for equal samples (Moscow 3 + 3 at 900 + 900) change nothing.
    plain = {
        (r.region_code, r.track, r.topic): r
        for r in await ratings_rows(
            results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
        )
    }
    assert by_key[("45", "all", "health")].score == pytest.approx(
        plain[("45", "all", "health")].score
    )


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
    assert line.endswith(",6,65.8,38.3,93.4,0.417,,0,,,,0.123,0.784")

    weights.write_text("region_code,age_band,population\n49,18-24,100\n", encoding="utf-8")
    output.unlink()
    assert await args.handler(args, settings) == 1
    assert "no population for region/age band" in capsys.readouterr().err
    assert not output.exists()
