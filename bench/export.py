"""Benchmark of `export ratings`, `change`, `segments`, `situations` and `answers` on waves
of realistic size.

Not a test: it prints its figures. It builds (once, then caches) a database of two closed
waves of one survey, each answered by the same N respondents × 10 questions across the
catalog's 85 regions — 500,000 respondents, five million answers a wave and ten million in
all by default — with every region a little better or worse in the second wave. Each
respondent has declared groups (children, disability, settlement) on their responses, and
a quarter lived the survey's one situation and answer its three questions too (about 0.75
million answers more a wave). Then it runs
each export exactly as a person types it, `civicpulse export … --wave 2` in a fresh process,
several times, and reports the median wall time (start-up included: everything a person
waits for), the median CPU time (which a busy machine hardly changes) and the command's
peak resident memory (VmHWM) against the targets. For comparison it does the same
computations with pandas in the same run: the ranked ratings (per-respondent topic means,
weighted overall, per region × track × topic mean, t interval and satisfied share, the
index, and the places' 95% intervals from the same 10,000 draws) and the change (per
region × track × topic both waves' means and standard errors and Welch's interval of the
difference), the segments (each group's and its rest's mean per region × track × topic and
Welch's interval of the gap) and the situations (both waves' score, got-needed share and
median months per region), and checks our files against its figures.

    .venv/bin/python bench/export.py                    # full size (builds ~0.8 GB once)
    .venv/bin/python bench/export.py --respondents 20000
    .venv/bin/python bench/export.py --skip-pandas --skip-answers --repeat 1
    .venv/bin/python bench/export.py --database postgresql --skip-pandas

With `--database postgresql` the same benchmark database is first copied into a PostgreSQL
cluster the benchmark starts (`bench/databases.py`; `storage.database_copy`, as `civicpulse
db copy` does it), the commands run there with `DATABASE_URL`, then on SQLite in the same
run; the files of both must be identical, and the figures are printed side by side.

Targets: ranked ratings, change, segments and situations each under 10 s and 300 MB; the
answers file under 300 MB; on either database. Exits with status 1 if a target is missed.
pandas is a bench-only extra: `pip install -e .[bench]`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


from bench.databases import (  # noqa: E402
    POSTGRESQL,
    Figure,
    Target,
    add_database_option,
    postgres_target,
    print_comparison,
)
from storage.database import Database  # noqa: E402
from storage.database_copy import copy_sqlite_to_postgres  # noqa: E402
from storage.repositories.surveys import SurveyRepository  # noqa: E402
from storage.repositories.waves import WaveRepository  # noqa: E402
from surveys.model import AGE_BAND_IDS, QuestionType, Survey  # noqa: E402
from surveys.regions import RegionCatalog, load_catalog  # noqa: E402
from surveys.scoring import answer_score  # noqa: E402
from surveys.targeting import track_for  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
#: Questions of the survey, each answered (or skipped, as a stored null) once per wave.
QUESTIONS_PER_RESPONDENT = 10
#: Two waves of the same survey, a month apart; every respondent answers both.
WAVE_STARTS = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
WAVE_DAYS = 21
OLD_WAVE, NEW_WAVE = 1, 2
MIN_CELL_SIZE = 10
BATCH = 200_000
TOPICS = ("education", "outpatient", "hospitals", "social_support", "employment")
SITUATION = "job_search"
_LIVED = [{"id": i, "text": {"ru": i, "en": i}} for i in (SITUATION, "none")]
#: A quarter of respondents lived the situation and answer its three questions as well.
_SITUATION_QUESTIONS: list[dict[str, Any]] = [
    {"id": "job_satisfaction", "type": "likert5", "text": {"ru": "Довольны?", "en": "Satisfied?"}},
    {
        "id": "job_months",
        "type": "number",
        "unit": "months",
        "min": 0,
        "max": 60,
        "dont_know": True,
        "text": {"ru": "Сколько месяцев?", "en": "How many months?"},
    },
    {
        "id": "job_got_needed",
        "type": "single",
        "options": [
            {"id": i, "text": {"ru": i, "en": i}}
            for i in ("needed_yes", "needed_partly", "needed_no")
        ],
        "text": {"ru": "Получили?", "en": "Got it?"},
    },
]
#: Each respondent's declared groups (children, disability, settlement), drawn once.
_CHILDREN = (("yes", "no", "undisclosed", None), (30, 50, 5, 15))
_DISABILITY = (("yes", "no", "undisclosed", None), (8, 62, 10, 20))
_SETTLEMENT = (("city", "town", "village", "undisclosed", None), (45, 25, 20, 3, 7))
#: What each command is held to: seconds (None: no time target) and peak MB.
TARGET_SECONDS = 10.0
TARGET_MB = 300.0
#: The rank intervals' draws, as `surveys/rank_intervals.py` makes them (for pandas).
DRAWS = 10_000
RANK_SEED = 20261123


def bench_survey() -> Survey:
    """10 questions over five topics: scales, scored choices, a multi-choice and free text."""
    questions: list[dict[str, Any]] = []
    for index in range(QUESTIONS_PER_RESPONDENT):
        topic = TOPICS[index % len(TOPICS)]
        question: dict[str, Any] = {
            "id": f"q{index:02d}",
            "topic": topic,
            "text": {"ru": f"Вопрос {index}", "en": f"Question {index}"},
        }
        if index == QUESTIONS_PER_RESPONDENT - 2:
            # Unscored like the multi-choice it replaced: the ratings' figures are unchanged.
            question |= {"type": "multi", "options": _LIVED, "screening": True}
        elif index == QUESTIONS_PER_RESPONDENT - 1:
            question |= {"type": "text", "optional": True}
        elif index % 6 == 5:
            question |= {
                "type": "single",
                "options": [
                    {"id": "good", "text": {"ru": "Хорошо", "en": "Good"}, "score": 100},
                    {"id": "fair", "text": {"ru": "Средне", "en": "Fair"}, "score": 50},
                    {"id": "poor", "text": {"ru": "Плохо", "en": "Poor"}, "score": 0},
                    {"id": "unsure", "text": {"ru": "Не знаю", "en": "Unsure"}},
                ],
            }
        elif index % 6 == 4:
            question |= {"type": "nps", "optional": True}
        else:
            question["type"] = "likert5"
        questions.append(question)
    lived = {"question": f"q{QUESTIONS_PER_RESPONDENT - 2:02d}", "any_of": [SITUATION]}
    questions += [
        {**question, "topic": "employment", "situation": SITUATION, "show_if": lived}
        for question in _SITUATION_QUESTIONS
    ]
    return Survey.model_validate(
        {
            "id": "bench",
            "situations": [
                {
                    "id": SITUATION,
                    "topic": "employment",
                    "title": {"ru": "Поиск работы", "en": "Finding a job"},
                    "description": {"ru": "через центр занятости", "en": "through a centre"},
                }
            ],
            "version": 1,
            "title": {"ru": "Бенчмарк", "en": "Benchmark"},
            "topics": [
                {"id": t, "title": {"ru": t, "en": t}, "weight": 1.5 if t == "outpatient" else 1}
                for t in TOPICS
            ],
            "questions": questions,
        }
    )


# Building the database ----------------------------------------------------------------------

#: respondent id, region, municipality, age band, track
Person = tuple[int, str, str | None, str, str]


def database_path(respondents: int) -> Path:
    return CACHE / f"bench-2waves-{respondents}.db"


def build(
    path: Path, respondents: int, seed: int = 20261123, catalog: RegionCatalog | None = None
) -> None:
    """Schema, survey and waves through the real storage layer, the bulk with executemany.

    Respondents live in `catalog`'s regions and municipalities (the bundled catalog's by
    default), so that a benchmark can spread them over a catalog of its own.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    survey = bench_survey()
    wave_ids = asyncio.run(_schema_and_waves(path, survey))
    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")  # a cache we rebuild, not data to keep
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -200000")
    rng = random.Random(seed)
    people = list(_people(rng, survey, respondents, catalog or load_catalog()))
    groups = [
        tuple(
            rng.choices(values, weights)[0]
            for values, weights in (_CHILDREN, _DISABILITY, _SETTLEMENT)
        )
        for _ in people
    ]
    times = [[_moment(rng, start) for _ in people] for start in WAVE_STARTS]
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO respondents (id, telegram_id, language, region_code, municipality_code,"
        " age_band, consent_version, consented_at, created_at, updated_at)"
        " VALUES (?, ?, 'ru', ?, ?, ?, 'bench', ?, ?, ?)",
        (
            (i, 10**9 + i, r, m, b, at, at, at)
            for (i, r, m, b, _), at in zip(people, times[0], strict=True)
        ),
    )
    for wave, (wave_id, moments) in enumerate(zip(wave_ids, times, strict=True)):
        offset = wave * respondents  # response ids: wave 1 first, then wave 2
        connection.executemany(
            "INSERT INTO responses (id, wave_id, respondent_id, survey_version_id, region_code,"
            " municipality_code, age_band, track, children, disability, settlement, started_at,"
            " completed_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (offset + i, wave_id, i, r, m, b, t, *declared, at, at)
                for (i, r, m, b, t), declared, at in zip(people, groups, moments, strict=True)
            ),
        )
    connection.execute("COMMIT")
    done = 0
    for wave, bags in enumerate(_wave_bags(rng, survey, {p[1] for p in people})):
        answers = _answers(rng, people, bags, wave * respondents, times[wave])
        while batch := list(islice(answers, BATCH)):
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO answers (response_id, question_id, topic, value, score, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            connection.execute("COMMIT")
            done += len(batch)
            print(f"\r  {done:,} answers", end="", file=sys.stderr, flush=True)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("ANALYZE")
    connection.close()
    print(f"\r  built {done:,} answers in {time.perf_counter() - started:.0f} s", file=sys.stderr)


async def _schema_and_waves(path: Path, survey: Survey) -> list[int]:
    """Both waves of one survey version, closed, as `export change` requires."""
    database = await Database.open(path)
    try:
        version_id = await SurveyRepository(database).store(survey)
        waves = WaveRepository(database)
        wave_ids = []
        for start in WAVE_STARTS:
            wave_id = await waves.create(
                version_id, start, start + timedelta(days=WAVE_DAYS), regions=None, tracks="all"
            )
            await waves.transition(wave_id, ("scheduled",), "closed")
            wave_ids.append(wave_id)
        assert wave_ids == [OLD_WAVE, NEW_WAVE], wave_ids
        return wave_ids
    finally:
        await database.close()


def _people(
    rng: random.Random, survey: Survey, count: int, catalog: RegionCatalog
) -> Iterator[Person]:
    regions = catalog.regions()
    band_weights = (6, 22, 20, 14, 14, 11, 8, 5)  # Telegram users skew young
    tracks = {band: track_for(survey, band) for band in AGE_BAND_IDS}
    for respondent_id in range(1, count + 1):
        region = regions[rng.randrange(len(regions))]
        municipalities = region.municipalities
        municipality = (
            municipalities[rng.randrange(len(municipalities))].code
            if municipalities and rng.random() < 0.9
            else None
        )
        band = rng.choices(AGE_BAND_IDS, band_weights)[0]
        yield respondent_id, region.code, municipality, band, tracks[band]


def _moment(rng: random.Random, start: datetime) -> str:
    moment = start + timedelta(seconds=rng.randrange(WAVE_DAYS * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


_Bags = dict[str, list[tuple[str, str, list[tuple[str | None, float | None]]]]]


def _wave_bags(rng: random.Random, survey: Survey, regions: set[str]) -> list[_Bags]:
    """Each wave's answer distributions per region: regions differ, so ratings have something
    to rank, and each region's mood moves a little between the waves (the same draws,
    shifted), so the change has something to find: a few regions clearly, most within the
    noise."""
    mood = {code: (rng.uniform(-1.2, 1.2), rng.random()) for code in sorted(regions)}
    moved = {code: (shift + rng.gauss(0, 0.03), seed) for code, (shift, seed) in mood.items()}
    return [
        {
            code: _value_bags(random.Random(seed), survey, shift)
            for code, (shift, seed) in moods.items()
        }
        for moods in (mood, moved)
    ]


def _answers(
    rng: random.Random, people: list[Person], bags: _Bags, offset: int, times: list[str]
) -> Iterator[tuple[int, str, str, str | None, float | None, str]]:
    for (respondent_id, region, _, _, _), at in zip(people, times, strict=True):
        response_id = offset + respondent_id
        lived = False
        for question_id, topic, bag in bags[region]:
            if question_id in _FOLLOW_UPS and not lived:
                continue
            value, score = bag[int(rng.random() * len(bag))]
            lived = lived or (value is not None and SITUATION in value)
            yield response_id, question_id, topic, value, score, at


_FOLLOW_UPS = frozenset(question["id"] for question in _SITUATION_QUESTIONS)


def _value_bags(
    rng: random.Random, survey: Survey, shift: float
) -> list[tuple[str, str, list[tuple[str | None, float | None]]]]:
    bags = []
    for question in survey.questions:
        if question.type is QuestionType.LIKERT5:
            values: list[Any] = [_clamp(rng.gauss(3.4 + shift, 1.1), 1, 5) for _ in range(64)]
        elif question.type is QuestionType.NPS:
            values = [_clamp(rng.gauss(6.5 + 2 * shift, 2.5), 0, 10) for _ in range(64)]
            values += [None] * 8
        elif question.screening:
            values = [[SITUATION]] + [["none"]] * 3
        elif question.type is QuestionType.NUMBER:
            values = [_clamp(rng.gauss(6 - 2 * shift, 3), 0, 60) for _ in range(60)]
            values += ["dont_know"] * 4
        elif question.option("needed_yes"):
            weights = (4 + shift, 2, 2 - shift / 2)
            values = rng.choices(["needed_yes", "needed_partly", "needed_no"], weights, k=64)
        elif question.type is QuestionType.SINGLE:
            weights = (3 + shift, 3, 2 - shift / 2, 1)
            values = rng.choices(["good", "fair", "poor", "unsure"], weights, k=64)
        elif question.type is QuestionType.MULTI:
            values = [["site"], ["site", "phone"], ["visit"], None]
        else:
            values = [None] * 6 + ["Всё хорошо", "Долго ждать", "=СУММ(1;2)", "-нет очереди"]
        bag = [
            (None if v is None else json.dumps(v, ensure_ascii=False), answer_score(question, v))
            for v in values
        ]
        bags.append((question.id, question.topic, bag))
    return bags


def _clamp(value: float, low: int, high: int) -> int:
    return min(high, max(low, round(value)))


async def _migrate(path: Path) -> None:
    """Brings a cached database to the current schema before anything is timed."""
    database = await Database.open(path)
    await database.close()


def warm_up(path: Path) -> None:
    """Schema up to date and the file in the page cache, so no run pays for either."""
    asyncio.run(_migrate(path))
    for part in path.parent.glob(path.name + "*"):
        with part.open("rb") as handle:
            while handle.read(1 << 24):
                pass


# Measuring --------------------------------------------------------------------------------------

_PEAK_MARK = "bench-export-peak-kb"
#: What the `civicpulse` script runs, plus one last line on stderr with the process's own
#: peak resident memory, read as it exits. VmHWM, not `ru_maxrss`: Linux carries the
#: latter over `exec` from the process that started the command (this benchmark, which
#: may have built the database), so it would report the benchmark's memory, not the command's.
_CIVICPULSE = f"""\
import atexit, resource, sys

def _peak():
    try:
        with open("/proc/self/status") as status:
            kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kb //= 1024 if sys.platform == "darwin" else 1
    sys.stderr.write("\\n{_PEAK_MARK} %d\\n" % kb)

atexit.register(_peak)
from bot.cli.main import main
sys.argv[0] = "civicpulse"
sys.exit(main())
"""


@dataclass(frozen=True, slots=True)
class Runs:
    seconds: list[float]
    peak_mb: list[float]
    #: CPU seconds (user + system) of each run: unlike the wall time, they hardly change
    #: when other programs share the machine's cores.
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        """The highest peak of all runs: memory varies little, and the worst is what counts."""
        return max(self.peak_mb)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    def spread(self) -> str:
        if len(self.seconds) < 2:
            return ""
        return f"({min(self.seconds):.2f}–{max(self.seconds):.2f})"


def civicpulse(
    database: Path | Target,
    argv: Sequence[str],
    repeat: int,
    env: Mapping[str, str] | None = None,
) -> Runs:
    """`civicpulse ARGV` in a fresh process, `repeat` times: wall time and peak memory.

    Run from the cache folder, so that no `.env` of a working copy changes the settings; the
    database (a SQLite file, or a `Target`), the minimum cell size and the pseudonym key come
    from the environment, as an operator would set them; `env` adds the benchmark's own
    settings (such as REGIONS_FILE).
    """
    target = database if isinstance(database, Target) else Target.sqlite(database)
    env = target.environment(
        {
            **os.environ,
            **(env or {}),
            "MIN_CELL_SIZE": str(MIN_CELL_SIZE),
            "PSEUDONYM_KEY": "bench-key-0123456789abcdef",
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
    )
    seconds, peaks, cpu = [], [], []
    for _ in range(repeat):
        used = _children_cpu()
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "-c", _CIVICPULSE, *argv],
            env=env,
            cwd=CACHE,
            capture_output=True,
            text=True,
        )
        seconds.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - used)
        if process.returncode != 0:
            raise SystemExit(
                f"civicpulse {' '.join(argv)} exited with {process.returncode}:\n{process.stderr}"
            )
        marks = [line for line in process.stderr.splitlines() if line.startswith(_PEAK_MARK)]
        peaks.append(int(marks[-1].split()[1]) / 1024)
    return Runs(seconds, peaks, cpu)


def run_child(argv: list[str], repeat: int) -> tuple[Runs, dict[str, Any]]:
    """A pandas computation in a fresh interpreter, `repeat` times; its JSON report is the
    last stdout line (the first run's figures, the times and peaks of all)."""
    seconds, peaks, cpu, reports = [], [], [], []
    for _ in range(repeat):
        used = _children_cpu()
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, __file__, *argv],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - used)
        reports.append(json.loads(process.stdout.strip().splitlines()[-1]))
        peaks.append(reports[-1]["peak_mb"])
    first = reports[0]
    first["load_seconds"] = statistics.median(r["load_seconds"] for r in reports)
    first["compute_seconds"] = statistics.median(r["compute_seconds"] for r in reports)
    return Runs(seconds, peaks, cpu), first


