"""Change between two waves, and through a survey's waves, every figure worked out by hand.

The earlier wave asked version 1 of the survey, the later one version 2, which rewords the
clinic question (still comparable: its scale did not change), turns the doctor question
from likert5 into nps and gives the road question a third option (neither compares any
more). So health is compared on the clinic question alone, roads not at all, and overall,
made of the comparable topics only, equals health. Everyone is on the general track (band
45-54), so youth cells are empty and `all` equals `general`. MIN_CELL_SIZE is 3.

likert5 x → (x − 1)/4·100: 1→0, 2→25, 3→50, 4→75, 5→100. The doctor and road answers are
chosen so that counting them would move every score: a test that passes with them left in
would prove nothing.

Welch's interval on two independent samples: se² = s_new²/n_new + s_old²/n_old,
df = se⁴ / ((s_new²/n_new)²/(n_new − 1) + (s_old²/n_old)²/(n_old − 1)),
change ± t(0.975, df)·se.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.main import build_parser
from bot.settings import Settings
from storage.backend import Backend
from storage.change import ChangeError, compute_change
from storage.connect import open_database
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository, WaveState
from storage.result_files import write_change_csv
from storage.results import UnknownWave
from surveys.aggregate import t_quantile
from surveys.change import compare_surveys
from surveys.model import AnswerValue, Survey
from surveys.scoring import answer_score
from tests.commands import pass_settings

MIN_CELL = 3
#: t(0.975, 4) from a t table.
T_DF4 = 2.7764451052
GENERAL = "45-54"
COLUMNS = [
    "wave_id",
    "against_wave_id",
    "region_code",
    "region_name",
    "municipality_code",
    "municipality_name",
    "track",
    "topic",
    "respondents_before",
    "score_before",
    "respondents",
    "score",
    "change",
    "change_low",
    "change_high",
    "verdict",
    "comparable",
    "suppressed",
]


def _survey(version: int, clinic_text: str, doctor: str, road_options: list[str]) -> Survey:
    scores = {"good": 100, "fair": 50, "poor": 0}
    return Survey.model_validate(
        {
            "id": "change_test",
            "version": version,
            "title": {"ru": "Перемены", "en": "Change"},
            "topics": [
                {"id": "health", "title": {"ru": "Здоровье", "en": "Health"}, "weight": 2},
                {"id": "roads", "title": {"ru": "Дороги", "en": "Roads"}},
            ],
            "questions": [
                {
                    "id": "clinic",
                    "type": "likert5",
                    "topic": "health",
                    "text": {"ru": clinic_text, "en": clinic_text},
                },
                {
                    "id": "doctor",
                    "type": doctor,
                    "topic": "health",
                    "text": {"ru": "Врач?", "en": "Doctor?"},
                },
                {
                    "id": "road",
                    "type": "single",
                    "topic": "roads",
                    "text": {"ru": "Дорога?", "en": "Road?"},
                    "options": [
                        {"id": o, "text": {"ru": o, "en": o}, "score": scores[o]}
                        for o in road_options
                    ],
                },
            ],
        }
    )


BEFORE = _survey(1, "Поликлиника?", "likert5", ["good", "poor"])
AFTER = _survey(2, "Довольны ли вы поликлиникой?", "nps", ["good", "fair", "poor"])
OTHER = Survey.model_validate(
    {
        "id": "other_test",
        "version": 1,
        "title": {"ru": "Другое", "en": "Other"},
        "topics": [{"id": "parks", "title": {"ru": "Парки", "en": "Parks"}}],
        "questions": [
            {
                "id": "park",
                "type": "likert5",
                "topic": "parks",
                "text": {"ru": "Парк?", "en": "Park?"},
            }
        ],
    }
)

#: Clinic answers per region. Doctor and road answers: the opposite end of their scale.
CLINIC_BEFORE = {
    "49": [2, 2, 3],  # improves
    "65": [5, 5, 4],  # declines
    "05": [1, 3, 5],  # no clear change
    "45": [3, 3],  # too few before: suppressed
    "46": [4, 4],  # the second small region, so the wave's sum hides two regions
}
CLINIC_AFTER = {
    "49": [4, 5, 5],
    "65": [2, 1, 1],
    "05": [2, 3, 5, 5],
    "45": [3, 4, 4],
    "46": [4, 4, 5],
}


@dataclass
class ChangeWaves:
    database: Backend
    before: int
    after: int
    #: A wave of version 2 still open, and one of an unrelated survey.
    open_wave: int
    other: int
    #: The test's folder: the commands' output goes here, and on SQLite their database too.
    folder: Path


async def _wave(
    database: Backend,
    survey: Survey,
    clinic: dict[str, list[int]],
    state: WaveState,
    first_telegram_id: int,
) -> int:
    version_id = await SurveyRepository(database).store(survey)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    waves = WaveRepository(database)
    wave_id = await waves.create(
        version_id, start, start + timedelta(days=14), regions=None, tracks="all"
    )
    respondents, responses = RespondentRepository(database), ResponseRepository(database)
    telegram_id = first_telegram_id
    for region, answers in clinic.items():
        for value in answers:
            telegram_id += 1
            respondent = await respondents.record_consent(telegram_id, "ru", "test")
            response = await responses.start(
                wave_id, respondent.id, version_id, region, None, GENERAL, "general"
            )
            given: dict[str, AnswerValue] = {
                "clinic": value,
                "doctor": 6 - value if survey.question("doctor") else None,
                "road": "poor" if value >= 3 else "good",
                "park": value,
            }
            for question in survey.questions:
                score = answer_score(question, given[question.id])
                record = AnswerRecord(question.id, question.topic, given[question.id], score)
                await responses.save_answer(response.id, record)
    await waves.transition(wave_id, ["scheduled"], state)
    return wave_id


def _settings(folder: Path) -> Settings:
    """The settings the commands are given: this pass's database (in `folder`'s data/ on
    SQLite)."""
    return pass_settings(folder / "data", min_cell_size=MIN_CELL)


@pytest.fixture
async def change_waves(tmp_path: Path, bot_database_pass: str) -> AsyncIterator[ChangeWaves]:
    """The waves above in this pass's database, where the commands find them by their
    settings."""
    database = await open_database(_settings(tmp_path))
    try:
        yield ChangeWaves(
            database,
            before=await _wave(database, BEFORE, CLINIC_BEFORE, "closed", 1000),
            after=await _wave(database, AFTER, CLINIC_AFTER, "closed", 2000),
            open_wave=await _wave(database, AFTER, CLINIC_AFTER, "open", 3000),
            other=await _wave(database, OTHER, CLINIC_AFTER, "closed", 4000),
            folder=tmp_path,
        )
    finally:
        await database.close()


def _parse(data: bytes, excel: bool) -> list[list[str]]:
    if excel:
        assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


async def _change_file(waves: ChangeWaves, excel: bool = False) -> list[list[str]]:
    target = io.BytesIO()
    await write_change_csv(
        waves.database, waves.after, waves.before, target, min_cell_size=MIN_CELL, excel=excel
    )
    return _parse(target.getvalue(), excel)


def _welch(before: list[int], after: list[int]) -> tuple[float, float, float, float]:
    """change, se, df and half-width, spelled out (the sample variance with n − 1)."""

    def mean_and_se2(answers: list[int]) -> tuple[float, float]:
        scores = [(x - 1) / 4 * 100 for x in answers]
        mean = sum(scores) / len(scores)
        variance = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)
        return mean, variance / len(scores)

    (m_old, v_old), (m_new, v_new) = mean_and_se2(before), mean_and_se2(after)
    df = (v_old + v_new) ** 2 / (v_old**2 / (len(before) - 1) + v_new**2 / (len(after) - 1))
    se = math.sqrt(v_old + v_new)
    return m_new - m_old, se, df, t_quantile(0.975, df) * se


def _by_key(rows: list[list[str]]) -> dict[tuple[str, str, str], list[str]]:
    return {(row[2], row[6], row[7]): row for row in rows}


# The file -------------------------------------------------------------------------------------


async def test_columns_in_contract_order(change_waves: ChangeWaves) -> None:
    header, *rows = await _change_file(change_waves)
    assert header == COLUMNS
    # 5 regions × 3 tracks × (health, roads, overall), sorted by region code.
    assert len(rows) == 5 * 3 * 3
    assert [row[2] for row in rows[::9]] == ["05", "45", "46", "49", "65"]
    assert [row[6:8] for row in rows[:9]] == [
        [track, topic]
        for track in ("all", "youth", "general")
        for topic in ("health", "roads", "overall")
    ]
    assert {(row[0], row[1]) for row in rows} == {("2", "1")}


async def test_a_region_that_improved(change_waves: ChangeWaves) -> None:
    # Before: 25, 25, 50 → mean 33.333; deviations −8.333, −8.333, 16.667 → s² = 416.667/2
    # = 208.333, se² = 208.333/3 = 69.444. After: 75, 100, 100 → mean 91.667, s² = 208.333,
    # se² = 69.444. change = 58.333; se = √138.889 = 11.785; df = 138.889² / (69.444²/2 ·
    # 2) = 4; half = 2.7764 · 11.785 = 32.720; interval 25.613 … 91.054: above 0.
    change, _, df, half = _welch(CLINIC_BEFORE["49"], CLINIC_AFTER["49"])
    assert df == pytest.approx(4)
    assert half == pytest.approx(T_DF4 * math.sqrt(2 * 208.3333333 / 3), rel=1e-8)
    rows = _by_key((await _change_file(change_waves))[1:])
    assert rows[("49", "all", "health")] == [
        "2",
        "1",
        "49",
        "Новгородская область",
        "",
        "",
        "all",
        "health",
        "3",
        "33.3",
        "3",
        "91.7",
        "58.3",  # from exact values: 91.7 − 33.3 would read 58.4
        f"{change - half:.1f}",
        f"{change + half:.1f}",
        "improved",
        "1",
        "0",
    ]
    assert rows[("49", "all", "health")][13:15] == ["25.6", "91.1"]
    # Overall is made of the comparable topics only (roads drops out): here health alone.
    assert rows[("49", "all", "overall")][8:] == rows[("49", "all", "health")][8:]
    assert rows[("49", "general", "health")][8:] == rows[("49", "all", "health")][8:]


async def test_a_region_that_declined(change_waves: ChangeWaves) -> None:
    # Before: 100, 100, 75 → 91.667, se² 69.444; after: 25, 0, 0 → 8.333, se² 69.444.
    # change = −83.333 ± 32.720 → −116.05 … −50.61, the low end clipped to −100.
    change, _, _, half = _welch(CLINIC_BEFORE["65"], CLINIC_AFTER["65"])
    assert change - half < -100
    rows = _by_key((await _change_file(change_waves))[1:])
    assert rows[("65", "all", "health")][8:] == [
        "3",
        "91.7",
        "3",
        "8.3",
        "-83.3",
        "-100.0",
        f"{change + half:.1f}",
        "declined",
        "1",
        "0",
    ]


async def test_a_region_with_no_clear_change(change_waves: ChangeWaves) -> None:
    # Before: 0, 50, 100 → 50, s² = 2500, se² = 833.333. After: 25, 50, 100, 100 → 68.75,
    # deviations −43.75, −18.75, 31.25, 31.25 → s² = 4218.75/3 = 1406.25, se² = 351.5625.
    # se² = 1184.896, se = 34.422; df = 1184.896² / (833.333²/2 + 351.5625²/3) = 3.6146, a
    # fraction (Welch), t(0.975, 3.6146) ≈ 2.90; half ≈ 99.8: the interval −81.0 … 118.5
    # holds 0, and its high end is clipped to 100 (a change cannot exceed the scale).
    change, se, df, half = _welch(CLINIC_BEFORE["05"], CLINIC_AFTER["05"])
    assert change == pytest.approx(18.75)
    assert se == pytest.approx(math.sqrt(833.3333333 + 351.5625))
    assert df == pytest.approx(1184.8958333**2 / (833.3333333**2 / 2 + 351.5625**2 / 3))
    assert 3 < df < 4
    rows = _by_key((await _change_file(change_waves))[1:])
    assert rows[("05", "all", "health")][8:] == [
        "3",
        "50.0",
        "4",
        "68.8",
        "18.8",
        f"{change - half:.1f}",
        "100.0",
        "no_clear_change",
        "1",
        "0",
    ]
    assert float(rows[("05", "all", "health")][13]) < 0 < float(rows[("05", "all", "health")][14])


async def test_a_changed_question_is_left_out(change_waves: ChangeWaves) -> None:
    # Health is computed on the clinic question alone: counting the doctor question (nps in
    # the new wave, 6 − clinic) would give Novgorod's after-score (75+40)/2, (100+10)/2, …
    # rather than 91.7. Roads has no comparable question left: comparable 0, no figures.
    rows = _by_key((await _change_file(change_waves))[1:])
    assert rows[("49", "all", "health")][11] == "91.7"
    for track in ("all", "youth", "general"):
        assert rows[("49", track, "roads")][8:] == [""] * 8 + ["0", "0"]
    matches = {m.question_id: m for m in compare_surveys(BEFORE, AFTER).matches}
    assert matches["clinic"].comparable  # reworded, new version: still the same question
    assert not matches["doctor"].comparable
    assert matches["doctor"].reason == "type changed from likert5 to nps"
    assert not matches["road"].comparable
    assert compare_surveys(BEFORE, AFTER).questions == {"health": ("clinic",)}


async def test_suppressed_when_either_wave_hides_the_cell(change_waves: ChangeWaves) -> None:
    # Moscow (45) had 2 respondents before, under MIN_CELL_SIZE 3, and 3 after: the after-
    # cell is published in its own wave's ratings, but the change is not. Empty youth cells
    # are suppressed too. Neither count is given.
    rows = _by_key((await _change_file(change_waves))[1:])
    for region in ("45", "46"):
        for topic in ("health", "overall"):
            assert rows[(region, "all", topic)][8:] == [""] * 8 + ["1", "1"]
    assert rows[("49", "youth", "health")][8:] == [""] * 8 + ["1", "1"]


async def test_excel_flavour(change_waves: ChangeWaves) -> None:
    plain = await _change_file(change_waves)
    header, *rows = await _change_file(change_waves, excel=True)
    assert header == COLUMNS
    assert _by_key(rows)[("65", "all", "health")][8:13] == ["3", "91,7", "3", "8,3", "-83,3"]
    assert [[cell.replace(",", ".") for cell in row] for row in rows] == plain[1:]


async def test_municipality_level_keeps_the_no_municipality_group(
    change_waves: ChangeWaves,
) -> None:
    target = io.BytesIO()
    await write_change_csv(
        change_waves.database,
        change_waves.after,
        change_waves.before,
        target,
        level="municipality",
        min_cell_size=MIN_CELL,
    )
    _, *rows = _parse(target.getvalue(), excel=False)
    novgorod = _by_key(rows)[("49", "all", "health")]
    assert novgorod[4:6] == ["", ""]  # nobody named a municipality
    assert novgorod[12] == "58.3"


# Refusals -------------------------------------------------------------------------------------


async def test_refusals(change_waves: ChangeWaves) -> None:
    database = change_waves.database
    with pytest.raises(UnknownWave):
        await compute_change(database, 42, change_waves.before, min_cell_size=MIN_CELL)
    with pytest.raises(ChangeError, match="against itself"):
        await compute_change(database, 2, 2, min_cell_size=MIN_CELL)
    with pytest.raises(ChangeError, match=r"still open.*--partial"):
        await compute_change(
            database, change_waves.open_wave, change_waves.before, min_cell_size=MIN_CELL
        )
    with pytest.raises(ChangeError, match="share no question"):
        await compute_change(
            database, change_waves.other, change_waves.before, min_cell_size=MIN_CELL
        )
    # An open wave compared on purpose: the same answers as wave 2, the same figures.
    partial = await compute_change(
        database,
        change_waves.open_wave,
        change_waves.before,
        min_cell_size=MIN_CELL,
        partial=True,
    )
    closed = await compute_change(
        database, change_waves.after, change_waves.before, min_cell_size=MIN_CELL
    )
    assert list(partial.cells("region")) == list(closed.cells("region"))


# The command line -----------------------------------------------------------------------------


async def _run(waves: ChangeWaves, *argv: str) -> int:
    args = build_parser().parse_args(["export", "change", *argv])
    status: int = await args.handler(args, _settings(waves.folder))
    return status


async def test_cli_writes_the_file(change_waves: ChangeWaves, tmp_path: Path) -> None:
    output = tmp_path / "change.csv"
    argv = ["--wave", "2", "--against", "1", "--excel", "-o", str(output)]
    assert await _run(change_waves, *argv) == 0
    assert _parse(output.read_bytes(), excel=True) == await _change_file(change_waves, True)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--wave", "42", "--against", "1"], "there is no wave 42"),
        (["--wave", "1", "--against", "42"], "there is no wave 42"),
        (["--wave", "2", "--against", "2"], "wave 2 is compared against itself"),
        (["--wave", "3", "--against", "1"], "wave 3 is still open"),
        (["--wave", "4", "--against", "1"], "share no question asked the same way"),
        (["--wave", "2"], "name two waves (--wave NEW --against OLD) or a survey"),
        (["--survey", "nope"], "there is no survey nope"),
        (["--survey", "other_test"], "survey other_test has 1 closed wave; a series needs 2"),
        (["--survey", "change_test", "--wave", "2"], "leave out --wave and --against"),
        (["--survey", "change_test", "--against", "1"], "leave out --wave and --against"),
        (["--survey", "change_test", "--partial"], "closed waves only"),
    ],
)
async def test_cli_errors_write_nothing(
    change_waves: ChangeWaves,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    output = tmp_path / "change.csv"
    assert await _run(change_waves, *argv, "-o", str(output)) == 1
    assert message in capsys.readouterr().err
    assert not [path for path in tmp_path.iterdir() if "change.csv" in path.name]


async def test_cli_partial_compares_an_open_wave(
    change_waves: ChangeWaves, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert await _run(change_waves, "--wave", "3", "--against", "1", "--partial") == 0
    _, *rows = _parse(capsysbinary.readouterr().out, excel=False)
    assert _by_key(rows)[("49", "all", "health")][12:16] == ["58.3", "25.6", "91.1", "improved"]


# surveys diff ---------------------------------------------------------------------------------


async def test_surveys_diff_names_each_question_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pulse = Path(__file__).resolve().parent.parent / "surveys" / "examples" / "pulse.yaml"
    text = pulse.read_text(encoding="utf-8")
    edited = text.replace("version: 1", "version: 2").replace(
        "  - id: schools_month\n    type: likert5", "  - id: schools_month\n    type: nps"
    )
    assert edited.count("type: nps") == text.count("type: nps") + 1
    new = tmp_path / "pulse_v2.yaml"
    new.write_text(edited, encoding="utf-8")
    line = edited.splitlines().index("  - id: schools_month") + 1
    args = build_parser().parse_args(["surveys", "diff", str(pulse), str(new)])
    assert await args.handler(args, Settings(_env_file=None)) == 0  # type: ignore[call-arg]
    out = capsys.readouterr().out.splitlines()
    assert (
        f"{new}:{line}: schools_month (education): not comparable, type changed from likert5 to nps"
    ) in out
    services = edited.splitlines().index("  - id: services_overall") + 1
    assert f"{new}:{services}: services_overall (public_services): comparable, same scoring" in out
    assert "topic education: no comparable question; compared nowhere" in out
    assert not any("comment" in entry for entry in out)  # free text is never scored


# --weights -------------------------------------------------------------------------------------


def _population(tmp_path: Path, regions: list[str]) -> Path:
    path = tmp_path / "population.csv"
    lines = ["region_code,age_band,population", *(f"{r},{GENERAL},100000" for r in regions)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_cli_weights_reach_both_waves(
    change_waves: ChangeWaves, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Everyone is in one age band, so weighting within a region has nothing to reweight:
    # the regions' figures are the unweighted ones.
    full = _population(tmp_path, ["05", "45", "46", "49", "65"])
    output = tmp_path / "change.csv"
    argv = ["--wave", "2", "--against", "1", "-o", str(output), "--weights"]
    assert await _run(change_waves, *argv, str(full)) == 0
    assert _parse(output.read_bytes(), excel=False) == await _change_file(change_waves)
    output.unlink()
    # A population file that misses a region with respondents is refused, for either wave.
    short = _population(tmp_path, ["05", "45", "46", "49"])
    assert await _run(change_waves, *argv, str(short)) == 1
    assert b"65" in capsysbinary.readouterr().err
    assert not output.exists()


# The series of a survey ------------------------------------------------------------------------

SERIES_COLUMNS = [
    "survey_id",
    "wave_id",
    "wave_ends_at",
    "region_code",
    "region_name",
    "municipality_code",
    "municipality_name",
    "track",
    "topic",
    "respondents",
    "score",
    "ci_low",
    "ci_high",
    "change",
    "change_low",
    "change_high",
    "verdict",
    "comparable",
    "suppressed",
]
#: A third wave of version 2: Novgorod all 5s, the small regions of wave 1 grown.
CLINIC_THIRD = {"49": [5, 5, 5], "65": [1, 1, 2], "05": [3, 3, 3], "45": [4, 4, 4], "46": [2, 3, 4]}
#: t(0.975, 2) from a t table.
T_DF2 = 4.3026527297


async def _series_file(waves: ChangeWaves, *extra: str) -> list[list[str]]:
    output = waves.folder / "series.csv"
    assert await _run(waves, "--survey", "change_test", *extra, "-o", str(output)) == 0
    return _parse(output.read_bytes(), excel="--excel" in extra)


def _series_by_key(rows: list[list[str]]) -> dict[tuple[str, str, str, str], list[str]]:
    return {(row[3], row[7], row[8], row[1]): row for row in rows}


async def test_series_lines_up_every_closed_wave(change_waves: ChangeWaves) -> None:
    """Waves 1 (version 1), 2 and 5 (version 2) are closed; 3 is open and left out. All three
    asked only the clinic question alike, so health (and overall) is that question alone.

    Novgorod: 25, 25, 50 → 33.333, s² = 208.333, se = √(208.333/3) = 8.333, df 2: ± 4.3027 ·
    8.333 = ± 35.855 → 0.0 (clipped) … 69.2. Then 75, 100, 100 → 91.667, the same se: 55.8 …
    100.0 (clipped), and the change +58.3 of the change file. Then 100 × 3 → 100, se 0, a
    point interval; the change 8.333 ± t(0.975, 2) · 8.333 (Welch's df = 69.444² / (69.444²
    / 2) = 2) → −27.5 … 44.2: no clear change.
    """
    await _wave(change_waves.database, AFTER, CLINIC_THIRD, "closed", 5000)
    header, *rows = await _series_file(change_waves)
    assert header == SERIES_COLUMNS
    # 5 regions × 3 tracks × (health, roads, overall) × 3 waves, the waves innermost.
    assert len(rows) == 5 * 3 * 3 * 3
    assert [row[1] for row in rows[:6]] == ["1", "2", "5", "1", "2", "5"]
    assert {(row[0], row[2]) for row in rows} == {("change_test", "2026-03-15T00:00:00Z")}
    half = T_DF2 * math.sqrt(208.3333333 / 3)
    assert f"{33.3333333 + half:.1f}" == "69.2" and f"{91.6666667 - half:.1f}" == "55.8"
    assert f"{8.3333333 - half:.1f}" == "-27.5" and f"{8.3333333 + half:.1f}" == "44.2"
    by_key = _series_by_key(rows)
    line = [by_key[("49", "all", "health", wave)][9:] for wave in ("1", "2", "5")]
    assert line == [
        ["3", "33.3", "0.0", "69.2", "", "", "", "", "1", "0"],
        ["3", "91.7", "55.8", "100.0", "58.3", "25.6", "91.1", "improved", "1", "0"],
        ["3", "100.0", "100.0", "100.0", "8.3", "-27.5", "44.2", "no_clear_change", "1", "0"],
    ]
    assert by_key[("49", "all", "overall", "5")][9:] == line[2]
    # Moscow and its neighbour had 2 people in wave 1: hidden along the whole line, counts
    # included, though they grew to 3 later (a line is one set of cells).
    for region in ("45", "46"):
        for wave in ("1", "2", "5"):
            assert by_key[(region, "all", "health", wave)][9:] == [""] * 8 + ["1", "1"]
    assert by_key[("49", "all", "roads", "5")][9:] == [""] * 8 + ["0", "0"]


async def test_series_of_two_waves_is_the_change_file(change_waves: ChangeWaves) -> None:
    _, *rows = await _series_file(change_waves)
    _, *changes = await _change_file(change_waves)
    later = {key[:3]: row for key, row in _series_by_key(rows).items() if key[3] == "2"}
    for change in changes:
        row = later[(change[2], change[6], change[7])]
        # respondents, score; change, its interval and verdict; comparable, suppressed
        assert [row[9], row[10], *row[13:]] == change[10:]


async def test_series_for_excel(change_waves: ChangeWaves) -> None:
    plain = await _series_file(change_waves)
    header, *rows = await _series_file(change_waves, "--excel")
    assert header == SERIES_COLUMNS
    assert _series_by_key(rows)[("65", "all", "health", "2")][10:14] == [
        "8,3",
        "0,0",
        "44,2",
        "-83,3",
    ]
    assert [[cell.replace(",", ".") for cell in row] for row in rows] == plain[1:]
