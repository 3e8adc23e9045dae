"""Life situations and `number` questions: from the survey file to a stored answer.

A situation's questions are asked only of those who ticked it in the screening question,
through the same `show_if` every other condition uses; a path measure is typed in digits,
and whatever is not a whole number in range is asked again, with nothing stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import pytest

from bot.chat.message_limits import message_limit_problems
from bot.chat.question_view import QuestionScreen, question_keyboard, question_text
from bot.chat.texts import Texts
from bot.cli.main import build_parser
from bot.sandbox.fake_telegram import FakeTelegram, buttons
from bot.settings import Settings
from storage.result_files import write_answers_csv
from surveys.loader import BUNDLED_SURVEYS_DIR, load_survey_file, survey_fingerprint
from surveys.model import (
    DONT_KNOW,
    AnswerValue,
    QuestionType,
    Survey,
    situation_condition,
)
from surveys.progress import ProgressMark
from surveys.scoring import answer_score
from surveys.targeting import next_question, visible_questions
from tests.harness import Citizen, RunningBot, open_wave, stored_answers, table_snapshot

SITUATIONS_SURVEY = """\
id: paths
version: 1
title: {ru: Пути, en: Paths}
topics:
  - id: social_support
    title: {ru: Соцзащита, en: Social support}
situations:
  - id: child_payment
    topic: social_support
    title: {ru: Выплата на ребёнка, en: A child payment}
    description: {ru: заявление и решение, en: the application and the decision}
  - id: elderly_care
    topic: social_support
    title: {ru: Уход за пожилым, en: Care for an elderly relative}
    description: {ru: соцобслуживание на дому, en: social care at home}
questions:
  - id: lived
    type: multi
    topic: social_support
    screening: true
    text: {ru: Что из этого было, en: Which of these happened}
    options:
      - id: no_situation
        text: {ru: Ничего, en: None}
  - id: payment_days
    type: number
    topic: social_support
    situation: child_payment
    unit: days
    min: 1
    max: 21
    dont_know: true
    text: {ru: Сколько дней, en: How many days}
  - id: care_satisfaction
    type: likert5
    topic: social_support
    situation: elderly_care
    text: {ru: Довольны ли вы уходом, en: Are you satisfied with the care}
"""

#: What a question's dump held before situations and `number` questions existed.
EARLIER_QUESTION_FIELDS = {
    "id",
    "type",
    "topic",
    "text",
    "optional",
    "track",
    "show_if",
    "options",
    "max_length",
}
BUNDLED_SITUATIONS = {
    "child_payment",
    "job_search",
    "autism_support",
    "doctor_appointment",
    "elderly_care",
}


def paths_survey(tmp_path: Path) -> Survey:
    path = tmp_path / "paths.yaml"
    path.write_text(SITUATIONS_SURVEY, encoding="utf-8")
    return load_survey_file(path)


# --- the survey file ---------------------------------------------------------------------


def test_situations_become_the_screening_options_and_ordinary_conditions(tmp_path: Path) -> None:
    survey = paths_survey(tmp_path)
    lived, days, care = survey.questions

    assert [option.id for option in lived.options] == [
        "child_payment",
        "elderly_care",
        "no_situation",
    ]
    assert lived.options[0].text.ru == "Выплата на ребёнка"
    assert days.show_if == situation_condition("lived", "child_payment")
    assert care.show_if == situation_condition("lived", "elderly_care")
    # Stored and read back, the survey is the same: nothing is derived a second time.
    assert Survey.model_validate_json(survey.model_dump_json()) == survey


def test_a_survey_without_the_new_fields_keeps_its_fingerprint() -> None:
    """Versions stored before situations existed must still match their files: unset new
    fields are left out of the dump the fingerprint is taken of."""
    pulse = load_survey_file(BUNDLED_SURVEYS_DIR / "pulse.yaml")
    dumped = json.loads(pulse.model_dump_json())

    assert "situations" not in dumped
    for question in dumped["questions"]:
        assert set(question) == EARLIER_QUESTION_FIELDS
    assert survey_fingerprint(Survey.model_validate(dumped)) == survey_fingerprint(pulse)


def test_number_answers_are_whole_numbers_in_range_or_dont_know(tmp_path: Path) -> None:
    days = paths_survey(tmp_path).questions[1]

    assert days.accepts(1) and days.accepts(21) and days.accepts(DONT_KNOW)
    for refused in (0, 22, -3, "7", 7.0, True, "не помню", None, ["7"]):
        assert not days.accepts(refused), refused
    assert not days.is_scored
    assert answer_score(days, 7) is None and answer_score(days, DONT_KNOW) is None


def test_the_screening_question_gates_each_situations_questions(tmp_path: Path) -> None:
    survey = paths_survey(tmp_path)

    def shown(answers: Mapping[str, AnswerValue]) -> list[str]:
        return [q.id for q in visible_questions(survey, "general", answers)]

    assert shown({"lived": ["no_situation"]}) == ["lived"]
    assert shown({"lived": ["elderly_care"]}) == ["lived", "care_satisfaction"]
    assert shown({"lived": ["child_payment", "elderly_care"]}) == [
        "lived",
        "payment_days",
        "care_satisfaction",
    ]
    assert next_question(survey, "general", {"lived": ["no_situation"]}) is None


def test_the_bundled_survey_follows_five_situations_of_the_programme() -> None:
    survey = load_survey_file(BUNDLED_SURVEYS_DIR / "social_services.yaml")

    assert {s.id for s in survey.situations} == BUNDLED_SITUATIONS
    screening = [q for q in survey.questions if q.screening]
    assert len(screening) == 1 and screening[0].type is QuestionType.MULTI
    for situation in survey.situations:
        own = [q for q in survey.questions if q.situation == situation.id]
        assert all(q.topic == situation.topic for q in own), situation.id
        satisfaction = [q for q in own if q.type is QuestionType.LIKERT5]
        assert len(satisfaction) == 1 and satisfaction[0].is_scored
        measures = [q for q in own if q.type is QuestionType.NUMBER]
        assert 2 <= len(measures) <= 3 and not any(q.is_scored for q in measures)
        got_needed = survey.question(f"{situation.id}_got_needed")
        assert got_needed is not None and got_needed.situation == situation.id
        assert [o.id for o in got_needed.options] == ["needed_yes", "needed_partly", "needed_no"]
        assert not got_needed.is_scored


async def test_every_question_collected_before_stays_comparable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`surveys diff` of the version waves were collected with (kept in tests/data) and
    the bundled one: every old question is still there and compares."""
    old = Path(__file__).parent / "data" / "social_services_v1.yaml"
    new = BUNDLED_SURVEYS_DIR / "social_services.yaml"
    args = build_parser().parse_args(["surveys", "diff", str(old), str(new)])
    assert await args.handler(args, Settings(_env_file=None)) == 0  # type: ignore[call-arg]
    lines = capsys.readouterr().out.splitlines()

    before = load_survey_file(old)
    for question in before.questions:
        if question.is_scored:
            assert any(
                f": {question.id} (" in line and "comparable, same" in line for line in lines
            )
    assert not any("not in the new survey" in line or "changed" in line for line in lines)
    assert load_survey_file(new).version > before.version