def _children_cpu() -> float:
    """CPU seconds of every finished child so far; the difference around a run is its own."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """This program's peak resident memory (VmHWM; see `_CIVICPULSE` for why not ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes there, else kB


# pandas -----------------------------------------------------------------------------------------


def _respondent_scores(pd: Any, connection: sqlite3.Connection, waves: Sequence[int]) -> Any:
    """Every respondent's topic scores and weighted overall, one row per response × topic,
    with the response's wave, region and track: the start of both computations."""
    marks = ", ".join("?" for _ in waves)
    answers = pd.read_sql_query(
        "SELECT a.response_id, a.topic, a.score FROM responses AS r"
        " JOIN answers AS a ON a.response_id = r.id"
        f" WHERE r.wave_id IN ({marks}) AND a.score IS NOT NULL",
        connection,
        params=tuple(waves),
    )
    responses = pd.read_sql_query(
        "SELECT id AS response_id, wave_id, region_code, track FROM responses"
        f" WHERE wave_id IN ({marks})",
        connection,
        params=tuple(waves),
    )
    loaded = time.perf_counter()
    weights = {t.id: t.weight for t in bench_survey().topics}
    answers["topic"] = answers["topic"].astype("category")
    wide = answers.groupby(["response_id", "topic"], observed=True)["score"].mean().unstack()
    del answers
    present = wide.notna()
    weight_row = pd.Series(weights)[wide.columns]
    wide["overall"] = (wide.fillna(0) * weight_row).sum(axis=1) / (present * weight_row).sum(axis=1)
    long = wide.stack().dropna().rename("score").reset_index()
    long = long.merge(responses, on="response_id")
    return pd.concat([long, long.assign(track="all")]), loaded


