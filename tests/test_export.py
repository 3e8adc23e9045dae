"""Both CSV files, column by column, as a machine feed and for Excel, and the CLI around them.

The figures come from the wave in `test_aggregate`, where they are worked out by hand.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cli import export as cli_export
from bot.settings import Settings
from storage.connect import open_database
from storage.pseudonym_key import NoSharedKey, key_file_path, pseudonym_key
from storage.result_files import write_answers_csv, write_ratings_csv
from surveys.export import (
    ANSWERS_COLUMNS,
    RATINGS_COLUMNS,
    AnswerRow,
    CellFormat,
    RatingRow,
    csv_format,
    protect,
    write_answers,
    write_ratings,
)
from surveys.pseudonym import Pseudonymizer, respondent_pseudonym
from tests.commands import pass_settings
from tests.test_aggregate import MIN_CELL, PEOPLE, ResultsWave, add_results_wave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

KEY = b"test-pseudonym-key-0123456789abcdef"
BOM = b"\xef\xbb\xbf"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _parse(data: bytes, excel: bool) -> list[list[str]]:
    """Read a file back the way its consumer would, checking the framing on the way."""
    if excel:
        assert data.startswith(BOM)
        data = data[len(BOM) :]
    else:
        assert not data.startswith(BOM)
    text = data.decode("utf-8")
    assert text.endswith("\r\n")  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


async def _ratings(wave: ResultsWave, excel: bool, **options: Any) -> list[list[str]]:
    target = io.BytesIO()
    await write_ratings_csv(
        wave.database, wave.wave_id, target, min_cell_size=MIN_CELL, excel=excel, **options
    )
    return _parse(target.getvalue(), excel)


async def _answers(wave: ResultsWave, excel: bool) -> list[list[str]]:
    target = io.BytesIO()
    await write_answers_csv(wave.database, wave.wave_id, target, key=KEY, excel=excel)
    return _parse(target.getvalue(), excel)


# Ratings ------------------------------------------------------------------------------------


async def test_ratings_plain(results_wave: ResultsWave) -> None:
    header, *rows = await _ratings(results_wave, excel=False)
    assert header == [
        "wave_id",
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
        "satisfied_share",
        "rank",
        "suppressed",
        "rank_low",
        "rank_high",
        "group",
        "share_low",
        "share_high",
    ]
    assert len(rows) == 4 * 3 * 4  # regions × tracks × (health, schools, overall, index)
    by_key = {(row[1], row[5], row[6]): row for row in rows}
    # Hand-computed in test_aggregate.test_region_scores_intervals_and_shares; the share's
    # Wilson interval there too, and the places' in test_aggregate.test_ranks_with_ties.
    assert by_key[("49", "all", "health")] == [
        "1",
        "49",
        "Новгородская область",
        "",
        "",
        "all",
        "health",
        "6",
        "68.3",
        "47.8",
        "88.9",
        "0.500",
        "",
        "0",
        "",
        "",
        "",
        "0.188",
        "0.812",
    ]
    assert by_key[("49", "all", "overall")] == [
        "1",
        "49",
        "Новгородская область",
        "",
        "",
        "all",
        "overall",
        "6",
        "65.3",
        "40.7",
        "89.9",
        "0.333",
        "2",
        "0",
        "1",
        "4",
        "average",
        "0.097",
        "0.700",
    ]
    assert by_key[("49", "youth", "health")][7:] == [
        "3",
        "73.3",
        "29.7",
        "100.0",
        "0.667",
        "",
        "0",
        "",
        "",
        "",
        "0.208",
        "0.939",
    ]
    # Primorsky: three people, none satisfied in any topic; a small cell publishes no share
    # of 0 (test_aggregate.test_unanimous_small_cells_of_the_stored_wave), its score stays.
    primorsky = by_key[("05", "all", "health")]
    assert primorsky[7:12] == ["3", "49.2", "0.0", "100.0", ""]
    assert primorsky[17:] == ["", ""]
    # Suppressed: the whole row but its labels and the flag is empty, the count included.
    assert by_key[("65", "general", "health")] == [
        "1",
        "65",
        "Свердловская область",
        "",
        "",
        "general",
        "health",
        "",
        "",
        "",
        "",
        "",
        "",
        "1",
        "",
        "",
        "",
        "",
        "",
    ]
    # Codes keep their leading zero; the first region is Primorsky.
    assert rows[0][:3] == ["1", "05", "Приморский край"]
    assert {row[0] for row in rows} == {"1"}


async def test_ratings_file_is_reproducible(results_wave: ResultsWave) -> None:
    """The place intervals are drawn from a fixed seed: the same wave, the same bytes."""
    for level in ("region", "municipality"):
        first, again = io.BytesIO(), io.BytesIO()
        for target in (first, again):
            await write_ratings_csv(
                results_wave.database,
                results_wave.wave_id,
                target,
                min_cell_size=MIN_CELL,
                level=level,
            )
        assert first.getvalue() == again.getvalue()


async def test_ratings_excel(results_wave: ResultsWave) -> None:
    plain = await _ratings(results_wave, excel=False)
    header, *rows = await _ratings(results_wave, excel=True)
    assert header == list(RATINGS_COLUMNS)
    by_key = {(row[1], row[5], row[6]): row for row in rows}
    assert by_key[("49", "all", "health")][7:] == [
        "6",
        "68,3",
        "47,8",
        "88,9",
        "0,500",
        "",
        "0",
        "",
        "",
        "",
        "0,188",
        "0,812",
    ]
    # Same cells as the feed, only the decimal mark differs.
    assert [[cell.replace(",", ".") for cell in row] for row in rows] == [
        [cell.replace(",", ".") for cell in row] for row in plain[1:]
    ]


async def test_ratings_at_municipality_level(results_wave: ResultsWave) -> None:
    _, *rows = await _ratings(results_wave, excel=False, level="municipality")
    novgorod = next(r for r in rows if r[1] == "49" and r[5] == "all" and r[6] == "overall")
    assert novgorod[:5] == ["1", "49", "Новгородская область", "49701000", "Великий Новгород"]
    # Alone in its region: first in every draw, and its interval holds its own score.
    assert novgorod[7:] == [
        "6",
        "65.3",
        "40.7",
        "89.9",
        "0.333",
        "1",
        "0",
        "1",
        "1",
        "average",
        "0.097",
        "0.700",
    ]
    moscow = next(r for r in rows if r[1] == "45" and r[5] == "all" and r[6] == "overall")
    assert moscow[3:5] == ["", ""]
    # The "no municipality named" group is not ranked.
    assert [moscow[12], *moscow[14:17]] == ["", "", "", ""]


def test_ratings_writer_formats_numbers_and_text() -> None:
    row = RatingRow(
        7,
        "05",
        "=evil()",
        "05701000",
        "Владивосток",
        "all",
        "health",
        12,
        72.25,
        0.0,
        100.0,
        0.6665,
        1,
        False,
        1,
        3,
        "above_average",
        0.4444,
        0.8125,
    )
    # The share's interval is rounded half up like every figure (0.8125 → 0.813).
    for excel, expected in (
        (
            False,
            "7,05,'=evil(),05701000,Владивосток,all,health,12,72.3,0.0,100.0,0.667,1,0,"
            "1,3,above_average,0.444,0.813",
        ),
        (
            True,
            "7;05;'=evil();05701000;Владивосток;all;health;12;72,3;0,0;100,0;0,667;1;0;"
            "1;3;above_average;0,444;0,813",
        ),
    ):
        target = io.BytesIO()
        assert write_ratings([row], target, excel=excel) == 1
        lines = target.getvalue().decode("utf-8-sig").split("\r\n")
        assert lines[1] == expected


# Answers ------------------------------------------------------------------------------------


async def test_answers_plain(results_wave: ResultsWave) -> None:
    header, *rows = await _answers(results_wave, excel=False)
    assert header == [
        "wave_id",
        "respondent",
        "region_code",
        "municipality_code",
        "age_band",
        "track",
        "question_id",
        "topic",
        "value",
        "answered_at",
    ]
    pseudonym = Pseudonymizer(KEY)
    ids = results_wave.respondent_ids
    by_key = {(row[1], row[6]): row for row in rows}
    y1 = pseudonym(ids["Y1"])
    assert re.fullmatch(r"[0-9a-f]{16}", y1)
    assert by_key[(y1, "clinic")][:9] == [
        "1",
        y1,
        "49",
        "49701000",
        "18-24",
        "youth",
        "clinic",
        "health",
        "5",
    ]
    assert by_key[(y1, "school")][8] == "good"
    assert by_key[(y1, "channels")][8] == "site|phone"
    assert by_key[(pseudonym(ids["C1"]), "channels")][8] == "visit"
    # Free text that a spreadsheet would run is neutralised with a leading apostrophe.
    assert by_key[(y1, "comment")][8] == "'=1+1"
    assert by_key[(pseudonym(ids["Y2"]), "comment")][8] == "'+7 900 000-00-00"
    assert by_key[(pseudonym(ids["G1"]), "comment")][8] == "'-плохо"
    assert by_key[(pseudonym(ids["G2"]), "comment")][8] == "'@admin"
    assert by_key[(pseudonym(ids["D1"]), "comment")][8] == "'\tвкладка"
    # Quotes, delimiters and line breaks survive the round trip; nothing to neutralise.
    assert by_key[(pseudonym(ids["A1"]), "comment")][8] == 'Хорошо, но "медленно";\nочень'
    # A skipped optional question: empty value. Moscow named no municipality.
    assert by_key[(pseudonym(ids["D1"]), "waiting")][8] == ""
    assert by_key[(pseudonym(ids["A1"]), "clinic")][3] == ""
    assert by_key[(pseudonym(ids["B6"]), "clinic")][4:6] == ["45-54", "general"]
    assert all(ISO_UTC.fullmatch(row[9]) for row in rows)
    # 21 people's answers plus the dropout's two: every stored answer, once.
    answers = sum(len(p.answers) for p in PEOPLE) + 2
    assert len(rows) == answers == len(by_key)


async def test_answers_excel(results_wave: ResultsWave) -> None:
    plain = await _answers(results_wave, excel=False)
    excel = await _answers(results_wave, excel=True)
    assert excel == plain  # no decimals in this file: the same cells, `;`-separated, BOM


async def test_answers_carry_no_telegram_identity(results_wave: ResultsWave) -> None:
    target = io.BytesIO()
    await write_answers_csv(results_wave.database, results_wave.wave_id, target, key=KEY)
    _, *rows = _parse(target.getvalue(), False)
    telegram_ids = {str(i) for i in range(1000, 1000 + len(PEOPLE) + 1)}
    assert not {cell for row in rows for cell in row} & telegram_ids
    # Respondents appear only as pseudonyms, never as their database id.
    pseudonym = Pseudonymizer(KEY)
    assert {row[1] for row in rows} == {pseudonym(i) for i in results_wave.respondent_ids.values()}


def test_answers_writer_protects_every_trigger_and_keeps_numbers() -> None:
    values: list[int | str | None] = [
        3,
        "=A1",
        "+1",
        "-1",
        "@x",
        "\tx",
        "\rx",
        "\0x",
        "plain",
        "",
        None,
    ]
    rows = [
        AnswerRow(1, "abc", "05", "", "65+", "general", "q", "t", v, "2026-11-23T10:15:00Z")
        for v in values
    ]
    target = io.BytesIO()
    assert write_answers(rows, target) == len(values)
    _, *parsed = _parse(target.getvalue(), excel=False)
    assert [row[8] for row in parsed] == [
        "3",
        "'=A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "'\0x",
        "plain",
        "",
        "",
    ]


def test_protect_and_numbers() -> None:
    assert protect("=1") == "'=1"
    assert protect("a=1") == "a=1"
    assert protect("") == ""
    for excel in (False, True):
        cell = CellFormat(csv_format(excel))
        assert cell(-3) == "-3"  # numbers are never prefixed
        assert cell(-1.25, 1) == ("-1,3" if excel else "-1.3")
        assert cell(True) == "1"
        with pytest.raises(TypeError):
            cell(1.5)  # a fraction needs a declared number of decimals
    assert ANSWERS_COLUMNS[1] == "respondent"


# Pseudonyms and their key -------------------------------------------------------------------


def test_pseudonym_is_keyed_hmac() -> None:
    import hashlib
    import hmac

    expected = hmac.new(KEY, b"respondent:42", hashlib.sha256).hexdigest()[:16]
    assert respondent_pseudonym(KEY, 42) == expected
    assert respondent_pseudonym(b"another key", 42) != expected
    assert respondent_pseudonym(KEY, 43) != expected


def test_key_file_is_generated_once_privately(tmp_path: Path) -> None:
    database = tmp_path / "data" / "civicpulse.db"
    key = pseudonym_key(database)
    path = key_file_path(database)
    assert path == tmp_path / "data" / "civicpulse.db.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64
    assert pseudonym_key(database) == key  # stable across exports
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_configured_key_wins(tmp_path: Path) -> None:
    database = tmp_path / "civicpulse.db"
    assert pseudonym_key(database, SecretStr("configured-key-0123456789")) == (
        b"configured-key-0123456789"
    )
    assert not key_file_path(database).exists()


def test_a_shared_database_never_generates_a_key_of_its_own(tmp_path: Path) -> None:
    """On PostgreSQL a key made on one server would not be the others': refused, with the
    setting to use; a key file put in place (as `db copy` tells) or PSEUDONYM_KEY serves."""
    database = tmp_path / "data" / "civicpulse.db"
    with pytest.raises(NoSharedKey, match="set PSEUDONYM_KEY"):
        pseudonym_key(database, None, shared_database=True)
    assert not key_file_path(database).parent.exists()
    configured = SecretStr("configured-key-0123456789")
    assert (
        pseudonym_key(database, configured, shared_database=True)
        == configured.get_secret_value().encode()
    )
    moved = pseudonym_key(database)  # the key file a pilot had, moved into place
    assert pseudonym_key(database, None, shared_database=True) == moved


# The command line ---------------------------------------------------------------------------


def _run_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_export.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def _settings(directory: Path) -> Settings:
    """What the commands read: this pass's database in `directory`, the test's key."""
    return pass_settings(directory, min_cell_size=MIN_CELL, pseudonym_key=KEY.decode())


@pytest.fixture
async def stored_wave(tmp_path: Path, bot_database_pass: str) -> AsyncIterator[ResultsWave]:
    """The wave of test_aggregate in the pass's database, where the commands find it by
    their settings as an operator's would."""
    database = await open_database(_settings(tmp_path / "data"))
    try:
        yield await add_results_wave(database)  # type: ignore[arg-type]
    finally:
        await database.close()


async def test_cli_ratings_to_file(stored_wave: ResultsWave, tmp_path: Path) -> None:
    output = tmp_path / "ratings.csv"
    args = _run_args("export", "ratings", "--wave", "1", "-o", str(output), "--excel")
    assert await args.handler(args, _settings(tmp_path / "data")) == 0
    assert _parse(output.read_bytes(), excel=True) == await _ratings(stored_wave, excel=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ratings")] == []


async def test_cli_answers_to_stdout(
    stored_wave: ResultsWave, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    args = _run_args("export", "answers", "--wave", "1")
    assert await args.handler(args, _settings(tmp_path / "data")) == 0
    captured = capsysbinary.readouterr()
    assert _parse(captured.out, excel=False) == await _answers(stored_wave, excel=False)
    assert captured.err == b""  # no progress bar when stderr is not a terminal


@pytest.mark.usefixtures("stored_wave")
async def test_cli_unknown_wave(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.csv"
    for what in ("ratings", "answers"):
        args = _run_args("export", what, "--wave", "42", "-o", str(output))
        assert await args.handler(args, _settings(tmp_path / "data")) == 1
        assert "there is no wave 42" in capsys.readouterr().err
    assert not output.exists()
