"""Benchmark of `export ratings` and `export answers` on a wave of realistic size.

Not a test: it prints its figures. It builds (once, then caches) a database of N
respondents × 20 questions across the catalog's 85 regions — 500,000 respondents, ten
million answers by default — then runs each export in a fresh subprocess through the same
handler the CLI uses, and reports wall time and peak resident memory (VmHWM). For
comparison it does the same ratings aggregation with pandas (per-respondent topic means,
weighted overall, per region × track × topic mean, t interval and satisfied share).

    .venv/bin/python bench/export.py                    # full size (builds ~1 GB once)
    .venv/bin/python bench/export.py --respondents 20000
    .venv/bin/python bench/export.py --skip-pandas

Targets: ratings under 10 s, peak memory under 300 MB, faster than pandas.
pandas is a bench-only extra: `pip install -e .[bench]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from storage.database import Database  # noqa: E402
from storage.repositories.surveys import SurveyRepository  # noqa: E402
from storage.repositories.waves import WaveRepository  # noqa: E402
from surveys.model import AGE_BAND_IDS, QuestionType, Survey  # noqa: E402
from surveys.regions import load_catalog  # noqa: E402
from surveys.scoring import answer_score  # noqa: E402
from surveys.targeting import track_for  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
QUESTIONS_PER_RESPONDENT = 20
MIN_CELL_SIZE = 10
BATCH = 200_000
TOPICS = ("education", "outpatient", "hospitals", "social_support", "employment")
_OPTIONS = [{"id": i, "text": {"ru": i, "en": i}} for i in ("site", "phone", "visit")]


def bench_survey() -> Survey:
    """20 questions over five topics: scales, scored choices, a multi-choice and free text."""
    questions: list[dict[str, Any]] = []
    for index in range(QUESTIONS_PER_RESPONDENT):
        topic = TOPICS[index % len(TOPICS)]
        question: dict[str, Any] = {
            "id": f"q{index:02d}",
            "topic": topic,
            "text": {"ru": f"Вопрос {index}", "en": f"Question {index}"},
        }
        if index == 18:
            question |= {"type": "multi", "options": _OPTIONS, "optional": True}
        elif index == 19:
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
    return Survey.model_validate(
        {
            "id": "bench",
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


def database_path(respondents: int) -> Path:
    return CACHE / f"bench-{respondents}.db"


def build(path: Path, respondents: int, seed: int = 20261123) -> None:
    """Schema and survey through the real storage layer, the bulk with plain executemany."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    survey = bench_survey()
    wave_id = asyncio.run(_schema_and_wave(path, survey))
    started = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")  # a cache we rebuild, not data to keep
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -200000")
    rng = random.Random(seed)
    people = list(_people(rng, survey, respondents))
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO respondents (id, telegram_id, language, region_code, municipality_code,"
        " age_band, consent_version, consented_at, created_at, updated_at)"
        " VALUES (?, ?, 'ru', ?, ?, ?, 'bench', ?, ?, ?)",
        ((i, 10**9 + i, r, m, b, at, at, at) for i, r, m, b, _, at in people),
    )
    connection.executemany(
        "INSERT INTO responses (id, wave_id, respondent_id, survey_version_id, region_code,"
        " municipality_code, age_band, track, started_at, completed_at)"
        " VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        ((i, wave_id, i, r, m, b, t, at, at) for i, r, m, b, t, at in people),
    )
    connection.execute("COMMIT")
    answers = _answers(rng, survey, people)
    done = 0
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


async def _schema_and_wave(path: Path, survey: Survey) -> int:
    database = await Database.open(path)
    try:
        version_id = await SurveyRepository(database).store(survey)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        return await WaveRepository(database).create(
            version_id, start, start + timedelta(days=21), regions=None, tracks="all"
        )
    finally:
        await database.close()


def _people(
    rng: random.Random, survey: Survey, count: int
) -> Iterator[tuple[int, str, str | None, str, str, str]]:
    catalog = load_catalog()
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
        moment = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(1814400))
        at = moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        yield respondent_id, region.code, municipality, band, tracks[band], at


def _answers(
    rng: random.Random, survey: Survey, people: list[tuple[int, str, str | None, str, str, str]]
) -> Iterator[tuple[int, str, str, str | None, float | None, str]]:
    """Answers whose distribution differs by region, so ratings have something to rank."""
    mood = {code: rng.uniform(-1.2, 1.2) for code in {p[1] for p in people}}
    bags = {code: _value_bags(rng, survey, shift) for code, shift in mood.items()}
    for response_id, region, _, _, _, at in people:
        for question_id, topic, bag in bags[region]:
            value, score = bag[int(rng.random() * len(bag))]
            yield response_id, question_id, topic, value, score, at


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


# Measuring --------------------------------------------------------------------------------------


