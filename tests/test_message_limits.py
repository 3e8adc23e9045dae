"""Surveys Telegram would refuse to carry are refused first, at the line to shorten.

Each file is written inline starting at line 1, so expected line numbers can be read off
the text; long texts are spliced in where a placeholder word stands.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app import Application
from bot.chat import message_limits
from bot.chat.message_limits import message_limit_problems, visible_length
from bot.chat.report_series_view import (
    REPORT_WAVES,
    ReportTopic,
    ReportWave,
    region_series_text,
)
from bot.chat.texts import Texts
from bot.cli.surveys import validate_command
from bot.settings import Settings
from bot.waves.invitation_text import invitation_message
from surveys.aggregate import OVERALL, Cell, Estimate
from surveys.loader import BUNDLED_SURVEYS_DIR, SurveyFileError, load_survey_file, load_surveys
from surveys.series import SeriesCell

ROOT = Path(__file__).resolve().parent.parent

ONE_QUESTION = """\
id: demo
version: 1
title: {ru: Опрос, en: Survey}
intro:
  ru: INTRO
  en: A short survey.
topics:
  - id: health
    title: {ru: Здоровье, en: Health}
questions:
  - id: clinic
    type: likert5
    topic: health
    text:
      ru: QUESTION
      en: How satisfied are you with your clinic?
"""

CHOICE = """\
id: demo
version: 1
title: {ru: Опрос, en: Survey}
topics:
  - id: health
    title: {ru: Здоровье, en: Health}
questions:
  - id: clinic
    type: TYPE
    topic: health
    text: {ru: Где вы лечились, en: Where were you treated}
    options:
      - id: FIRST_ID
        text: {ru: Поликлиника, en: Clinic}
      - id: hospital
        text: {ru: LONG_OPTION, en: Hospital}
"""


def write(directory: Path, template: str, **parts: str) -> Path:
    """The template with each placeholder word replaced (unnamed ones by short texts)."""
    text = textwrap.dedent(template)
    defaults = {"INTRO": "Короткий опрос.", "QUESTION": "Довольны ли вы поликлиникой?"}
    for word, value in {**defaults, **parts}.items():
        text = text.replace(word, value)
    path = directory / "survey.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`civicpulse surveys validate PATH` as its handler runs it: status, lines on stderr."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    status = await validate_command(argparse.Namespace(paths=[path]), settings)
    return status, capsys.readouterr().err.splitlines()


def test_an_intro_too_long_for_the_invitation_is_refused_at_its_line(tmp_path: Path) -> None:
    """The real command: the intro fits a YAML file, not an invitation Telegram carries."""
    path = write(tmp_path, ONE_QUESTION, INTRO="И" * 4100)

    completed = subprocess.run(
        [sys.executable, "-m", "bot", "surveys", "validate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 1
    assert completed.stderr.splitlines()[0].startswith(
        f"{path}:5: intro.ru: the invitation in Russian would be 4,"
    )
    assert "Telegram refuses a message over 4,096" in completed.stderr
    assert "OK" not in completed.stdout


async def test_a_question_that_fits_alone_but_not_under_its_header_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Д" * 4000
    path = write(tmp_path, ONE_QUESTION, QUESTION=text)
    assert visible_length(text) < message_limits.MAX_TEXT_LENGTH

    status, lines = await validate(path, capsys)

    assert status == 1
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{path}:15: questions[0].text.ru: the screen of this question")
    assert "(survey title, progress, topic, question, hint" in lines[0]
    assert lines[1] == "1 problem(s) found"


async def test_a_text_question_is_measured_with_its_longest_answer_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Back on an answered text question, the screen shows the answer under the question."""
    template = ONE_QUESTION.replace("type: likert5", "type: text\n    max_length: 2000")
    path = write(tmp_path, template, QUESTION="Д" * 2100)

    status, lines = await validate(path, capsys)

    assert status == 1
    assert lines[0].startswith(f"{path}:16: questions[0].text.ru: the screen of this question")


@pytest.mark.parametrize(
    ("kind", "length"),
    [("single", 101), ("multi", 98)],  # a ticked multiple choice adds its mark: "☑️ "
)
async def test_an_option_too_long_for_its_button_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, length: int
) -> None:
    path = write(tmp_path, CHOICE, TYPE=kind, LONG_OPTION="О" * length, FIRST_ID="clinic")

    status, lines = await validate(path, capsys)

    assert status == 1
    assert lines == [
        f"{path}:16: questions[0].options[1].text.ru: the button of this option would read "
        "101 characters, more than the 100 a button may show; shorten it",
        "1 problem(s) found",
    ]


