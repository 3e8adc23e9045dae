"""The situations file: a life situation's score, share who got what they needed and the
path's medians, per area, alone and against an earlier wave, every figure worked out by hand.

One situation, `job` (finding a job through an employment centre), with a likert5
satisfaction question (x → (x − 1)/4·100), a number question in months that offers "don't
remember", and a got-needed question. MIN_CELL_SIZE is 3. Nobody named a municipality.

Quartiles are the medians of the lower and upper half, the middle answer of an odd count in
neither half.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import build_parser
from storage.backend import Backend
from storage.change import ChangeError
from storage.connect import open_database
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import write_situations_csv
from storage.situations import SituationsError, compute_situations
from surveys.aggregate import t_quantile
from surveys.model import AnswerValue, Survey
from surveys.scoring import answer_score
from surveys.situations import GOT_NEEDED, NEEDED_YES, Measure, build_situations, quartiles
from tests.commands import pass_settings
from tests.test_segments import SURVEY as NO_SITUATIONS

MIN_CELL = 3
Z = 1.959963984540054
COLUMNS = [
    "wave_id",
    "against_wave_id",
    "region_code",
    "region_name",
    "municipality_code",
    "municipality_name",
    "situation",
    "measure",
    "unit",
    "respondents",
    "value",
    "low",
    "high",
    "q1",
    "q3",
    "value_before",
    "change",
    "suppressed",
]


#: What `situation: job` stands for (the loader adds it from a survey file).
LIVED_JOB = {"question": "lived", "any_of": ["job"]}


def _survey(version: int, unit: str = "months") -> Survey:
    needed = [
        {"id": i, "text": {"ru": i, "en": i}} for i in ("needed_yes", "needed_partly", "needed_no")
    ]
    return Survey.model_validate(
        {
            "id": "situations_test",
            "version": version,
            "title": {"ru": "Ситуации", "en": "Situations"},
            "topics": [{"id": "employment", "title": {"ru": "Занятость", "en": "Employment"}}],
            "situations": [
                {
                    "id": "job",
                    "topic": "employment",
                    "title": {"ru": "Поиск работы", "en": "Finding a job"},
                    "description": {"ru": "через центр занятости", "en": "through a centre"},
                }
            ],
            "questions": [
                {
                    "id": "lived",
                    "type": "multi",
                    "topic": "employment",
                    "screening": True,
                    "text": {"ru": "Что было?", "en": "What happened?"},
                    "options": [
                        {"id": "job", "text": {"ru": "Работа", "en": "Job"}},
                        {"id": "none", "text": {"ru": "Ничего", "en": "None"}},
                    ],
                },
                {
                    "id": "job_satisfaction",
                    "type": "likert5",
                    "topic": "employment",
                    "situation": "job",
                    "show_if": LIVED_JOB,
                    "text": {"ru": "Довольны?", "en": "Satisfied?"},
                },
                {
                    "id": "job_months",
                    "type": "number",
                    "topic": "employment",
                    "situation": "job",
                    "show_if": LIVED_JOB,
                    "unit": unit,
                    "min": 0,
                    "max": 60,
                    "dont_know": True,
                    "text": {"ru": "Сколько?", "en": "How long?"},
                },
                {
                    "id": "job_got_needed",
                    "type": "single",
                    "topic": "employment",
                    "situation": "job",
                    "show_if": LIVED_JOB,
                    "text": {"ru": "Получили?", "en": "Got it?"},
                    "options": needed,
                },
            ],
        }
    )


@dataclass(frozen=True)
class Person:
    region: str
    satisfaction: int | None
    months: int | str | None
    got_needed: str | None


#: Wave 1 (earlier), region 49: satisfaction 1, 2, 3, 3 → 0, 25, 50, 50, mean 31.25;
#: months 6, 7, 8, 8, 9 → median 8; got needed 1 of 4.
EARLIER = [
    Person("49", 1, 6, "needed_yes"),
    Person("49", 2, 7, "needed_no"),
    Person("49", 3, 8, "needed_no"),
    Person("49", 3, 8, "needed_partly"),
    Person("49", None, 9, None),
]
#: Wave 2, region 49: satisfaction 2, 4, 4, 5, 5 → 25, 75, 75, 100, 100, mean 75;
#: months 2, 3, 4, 7, 12 and one "don't remember" (left out); got needed yes, yes, partly,
#: no, yes and one skip. Region 65: two people, too few for anything.
LATER = [
    Person("49", 2, 2, "needed_yes"),
    Person("49", 4, 3, "needed_yes"),
    Person("49", 4, 4, "needed_partly"),
    Person("49", 5, 7, "needed_no"),
    Person("49", 5, 12, "needed_yes"),
    Person("49", None, "dont_know", None),
    Person("65", 5, 1, "needed_yes"),
    Person("65", 4, 2, "needed_yes"),
]


async def _wave(
    database: Backend, survey: Survey, people: list[Person], first: int, state: str = "closed"
) -> int:
    version_id = await SurveyRepository(database).store(survey)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    waves = WaveRepository(database)
    wave_id = await waves.create(
        version_id, start, start + timedelta(days=14), regions=None, tracks="all"
    )
    await waves.transition(wave_id, ("scheduled",), state)  # type: ignore[arg-type]
    respondents, responses = RespondentRepository(database), ResponseRepository(database)
    for number, person in enumerate(people, start=first):
        respondent = await respondents.record_consent(number, "ru", "test")
        response = await responses.start(
            wave_id, respondent.id, version_id, person.region, None, "45-54", "general"
        )
        given: dict[str, AnswerValue] = {
            "lived": ["job"],
            "job_satisfaction": person.satisfaction,
            "job_months": person.months,
            "job_got_needed": person.got_needed,
        }
        for question_id, value in given.items():
            question = survey.question(question_id)
            if question is None or value is None:
                continue
            record = AnswerRecord(question_id, question.topic, value, answer_score(question, value))
            await responses.save_answer(response.id, record)
    return wave_id


@dataclass
class Waves:
    database: Backend
    earlier: int
    later: int
    #: The later people again, asked with the months question turned into weeks.
    weeks: int
    #: A wave of a survey without situations.
    plain: int


@pytest.fixture
async def waves(tmp_path: Path, bot_database_pass: str) -> AsyncIterator[Waves]:
    """The waves above in this pass's database, where `civicpulse export situations` finds
    them by its settings."""
    from tests.test_segments import PEOPLE, build_wave

    database = await open_database(pass_settings(tmp_path / "data"))
    try:
        yield Waves(
            database,
            earlier=await _wave(database, _survey(1), EARLIER, 1000),
            later=await _wave(database, _survey(1), LATER, 2000),
            weeks=await _wave(database, _survey(2, unit="weeks"), LATER, 3000),
            plain=await build_wave(database, PEOPLE, NO_SITUATIONS),
        )
    finally:
        await database.close()


def _parse(data: bytes, excel: bool = False) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


async def _file(waves: Waves, wave_id: int, **options: Any) -> list[list[str]]:
    target = io.BytesIO()
    await write_situations_csv(waves.database, wave_id, target, min_cell_size=MIN_CELL, **options)
    return _parse(target.getvalue(), options.get("excel", False))


def _by_key(rows: list[list[str]]) -> dict[tuple[str, str], list[str]]:
    return {(row[2], row[7]): row for row in rows}


def test_quartiles_are_the_medians_of_the_halves() -> None:
    # 2 3 | 4 | 7 12: the middle answer in neither half.
    assert quartiles({2: 1, 3: 1, 4: 1, 7: 1, 12: 1}) == (2.5, 4, 9.5)
    # 1 2 3 | 4 5 6: even, halves of three.
    assert quartiles({1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}) == (2, 3.5, 5)
    # Counts stand for repeated answers: 8 8 8 | 9 9 10 → q1 8, median 8.5, q3 9.
    assert quartiles({8: 3, 9: 2, 10: 1}) == (8, 8.5, 9)
    assert quartiles({5: 1}) == (None, 5, None)


def test_a_small_unanimous_share_is_withheld_with_its_complement() -> None:
    """Region 49 = town A (4 answers, all "yes") + district B (5: 2 yes) + C (8: 3 yes);
    minimum 3. A's share would be 1 of a group under 6: withheld. The region's share is
    shown, so one more municipality's goes: B, the smaller. Counts stay; C and 49 show."""
    needed = Measure("job", GOT_NEEDED, "got_needed", ("job_needed",))
    answers = {
        ("49", "A", "job_needed"): {NEEDED_YES: 4},
        ("49", "B", "job_needed"): {NEEDED_YES: 2, "needed_no": 3},
        ("49", "C", "job_needed"): {NEEDED_YES: 3, "needed_partly": 5},
    }
    table = build_situations([needed], {}, answers, min_cell_size=MIN_CELL)

    def shown(area: tuple[str, ...]) -> tuple[int, bool, float | None]:
        cell = table.cells[(area, "job", GOT_NEEDED)]
        return cell.respondents, cell.suppressed, cell.figure.value if cell.figure else None

    assert shown(("49", "A")) == (4, False, None)
    assert shown(("49", "B")) == (5, False, None)
    assert shown(("49", "C")) == (8, False, 3 / 8)
    assert shown(("49",)) == (17, False, 9 / 17)


