"""Who is asked what: tracks by age band, conditions, progress, and well-formed answers.

Most cases run on the bundled social_services survey, because that is what citizens will
actually see; small inline surveys pin down the rules it does not exercise.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from surveys.loader import BUNDLED_SURVEYS_DIR, load_survey_file
from surveys.model import AGE_BAND_IDS, AGE_BANDS, AnswerValue, Question, Survey, YouthAge
from surveys.targeting import (
    age_band_range,
    next_question,
    previous_question,
    stale_answers,
    track_for,
    visible_questions,
)

YOUTH_BANDS_14_35 = ("14-17", "18-24", "25-30", "31-35")
SERVICE_SECTIONS = {
    "school": ["school_teaching", "school_conditions", "school_contact"],
    "clinic": ["gp_wait", "clinic_booking", "clinic_specialist", "clinic_overall"],
    "hospital": ["hospital_treatment", "hospital_conditions", "hospital_medicines"],
    "social": ["social_office", "social_visits"],
    "employment": ["employment_centre", "employment_outcome"],
}
GENERAL_START = [
    "services_used",
    "pension_payments",
    "elderly_home_care",
    "situations_lived",
    "recommend_region",
    "fix_first",
]
YOUTH_START = [
    "services_used",
    "situations_lived",
    "youth_first_job",
    "youth_study",
    "youth_leisure",
    "youth_move_plans",
    "recommend_region",
    "fix_first",
]


@pytest.fixture(scope="module")
def social() -> Survey:
    return load_survey_file(BUNDLED_SURVEYS_DIR / "social_services.yaml")


def text(label: str) -> dict[str, str]:
    return {"ru": label, "en": label}


def question(question_id: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"id": question_id, "type": kind, "topic": "health", "text": text(question_id)} | extra


def options(*ids: str) -> list[dict[str, Any]]:
    return [{"id": option_id, "text": text(option_id)} for option_id in ids]


def inline_survey(*questions: dict[str, Any], youth_age: dict[str, int] | None = None) -> Survey:
    data: dict[str, Any] = {
        "id": "inline",
        "version": 1,
        "title": text("Inline"),
        "topics": [{"id": "health", "title": text("Health")}],
        "questions": list(questions),
    }
    if youth_age is not None:
        data["youth_age"] = youth_age
    return Survey.model_validate(data)


def ids(questions: list[Question]) -> list[str]:
    return [q.id for q in questions]


# --- tracks ---------------------------------------------------------------------------------


def test_age_bands_cover_everyone_from_14_without_gaps() -> None:
    lows = [low for _, low, _ in AGE_BANDS]
    highs = [high for _, _, high in AGE_BANDS]

    assert lows[0] == 14 and highs[-1] is None
    assert all(high + 1 == low for high, low in zip(highs[:-1], lows[1:], strict=True))


@pytest.mark.parametrize("band", AGE_BAND_IDS)
def test_track_for_the_default_youth_range(social: Survey, band: str) -> None:
    expected = "youth" if band in YOUTH_BANDS_14_35 else "general"

    assert track_for(social, band) == expected


@pytest.mark.parametrize("band", AGE_BAND_IDS)
def test_track_for_a_youth_range_ending_at_30(social: Survey, band: str) -> None:
    narrower = social.model_copy(update={"youth_age": YouthAge(min=14, max=30)})
    expected = "youth" if band in ("14-17", "18-24", "25-30") else "general"

    assert track_for(narrower, band) == expected


def test_track_for_a_range_declared_in_the_file() -> None:
    survey = inline_survey(question("clinic", "likert5"), youth_age={"min": 18, "max": 24})

    assert [track_for(survey, band) for band in AGE_BAND_IDS[:3]] == [
        "general",
        "youth",
        "general",
    ]


@pytest.mark.parametrize(("low", "high"), [(14, 33), (16, 35), (25, 24)])
def test_youth_range_must_not_split_an_age_band(low: int, high: int) -> None:
    with pytest.raises(ValidationError):
        YouthAge(min=low, max=high)


def test_unknown_age_band_is_refused(social: Survey) -> None:
    with pytest.raises(ValueError, match="unknown age band"):
        track_for(social, "16-20")
    assert age_band_range("65+") == (65, None)


# --- which questions -----------------------------------------------------------------------


def test_youth_only_questions_appear_only_on_the_youth_track(social: Survey) -> None:
    assert ids(visible_questions(social, "youth", {})) == YOUTH_START
    assert ids(visible_questions(social, "general", {})) == GENERAL_START


def test_youth_questions_are_asked_by_age_band(social: Survey) -> None:
    young = visible_questions(social, track_for(social, "31-35"), {})
    older = visible_questions(social, track_for(social, "36-44"), {})

    assert "youth_move_plans" in ids(young) and "pension_payments" not in ids(young)
    assert "pension_payments" in ids(older) and "youth_move_plans" not in ids(older)


@pytest.mark.parametrize("service", sorted(SERVICE_SECTIONS))
def test_a_service_section_appears_only_to_its_users(social: Survey, service: str) -> None:
    visible = ids(visible_questions(social, "general", {"services_used": [service]}))

    for other, section in SERVICE_SECTIONS.items():
        shown = [question_id in visible for question_id in section]
        assert shown == [other == service] * len(section), other


def test_several_services_open_several_sections_in_file_order(social: Survey) -> None:
    visible = ids(visible_questions(social, "general", {"services_used": ["employment", "clinic"]}))

    assert visible == [
        "services_used",
        *SERVICE_SECTIONS["clinic"],
        "pension_payments",
        "elderly_home_care",
        *SERVICE_SECTIONS["employment"],
        "situations_lived",
        "recommend_region",
        "fix_first",
    ]


def test_changing_an_earlier_answer_hides_its_follow_ups(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {
        "services_used": ["clinic"],
        "gp_wait": "up_to_week",
        "clinic_booking": 4,
    }
    assert stale_answers(social, "general", answers) == []

    answers["services_used"] = ["school"]

    assert stale_answers(social, "general", answers) == ["gp_wait", "clinic_booking"]
    assert next_question(social, "general", answers) == social.question("school_teaching")


def test_moving_plans_follow_up_comes_and_goes(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {"services_used": ["none"], "youth_move_plans": "staying"}
    assert "youth_stay_reasons" not in ids(visible_questions(social, "youth", answers))

    answers["youth_move_plans"] = "moving_for_work"
    assert "youth_stay_reasons" in ids(visible_questions(social, "youth", answers))

    answers["youth_stay_reasons"] = ["better_pay", "housing"]
    answers["youth_move_plans"] = "staying"
    assert stale_answers(social, "youth", answers) == ["youth_stay_reasons"]


def test_youth_answers_are_stale_on_the_general_track(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {"services_used": ["none"], "youth_first_job": 3}

    assert stale_answers(social, "general", answers) == ["youth_first_job"]


def test_a_skipped_question_never_opens_a_follow_up() -> None:
    survey = inline_survey(
        question("visited", "single", optional=True, options=options("yes_", "no_")),
        question("clinic", "likert5", show_if={"question": "visited", "any_of": ["yes_"]}),
    )

    assert ids(visible_questions(survey, "general", {"visited": None})) == ["visited"]
    assert ids(visible_questions(survey, "general", {"visited": "yes_"})) == ["visited", "clinic"]


def test_scale_conditions_with_min_and_max() -> None:
    survey = inline_survey(
        question("clinic", "likert5"),
        question("why_unhappy", "text", optional=True, show_if={"question": "clinic", "max": 2}),
        question("recommend", "nps"),
        question("why_fan", "text", optional=True, show_if={"question": "recommend", "min": 9}),
    )

    def shown(clinic: int, recommend: int) -> list[str]:
        answers: dict[str, AnswerValue] = {"clinic": clinic, "recommend": recommend}
        return [qid for qid in ids(visible_questions(survey, "general", answers)) if "why" in qid]

    assert shown(1, 10) == ["why_unhappy", "why_fan"]
    assert shown(2, 9) == ["why_unhappy", "why_fan"]
    assert shown(3, 8) == []


# --- progress -----------------------------------------------------------------------------


def test_next_question_is_the_first_visible_one_unanswered(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {}
    assert next_question(social, "general", answers) == social.question("services_used")

    answers["services_used"] = ["clinic"]
    assert next_question(social, "general", answers) == social.question("gp_wait")


def test_a_skip_counts_as_an_answer(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {"services_used": ["none"], "pension_payments": None}

    assert next_question(social, "general", answers) == social.question("elderly_home_care")


def test_questionnaire_finishes_when_every_visible_question_is_answered(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {
        "services_used": ["none"],
        "pension_payments": 4,
        "elderly_home_care": None,
        "situations_lived": ["no_situation"],
        "recommend_region": 8,
        "fix_first": None,
    }

    assert next_question(social, "general", answers) is None


def test_previous_question_is_where_back_leads(social: Survey) -> None:
    answers: dict[str, AnswerValue] = {"services_used": ["clinic"], "gp_wait": "up_to_week"}

    assert previous_question(social, "general", answers, "services_used") is None
    assert previous_question(social, "general", answers, "clinic_booking") == social.question(
        "gp_wait"
    )
    assert previous_question(social, "general", answers, "pension_payments") == social.question(
        "clinic_overall"
    )
    # A question no longer shown leads back to the last answer still standing.
    assert previous_question(social, "general", answers, "school_teaching") == social.question(
        "gp_wait"
    )


# --- forged answers --------------------------------------------------------------------------

ACCEPTS_CASES: list[tuple[str, AnswerValue | object, bool]] = [
    ("clinic_overall", 1, True),
    ("clinic_overall", 5, True),
    ("clinic_overall", 0, False),
    ("clinic_overall", 6, False),
    ("clinic_overall", -1, False),
    ("clinic_overall", True, False),
    ("clinic_overall", "3", False),
    ("clinic_overall", 3.0, False),
    ("clinic_overall", None, False),
    ("recommend_region", 0, True),
    ("recommend_region", 10, True),
    ("recommend_region", 11, False),
    ("recommend_region", False, False),
    ("gp_wait", "up_to_week", True),
    ("gp_wait", "did_not_visit", True),
    ("gp_wait", "tomorrow", False),
    ("gp_wait", ["up_to_week"], False),
    ("gp_wait", 1, False),
    ("gp_wait", None, False),
    ("services_used", ["clinic", "school"], True),
    ("services_used", ["clinic", "clinic"], False),
    ("services_used", ["clinic", "spa"], False),
    ("services_used", [], False),
    ("services_used", "clinic", False),
    ("services_used", ["clinic", 1], False),
    ("school_contact", None, True),
    ("fix_first", "Дороги", True),
    ("fix_first", "д" * 500, True),
    ("fix_first", "д" * 501, False),
    ("fix_first", "", False),
    ("fix_first", 42, False),
    ("fix_first", None, True),
]


@pytest.mark.parametrize(("question_id", "value", "expected"), ACCEPTS_CASES)
def test_accepts_rejects_forged_values(
    social: Survey, question_id: str, value: Any, expected: bool
) -> None:
    target = social.question(question_id)

    assert target is not None
    assert target.accepts(value) is expected
