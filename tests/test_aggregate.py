"""Scores, intervals, satisfied shares, ranks and suppression, checked by hand.

The wave below is built through the real storage layer. Every expected number is worked
out in the comments from the respondents' answers, so a reader can check the method, not
only the code. The other results tests (`test_export`, `test_weighting`, `test_chart`)
reuse this wave, so its arithmetic is written down once.

Scoring reminders: likert5 x → (x−1)/4·100 (1→0, 2→25, 3→50, 4→75, 5→100); nps x → 10x;
the school question's options score good 100, fair 50, poor 0, unsure unscored.
Topic weights: health 2, schools 1; `comments` has only a text question, so it is not
scored and gets no rows. Overall = (2·health + schools)/3, or just health when the
respondent has no school score (weights renormalised over the topics present).
Youth bands are 14–35, so 18-24 is youth and 45-54 general. MIN_CELL_SIZE is 3 here.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import Database
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import ratings_rows
from storage.results import (
    UnknownWave,
    compute_ratings,
    group_stats_sql,
    region_comparison,
    scored_topics,
)
from surveys.aggregate import (
    OVERALL,
    GroupStats,
    Moments,
    build_ratings,
    competition_ranks,
    estimate,
    overall_score,
    round_half_up,
    suppress,
    t_quantile,
    topic_score,
)
from surveys.composite_index import INDEX
from surveys.model import AnswerValue, Survey
from surveys.scoring import answer_score
from surveys.targeting import track_for

MIN_CELL = 3
#: t(0.975, df) from a t table, checked in test_t_quantile_matches_tables.
T_DF2, T_DF4, T_DF5 = 4.3026527297, 2.7764451052, 2.5705818356

SURVEY = Survey.model_validate(
    {
        "id": "results_test",
        "version": 1,
        "title": {"ru": "Проверка итогов", "en": "Results check"},
        "topics": [
            {"id": "health", "title": {"ru": "Здоровье", "en": "Health"}, "weight": 2},
            {"id": "schools", "title": {"ru": "Школы", "en": "Schools"}},
            {"id": "comments", "title": {"ru": "Комментарии", "en": "Comments"}},
        ],
        "questions": [
            {
                "id": "clinic",
                "type": "likert5",
                "topic": "health",
                "text": {"ru": "Поликлиника?", "en": "Clinic?"},
            },
            {
                "id": "waiting",
                "type": "nps",
                "topic": "health",
                "optional": True,
                "text": {"ru": "Ожидание?", "en": "Waiting?"},
            },
            {
                "id": "school",
                "type": "single",
                "topic": "schools",
                "text": {"ru": "Школа?", "en": "School?"},
                "options": [
                    {"id": "good", "text": {"ru": "Хорошо", "en": "Good"}, "score": 100},
                    {"id": "fair", "text": {"ru": "Средне", "en": "Fair"}, "score": 50},
                    {"id": "poor", "text": {"ru": "Плохо", "en": "Poor"}, "score": 0},
                    {"id": "unsure", "text": {"ru": "Не знаю", "en": "Unsure"}},
                ],
            },
            {
                "id": "channels",
                "type": "multi",
                "topic": "schools",
                "optional": True,
                "text": {"ru": "Как узнаёте?", "en": "How do you learn?"},
                "options": [
                    {"id": "site", "text": {"ru": "Сайт", "en": "Site"}},
                    {"id": "phone", "text": {"ru": "Телефон", "en": "Phone"}},
                    {"id": "visit", "text": {"ru": "Визит", "en": "Visit"}},
                ],
            },
            {
                "id": "comment",
                "type": "text",
                "topic": "comments",
                "optional": True,
                "text": {"ru": "Комментарий?", "en": "Comment?"},
            },
        ],
    }
)


@dataclass(frozen=True)
class Person:
    name: str
    region: str
    municipality: str | None
    band: str
    answers: dict[str, AnswerValue]


def _person(
    name: str,
    region: str,
    municipality: str | None,
    band: str,
    clinic: int,
    waiting: int | None,
    school: str,
    **extra: AnswerValue,
) -> Person:
    answers: dict[str, AnswerValue] = {"clinic": clinic, "school": school, **extra}
    if waiting is not None:
        answers["waiting"] = waiting
    return Person(name, region, municipality, band, answers)


Y, G = "18-24", "45-54"
PEOPLE: tuple[Person, ...] = (
    # Novgorod (49), all in Veliky Novgorod.        health        schools  overall
    _person(
        "Y1",
        "49",
        "49701000",
        Y,
        5,
        8,
        "good",  # (100+80)/2=90  100  (180+100)/3=93.33
        channels=["site", "phone"],
        comment="=1+1",
    ),
    _person(
        "Y2",
        "49",
        "49701000",
        Y,
        4,
        None,
        "fair",  # 75          50   (150+50)/3=66.67
        comment="+7 900 000-00-00",
    ),
    _person("Y3", "49", "49701000", Y, 3, 6, "unsure"),  # (50+60)/2=55  —    55 (health only)
    _person(
        "G1",
        "49",
        "49701000",
        G,
        2,
        5,
        "poor",  # (25+50)/2=37.5  0    75/3=25
        comment="-плохо",
    ),
    _person(
        "G2",
        "49",
        "49701000",
        G,
        4,
        6,
        "good",  # (75+60)/2=67.5  100  235/3=78.33
        comment="@admin",
    ),
    _person("G3", "49", "49701000", G, 5, 7, "fair"),  # (100+70)/2=85  50   220/3=73.33
    # Moscow (45), nobody named a municipality.
    _person(
        "A1",
        "45",
        None,
        Y,
        5,
        None,
        "good",  # 100   100  100
        comment='Хорошо, но "медленно";\nочень',
    ),
    _person("A2", "45", None, Y, 4, 8, "good"),  # 77.5  100  85
    _person("A3", "45", None, Y, 4, None, "fair"),  # 75    50   66.67
    _person("A4", "45", None, G, 5, None, "good"),  # 100   100  100
    _person("A5", "45", None, G, 3, None, "good"),  # 50    100  66.67
    _person("A6", "45", None, G, 4, None, "poor"),  # 75    0    50
    # Sverdlovsk (65), all in Yekaterinburg.
    _person("B1", "65", "65701000", Y, 4, None, "good"),  # 75    100  83.33
    _person("B2", "65", "65701000", Y, 5, None, "fair"),  # 100   50   83.33
    _person("B3", "65", "65701000", Y, 3, None, "fair"),  # 50    50   50
    _person("B4", "65", "65701000", Y, 2, 5, "fair"),  # 37.5  50   41.67
    _person("B5", "65", "65701000", G, 4, 9, "good"),  # 82.5  100  88.33
    _person("B6", "65", "65701000", G, 3, 4, "unsure"),  # 45    —    45
    # Primorsky (05), all in Vladivostok, general track only.
    _person(
        "C1",
        "05",
        "05701000",
        G,
        2,
        None,
        "poor",  # 25    0    16.67
        channels=["visit"],
    ),
    _person("C2", "05", "05701000", G, 3, None, "fair"),  # 50    50   50
    _person("C3", "05", "05701000", G, 4, 7, "fair"),  # 72.5  50   65
)
#: Started the questionnaire, left only a comment: in the answers file, in no score.
DROPOUT = Person("D1", "49", "49701000", G, {"comment": "\tвкладка", "waiting": None})


@dataclass
class ResultsWave:
    database: Database
    wave_id: int
    respondent_ids: dict[str, int]


async def build_results_wave(directory: Path, people: Sequence[Person] = PEOPLE) -> ResultsWave:
    """The wave above (or other `people`, and the dropout), stored the way the bot stores it."""
    database = await Database.open(directory / "results.db")
    return await add_results_wave(database, people)


async def add_results_wave(
    database: Database,
    people: Sequence[Person] = PEOPLE,
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC),
) -> ResultsWave:
    """Another wave of the survey in `database`, answered by `people` (each once a wave)."""
    version_id = await SurveyRepository(database).store(SURVEY)
    wave_id = await WaveRepository(database).create(
        version_id, start, start + timedelta(days=14), regions=None, tracks="all"
    )
    respondents, responses = RespondentRepository(database), ResponseRepository(database)
    ids = {}
    for telegram_id, person in enumerate((*people, DROPOUT), start=1000):
        respondent = await respondents.record_consent(telegram_id, "ru", "test")
        await respondents.update_profile(
            telegram_id,
            region_code=person.region,
            municipality_code=person.municipality,
            age_band=person.band,
        )
        ids[person.name] = respondent.id
        response = await responses.start(
            wave_id,
            respondent.id,
            version_id,
            person.region,
            person.municipality,
            person.band,
            track_for(SURVEY, person.band),
        )
        for question_id, value in person.answers.items():
            question = SURVEY.question(question_id)
            assert question is not None
            score = answer_score(question, value)
            record = AnswerRecord(question_id, question.topic, value, score)
            await responses.save_answer(response.id, record)
        if person is not DROPOUT:
            await responses.complete(response.id)
    return ResultsWave(database, wave_id, ids)


@pytest.fixture
async def results_wave(tmp_path: Path) -> AsyncIterator[ResultsWave]:
    wave = await build_results_wave(tmp_path)
    try:
        yield wave
    finally:
        await wave.database.close()


# Pure maths -----------------------------------------------------------------------------


def test_t_quantile_matches_tables() -> None:
    # Two-sided 95% critical values from any t table.
    assert t_quantile(0.975, 1) == pytest.approx(12.7062047362, abs=1e-8)
    assert t_quantile(0.975, 2) == pytest.approx(T_DF2, abs=1e-8)
    assert t_quantile(0.975, 4) == pytest.approx(T_DF4, abs=1e-8)
    assert t_quantile(0.975, 5) == pytest.approx(T_DF5, abs=1e-8)
    assert t_quantile(0.975, 29) == pytest.approx(2.0452296421, abs=1e-8)
    assert t_quantile(0.975, 1e7) == pytest.approx(1.9599640, abs=1e-6)
    # Fractional df (weighted cells) lies between its neighbours.
    assert t_quantile(0.975, 4) < t_quantile(0.975, 3.8) < t_quantile(0.975, 3)


def test_rounding_is_half_up_as_by_hand() -> None:
    assert round_half_up(72.25, 1) == 72.3  # Python's round() would give 72.2
    assert round_half_up(0.6665, 3) == 0.667
    assert round_half_up(65.2777, 1) == 65.3


def test_topic_and_overall_scores_of_one_respondent() -> None:
    assert topic_score([100, 80]) == 90
    assert topic_score([]) is None
    weights = {"health": 2.0, "schools": 1.0}
    # (2·90 + 1·60) / 3 = 80
    assert overall_score({"health": 90, "schools": 60}, weights) == pytest.approx(80)
    # No school score: the health weight is renormalised to 1, so overall = health.
    assert overall_score({"health": 90}, weights) == pytest.approx(90)
    assert overall_score({}, weights) is None


def test_estimate_of_three_scores() -> None:
    # [50, 75, 100]: mean 75; s² = (25² + 0 + 25²)/2 = 625, s = 25; se = 25/√3 = 14.434;
    # half-width = t(0.975, 2)·se = 4.3027 · 14.434 = 62.10 → [12.9, 137.1], clipped to 100.
    result = estimate({("49", Y): Moments.of([50, 75, 100])})
    assert result is not None
    assert result.score == 75
    assert result.ci_low == pytest.approx(75 - T_DF2 * 25 / math.sqrt(3))
    assert round_half_up(result.ci_low or 0, 1) == 12.9
    assert result.ci_high == 100
    assert result.satisfied_share == pytest.approx(2 / 3)  # 75 and 100 are ≥ 75
    assert result.effective_n == pytest.approx(3)
    assert result.standard_error == pytest.approx(25 / math.sqrt(3))  # what ranks draw with
    # Wilson, (p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n) with p = 2/3, n = 3,
    # z = 1.96: centre = (0.66667 + 3.8415/6)/(1 + 3.8415/3) = 1.30691/2.28049 = 0.57308;
    # half = 1.96/2.28049 · √((2/9)/3 + 3.8415/36) = 0.85945 · 0.42518 = 0.36542
    # → [0.20766, 0.93850].
    assert [round_half_up(v or 0, 3) for v in (result.share_low, result.share_high)] == [
        0.208,
        0.939,
    ]


def test_estimate_edge_cases() -> None:
    assert estimate({}) is None
    single = estimate({("49", Y): Moments.of([40])})
    assert single is not None and single.score == 40
    assert (single.ci_low, single.ci_high) == (None, None)  # no interval from one answer
    assert single.standard_error is None
    same = estimate({("49", Y): Moments.of([75, 75, 75, 75])})
    assert same is not None and (same.ci_low, same.ci_high) == (75, 75)
    assert same.standard_error == 0
    # 200/3 + 200/3 + 275/3 = 225 in exact arithmetic; in floats a hair under: still 75.
    near = estimate({("49", Y): Moments.of([(2 * 90 + 45) / 3])})
    assert near is not None and near.satisfied_share == 1


def test_competition_ranks_share_places_and_skip() -> None:
    assert competition_ranks({"a": 80.0, "b": 80.0, "c": 70.0}) == {"a": 1, "b": 1, "c": 3}
    assert competition_ranks({"a": 80.0, "b": 90.0, "c": 80.0, "d": 70.0}) == {
        "a": 2,
        "b": 1,
        "c": 2,
        "d": 4,
    }
    assert competition_ranks({}) == {}


def test_small_youth_cell_hides_general_by_subtraction() -> None:
    # all 12 = youth 2 + general 10. Youth is too small; were general shown, youth would be
    # (12·all − 10·general)/2. So general goes too, and all (12 ≥ 3) stays.
    counts = {"all": 12, "youth": 2, "general": 10}
    assert suppress(counts, [("all", ["youth", "general"])], MIN_CELL) == {"youth", "general"}
    # The symmetric case: a small general cell takes the youth cell with it.
    counts = {"all": 12, "youth": 10, "general": 2}
    assert suppress(counts, [("all", ["youth", "general"])], MIN_CELL) == {"youth", "general"}


def test_suppression_leaves_empty_cells_out_of_the_equation() -> None:
    # Nobody young answered: all and general are the same five people, nothing to hide.
    counts = {"all": 5, "youth": 0, "general": 5}
    assert suppress(counts, [("all", ["youth", "general"])], MIN_CELL) == {"youth"}


def test_suppression_hides_the_parent_when_no_sibling_can_cover() -> None:
    # A region whose only municipality lost its general cell to complementary suppression
    # elsewhere would otherwise publish that very figure as the region's.
    partitions = [("region", ["town"])]
    assert suppress({"region": 9, "town": 9}, partitions, MIN_CELL) == set()
    counts = {"region": 9, "town": 9, "town_y": 2, "town_g": 7}
    hidden = suppress(counts, [("region", ["town"]), ("town", ["town_y", "town_g"])], MIN_CELL)
    assert hidden == {"town_y", "town_g"}  # town itself (9) stays; its parts cover each other
    # The other way: the parent is hidden for its own reasons; its only child must follow.
    hidden = suppress(
        {"wave": 20, "region": 9, "town": 9, "other": 11},
        [("wave", ["region", "other"]), ("region", ["town"])],
        10,
    )
    assert hidden == {"region", "other", "town"}


def test_suppression_cascades_across_crossing_partitions() -> None:
    # Two municipalities × two tracks with every margin published. M1's youth cell is small:
    # M1 general goes (M1's track split), M2 youth goes (the region's youth split), and
    # that leaves M2 general the only hidden term of M2's split → M2 general goes too. The
    # four-cell block can't be solved by any single subtraction.
    region, m1, m2 = ("49",), ("49", "m1"), ("49", "m2")
    groups = [
        GroupStats("49", "m1", "youth", Y, "health", Moments.of([50, 60])),
        GroupStats("49", "m1", "general", G, "health", Moments.of([70] * 5)),
        GroupStats("49", "m2", "youth", Y, "health", Moments.of([80] * 4)),
        GroupStats("49", "m2", "general", G, "health", Moments.of([90] * 6)),
    ]
    overall = [  # one topic, so overall = health
        GroupStats(g.region_code, g.municipality_code, g.track, g.age_band, OVERALL, g.moments)
        for g in groups
    ]
    ratings = build_ratings([*groups, *overall], ["health"], min_cell_size=MIN_CELL)
    shown = {
        (cell.area, cell.track)
        for cell in ratings.cells.values()
        if cell.topic == "health" and not cell.suppressed
    }
    assert shown == {
        ((), "all"),
        ((), "youth"),
        ((), "general"),
        (region, "all"),
        (region, "youth"),
        (region, "general"),
        (m1, "all"),
        (m2, "all"),
    }
    assert {m1, m2} == set(ratings.areas("municipality"))


# Through the real storage layer ----------------------------------------------------------


async def test_sql_topic_averaging_matches_the_definitions(results_wave: ResultsWave) -> None:
    """The per-respondent averaging done in SQL equals the Python reference definitions."""
    survey, ratings = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=1
    )
    weights = {topic.id: topic.weight for topic in survey.topics}
    by_region: dict[tuple[str, str], list[float]] = {}
    for person in PEOPLE:
        topics: dict[str, float] = {}
        for topic in ("health", "schools"):
            scores = [
                s
                for q, v in person.answers.items()
                if (question := SURVEY.question(q)) is not None
                and question.topic == topic
                and (s := answer_score(question, v)) is not None
            ]
            if (score := topic_score(scores)) is not None:
                topics[topic] = score
                by_region.setdefault((person.region, topic), []).append(score)
        by_region.setdefault((person.region, OVERALL), []).append(
            overall_score(topics, weights) or 0
        )
    for (region, topic), scores in by_region.items():
        cell = ratings.cell((region,), "all", topic)
        assert cell.respondents == len(scores)
        assert cell.estimate is not None
        assert cell.estimate.score == pytest.approx(sum(scores) / len(scores))


async def test_region_scores_intervals_and_shares(results_wave: ResultsWave) -> None:
    _, ratings = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
    )

    def shown(region: str, track: str, topic: str) -> tuple[int, float, float, float, float]:
        cell = ratings.cell((region,), track, topic)  # type: ignore[arg-type]
        assert not cell.suppressed and cell.estimate is not None
        e = cell.estimate
        return (
            cell.respondents,
            round_half_up(e.score, 1),
            round_half_up(e.ci_low or 0, 1),
            round_half_up(e.ci_high or 0, 1),
            round_half_up(e.satisfied_share, 3),
        )

    # 49 all health: 90, 75, 55, 37.5, 67.5, 85 → mean 410/6 = 68.333.
    # Deviations 21.67, 6.67, −13.33, −30.83, −0.83, 16.67; Σd² = 1920.83; s² = 1920.83/5
    # = 384.17, s = 19.600; se = 19.600/√6 = 8.002; half = 2.5706·8.002 = 20.569
    # → [47.76, 88.90]. Satisfied (≥75): 90, 75, 85 → 3/6 = 0.5.
    assert shown("49", "all", "health") == (6, 68.3, 47.8, 88.9, 0.5)
    # 49 youth health: 90, 75, 55 → 73.333; s² = (16.67² + 1.67² + 18.33²)/2 = 308.33,
    # s = 17.559; half = 4.3027·17.559/√3 = 43.62 → [29.71, 116.95 → clipped to 100].
    # Satisfied: 90, 75 → 2/3.
    assert shown("49", "youth", "health") == (3, 73.3, 29.7, 100.0, 0.667)
    # 49 general health: 37.5, 67.5, 85 → 190/3 = 63.333; s = 24.023;
    # half = 4.3027·24.023/√3 = 59.68 → [3.66, 123.0 → 100]. Satisfied: 85 → 1/3.
    assert shown("49", "general", "health") == (3, 63.3, 3.7, 100.0, 0.333)
    # 49 all schools (Y3 unsure: unscored): 100, 50, 0, 100, 50 → 60; s² = (40² + 10² + 60²
    # + 40² + 10²)/4 = 1750, s = 41.833; half = 2.7764·41.833/√5 = 51.94 → [8.06, 100].
    # Satisfied: the two 100s → 2/5.
    assert shown("49", "all", "schools") == (5, 60.0, 8.1, 100.0, 0.4)
    # 49 all overall: 93.33, 66.67, 55, 25, 78.33, 73.33 → 391.67/6 = 65.278; s = 23.462;
    # half = 2.5706·23.462/√6 = 24.62 → [40.66, 89.90]. Satisfied: 93.33, 78.33 → 2/6.
    assert shown("49", "all", OVERALL) == (6, 65.3, 40.7, 89.9, 0.333)
    # 45 youth schools: 100, 100, 50 → 83.333; s = 28.868; half = 4.3027·28.868/√3 = 71.71
    # → [11.62, 100]. Satisfied 2/3.
    assert shown("45", "youth", "schools") == (3, 83.3, 11.6, 100.0, 0.667)
    # 49 all index, weights health 2, schools 1: (2·68.333 + 60)/3 = 65.556 (overall, the
    # mean of each person's own weighting, is 65.278). se = (2·8.0017 + 18.7083)/3 =
    # 11.5706, the bound for any correlation of the topics, on the smaller n (5, df 4):
    # half = 2.7764·11.5706 = 32.125 → [33.43, 97.68]. No satisfied share: it is no
    # mean of verdicts.
    index = ratings.cell(("49",), "all", INDEX)
    assert index.respondents == 6 and index.estimate is not None
    e = index.estimate
    assert [round_half_up(v or 0, 1) for v in (e.score, e.ci_low, e.ci_high)] == [65.6, 33.4, 97.7]
    assert e.satisfied_share is None and e.effective_n == pytest.approx(5)
    # The whole wave, overall: 21 respondents, Σ = 2·391.67 + 468.33 + 131.67 = 1383.33
    # → 65.873; s = 23.200; half = t(0.975, 20)·23.200/√21 = 2.0860·5.0626 = 10.56.
    wave = ratings.cell((), "all", OVERALL)
    assert wave.respondents == 21 and wave.estimate is not None
    assert round_half_up(wave.estimate.score, 1) == 65.9
    assert round_half_up(wave.estimate.ci_low or 0, 1) == 55.3
    assert round_half_up(wave.estimate.ci_high or 0, 1) == 76.4

    def share_interval(region: str, track: str, topic: str) -> list[float]:
        e = ratings.cell((region,), track, topic).estimate  # type: ignore[arg-type]
        assert e is not None
        return [round_half_up(v or 0, 3) for v in (e.share_low, e.share_high)]

    # The shares' Wilson intervals, (p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) / (1 + z²/n):
    # n = 6, p = 1/2: centre 0.5, half = 1.96/1.64024 · √(0.25/6 + 3.8415/144) = 0.31239.
    # n = 6, p = 1/3: centre = (0.33333 + 0.32012)/1.64024 = 0.39839, half = 1.19492 ·
    # √((2/9)/6 + 0.026677) = 0.30162. n = 3, p = 2/3: [0.208, 0.939] as worked out in
    # test_estimate_of_three_scores; p = 1/3 is its mirror image, [1 − 0.939, 1 − 0.208].
    # n = 5, p = 2/5: [0.118, 0.769] (test_rank_intervals).
    assert share_interval("49", "all", "health") == [0.188, 0.812]
    assert share_interval("49", "youth", "health") == [0.208, 0.939]
    assert share_interval("49", "general", "health") == [0.061, 0.792]
    assert share_interval("49", "all", "schools") == [0.118, 0.769]
    assert share_interval("49", "all", OVERALL) == [0.097, 0.700]
    assert share_interval("45", "youth", "schools") == [0.208, 0.939]


async def test_suppression_of_the_stored_wave(results_wave: ResultsWave) -> None:
    """Which cells are published, and why (MIN_CELL_SIZE 3).

    health and overall (everyone has a health score):
      65 general has 2 → hidden; 65 all (6) is shown, so 65 youth (4) goes too (subtraction).
      The whole wave's youth cell (10) is published as well, so with 65 youth hidden alone
      it would be wave − 49 − 45: the smallest shown youth cell goes too, 45 (3, tied with
      49 and taken first by code). Now 45 youth is hidden and 45 all shown, so 45 general
      goes by the same subtraction rule.
      05 has nobody young: its empty youth cell hides nothing, 05 general = 05 all is shown.
    schools (Y3, B6 unscored):
      49 youth has 2 → hidden, so 49 general goes; 65 general has 1 → hidden, so 65 youth
      goes. Two youth and two general region cells are now hidden: no single subtraction
      from the wave total recovers either.
    """
    _, ratings = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
    )
    published = {
        (cell.region_code, cell.track, cell.topic)
        for cell in ratings.rows("region")
        if not cell.suppressed
    }
    everyone = {"health", OVERALL}
    expected = {
        (region, "all", topic)
        for region in ("05", "45", "49", "65")
        for topic in ("health", "schools", OVERALL)
    }
    expected |= {("49", track, topic) for track in ("youth", "general") for topic in everyone}
    expected |= {("05", "general", topic) for topic in ("health", "schools", OVERALL)}
    expected |= {("45", track, "schools") for track in ("youth", "general")}
    # The index needs every topic and overall: 05, 45, 49 and 65 for everyone, 05 general.
    complete = {("05", "all"), ("45", "all"), ("49", "all"), ("65", "all"), ("05", "general")}
    expected |= {(region, track, INDEX) for region, track in complete}
    assert published == expected
    # Suppressed rows publish neither figures nor the count.
    rows = await ratings_rows(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    hidden = next(
        r for r in rows if (r.region_code, r.track, r.topic) == ("65", "general", "health")
    )
    assert hidden.suppressed and hidden.respondents is None and hidden.score is None
    assert (hidden.ci_low, hidden.ci_high, hidden.satisfied_share, hidden.rank) == (None,) * 4
    assert (hidden.rank_low, hidden.rank_high, hidden.group) == (None,) * 3
    assert (hidden.share_low, hidden.share_high) == (None,) * 2


async def test_unanimous_small_cells_of_the_stored_wave(results_wave: ResultsWave) -> None:
    """Primorsky's three people are satisfied with nothing: health 25, 50, 72.5; schools 0,
    50, 50; overall 16.67, 50, 65. Three is under 2 × MIN_CELL, so a share of 0 would say
    what each of them answered: withheld in 05 all and 05 general (the same people) and in
    Vladivostok, at both levels. No other share goes: 05 all = 05 general (youth is empty)
    and 05 = Vladivostok have both terms withheld, and the whole wave's share, which would
    make 05 = wave − 45 − 49 − 65, is published nowhere."""
    _, ratings = await compute_ratings(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
    )
    withheld = {
        (cell.area, cell.track)
        for level in ("region", "municipality")
        for cell in ratings.rows(level)
        if cell.share_withheld
    }
    primorsky, vladivostok = ("05",), ("05", "05701000")
    assert withheld == {
        (area, track) for area in (primorsky, vladivostok) for track in ("all", "general")
    }
    cells = [ratings.cell(primorsky, "all", topic) for topic in ("health", "schools", OVERALL)]
    assert all(c.share_withheld and not c.suppressed and c.estimate is not None for c in cells)
    rows = await ratings_rows(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    row = next(r for r in rows if (r.region_code, r.track, r.topic) == ("05", "all", OVERALL))
    assert (row.respondents, row.rank) == (3, 4)  # count, score and place stay
    assert (row.satisfied_share, row.share_low, row.share_high) == (None,) * 3


async def test_ranks_with_ties(results_wave: ResultsWave) -> None:
    # Overall, everyone: 45 = 468.33/6 = 78.06; 49 = 391.67/6 = 65.28; 65 = (83.33 + 83.33
    # + 50 + 41.67 + 88.33 + 45)/6 = 391.67/6 = 65.28; 05 = 131.67/3 = 43.89.
    # 49 and 65 tie on 65.3 and share place 2; 05 is 4th (competition ranking 1, 2, 2, 4).
    # General: 49 (25 + 78.33 + 73.33)/3 = 58.9 first, 05 43.9 second; youth: 49 alone.
    rows = await ratings_rows(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    ranks = {(r.region_code, r.track): r.rank for r in rows if r.topic == OVERALL}
    assert ranks == {
        ("05", "all"): 4,
        ("45", "all"): 1,
        ("49", "all"): 2,
        ("65", "all"): 2,
        ("05", "youth"): None,
        ("45", "youth"): None,
        ("49", "youth"): 1,
        ("65", "youth"): None,
        ("05", "general"): 2,
        ("45", "general"): None,
        ("49", "general"): 1,
        ("65", "general"): None,
    }
    assert all(r.rank is None for r in rows if r.topic not in (OVERALL, INDEX))
    # The 95% intervals of those places, from 10,000 draws (test_rank_intervals recomputes
    # this wave's by a simulation of its own): 45 leads but is last in about 1.6% of the
    # draws, under the 2.5% cut, so 1–3; 49 and 65 can be anywhere, 1–4; 05 (three people,
    # interval 0–100) is first in about 7%, 1–4. General: 49 and 05 (both 0–100) 1–2.
    # Groups: every interval holds its track's mean published score, (78.1 + 65.3 + 65.3
    # + 43.9)/4 = 63.15 for everyone and (58.9 + 43.9)/2 = 51.4 for general: all average.
    standings = {
        (r.region_code, r.track): (r.rank_low, r.rank_high, r.group)
        for r in rows
        if r.rank is not None and r.topic == OVERALL
    }
    assert standings == {
        ("05", "all"): (1, 4, "average"),
        ("45", "all"): (1, 3, "average"),
        ("49", "all"): (1, 4, "average"),
        ("65", "all"): (1, 4, "average"),
        ("49", "youth"): (1, 1, "average"),
        ("05", "general"): (1, 2, "average"),
        ("49", "general"): (1, 2, "average"),
    }
    assert all(r.rank_low is None for r in rows if r.rank is None)


async def test_the_index_is_ranked_like_overall(results_wave: ResultsWave) -> None:
    """Places by the published index, 1 = best, ties shared and the next place skipped."""
    rows = await ratings_rows(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    for track in ("all", "youth", "general"):
        index = {r.region_code: r for r in rows if r.topic == INDEX and r.track == track}
        scores = {code: r.score for code, r in index.items() if r.score is not None}
        assert {code for code, r in index.items() if r.rank is not None} == set(scores)
        for code, score in scores.items():
            better = sum(other > score for other in scores.values())
            row = index[code]
            assert row.rank == better + 1
            assert row.rank_low is not None and row.rank_high is not None
            assert row.rank_low <= row.rank <= row.rank_high <= len(scores)
    everyone = [r for r in rows if r.topic == INDEX and r.track == "all"]
    assert sum(r.rank is not None for r in everyone) == 4


async def test_rows_are_in_file_order_with_names(results_wave: ResultsWave) -> None:
    rows = await ratings_rows(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    assert [r.region_code for r in rows[::12]] == ["05", "45", "49", "65"]
    assert [(r.track, r.topic) for r in rows[:12]] == [
        (track, topic)
        for track in ("all", "youth", "general")
        for topic in ("health", "schools", OVERALL, INDEX)
    ]
    assert rows[0].region_name == "Приморский край"
    assert {r.municipality_code for r in rows} == {""}


async def test_municipality_level(results_wave: ResultsWave) -> None:
    rows = await ratings_rows(
        results_wave.database,
        results_wave.wave_id,
        level="municipality",
        min_cell_size=MIN_CELL,
    )
    places = sorted({(r.region_code, r.municipality_code, r.municipality_name) for r in rows})
    assert places == [
        ("05", "05701000", "Владивосток"),
        ("45", "", ""),  # Moscow respondents named no municipality
        ("49", "49701000", "Великий Новгород"),
        ("65", "65701000", "Екатеринбург"),
    ]
    by_key = {(r.region_code, r.track, r.topic): r for r in rows}
    # Each region has one municipality (or none named): the same people, the same figures,
    # the same suppression; a municipality ranks 1st within its region.
    region_rows = {
        (r.region_code, r.track, r.topic): r
        for r in await ratings_rows(
            results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
        )
    }
    for key, row in by_key.items():
        assert (row.score, row.suppressed) == (region_rows[key].score, region_rows[key].suppressed)
    assert by_key[("49", "all", OVERALL)].rank == 1
    assert by_key[("45", "all", OVERALL)].rank is None  # "no municipality" is not a place


async def test_incomplete_responses_count_when_scored(results_wave: ResultsWave) -> None:
    # D1 left only a comment: no scored answer, so in no cell (49 all overall counted 6).
    # The respondents who completed are not special: a response counts in a topic as soon
    # as it has one scored answer there.
    _, ratings = await compute_ratings(results_wave.database, results_wave.wave_id, min_cell_size=1)
    assert ratings.cell(("49",), "all", OVERALL).respondents == 6
    assert ratings.cell(("49",), "general", OVERALL).respondents == 3


async def test_region_comparison_for_the_chat(results_wave: ResultsWave) -> None:
    comparison = await region_comparison(
        results_wave.database, results_wave.wave_id, "49", min_cell_size=MIN_CELL
    )
    assert [t.topic for t in comparison.topics] == [OVERALL, "health", "schools"]
    overall = comparison.topics[0]
    assert overall.title is None
    assert round_half_up(overall.region.score, 1) == 65.3
    assert overall.wave is not None and round_half_up(overall.wave.score, 1) == 65.9
    assert comparison.topics[1].title is not None
    assert comparison.topics[1].title.ru == "Здоровье"
    assert (comparison.rank, comparison.ranked_regions) == (2, 4)
    # Youth in 65 are suppressed everywhere: nothing to show, no rank.
    youth = await region_comparison(
        results_wave.database,
        results_wave.wave_id,
        "65",
        min_cell_size=MIN_CELL,
        track="youth",
    )
    assert youth.topics == () and youth.rank is None


async def test_unknown_wave(results_wave: ResultsWave) -> None:
    with pytest.raises(UnknownWave, match="no wave 999"):
        await compute_ratings(results_wave.database, 999, min_cell_size=MIN_CELL)


async def test_scans_stream_in_primary_key_order(results_wave: ResultsWave) -> None:
    """Neither scan may sort millions of rows: SQLite must walk both tables in id order."""
    topics = scored_topics(SURVEY)
    assert topics == ("health", "schools")
    async with results_wave.database.reader() as connection:
        cursor = await connection.execute(
            "EXPLAIN QUERY PLAN " + group_stats_sql(topics),
            {
                "wave": 1,
                "first": 1,
                "last": 10,
                "threshold": 75.0,
                **{f"topic{i}": t for i, t in enumerate(topics)},
                **{f"weight{i}": 1.0 for i in range(len(topics))},
            },
        )
        plan = " | ".join(row[3] for row in await cursor.fetchall())
    assert "SEARCH r USING INTEGER PRIMARY KEY" in plan
    assert "SEARCH a USING PRIMARY KEY (response_id=?)" in plan
    # The only sort is the small one of per-respondent rows into groups.
    assert plan.count("TEMP B-TREE") == 1