async def test_one_wave(waves: Waves) -> None:
    """Region 49 of wave 2.

    score: 75 from 5 respondents; s² = (50² + 0 + 0 + 25² + 25²)/4 = 937.5, se = √187.5 =
    13.69; t(0.975, 4) = 2.776: 75 ± 38.02 → [36.98, 113.02], clipped to 100.
    got_needed: 3 of 5 = 0.6 (partly is not yes, the skip counts nowhere), Wilson's interval.
    job_months: 2 3 | 4 | 7 12 → median 4, q1 2.5, q3 9.5 from 5 answers; "don't
    remember" counts nowhere.
    """
    header, *rows = await _file(waves, waves.later)
    assert header == COLUMNS
    assert [(row[2], row[6], row[7], row[8]) for row in rows] == [
        ("49", "job", "score", ""),
        ("49", "job", "got_needed", ""),
        ("49", "job", "job_months", "months"),
        ("65", "job", "score", ""),
        ("65", "job", "got_needed", ""),
        ("65", "job", "job_months", "months"),
    ]
    by_key = _by_key(rows)
    half = t_quantile(0.975, 4) * math.sqrt(937.5 / 5)
    assert by_key[("49", "score")][9:] == ["5", "75.0", f"{75 - half:.1f}", "100.0"] + [""] * 4 + [
        "0"
    ]
    p, n = 0.6, 5
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    spread = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    assert by_key[("49", "got_needed")][9:] == [
        "5",
        "0.600",
        f"{centre - spread:.3f}",
        f"{centre + spread:.3f}",
    ] + [""] * 4 + ["0"]
    assert by_key[("49", "job_months")][9:] == ["5", "4.0", "", "", "2.5", "9.5", "", "", "0"]
    for measure in ("score", "got_needed", "job_months"):
        assert by_key[("65", measure)][9:] == [""] * 8 + ["1"]
    assert {(row[0], row[1]) for row in rows} == {(str(waves.later), "")}