def test_the_screening_screen_explains_each_situation(tmp_path: Path) -> None:
    survey = paths_survey(tmp_path)
    screen = QuestionScreen(survey, survey.questions[0], 0, ProgressMark(1, 50), {}, 1, False)
    text = question_text(screen, Texts("en"))

    assert "• <b>A child payment</b> — the application and the decision" in text
    assert "• <b>Care for an elderly relative</b> — social care at home" in text


def test_a_number_screen_names_its_range_and_offers_dont_know(tmp_path: Path) -> None:
    survey = paths_survey(tmp_path)
    days = survey.questions[1]
    answered = {"lived": ["child_payment"], "payment_days": 21}
    screen = QuestionScreen(survey, days, 1, ProgressMark(2, 66), answered, 1, True)
    texts = Texts("ru")

    text = question_text(screen, texts)
    assert "Наименьший ответ — 1 день, наибольший — 21 день." in text
    assert "Ваш ответ: 21 день" in text
    labels = [
        button["text"]
        for row in question_keyboard(screen, texts)["inline_keyboard"]
        for button in row
    ]
    assert labels == ["🤷 Не помню", "⬅️ Назад"]


def test_the_screening_screen_is_measured_with_every_description(tmp_path: Path) -> None:
    """Each description fits alone; listed together under the screening question they
    would pass Telegram's 4,096 characters, and `surveys validate` says so at the question."""
    long = "д" * 2100
    path = tmp_path / "paths.yaml"
    path.write_text(
        SITUATIONS_SURVEY.replace("заявление и решение", long).replace(
            "соцобслуживание на дому", long
        ),
        encoding="utf-8",
    )
    survey = load_survey_file(path)

    found = message_limit_problems(survey)
    assert [loc for loc, _ in found] == [("questions", 0, "text", "ru")]
    assert "the situations with their descriptions" in found[0][1]


# --- in chat -----------------------------------------------------------------------------

#: A general-track citizen of the social-services survey who used no listed service.
NO_SERVICES: dict[str, AnswerValue] = {
    "services_used": ["none"],
    "pension_payments": None,
    "elderly_home_care": None,
    "recommend_region": 7,
    "fix_first": None,
}


async def answer_until(
    citizen: Citizen, survey: Survey, plan: Mapping[str, AnswerValue], question_id: str
) -> None:
    """Answer from `plan` until the question `question_id` is on screen."""
    while (shown := citizen.shown_question(survey)).id != question_id:
        await citizen.answer(shown, plan[shown.id])


async def unchanged(running: RunningBot, action: Callable[[], Awaitable[object]]) -> None:
    before = await table_snapshot(running.app)
    await action()
    assert await table_snapshot(running.app) == before