def child_pandas_ratings(path: Path, wave_id: int) -> dict[str, Any]:
    """The ranked ratings at region level, the way one would write them with pandas."""
    import numpy as np
    import pandas as pd

    from surveys.aggregate import t_quantile

    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    both, loaded = _respondent_scores(pd, connection, [wave_id])
    both["satisfied"] = both["score"] >= 75
    cells = both.groupby(["region_code", "track", "topic"], observed=True).agg(
        respondents=("score", "size"),
        score=("score", "mean"),
        sd=("score", "std"),
        satisfied_share=("satisfied", "mean"),
    )
    del both
    n = cells["respondents"]
    cells["se"] = cells["sd"] / np.sqrt(n)
    t = n.map(lambda count: t_quantile(0.975, count - 1) if count > 1 else math.nan)
    cells["ci_low"] = (cells["score"] - t * cells["se"]).clip(lower=0)
    cells["ci_high"] = (cells["score"] + t * cells["se"]).clip(upper=100)
    # The consolidated index: the topic weights applied to the region's topic scores, with
    # the largest standard error any correlation of the topics allows, on the smallest n.
    weights = pd.Series({t.id: t.weight for t in bench_survey().topics})
    topics = cells.drop(["overall"], level="topic")
    weighted = topics[["score", "se"]].mul(weights, level="topic", axis=0)
    index = weighted.groupby(level=["region_code", "track"]).sum() / weights.sum()
    index["respondents"] = topics["respondents"].groupby(level=["region_code", "track"]).min()
    index["topic"] = "index"
    cells = pd.concat([cells, index.set_index("topic", append=True)])
    # Places by the published overall score and index, and their 95% intervals from 10,000
    # draws of each region's score (Student's t, clipped, rounded half up to tenths), per
    # track, seeded as the ratings file's are.
    ranks = {}
    ranked = cells[cells.index.get_level_values("topic").isin(["overall", "index"])]
    for (track, topic), contest in ranked.groupby(level=["track", "topic"]):
        contest = contest.droplevel(["track", "topic"]).sort_index()
        name = str(track) if topic == "overall" else f"{track}/{topic}"
        generator = np.random.default_rng([RANK_SEED, *name.encode()])
        draws = generator.standard_t(contest["respondents"].to_numpy() - 1.0, (DRAWS, len(contest)))
        draws = draws * contest["se"].to_numpy() + contest["score"].to_numpy()
        tenths = np.floor(np.round(np.clip(draws, 0, 100) * 10, 8) + 0.5)
        places = pd.DataFrame(tenths, columns=contest.index).rank(
            axis=1, method="min", ascending=False
        )
        low = places.quantile(0.025, interpolation="higher")
        high = places.quantile(0.975, interpolation="lower")
        published = np.floor(np.round(contest["score"] * 10, 8) + 0.5)
        rank = published.rank(method="min", ascending=False)
        for region in contest.index:
            ranks[f"{region}/{track}/{topic}"] = [
                int(rank[region]),
                int(low[region]),
                int(high[region]),
            ]
    finished = time.perf_counter()
    scores = {
        f"{region}/{track}/{topic}": score
        for (region, track, topic), score in cells["score"].items()
        if track == "all"
    }
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "compute_seconds": finished - loaded,
        "peak_mb": _peak_mb(),
        "scores": scores,
        "ranks": ranks,
    }