async def test_a_situation_compared_across_two_waves(waves: Waves) -> None:
    """Wave 2 against wave 1 in region 49: the score from 31.25 to 75, a change of 43.75,
    published half up as 43.8; got needed from 1/4 = 0.25 to 0.6, +0.35; the months' median
    from 8 to 4, −4. Region 65 had nobody in wave 1: no figure before."""
    rows = _by_key((await _file(waves, waves.later, against=waves.earlier))[1:])
    assert rows[("49", "score")][1] == str(waves.earlier)
    assert rows[("49", "score")][15:] == ["31.3", "43.8", "0"]
    assert rows[("49", "got_needed")][15:] == ["0.250", "0.350", "0"]
    assert rows[("49", "job_months")][15:] == ["8.0", "-4.0", "0"]
    assert rows[("65", "score")][15:] == ["", "", "1"]


async def test_a_question_asked_differently_is_not_compared(waves: Waves) -> None:
    """The months question became weeks: its median is not set beside the old one; the
    score and the share still compare."""
    rows = _by_key((await _file(waves, waves.weeks, against=waves.earlier))[1:])
    assert rows[("49", "job_months")][8:] == [
        "weeks",
        "5",
        "4.0",
        "",
        "",
        "2.5",
        "9.5",
        "",
        "",
        "0",
    ]
    assert rows[("49", "score")][15:] == ["31.3", "43.8", "0"]


