"""A citizen's whole journey through the real bot: consent, profile, a full survey."""

from __future__ import annotations

from bot.sandbox.fake_telegram import FakeTelegram, buttons
from surveys.model import DONT_KNOW, AnswerValue
from tests.harness import Citizen, RunningBot, open_wave, stored_answers

YOUTH_ONLY = {"youth_first_job", "youth_study", "youth_leisure", "youth_move_plans"}
GENERAL_ONLY = {"pension_payments", "elderly_home_care"}

#: One answer for every question of the social-services survey; what is actually stored
#: depends on the track and on the conditions the earlier answers trigger.
YOUNG_PLAN: dict[str, AnswerValue] = {
    "services_used": ["school", "employment"],
    "school_teaching": 4,
    "school_conditions": 3,
    "school_contact": None,
    "employment_centre": 2,
    "employment_outcome": "still_searching",
    "situations_lived": ["no_situation"],
    "youth_first_job": 2,
    "youth_study": 4,
    "youth_leisure": 3,
    "youth_move_plans": "moving_for_work",
    "youth_stay_reasons": ["better_pay", "housing"],
    "recommend_region": 6,
    "fix_first": "Больше вакансий для молодых специалистов",
}
YOUNG_ASKED = list(YOUNG_PLAN)

OLDER_PLAN: dict[str, AnswerValue] = {
    "services_used": ["clinic", "hospital"],
    "gp_wait": "up_to_week",
    "clinic_booking": 3,
    "clinic_specialist": "yes_long_wait",
    "clinic_overall": 3,
    "hospital_treatment": 5,
    "hospital_conditions": 4,
    "hospital_medicines": "paid_some",
    "pension_payments": 2,
    "elderly_home_care": None,
    "situations_lived": ["doctor_appointment"],
    "doctor_appointment_satisfaction": 3,
    "doctor_appointment_days": 12,
    "doctor_appointment_tries": DONT_KNOW,
    "doctor_appointment_online": "online_no",
    "doctor_appointment_got_needed": "needed_partly",
    "recommend_region": 8,
    "fix_first": None,
}
OLDER_ASKED = list(OLDER_PLAN)


async def test_youth_and_general_respondents_in_two_regions_complete_the_survey(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    survey = app.surveys["social_services"].survey
    await open_wave(app, regions=["49", "65"])
    people = [
        (
            Citizen(server, server.user(1001, "Аня")),
            ("Новгород", "Новгородская", "Боровичский", "18-24"),
            YOUNG_PLAN,
            YOUNG_ASKED,
        ),
        (
            Citizen(server, server.user(1002, "Борис")),
            ("Свердлов", "Свердловская", "Екатеринбург", "55-64"),
            OLDER_PLAN,
            OLDER_ASKED,
        ),
        (
            Citizen(server, server.user(1003, "Вера")),
            ("Свердлов", "Свердловская", None, "25-30"),
            YOUNG_PLAN,
            YOUNG_ASKED,
        ),
        (
            Citizen(server, server.user(1004, "Глеб")),
            ("новгор", "Новгородская", "Великий Новгород", "45-54"),
            OLDER_PLAN,
            OLDER_ASKED,
        ),
    ]
    for citizen, (query, region, municipality, age), plan, expected_order in people:
        first_question = await citizen.onboard(query, region, municipality, age)
        assert "вопрос 1 ·" in (first_question.text or "")
        asked = await citizen.complete(survey, plan)
        assert asked == expected_order
        assert "Спасибо" in (citizen.last.text or "")
        assert [label for label, _ in buttons(citizen.last)] == ["📊 Как дела в моём регионе"]
    # The survey's first wave is still open and the region has recorded no actions yet.
    news = await people[0][0].tap("📊 Как дела в моём регионе")
    assert (news.text or "").startswith("Результатов по вашему региону пока нет")

    for citizen, _, plan, expected_order in people:
        stored = await stored_answers(app, citizen.user.id)
        assert stored == {question_id: plan[question_id] for question_id in expected_order}

    young, older = await stored_answers(app, 1001), await stored_answers(app, 1002)
    assert set(young) >= YOUTH_ONLY and not GENERAL_ONLY & set(young)
    assert set(older) >= GENERAL_ONLY and not YOUTH_ONLY & set(older)
    # Questions about services the respondent did not use were never asked.
    assert "gp_wait" not in young and "school_teaching" not in older

    profiles = await app.database.fetch_all(
        "SELECT p.telegram_id, r.region_code, r.municipality_code, r.age_band, r.track,"
        " r.completed_at IS NOT NULL AS done FROM responses r"
        " JOIN respondents p ON p.id = r.respondent_id ORDER BY p.telegram_id"
    )
    assert [tuple(row) for row in profiles] == [
        (1001, "49", "49606000", "18-24", "youth", 1),
        (1002, "65", "65701000", "55-64", "general", 1),
        (1003, "65", None, "25-30", "youth", 1),
        (1004, "49", "49701000", "45-54", "general", 1),
    ]

    again = await people[0][0].command("/survey")
    assert "уже прошли" in (again.text or "") or "все открытые" in (again.text or "")
