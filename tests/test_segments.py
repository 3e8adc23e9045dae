"""The segments file: each population group beside the rest of its area, worked out by hand.

One topic (health) with one likert5 question, so overall equals health; likert5 x →
(x − 1)/4·100 (1→0, 2→25, 4→75, 5→100). Everyone is on the general track (bands 45-54 and
65+), so youth cells are empty and `all` equals `general`. MIN_CELL_SIZE is 3. Nobody named
a municipality: each region's one municipality is "".

The wave (region: people, their groups as the responses' snapshot columns, clinic answers):
- 49: 7 people. Families with children: 3, answers 1, 2, 2 (0, 25, 25). The rest: 4,
  answers 4, 5, 5, 4 (75, 100, 100, 75), children `no`, `no`, `undisclosed` and never
  asked (NULL): the rest is everyone else, whatever they said. No other group here.
- 65: 8 people, 2 of them with a disability: the group is small, and its rest of 6 would
  give it away as 8 − 6 with the ratings file's 8, so both are hidden.
- 45: 6 people, 3 of them in a village and 3 in a town: both sides large enough, but the
  ratings file hides region 45 (below), so both sides are hidden there too.
- 05: 2 people, 65+: too few for anything.

The ratings file (MIN_CELL 3): 05 is small, so the wave = Σ regions equation has one
hidden term and the smallest shown region goes with it: 45 (6 people, against 7 and 8).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.main import build_parser
from storage.backend import Backend
from storage.connect import open_database
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import write_ratings_csv, write_segments_csv
from surveys.aggregate import OVERALL, Area, GroupStats, Moments, build_ratings, t_quantile
from surveys.model import Survey
from surveys.segments import SEGMENTS, build_segments
from tests.commands import pass_settings

MIN_CELL = 3
GENERAL, ELDERLY = "45-54", "65+"
COLUMNS = [
    "wave_id",
    "region_code",
    "region_name",
    "municipality_code",
    "municipality_name",
    "track",
    "topic",
    "segment",
    "respondents",
    "score",
    "ci_low",
    "ci_high",
    "rest_respondents",
    "rest_score",
    "gap",
    "gap_low",
    "gap_high",
    "verdict",
    "suppressed",
]

SURVEY = Survey.model_validate(
    {
        "id": "segments_test",
        "version": 1,
        "title": {"ru": "Группы", "en": "Groups"},
        "topics": [{"id": "health", "title": {"ru": "Здоровье", "en": "Health"}}],
        "questions": [
            {
                "id": "clinic",
                "type": "likert5",
                "topic": "health",
                "text": {"ru": "Поликлиника?", "en": "Clinic?"},
            }
        ],
    }
)


@dataclass(frozen=True)
class Person:
    region: str
    clinic: int
    band: str = GENERAL
    children: str | None = None
    disability: str | None = None
    settlement: str | None = None


PEOPLE = [
    *(Person("49", x, children="yes") for x in (1, 2, 2)),
    Person("49", 4, children="no"),
    Person("49", 5, children="no"),
    Person("49", 5, children="undisclosed"),
    Person("49", 4),
    *(Person("65", 3, disability="yes") for _ in range(2)),
    *(Person("65", 4, disability="no") for _ in range(6)),
    *(Person("45", 2, settlement="village") for _ in range(3)),
    *(Person("45", 4, settlement="town") for _ in range(3)),
    *(Person("05", 3, band=ELDERLY) for _ in range(2)),
]


async def set_groups(database: Backend, response_id: int, **groups: str | None) -> None:
    """The snapshot columns as the chat fills them when a response starts."""
    columns = ", ".join(f"{name} = ?" for name in groups)
    await database.execute(
        f"UPDATE responses SET {columns} WHERE id = ?", (*groups.values(), response_id)
    )


async def build_wave(database: Backend, people: list[Person], survey: Survey = SURVEY) -> int:
    version_id = await SurveyRepository(database).store(survey)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    wave_id = await WaveRepository(database).create(
        version_id, start, start + timedelta(days=14), regions=None, tracks="all"
    )
    respondents, responses = RespondentRepository(database), ResponseRepository(database)
    for number, person in enumerate(people, start=wave_id * 1000):
        respondent = await respondents.record_consent(number, "ru", "test")
        response = await responses.start(
            wave_id, respondent.id, version_id, person.region, None, person.band, "general"
        )
        await set_groups(
            database,
            response.id,
            children=person.children,
            disability=person.disability,
            settlement=person.settlement,
        )
        score = (person.clinic - 1) / 4 * 100
        await responses.save_answer(
            response.id, AnswerRecord("clinic", "health", person.clinic, score)
        )
    return wave_id


@pytest.fixture
async def database(tmp_path: Path, bot_database_pass: str) -> AsyncIterator[Backend]:
    """The wave above in this pass's database, where `civicpulse export segments` finds it
    by its settings."""
    database = await open_database(pass_settings(tmp_path / "data"))
    try:
        await build_wave(database, PEOPLE)
        yield database
    finally:
        await database.close()


def _parse(data: bytes, excel: bool = False) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


async def _file(database: Backend, **options: Any) -> list[list[str]]:
    target = io.BytesIO()
    await write_segments_csv(database, 1, target, min_cell_size=MIN_CELL, **options)
    return _parse(target.getvalue(), options.get("excel", False))


def _by_key(rows: list[list[str]]) -> dict[tuple[str, str, str, str], list[str]]:
    return {(row[1], row[5], row[6], row[7]): row for row in rows}


def _mean_and_se2(scores: list[float]) -> tuple[float, float]:
    mean = sum(scores) / len(scores)
    variance = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)
    return mean, variance / len(scores)


async def test_columns_and_order(database: Backend) -> None:
    header, *rows = await _file(database)
    assert header == COLUMNS
    # 4 regions × 3 tracks × (health, overall) × 4 groups, by region code.
    assert len(rows) == 4 * 3 * 2 * 4
    assert [row[1] for row in rows[::24]] == ["05", "45", "49", "65"]
    assert [(row[5], row[6], row[7]) for row in rows[:8]] == [
        ("all", topic, segment) for topic in ("health", "overall") for segment in SEGMENTS
    ]


async def test_a_group_that_is_worse_off(database: Backend) -> None:
    """Families in 49: 0, 25, 25 against 75, 100, 100, 75.

    Group: mean 50/3 = 16.67, s² = (16.67² + 2·8.33²)/2 = 208.33, se² = 69.44;
    t(0.975, 2) = 4.303, half-width 4.303·8.333 = 35.86: 16.7 [0.0 (clipped), 52.5].
    Rest: mean 87.5, s² = 4·12.5²/3 = 208.33, se² = 52.08.
    Gap −70.83 with Welch: se² = 121.53, df = 121.53²/(69.44²/2 + 52.08²/3) = 4.45.
    """
    rows = _by_key((await _file(database))[1:])
    group, group_se2 = _mean_and_se2([0, 25, 25])
    rest, rest_se2 = _mean_and_se2([75, 100, 100, 75])
    se2 = group_se2 + rest_se2
    df = se2**2 / (group_se2**2 / 2 + rest_se2**2 / 3)
    half = t_quantile(0.975, df) * math.sqrt(se2)
    gap = group - rest
    assert (round(group, 2), round(rest, 2), round(df, 2)) == (16.67, 87.5, 4.45)
    for track in ("all", "general"):
        for topic in ("health", "overall"):
            row = rows[("49", track, topic, "families_with_children")]
            assert row[8:12] == ["3", "16.7", "0.0", "52.5"]
            assert row[12:14] == ["4", "87.5"]
            assert row[14:] == [
                f"{gap:.1f}",
                "-100.0",  # −70.83 − 29.4 = −100.2, clipped to the scale's −100
                f"{gap + half:.1f}",
                "worse_off",
                "0",
            ]
    assert round(gap - half, 1) == -100.2 and gap + half < 0
    # The empty youth track and the groups nobody in 49 belongs to are hidden rows.
    assert rows[("49", "youth", "health", "families_with_children")][8:] == [""] * 10 + ["1"]
    assert rows[("49", "all", "health", "village")][8:] == [""] * 10 + ["1"]


async def test_a_small_group_hides_its_rest(database: Backend) -> None:
    """65: 2 with a disability, 6 without. Shown alone, the rest's 6 and the ratings file's
    8 would give the group away: both are hidden, and the ratings file does show 65."""
    rows = _by_key((await _file(database))[1:])
    assert rows[("65", "all", "health", "disability")][8:] == [""] * 10 + ["1"]
    ratings = io.BytesIO()
    await write_ratings_csv(database, 1, ratings, min_cell_size=MIN_CELL)
    shown = {(row[1], row[5], row[6]): row[7] for row in _parse(ratings.getvalue())[1:]}
    assert shown[("65", "all", "health")] == "8"


async def test_what_the_ratings_file_hides_hides_both_sides(database: Backend) -> None:
    """45: 3 in a village and 3 in a town, each side large enough; but the ratings file hides
    45 (the smallest region beside the small 05), and a shown pair would add up to it."""
    rows = _by_key((await _file(database))[1:])
    ratings = io.BytesIO()
    await write_ratings_csv(database, 1, ratings, min_cell_size=MIN_CELL)
    hidden = {(row[1], row[6]) for row in _parse(ratings.getvalue())[1:] if row[13] == "1"}
    assert {("45", "health"), ("05", "health")} <= hidden
    assert rows[("45", "all", "health", "village")][-1] == "1"
    assert all(rows[("05", "all", "health", segment)][-1] == "1" for segment in SEGMENTS)


async def test_municipality_level_and_excel(database: Backend) -> None:
    header, *rows = await _file(database, level="municipality", excel=True)
    assert header == COLUMNS
    row = {(r[1], r[3], r[5], r[6], r[7]): r for r in rows}[
        ("49", "", "all", "health", "families_with_children")
    ]
    assert row[8:14] == ["3", "16,7", "0,0", "52,5", "4", "87,5"]


# The rule on random waves --------------------------------------------------------------------

REGIONS = ("49", "65")
MUNICIPALITIES = ("m1", "m2", "")
BANDS = ("18-24", GENERAL, ELDERLY)
#: (region, municipality, band, group flags): families 1, disability 2, village 4.
STRATA = [(r, m, b, f) for r in REGIONS for m in MUNICIPALITIES for b in BANDS for f in (0, 1, 6)]


def _member(segment: str, band: str, flags: int) -> bool:
    bits = {"families_with_children": 1, "disability": 2, "village": 4}
    return band == ELDERLY if segment == "elderly" else bool(flags & bits[segment])


@settings(max_examples=120, deadline=None)
@given(people=st.fixed_dictionaries({stratum: st.integers(0, 4) for stratum in STRATA}))
def test_no_hidden_side_is_one_subtraction_away(people: Mapping[tuple, int]) -> None:
    """Random waves: every respondent scores 50. Counted by hand here, per area × track ×
    group × side. In the file's pattern: a group and its rest are shown or hidden together;
    a shown pair has at least MIN_CELL on both sides and an area the ratings file shows;
    and on each side, no sum the file publishes (a region = its municipalities, all =
    youth + general) has exactly one hidden non-empty term."""
    stats: dict[tuple[str, str, str, str, int, str], Moments] = {}
    counts: defaultdict[tuple[Area, str, str, str], int] = defaultdict(int)
    for (region, municipality, band, flags), n in people.items():
        if not n:
            continue
        track = "youth" if band == "18-24" else "general"
        for topic in ("health", OVERALL):
            stats[(region, municipality, track, band, flags, topic)] = Moments(
                n, 50.0 * n, 2500.0 * n
            )
        for area in ((region,), (region, municipality)):
            for cell_track in ("all", track):
                for segment in SEGMENTS:
                    side = "group" if _member(segment, band, flags) else "rest"
                    counts[(area, cell_track, segment, side)] += n
    table = build_segments(stats, ["health"], min_cell_size=MIN_CELL)
    ratings = build_ratings(
        [
            GroupStats(r, m, t, b, topic, moments)
            for (r, m, t, b, _, topic), moments in stats.items()
        ],
        ["health"],
        min_cell_size=MIN_CELL,
        ranked=False,
    )
    hidden = {
        (cell.area, cell.track, cell.segment)
        for cell in table.cells.values()
        if cell.topic == "health" and cell.suppressed
    }
    for cell in table.cells.values():
        if cell.topic != "health" or cell.suppressed:
            continue
        key = (cell.area, cell.track, cell.segment)
        assert counts[(*key, "group")] >= MIN_CELL and counts[(*key, "rest")] >= MIN_CELL
        assert not ratings.cell(cell.area, cell.track, "health").suppressed
        assert (cell.respondents, cell.rest_respondents) == (
            counts[(*key, "group")],
            counts[(*key, "rest")],
        )
    areas = {area for area, _, _, _ in counts}
    for segment in SEGMENTS:
        for side in ("group", "rest"):
            equations = [[(a, "all"), (a, "youth"), (a, "general")] for a in areas]
            for region in {a for a in areas if len(a) == 1}:
                children = sorted(a for a in areas if len(a) == 2 and a[0] == region[0])
                equations += [
                    [(region, t)] + [(c, t) for c in children] for t in ("all", "youth", "general")
                ]
            for equation in equations:
                terms = [(a, t, segment) for a, t in equation if counts[(a, t, segment, side)]]
                assert sum(term in hidden for term in terms) != 1, (segment, side, equation)


# The command line -----------------------------------------------------------------------------


async def _run(directory: Path, *argv: str) -> int:
    """`civicpulse export segments …` on this pass's database in `directory`."""
    args = build_parser().parse_args(["export", "segments", *argv])
    status: int = await args.handler(args, pass_settings(directory, min_cell_size=MIN_CELL))
    return status


async def test_cli_writes_the_file(database: Backend, tmp_path: Path) -> None:
    output = tmp_path / "segments.csv"
    assert await _run(tmp_path / "data", "--wave", "1", "--excel", "-o", str(output)) == 0
    assert _parse(output.read_bytes(), excel=True) == await _file(database, excel=True)


@pytest.mark.usefixtures("database")
async def test_cli_unknown_wave_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "segments.csv"
    assert await _run(tmp_path / "data", "--wave", "42", "-o", str(output)) == 1
    assert "there is no wave 42" in capsys.readouterr().err
    assert not [path for path in tmp_path.iterdir() if "segments.csv" in path.name]