async def test_button_data_carries_indexes_not_ids_and_is_measured_at_its_largest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Option ids never go into a button's data (the longest id, 32 characters, passes);
    what does — the response id, the question's and the option's indexes — is measured
    with the largest response id a button may carry, as the keyboard packs it."""
    path = write(tmp_path, CHOICE, TYPE="single", LONG_OPTION="Больница", FIRST_ID="c" * 32)
    assert (await validate(path, capsys))[0] == 0

    monkeypatch.setattr(message_limits, "MAX_CALLBACK_DATA_BYTES", 20)
    status, lines = await validate(path, capsys)

    assert status == 1
    assert lines[0] == (
        f"{path}:8: questions[0]: a button of this question would carry 24 bytes of data "
        "(q:999999999999999:0:back), and Telegram refuses more than 20"
    )


async def test_topics_too_many_for_one_results_message_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/results lists every topic, though each title alone fits every other message."""
    topics = "".join(
        f"  - id: topic_{i}\n    title: {{ru: {'Т' * 150}, en: Topic {i}}}\n" for i in range(30)
    )
    path = write(tmp_path, ONE_QUESTION.replace("topics:\n", "topics:\n" + topics))

    status, lines = await validate(path, capsys)

    assert status == 1
    assert lines[0].startswith(
        f"{path}:7: topics: the /results message listing every topic in Russian would be "
    )
    # /report's region across waves lists them too, two waves each at least, in both
    # languages.
    assert [line.split(": ")[2].split(" would")[0] for line in lines[1:-1]] == [
        "/report's region across waves listing every topic in Russian",
        "/report's region across waves listing every topic in English",
    ]


async def test_many_topics_leave_the_oldest_waves_out_of_the_report_across_waves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twelve short topics fit /results, but not five waves of each with their intervals:
    /report's region across waves then shows the latest waves that fit, and the survey
    passes, since two waves of each fit."""
    topics = "".join(
        f"  - id: topic_{i}\n    title: {{ru: Тема {i}, en: Topic {i}}}\n" for i in range(12)
    )
    path = write(tmp_path, ONE_QUESTION.replace("topics:\n", "topics:\n" + topics))

    status, _ = await validate(path, capsys)

    assert status == 0
    widest = Cell((), "all", OVERALL, 9_999_999, False, Estimate(100.0, 0.0, 100.0, 1.0, 2.0))
    waves = [ReportWave(999_990 + i, date(2000, 12, 31)) for i in range(REPORT_WAVES)]
    line = [SeriesCell(w.wave_id, (), "all", OVERALL, True, False, widest, None) for w in waves]
    titles = ["Overall", *(f"Topic {i}" for i in range(12))]
    text = region_series_text(
        "Survey", "Region", waves, [ReportTopic(t, line) for t in titles], Texts("en")
    )
    shown = [w.wave_id for w in waves if f"#{w.wave_id}" in text]
    assert visible_length(text) <= message_limits.MAX_TEXT_LENGTH
    assert 2 <= len(shown) < REPORT_WAVES
    assert shown == [w.wave_id for w in waves][-len(shown) :]  # the latest ones


def test_markup_takes_no_room_only_the_text_as_read_counts(tmp_path: Path) -> None:
    """An intro of ampersands is five times longer as HTML (`&amp;`) than as read."""
    path = write(tmp_path, ONE_QUESTION, INTRO="'" + "&" * 3500 + "'")
    survey = load_survey_file(path)
    sent, _ = invitation_message(survey, "invitation", Texts("ru"), datetime.now(UTC), UTC)

    assert len(sent) > message_limits.MAX_TEXT_LENGTH
    assert visible_length(sent) < message_limits.MAX_TEXT_LENGTH
    assert visible_length("<b>Tom &amp; Jerry</b> &lt;3") == len("Tom & Jerry <3")
    assert message_limit_problems(survey) == []


async def test_the_bundled_surveys_pass(capsys: pytest.CaptureFixture[str]) -> None:
    for survey in load_surveys(BUNDLED_SURVEYS_DIR).values():
        assert message_limit_problems(survey) == [], survey.id
    for path in [BUNDLED_SURVEYS_DIR, *sorted(BUNDLED_SURVEYS_DIR.glob("*.yaml"))]:
        assert (await validate(path, capsys))[0] == 0


async def test_the_bot_refuses_to_start_with_such_a_survey(tmp_path: Path) -> None:
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    path = write(surveys, ONE_QUESTION, INTRO="И" * 4100)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token="123456:TEST-token",
        database_path=tmp_path / "civicpulse.db",
        surveys_dir=surveys,
    )

    with pytest.raises(SurveyFileError) as refused:
        await Application.create(settings)

    assert str(refused.value).startswith(f"{path}:5: intro.ru: the invitation in Russian")


def test_civicpulse_run_says_why_it_cannot_start_without_a_traceback(tmp_path: Path) -> None:
    """As a service manager sees it: status 2 (do not restart), the lines to fix."""
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    path = write(surveys, ONE_QUESTION, INTRO="И" * 4100)
    env = {
        "PATH": "/usr/bin:/bin",
        "BOT_TOKEN": "123456:TEST-token",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",  # never reached: the surveys come first
        "DATABASE_PATH": str(tmp_path / "civicpulse.db"),
        "SURVEYS_DIR": str(surveys),
        "PYTHONPATH": str(ROOT),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2, completed.stderr
    assert f"civicpulse: cannot start: {path}:5: intro.ru: the invitation" in completed.stderr
    assert "Traceback" not in completed.stderr