def child_pandas_change(path: Path, wave_id: int, against: int) -> dict[str, Any]:
    """The change at region level: both waves' cells and Welch's interval, with pandas."""
    import numpy as np
    import pandas as pd

    from surveys.aggregate import t_quantile

    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    both, loaded = _respondent_scores(pd, connection, [against, wave_id])
    cells = both.groupby(["wave_id", "region_code", "track", "topic"], observed=True)["score"].agg(
        ["size", "mean", "std"]
    )
    del both
    cells["se"] = cells["std"] / np.sqrt(cells["size"])
    side = cells.unstack("wave_id")
    old, new = (side.xs(w, axis=1, level="wave_id") for w in (against, wave_id))
    change = new["mean"] - old["mean"]
    variance = new["se"] ** 2 + old["se"] ** 2
    freedom = variance**2 / (
        new["se"] ** 4 / (new["size"] - 1) + old["se"] ** 4 / (old["size"] - 1)
    )
    half = freedom.map(lambda df: t_quantile(0.975, df)) * np.sqrt(variance)
    low = (change - half).clip(lower=-100)
    high = (change + half).clip(upper=100)
    finished = time.perf_counter()
    figures = {"/".join(key): [change[key], low[key], high[key]] for key in change.index}
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "compute_seconds": finished - loaded,
        "peak_mb": _peak_mb(),
        "change": figures,
    }