async def test_a_citizen_walks_a_situations_path_typing_numbers(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    survey = app.surveys["social_services"].survey
    wave = await open_wave(app, regions=["49"])
    citizen = Citizen(server, server.user(6001, "Нина"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "45-54")
    plan: dict[str, AnswerValue] = {
        **NO_SERVICES,
        "situations_lived": ["child_payment"],
        "child_payment_satisfaction": 2,
    }
    await answer_until(citizen, survey, plan, "situations_lived")
    assert "сиделку, место в доме-интернате" in (citizen.last.text or "")
    await citizen.answer(citizen.shown_question(survey), plan["situations_lived"])
    await answer_until(citizen, survey, plan, "child_payment_days")
    question = citizen.last
    assert "Наименьший ответ — 0 дней, наибольший — 365 дней." in (question.text or "")
    stored = await stored_answers(app, 6001)

    for wrong in ("много", "3 дня", "366", "-5", "4.5", "١٢"):

        async def type_it(wrong: str = wrong) -> None:
            reply = await citizen.say(wrong)
            assert "Ответ не принят" in (reply.text or "")
            assert "наибольший — 365 дней" in (reply.text or "")

        await unchanged(running, type_it)

    async def send_a_sticker() -> None:
        citizen.user.send_sticker()
        assert "Ответ не принят" in ((await citizen.reply()).text or "")

    await unchanged(running, send_a_sticker)
    assert await stored_answers(app, 6001) == stored

    days = survey.question("child_payment_days")
    assert days is not None
    documents = await citizen.answer(days, 45)
    assert "документов и справок" in (documents.text or "")
    assert "Наименьший ответ — 0 документов, наибольший — 50 документов." in (documents.text or "")
    await citizen.tap("Не помню")
    rest = {
        **plan,
        "child_payment_online": "online_partly",
        "child_payment_got_needed": "needed_yes",
    }
    asked = await citizen.complete(survey, rest)
    assert asked == [
        "child_payment_online",
        "child_payment_got_needed",
        "recommend_region",
        "fix_first",
    ]

    answers = await stored_answers(app, 6001)
    assert answers["child_payment_days"] == 45
    assert answers["child_payment_documents"] == DONT_KNOW
    assert not {"job_search_satisfaction", "elderly_care_weeks"} & set(answers)
    scores = await app.database.fetch_all(
        "SELECT question_id, score FROM answers WHERE question_id LIKE 'child_payment_%'"
    )
    by_question = {row["question_id"]: row["score"] for row in scores}
    assert by_question["child_payment_satisfaction"] == 25.0
    assert by_question["child_payment_days"] is None
    assert by_question["child_payment_documents"] is None

    target = io.BytesIO()
    await write_answers_csv(app.database, wave, target, key=b"k" * 32)
    rows = list(csv.DictReader(io.StringIO(target.getvalue().decode("utf-8"))))
    values = {row["question_id"]: row["value"] for row in rows}
    assert values["child_payment_days"] == "45"
    assert values["child_payment_documents"] == DONT_KNOW
    assert values["situations_lived"] == "child_payment"


async def test_a_citizen_who_lived_no_situation_never_sees_one(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    survey = app.surveys["social_services"].survey
    await open_wave(app, regions=["49"])
    citizen = Citizen(server, server.user(6002, "Олег"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "55-64")

    asked = await citizen.complete(survey, {**NO_SERVICES, "situations_lived": ["no_situation"]})

    assert asked == [
        "services_used",
        "pension_payments",
        "elderly_home_care",
        "situations_lived",
        "recommend_region",
        "fix_first",
    ]
    assert not {q.id for q in survey.questions if q.situation} & set(asked)
    assert "situations_lived" in await stored_answers(app, 6002)


async def test_unticking_a_situation_drops_its_answers(
    server: FakeTelegram, running: RunningBot
) -> None:
    """Back to the screening question and a different choice: the questions of the
    situation no longer lived are gone with their answers, as with any condition."""
    app = running.app
    survey = app.surveys["social_services"].survey
    await open_wave(app, regions=["49"])
    citizen = Citizen(server, server.user(6003, "Яна"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "36-44")
    plan: dict[str, AnswerValue] = {**NO_SERVICES, "situations_lived": ["elderly_care"]}
    await answer_until(citizen, survey, plan, "situations_lived")
    await citizen.answer(citizen.shown_question(survey), ["elderly_care"])
    await citizen.tap("4")  # elderly_care_satisfaction
    weeks = await citizen.answer(citizen.shown_question(survey), 6)
    assert "документов и справок" in (weeks.text or "")
    assert (await stored_answers(app, 6003))["elderly_care_weeks"] == 6

    await citizen.tap("Назад")
    await citizen.tap("Назад")
    screening = await citizen.tap("Назад")
    assert "☑️ Уход за пожилым родственником" in [label for label, _ in buttons(screening)]
    await citizen.tap("Уход за пожилым родственником")
    await citizen.tap("Ничего из этого")
    following = await citizen.tap("Готово")

    assert "порекомендуете наш регион" in (following.text or "")
    answers = await stored_answers(app, 6003)
    assert answers["situations_lived"] == ["no_situation"]
    assert not any(key.startswith("elderly_care_") for key in answers)