def run_child(argv: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON report is the last stdout line."""
    process = subprocess.run(
        [sys.executable, __file__, *argv],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


def child_export(what: str, path: Path, output: Path, level: str) -> dict[str, Any]:
    """The export exactly as `civicpulse export …` runs it: same parser, same handler."""
    from pydantic import SecretStr

    from bot.cli import export as cli_export
    from bot.settings import Settings

    parser = argparse.ArgumentParser()
    cli_export.register(parser.add_subparsers(dest="command", required=True))
    argv = ["export", what, "--wave", "1", "-o", str(output)]
    if what == "ratings":
        argv += ["--level", level]
    args = parser.parse_args(argv)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=path,
        min_cell_size=MIN_CELL_SIZE,
        pseudonym_key=SecretStr("bench-key-0123456789abcdef"),
    )
    started = time.perf_counter()
    status = asyncio.run(args.handler(args, settings))
    elapsed = time.perf_counter() - started
    return {"status": status, "seconds": elapsed, "peak_mb": _peak_mb()}


def child_pandas(path: Path) -> dict[str, Any]:
    """The same ratings aggregation, the way one would write it with pandas."""
    import pandas as pd

    from surveys.aggregate import t_quantile

    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    answers = pd.read_sql_query(
        "SELECT response_id, topic, score FROM answers WHERE score IS NOT NULL", connection
    )
    responses = pd.read_sql_query(
        "SELECT id AS response_id, region_code, track FROM responses WHERE wave_id = 1",
        connection,
    )
    weights = {t.id: t.weight for t in bench_survey().topics}
    loaded = time.perf_counter()
    answers["topic"] = answers["topic"].astype("category")
    wide = answers.groupby(["response_id", "topic"], observed=True)["score"].mean().unstack()
    present = wide.notna()
    weight_row = pd.Series(weights)[wide.columns]
    wide["overall"] = (wide.fillna(0) * weight_row).sum(axis=1) / (present * weight_row).sum(axis=1)
    long = wide.stack().dropna().rename("score").reset_index()
    long = long.merge(responses, on="response_id")
    both = pd.concat([long, long.assign(track="all")])
    both["satisfied"] = both["score"] >= 75
    cells = both.groupby(["region_code", "track", "topic"], observed=True).agg(
        respondents=("score", "size"),
        score=("score", "mean"),
        sd=("score", "std"),
        satisfied_share=("satisfied", "mean"),
    )
    t = cells["respondents"].map(lambda n: t_quantile(0.975, n - 1) if n > 1 else float("nan"))
    half = t * cells["sd"] / cells["respondents"] ** 0.5
    cells["ci_low"] = (cells["score"] - half).clip(lower=0)
    cells["ci_high"] = (cells["score"] + half).clip(upper=100)
    finished = time.perf_counter()
    sample = {
        f"{region}/{track}/{topic}": round(score, 1)
        for (region, track, topic), score in cells["score"].items()
        if track == "all"
    }
    return {
        "seconds": finished - started,
        "load_seconds": loaded - started,
        "peak_mb": _peak_mb(),
        "scores": sample,
    }


def _peak_mb() -> float:
    """This program's peak resident memory. Linux carries `ru_maxrss` over `exec` from the
    forked copy of the parent, so a child started right after the parent built the
    database reported the builder's 406 MB; VmHWM belongs to the new program alone."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes there, else kB


def _scores_from_csv(path: Path) -> dict[str, float]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            f"{row['region_code']}/{row['track']}/{row['topic']}": float(row["score"])
            for row in csv.DictReader(handle)
            if row["track"] == "all" and row["score"]
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=500_000)
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached database")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--level", default="region", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "pandas":
        print(json.dumps(child_pandas(args.db)))
        return
    if args.child:
        print(json.dumps(child_export(args.child, args.db, args.out, args.level)))
        return

    path = database_path(args.respondents)
    if args.rebuild or not path.exists():
        print(f"building {path} ({args.respondents:,} respondents)…", file=sys.stderr)
        build(path, args.respondents)
    size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    answers = args.respondents * QUESTIONS_PER_RESPONDENT
    print(
        f"database: {args.respondents:,} respondents, {answers:,} answers, 85 regions, "
        f"{size_mb:,.0f} MB on disk"
    )
    outputs = {}
    results = {}
    for label, what, level in (
        ("ratings (region)", "ratings", "region"),
        ("ratings (municipality)", "ratings", "municipality"),
        ("answers", "answers", "region"),
    ):
        output = CACHE / f"out-{what}-{level}.csv"
        report = run_child(
            ["--child", what, "--db", str(path), "--out", str(output), "--level", level]
        )
        assert report["status"] == 0, report
        outputs[label], results[label] = output, report
        rows = sum(1 for _ in output.open(encoding="utf-8")) - 1
        print(
            f"export {label:<24} {report['seconds']:7.2f} s   peak {report['peak_mb']:6.0f} MB"
            f"   {rows:>12,} rows   {output.stat().st_size / 2**20:8.1f} MB"
        )
    try:
        if not args.skip_pandas:
            compare_with_pandas(path, results["ratings (region)"], outputs["ratings (region)"])
    finally:
        for output in outputs.values():
            output.unlink(missing_ok=True)


def compare_with_pandas(path: Path, ours: dict[str, Any], ratings_csv: Path) -> None:
    report = run_child(["--child", "pandas", "--db", str(path)])
    seconds = ours["seconds"]
    print(
        f"pandas ratings aggregation     {report['seconds']:7.2f} s   peak "
        f"{report['peak_mb']:6.0f} MB   (of which loading {report['load_seconds']:.2f} s)"
    )
    compute_only = report["seconds"] - report["load_seconds"]
    print(
        f"pandas / ours: {report['seconds'] / seconds:.1f}× the time "
        f"(pandas compute alone, without loading: {compute_only / seconds:.1f}×)"
    )
    published = _scores_from_csv(ratings_csv)
    differing = [
        key for key, score in published.items() if abs(report["scores"][key] - score) > 0.05
    ]
    print(
        f"cross-check: {len(published)} published region scores, "
        f"{len(differing)} differ from pandas by more than rounding"
    )


if __name__ == "__main__":
    os.umask(0o077)  # the databases it builds are private, as the bot makes them
    main()