def child_pandas_segments(path: Path, wave_id: int) -> dict[str, Any]:
    """Each group against the rest of its region: both means and Welch's gap, with pandas."""
    import numpy as np
    import pandas as pd

    from surveys.aggregate import t_quantile

    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    scores, loaded = _respondent_scores(pd, connection, [wave_id])
    groups = pd.read_sql_query(
        "SELECT id AS response_id, age_band = '65+' AS elderly,"
        " coalesce(children = 'yes', 0) AS families_with_children,"
        " coalesce(disability = 'yes', 0) AS disability, coalesce(settlement = 'village', 0)"
        " AS village FROM responses WHERE wave_id = ?",
        connection,
        params=(wave_id,),
    )
    scores = scores.merge(groups, on="response_id")
    figures = {}
    for segment in ("families_with_children", "elderly", "disability", "village"):
        cells = scores.groupby(["region_code", "track", "topic", segment], observed=True)[
            "score"
        ].agg(["size", "mean", "var"])
        sides = cells.unstack(segment)
        group, rest = (sides.xs(side, axis=1, level=segment) for side in (1, 0))
        g2, r2 = group["var"] / group["size"], rest["var"] / rest["size"]
        freedom = (g2 + r2) ** 2 / (g2**2 / (group["size"] - 1) + r2**2 / (rest["size"] - 1))
        half = freedom.map(lambda df: t_quantile(0.975, df) if df > 0 else np.nan) * np.sqrt(
            g2 + r2
        )
        gap = group["mean"] - rest["mean"]
        for key in gap.index:
            figures["/".join((*key, segment))] = [gap[key], (gap - half)[key], (gap + half)[key]]
    finished = time.perf_counter()
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "compute_seconds": finished - loaded,
        "peak_mb": _peak_mb(),
        "gaps": figures,
    }