async def test_excel_and_municipality_level(waves: Waves) -> None:
    header, *rows = await _file(waves, waves.later, level="municipality", excel=True)
    assert header == COLUMNS
    row = {(r[2], r[4], r[7]): r for r in rows}[("49", "", "job_months")]
    assert row[9:15] == ["5", "4,0", "", "", "2,5", "9,5"]


async def test_refusals(waves: Waves) -> None:
    database = waves.database
    with pytest.raises(SituationsError, match="no situations"):
        await compute_situations(database, waves.plain, min_cell_size=MIN_CELL)
    with pytest.raises(SituationsError, match="against itself"):
        await compute_situations(database, waves.later, min_cell_size=MIN_CELL, against=waves.later)
    with pytest.raises(SituationsError, match="share no situation measure"):
        await compute_situations(database, waves.later, min_cell_size=MIN_CELL, against=waves.plain)
    # Compared, a wave whose answers are still coming in needs saying so, as for a change.
    still_open = await _wave(database, _survey(1), LATER, 4000, state="open")
    with pytest.raises(ChangeError, match="still open"):
        await compute_situations(
            database, still_open, min_cell_size=MIN_CELL, against=waves.earlier
        )
    partial = await compute_situations(
        database, still_open, min_cell_size=MIN_CELL, against=waves.earlier, partial=True
    )
    assert partial.against_wave_id == waves.earlier


# The command line -----------------------------------------------------------------------------


async def _run(directory: Path, *argv: str) -> int:
    """`civicpulse export situations …` on this pass's database in `directory`."""
    args = build_parser().parse_args(["export", "situations", *argv])
    status: int = await args.handler(args, pass_settings(directory, min_cell_size=MIN_CELL))
    return status


async def test_cli_writes_the_file(waves: Waves, tmp_path: Path) -> None:
    output = tmp_path / "situations.csv"
    argv = ["--wave", str(waves.later), "--against", str(waves.earlier), "--excel"]
    assert await _run(tmp_path / "data", *argv, "-o", str(output)) == 0
    expected = await _file(waves, waves.later, against=waves.earlier, excel=True)
    assert _parse(output.read_bytes(), excel=True) == expected


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--wave", "42"], "there is no wave 42"),
        (["--wave", "2", "--against", "42"], "there is no wave 42"),
        (["--wave", "2", "--against", "2"], "wave 2 is compared against itself"),
        (["--wave", "4"], "which has no situations"),
        (["--wave", "2", "--against", "4"], "share no situation measure asked the same way"),
    ],
)
@pytest.mark.usefixtures("waves")
async def test_cli_errors_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    output = tmp_path / "situations.csv"
    assert await _run(tmp_path / "data", *argv, "-o", str(output)) == 1
    assert message in capsys.readouterr().err
    assert not [path for path in tmp_path.iterdir() if "situations.csv" in path.name]