def child_pandas_situations(path: Path, wave_id: int, against: int) -> dict[str, Any]:
    """The situation's score, got-needed share and median months per region in both waves,
    with pandas."""
    import pandas as pd

    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    answers = pd.read_sql_query(
        "SELECT r.wave_id, r.region_code, a.question_id, a.value, a.score FROM responses AS r"
        " JOIN answers AS a ON a.response_id = r.id WHERE r.wave_id IN (?, ?)"
        " AND a.question_id IN ('job_satisfaction', 'job_months', 'job_got_needed')",
        connection,
        params=(against, wave_id),
    )
    loaded = time.perf_counter()
    keys = ["wave_id", "region_code"]
    score = answers[answers["question_id"] == "job_satisfaction"].groupby(keys)["score"].mean()
    needed = answers[answers["question_id"] == "job_got_needed"]
    share = (needed["value"] == '"needed_yes"').groupby([needed[k] for k in keys]).mean()
    months = answers[(answers["question_id"] == "job_months") & (answers["value"] != '"dont_know"')]
    median = months["value"].astype(int).groupby([months[k] for k in keys]).median()
    finished = time.perf_counter()
    figures = {
        f"{region}/{measure}": [float(series[(wave_id, region)]), float(series[(against, region)])]
        for measure, series in (("score", score), ("got_needed", share), ("job_months", median))
        for (wave, region) in series.index
        if wave == wave_id and (against, region) in series.index
    }
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "compute_seconds": finished - loaded,
        "peak_mb": _peak_mb(),
        "situations": figures,
    }


# The report -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measurement:
    label: str
    argv: list[str]
    seconds_target: float | None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _verdict(runs: Runs, seconds_target: float | None) -> tuple[bool, str]:
    over = []
    if seconds_target is not None and runs.median >= seconds_target:
        over.append(f"{runs.median:.1f} s ≥ {seconds_target:.0f} s")
    if runs.peak >= TARGET_MB:
        over.append(f"{runs.peak:.0f} MB ≥ {TARGET_MB:.0f} MB")
    target = (
        f"< {seconds_target:.0f} s, < {TARGET_MB:.0f} MB"
        if seconds_target is not None
        else f"< {TARGET_MB:.0f} MB"
    )
    if over:
        return False, f"OVER TARGET ({target}): " + ", ".join(over)
    return True, f"PASS ({target})"


def _load() -> str:
    """The machine's load: figures from a busy machine are slower than the code."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def _print_runs(label: str, runs: Runs, tail: str) -> None:
    print(
        f"{label:<36} {runs.median:7.2f} s {runs.spread():<15} cpu {runs.median_cpu:6.2f} s   "
        f"peak {runs.peak:6,.0f} MB   {tail}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=500_000, help="per wave")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached database")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--skip-answers", action="store_true", help="leave out export answers")
    add_database_option(parser)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "pandas-ratings":
        print(json.dumps(child_pandas_ratings(args.db, NEW_WAVE)))
        return
    if args.child == "pandas-change":
        print(json.dumps(child_pandas_change(args.db, NEW_WAVE, OLD_WAVE)))
        return
    if args.child == "pandas-segments":
        print(json.dumps(child_pandas_segments(args.db, NEW_WAVE)))
        return
    if args.child == "pandas-situations":
        print(json.dumps(child_pandas_situations(args.db, NEW_WAVE, OLD_WAVE)))
        return

    path = database_path(args.respondents)
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o700)  # the databases and files in it are personal data, as the bot's are
    if args.rebuild or not path.exists():
        print(
            f"building {path.name} ({args.respondents:,} respondents × 2 waves)…", file=sys.stderr
        )
        build(path, args.respondents)
    warm_up(path)
    size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    per_wave = args.respondents * QUESTIONS_PER_RESPONDENT
    print(
        f"database: 2 closed waves × {args.respondents:,} respondents (the same people), "
        f"{per_wave:,} answers a wave, {2 * per_wave:,} in all, 85 regions, "
        f"{size_mb:,.0f} MB on disk"
    )
    print(
        f"each command in a fresh process, start-up included: median wall time of "
        f"{args.repeat} (fastest–slowest), median CPU time, highest peak resident memory; "
        f"{_load()}"
    )
    measurements = _measurements(args.skip_answers)
    missed: list[str] = []
    measured: list[Measured] = []
    try:
        if args.database == POSTGRESQL:
            measured.append(asyncio.run(_on_postgresql(path, measurements, args.repeat, missed)))
            print("\n== SQLite, in the same run ==")
        sqlite = measure(Target.sqlite(path), measurements, args.repeat, missed)
        measured.append(sqlite)
        if len(measured) == 2:
            _compare_databases(measured[0], sqlite, missed)
        if not args.skip_pandas:
            results, outputs = sqlite.runs, sqlite.outputs
            compare_ratings(path, results["ratings (region)"], outputs["ratings (region)"], args)
            compare_change(path, results["change (region)"], outputs["change (region)"], args)
            compare_segments(path, results["segments (region)"], outputs["segments (region)"], args)
            compare_situations(
                path, results["situations (region)"], outputs["situations (region)"], args
            )
    finally:
        for output in (output for run in measured for output in run.outputs.values()):
            output.unlink(missing_ok=True)
    print(f"at the end: {_load()}")
    if missed:
        print("over target: " + ", ".join(missed))
        raise SystemExit(1)
    print("every target met")


def _measurements(skip_answers: bool) -> list[Measurement]:
    new, old = str(NEW_WAVE), str(OLD_WAVE)
    measurements = [
        Measurement("ratings (region)", ["ratings", "--wave", new], TARGET_SECONDS),
        Measurement(
            "ratings (municipality)",
            ["ratings", "--wave", new, "--level", "municipality"],
            TARGET_SECONDS,
        ),
        Measurement("change (region)", ["change", "--wave", new, "--against", old], TARGET_SECONDS),
        Measurement("segments (region)", ["segments", "--wave", new], TARGET_SECONDS),
        Measurement(
            "situations (region)",
            ["situations", "--wave", new, "--against", old],
            TARGET_SECONDS,
        ),
    ]
    if not skip_answers:
        measurements.append(Measurement("answers", ["answers", "--wave", new], None))
    return measurements


@dataclass
class Measured:
    """Every command's runs on one database, the files they wrote, and the CPU the
    PostgreSQL server spent per run (0 on SQLite, whose work is the command's own)."""

    database: str
    runs: dict[str, Runs] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    server_cpu: dict[str, float] = field(default_factory=dict)


def measure(
    target: Target, measurements: Sequence[Measurement], repeat: int, missed: list[str]
) -> Measured:
    """Each command on `target`, printed as it finishes; a missed target joins `missed`."""
    measured = Measured(target.label)
    for measurement in measurements:
        slug = "".join(c if c.isalnum() else "-" for c in measurement.label).strip("-")
        output = CACHE / f"out-{target.label.lower()}-{slug}.csv"
        measured.outputs[measurement.label] = output
        argv = ["export", *measurement.argv, "-o", str(output)]
        server_before = target.server_cpu_seconds()
        runs = measured.runs[measurement.label] = civicpulse(target, argv, repeat)
        server = measured.server_cpu[measurement.label] = (
            target.server_cpu_seconds() - server_before
        ) / repeat
        met, verdict = _verdict(runs, measurement.seconds_target)
        if not met:
            missed.append(f"{measurement.label} on {target.label}")
        with output.open(encoding="utf-8") as handle:
            rows = sum(1 for _ in handle) - 1
        tail = f"{rows:>10,} rows {output.stat().st_size / 2**20:8.1f} MB   {verdict}"
        if target.server_pid_file is not None:
            tail = f"server cpu {server:6.2f} s   {tail}"
        _print_runs(f"export {measurement.label}", runs, tail)
    return measured


async def _on_postgresql(
    path: Path, measurements: Sequence[Measurement], repeat: int, missed: list[str]
) -> Measured:
    """The benchmark database copied into a fresh PostgreSQL, and the commands run there."""
    print("== PostgreSQL ==")
    async with postgres_target() as target:
        assert target.url is not None
        started = time.perf_counter()
        # The copy ends with ANALYZE, so the scans are planned on statistics.
        copies = await copy_sqlite_to_postgres(path, target.url, on_table=_copying)
        print(
            f"\r  copied {sum(copy.target_rows for copy in copies):,} rows in "
            f"{time.perf_counter() - started:.0f} s (COPY, verified, ANALYZE)" + " " * 20
        )
        return await asyncio.to_thread(measure, target, measurements, repeat, missed)


def _copying(table: str, rows: int) -> None:
    print(f"\r  copying {table}: {rows:,} rows" + " " * 10, end="", file=sys.stderr, flush=True)


def _compare_databases(postgresql: Measured, sqlite: Measured, missed: list[str]) -> None:
    """Both databases' figures side by side, and whether their files are the same."""
    figures = []
    for label, runs in postgresql.runs.items():
        theirs = sqlite.runs[label]
        figures += [
            Figure(f"{label}: wall", runs.median, theirs.median, 2, " s"),
            Figure(f"{label}: CPU of the command", runs.median_cpu, theirs.median_cpu, 2, " s"),
            Figure(f"{label}: CPU of the server", postgresql.server_cpu[label], 0.0, 2, " s"),
            Figure(f"{label}: peak memory", runs.peak, theirs.peak, 0, " MB"),
        ]
    print_comparison(figures)
    differing = [
        label
        for label, output in postgresql.outputs.items()
        if output.read_bytes() != sqlite.outputs[label].read_bytes()
    ]
    same = len(postgresql.outputs) - len(differing)
    print(
        f"\nfiles: {same} of {len(postgresql.outputs)} identical on both databases, byte for byte"
    )
    missed += [f"{label}: the files differ" for label in differing]


def _against_pandas(ours: Runs, pandas: Runs, report: dict[str, Any]) -> None:
    compute = report["compute_seconds"]
    print(
        f"  ours / pandas: {ours.median / pandas.median:.2f} of the time "
        f"(pandas {pandas.median / ours.median:.1f}× ours; its computation alone, without "
        f"loading and start-up, {compute:.2f} s, {compute / ours.median:.1f}× ours), "
        f"{ours.peak / pandas.peak:.2f} of the memory"
    )


def compare_ratings(path: Path, ours: Runs, ratings_csv: Path, args: argparse.Namespace) -> None:
    pandas, report = run_child(["--child", "pandas-ratings", "--db", str(path)], args.repeat)
    _print_runs(
        "pandas ratings (region, ranked)",
        pandas,
        f"(of which loading {report['load_seconds']:.2f} s)",
    )
    _against_pandas(ours, pandas, report)
    rows = [row for row in _rows(ratings_csv) if row["score"]]
    differing = [
        row
        for row in rows
        if row["track"] == "all"
        and abs(
            report["scores"].get(f"{row['region_code']}/all/{row['topic']}", math.inf)
            - float(row["score"])
        )
        > 0.05 + 1e-9
    ]
    ranked = [row for row in rows if row["rank"]]
    same = sum(
        report["ranks"].get(f"{row['region_code']}/{row['track']}/{row['topic']}")
        == [int(row["rank"]), int(row["rank_low"]), int(row["rank_high"])]
        for row in ranked
    )
    print(
        f"  cross-check: {sum(row['track'] == 'all' for row in rows)} published region scores, "
        f"{len(differing)} differ from pandas by more than rounding; {len(ranked)} places with "
        f"their intervals, {same} identical to pandas's"
    )


def compare_change(path: Path, ours: Runs, change_csv: Path, args: argparse.Namespace) -> None:
    pandas, report = run_child(["--child", "pandas-change", "--db", str(path)], args.repeat)
    _print_runs(
        "pandas change (region)", pandas, f"(of which loading {report['load_seconds']:.2f} s)"
    )
    _against_pandas(ours, pandas, report)
    shown = [row for row in _rows(change_csv) if row["change"]]
    differing = [
        row
        for row in shown
        if any(
            abs(theirs - float(row[column])) > 0.05 + 1e-9
            for theirs, column in zip(
                report["change"][f"{row['region_code']}/{row['track']}/{row['topic']}"],
                ("change", "change_low", "change_high"),
                strict=True,
            )
        )
    ]
    verdicts = {v: sum(row["verdict"] == v for row in shown) for v in ("improved", "declined")}
    print(
        f"  cross-check: {len(shown)} published changes, {len(differing)} differ from pandas "
        f"by more than rounding (change or either bound); {verdicts['improved']} improved, "
        f"{verdicts['declined']} declined, the rest no clear change"
    )


def compare_segments(path: Path, ours: Runs, segments_csv: Path, args: argparse.Namespace) -> None:
    pandas, report = run_child(["--child", "pandas-segments", "--db", str(path)], args.repeat)
    _print_runs(
        "pandas segments (region)", pandas, f"(of which loading {report['load_seconds']:.2f} s)"
    )
    _against_pandas(ours, pandas, report)
    shown = [row for row in _rows(segments_csv) if row["gap"]]
    differing = [
        row
        for row in shown
        if any(
            abs(theirs - float(row[column])) > 0.05 + 1e-9
            for theirs, column in zip(
                report["gaps"][
                    f"{row['region_code']}/{row['track']}/{row['topic']}/{row['segment']}"
                ],
                ("gap", "gap_low", "gap_high"),
                strict=True,
            )
            if column == "gap" or -100 < float(row[column]) < 100  # ours are clipped
        )
    ]
    verdicts = {v: sum(row["verdict"] == v for row in shown) for v in ("worse_off", "better_off")}
    print(
        f"  cross-check: {len(shown)} published gaps, {len(differing)} differ from pandas by "
        f"more than rounding; {verdicts['worse_off']} worse off, {verdicts['better_off']} better "
        "off, the rest no clear gap"
    )


def compare_situations(
    path: Path, ours: Runs, situations_csv: Path, args: argparse.Namespace
) -> None:
    pandas, report = run_child(["--child", "pandas-situations", "--db", str(path)], args.repeat)
    _print_runs(
        "pandas situations (region)", pandas, f"(of which loading {report['load_seconds']:.2f} s)"
    )
    _against_pandas(ours, pandas, report)
    shown = [row for row in _rows(situations_csv) if row["value_before"]]
    tolerance = {"score": 0.05, "got_needed": 0.0005, "job_months": 0.05}
    differing = [
        row
        for row in shown
        if any(
            abs(theirs - float(row[column])) > tolerance[row["measure"]] + 1e-9
            for theirs, column in zip(
                report["situations"][f"{row['region_code']}/{row['measure']}"],
                ("value", "value_before"),
                strict=True,
            )
        )
    ]
    print(
        f"  cross-check: {len(shown)} published figures with their earlier value, "
        f"{len(differing)} differ from pandas by more than rounding"
    )


if __name__ == "__main__":
    os.umask(0o077)  # the databases it builds are private, as the bot makes them
    main()
