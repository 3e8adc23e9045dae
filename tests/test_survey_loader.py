"""Survey files: the bundled ones are valid, and every mistake is reported where it is.

Each bad file is written inline, starting at line 1 right after the opening quotes, so
the expected line numbers can be checked by eye.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from surveys.loader import (
    BUNDLED_SURVEYS_DIR,
    MAX_FILE_SIZE,
    Problem,
    SurveyFileError,
    load_survey_file,
    load_surveys,
    survey_fingerprint,
    validate_paths,
)
from surveys.model import QuestionType, Survey

TYPES_HINT = "use one of likert5, nps, single, multi, text, number"


def write(directory: Path, text: str, name: str = "survey.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_in(path: Path) -> list[Problem]:
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path)
    return caught.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_in(path)
    assert len(problems) == 1, problems
    return problems[0]


# --- the bundled surveys ----------------------------------------------------------------


def test_bundled_surveys_load_and_validate() -> None:
    surveys = load_surveys(BUNDLED_SURVEYS_DIR)

    assert sorted(surveys) == ["pulse", "social_services"]
    assert validate_paths([BUNDLED_SURVEYS_DIR]) == []
    assert validate_paths(sorted(BUNDLED_SURVEYS_DIR.glob("*.yaml"))) == []


def test_social_services_covers_every_service_and_the_youth_track() -> None:
    survey = load_survey_file(BUNDLED_SURVEYS_DIR / "social_services.yaml")
    topics = {topic.id: topic for topic in survey.topics}
    # The life situations are tests/test_situations.py's: here, the questions for everyone.
    questions = [q for q in survey.questions if q.situation is None and not q.screening]

    assert (survey.id, survey.version) == ("social_services", 2)
    assert (survey.youth_age.min, survey.youth_age.max) == (14, 35)
    assert {"education", "outpatient", "hospitals", "social_support", "employment", "youth"} <= (
        set(topics)
    )
    assert topics["outpatient"].weight > topics["education"].weight
    assert 18 <= len(questions) <= 24
    kinds = [question.type for question in questions]
    assert kinds.count(QuestionType.LIKERT5) > len(questions) // 2
    assert kinds.count(QuestionType.NPS) == 1
    assert QuestionType.MULTI in kinds
    texts = [question for question in questions if question.type is QuestionType.TEXT]
    assert len(texts) == 1 and texts[0].optional and texts[0].max_length == 500
    youth = [question for question in questions if question.track == "youth"]
    assert len(youth) >= 4 and all(question.topic == "youth" for question in youth)
    assert any(question.track == "general" for question in questions)
    gated = [q for q in questions if q.show_if and q.show_if.question == "services_used"]
    assert {q.topic for q in gated} == {
        "education",
        "outpatient",
        "hospitals",
        "social_support",
        "employment",
    }


def test_scored_choices_leave_did_not_use_unscored() -> None:
    survey = load_survey_file(BUNDLED_SURVEYS_DIR / "social_services.yaml")
    wait = survey.question("gp_wait")

    assert wait is not None
    assert [option.score for option in wait.options] == [100, 75, 40, 0, None]


def test_pulse_is_short() -> None:
    survey = load_survey_file(BUNDLED_SURVEYS_DIR / "pulse.yaml")

    assert (survey.id, survey.version) == ("pulse", 1)
    assert 5 <= len(survey.questions) <= 6
    assert [q.type for q in survey.questions].count(QuestionType.NPS) == 1


def test_fingerprint_changes_with_any_text_and_only_then(tmp_path: Path) -> None:
    original = (BUNDLED_SURVEYS_DIR / "pulse.yaml").read_text(encoding="utf-8")
    copy = write(tmp_path, original, "copy.yaml")
    edited = write(tmp_path, original.replace("Стала лучше", "Улучшилась"), "edited.yaml")
    bundled = load_survey_file(BUNDLED_SURVEYS_DIR / "pulse.yaml")

    fingerprint = survey_fingerprint(bundled)
    assert len(fingerprint) == 64
    assert survey_fingerprint(load_survey_file(copy)) == fingerprint
    assert survey_fingerprint(load_survey_file(edited)) != fingerprint
    assert survey_fingerprint(Survey.model_validate_json(bundled.model_dump_json())) == (
        fingerprint
    )


def test_example_in_the_format_guide_is_valid(tmp_path: Path) -> None:
    guide = (Path(__file__).parents[1] / "docs" / "surveys.md").read_text(encoding="utf-8")
    section = guide.split("## A short example", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]

    survey = load_survey_file(write(tmp_path, example))

    assert [q.id for q in survey.questions] == ["visited", "gp_wait", "first_job"]


# --- one mistake each ---------------------------------------------------------------------


def test_valid_inline_survey_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    assert load_survey_file(path).question("clinic") is not None


def test_unknown_question_type(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: scale7
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    assert only_problem(path) == Problem(
        path, 9, "questions[0].type", f'unknown question type "scale7"; {TYPES_HINT}'
    )


def test_duplicate_question_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
          - id: clinic
            type: nps
            topic: health
            text: {ru: Порекомендуете, en: Recommend}
        """,
    )

    assert only_problem(path) == Problem(
        path, 12, "questions[1].id", 'duplicate question id "clinic" (see line 8)'
    )


def test_condition_pointing_at_a_later_question(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: why_unhappy
            type: text
            topic: health
            text: {ru: Почему, en: Why}
            show_if: {question: clinic, max: 2}
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    problem = only_problem(path)
    assert (problem.file, problem.line, problem.field) == (
        path,
        12,
        "questions[0].show_if.question",
    )
    assert problem.message.startswith('question "clinic" comes later')
    assert "(see line 13)" in problem.message


def test_condition_pointing_at_an_unknown_question(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
          - id: why_unhappy
            type: text
            topic: health
            text: {ru: Почему, en: Why}
            show_if:
              question: clinik
              max: 2
        """,
    )

    assert only_problem(path) == Problem(
        path,
        17,
        "questions[1].show_if.question",
        'unknown question "clinik" (did you mean "clinic"?)',
    )


def test_condition_value_that_is_not_a_possible_answer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: used
            type: single
            topic: health
            text: {ru: Были в поликлинике, en: Did you visit a clinic}
            options:
              - id: visited
                text: {ru: Да, en: 'Yes'}
              - id: not_visited
                text: {ru: Нет, en: 'No'}
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
            show_if:
              question: used
              any_of:
                - visited
                - visted
        """,
    )

    assert only_problem(path) == Problem(
        path,
        25,
        "questions[1].show_if.any_of[1]",
        '"visted" is not a possible answer to "used"; its options are visited, not_visited',
    )


def test_unknown_topic(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: helth
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    problem = only_problem(path)
    assert str(problem) == (
        f'{path}:10: questions[0].topic: unknown topic "helth" (did you mean "health"?)'
    )


def test_missing_english_translation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text:
              ru: Насколько вы удовлетворены работой поликлиники?
        """,
    )

    assert only_problem(path) == Problem(
        path, 11, "questions[0].text.en", "the English translation is missing"
    )


def test_empty_translation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text:
              ru: Насколько вы удовлетворены работой поликлиники?
              en:
        """,
    )

    assert only_problem(path) == Problem(
        path, 13, "questions[0].text.en", "the English translation is empty"
    )


def test_option_score_out_of_range(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: gp_wait
            type: single
            topic: health
            text: {ru: Сколько ждали, en: How long did you wait}
            options:
              - id: next_day
                text: {ru: День, en: A day}
                score: 150
              - id: week
                text: {ru: Неделю, en: A week}
                score: 40
        """,
    )

    assert only_problem(path) == Problem(
        path, 15, "questions[0].options[0].score", "score must be between 0 and 100"
    )


def test_unknown_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            optinal: true
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    assert only_problem(path) == Problem(
        path, 11, "questions[0].optinal", 'unknown field (typo?); did you mean "optional"?'
    )


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    assert problems_in(path) == [
        Problem(path, 1, "version", "required field is missing"),
        Problem(path, 7, "questions[0].type", "required field is missing"),
    ]


def test_choice_question_without_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: single
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    assert only_problem(path) == Problem(
        path, 8, "questions[0].options", "a single question needs at least two options"
    )


def test_youth_range_off_the_age_band_edges(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        youth_age: {min: 14, max: 33}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (4, "youth_age")
    assert "no age band is split" in problem.message


# --- YAML-level mistakes --------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title:
          ru: Опрос: как работают поликлиники
          en: Survey
        """,
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (4, "")
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed here")
    assert 'if a text contains ": ", put the whole text in quotes' in problem.message


def test_unclosed_quote_points_at_where_it_opens(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: "Опрос, en: Survey}
        topics: []
        """,
    )

    problem = only_problem(path)
    assert problem.line == 3
    assert "never closed" in problem.message


def test_tab_indentation(tmp_path: Path) -> None:
    path = write(tmp_path, "id: demo\ntitle:\n\tru: Опрос\n")

    problem = only_problem(path)
    assert problem.line == 3
    assert problem.message.endswith("indent with spaces, not tabs")


def test_question_mark_inside_braces_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Как дела?, en: How are you?}
        """,
    )

    problem = only_problem(path)
    assert problem.line == 3
    assert problem.message.endswith('with "?", ":", "," or "#" must be put in quotes')


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)

    assert only_problem(path) == Problem(path, None, "", "the file is empty")


@pytest.mark.parametrize(
    ("text", "found"), [("- id: demo\n", "a list"), ("just words\n", '"just words"')]
)
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    path = write(tmp_path, text)

    problem = only_problem(path)
    assert problem.line == 1
    assert problem.message.startswith("a survey file must be a block of fields")
    assert problem.message.endswith(f"not {found}")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"

    problem = only_problem(path)
    assert (problem.file, problem.line) == (path, None)
    assert problem.message.startswith("cannot read the file")


def test_file_over_one_megabyte_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "# " + "x" * MAX_FILE_SIZE + "\n")

    assert "larger than 1 MB" in only_problem(path).message


def test_file_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "survey.yaml"
    path.write_bytes("id: demo\ntitle:\n  ru: Опрос\n".encode("cp1251"))

    problem = only_problem(path)
    assert problem.line == 3
    assert "not in UTF-8" in problem.message


def test_key_written_twice(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
            text: {ru: Больница, en: Hospital}
        """,
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (12, "questions[0].text")
    assert "written twice" in problem.message


def test_bare_no_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: visited
            type: single
            topic: health
            text: {ru: Были в поликлинике, en: Did you visit a clinic}
            options:
              - id: "yes"
                text: {ru: Да, en: "Yes"}
              - id: no
                text: {ru: Нет, en: "No"}
        """,
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (15, "questions[0].options[1].id")
    assert 'put the word in quotes, like "no"' in problem.message


def test_comma_inside_braces_is_explained(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, как она, en: Clinic}
        """,
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (11, "questions[0].text.как она")
    assert "must be put in quotes" in problem.message


# --- many mistakes at once ----------------------------------------------------------------


def test_every_problem_in_a_file_is_reported_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: demo
        version: 1
        colour: blue
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: scale7
            topic: health
            text: {ru: Поликлиника, en: Clinic}
          - id: hospital
            type: likert5
            topic: hospitals
            text:
              ru: Больница?
          - id: clinic
            type: single
            topic: health
            text: {ru: Ждали, en: Waited}
            show_if: {question: later, any_of: [x]}
            options:
              - id: short
                text: {ru: Мало, en: Briefly}
                score: 150
              - id: long
                text: {ru: Долго, en: Long}
          - id: later
            type: likert5
            topic: health
            text: {ru: Потом, en: Later}
        """,
    )

    problems = problems_in(path)

    assert [(p.line, p.field) for p in problems] == [
        (3, "colour"),
        (10, "questions[0].type"),
        (15, "questions[1].topic"),
        (16, "questions[1].text.en"),
        (18, "questions[2].id"),
        (22, "questions[2].show_if.question"),
        (26, "questions[2].options[0].score"),
    ]
    assert all(problem.file == path for problem in problems)


def test_error_message_lists_one_problem_per_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        id: Demo
        version: 0
        title: {ru: Опрос, en: Survey}
        topics:
          - id: health
            title: {ru: Здоровье, en: Health}
        questions:
          - id: clinic
            type: likert5
            topic: health
            text: {ru: Поликлиника, en: Clinic}
        """,
    )

    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path)

    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:1: id: must be an id of lowercase Latin letters")
    assert lines[1] == f"{path}:2: version: must be at least 1"


def test_problem_reads_like_a_compiler_message() -> None:
    file = Path("social.yaml")

    assert str(Problem(file, 42, "questions[3].topic", 'unknown topic "helth"')) == (
        'social.yaml:42: questions[3].topic: unknown topic "helth"'
    )
    assert str(Problem(file, None, "", "the file is empty")) == "social.yaml: the file is empty"


# --- folders --------------------------------------------------------------------------------

MINIMAL = """\
id: {survey_id}
version: 1
title: {{ru: Опрос, en: Survey}}
topics:
  - id: health
    title: {{ru: Здоровье, en: Health}}
questions:
  - id: clinic
    type: likert5
    topic: health
    text: {{ru: Поликлиника, en: Clinic}}
"""


def test_two_files_with_the_same_survey_id(tmp_path: Path) -> None:
    first = write(tmp_path, MINIMAL.format(survey_id="health"), "a.yaml")
    second = write(tmp_path, MINIMAL.format(survey_id="health"), "b.yml")

    with pytest.raises(SurveyFileError) as caught:
        load_surveys(tmp_path)

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (second, 1, "id")
    assert str(first) in problem.message and '"health"' in problem.message
    assert validate_paths([tmp_path]) == [problem]


def test_folder_reports_problems_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL.format(survey_id="good"), "a.yaml")
    broken = write(tmp_path, MINIMAL.format(survey_id="bad").replace("likert5", "scale7"), "b.yaml")
    empty = write(tmp_path, "", "c.yaml")

    with pytest.raises(SurveyFileError) as caught:
        load_surveys(tmp_path)

    assert [(p.file, p.line) for p in caught.value.problems] == [(broken, 9), (empty, None)]


def test_folder_loads_yaml_and_yml_and_skips_the_rest(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL.format(survey_id="first"), "first.yaml")
    write(tmp_path, MINIMAL.format(survey_id="second"), "second.yml")
    write(tmp_path, "not: a survey", "notes.txt")
    write(tmp_path, "", ".#first.yaml")

    assert sorted(load_surveys(tmp_path)) == ["first", "second"]


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SurveyFileError) as caught:
        load_surveys(tmp_path / "nowhere")

    assert [p.message for p in caught.value.problems] == ["no such folder"]


def test_validate_paths_mixes_files_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "surveys"
    folder.mkdir()
    good = write(folder, MINIMAL.format(survey_id="good"), "good.yaml")
    bad = write(tmp_path, MINIMAL.format(survey_id="bad").replace("topic: health", "topic: helth"))
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    missing = tmp_path / "missing.yaml"

    problems = validate_paths([folder, good, bad, empty_folder, missing])

    assert [(p.file, p.line) for p in problems] == [
        (empty_folder, None),
        (missing, None),
        (bad, 10),
    ]
    assert validate_paths([folder, good]) == []


# --- life situations and number questions ------------------------------------------------

#: A valid survey with two situations; each test breaks one thing in it. Line numbers below
#: are those of this text, read off from line 1 (`id: paths`).
SITUATIONS = """\
id: paths
version: 1
title: {ru: Пути, en: Paths}
topics:
  - id: social_support
    title: {ru: Соцзащита, en: Social support}
  - id: employment
    title: {ru: Занятость, en: Employment}
situations:
  - id: child_payment
    topic: social_support
    title: {ru: Выплата на ребёнка, en: A child payment}
    description: {ru: заявление и решение, en: the application and the decision}
  - id: job_search
    topic: employment
    title: {ru: Поиск работы, en: Finding a job}
    description: {ru: через центр занятости, en: through an employment centre}
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
    min: 0
    max: 365
    dont_know: true
    text: {ru: Сколько дней, en: How many days}
  - id: job_satisfaction
    type: likert5
    topic: employment
    situation: job_search
    text: {ru: Довольны ли вы, en: Are you satisfied}
"""


def situations_file(tmp_path: Path, old: str = "", new: str = "") -> Path:
    assert old in SITUATIONS
    return write(tmp_path, SITUATIONS.replace(old, new, 1))


def test_a_survey_with_situations_and_a_number_question_loads(tmp_path: Path) -> None:
    survey = load_survey_file(situations_file(tmp_path))

    assert [s.id for s in survey.situations] == ["child_payment", "job_search"]
    days = survey.question("payment_days")
    assert days is not None and days.type is QuestionType.NUMBER
    assert (days.bounds, days.unit, days.dont_know) == ((0, 365), "days", True)
    assert validate_paths([tmp_path]) == []


def test_an_unknown_situation_id(tmp_path: Path) -> None:
    path = situations_file(tmp_path, "situation: job_search", "situation: job_serch")

    assert problems_in(path) == [
        Problem(
            path,
            14,
            "situations[1]",
            'situation "job_search" has no questions; mark at least one question with '
            "`situation: job_search`",
        ),
        Problem(
            path,
            39,
            "questions[2].situation",
            'unknown situation "job_serch" (did you mean "job_search"?)',
        ),
    ]


def test_a_situation_question_outside_its_topic(tmp_path: Path) -> None:
    path = situations_file(
        tmp_path,
        "topic: employment\n    situation: job_search",
        "topic: social_support\n    situation: job_search",
    )

    assert only_problem(path) == Problem(
        path,
        38,
        "questions[2].topic",
        'this question follows situation "job_search", whose topic is "employment"; a '
        "situation's questions belong to its topic",
    )


def test_the_screening_question_must_come_first_and_be_there(tmp_path: Path) -> None:
    head, rest = SITUATIONS.split("  - id: lived\n")
    screening, others = rest.split("  - id: payment_days\n")
    late = write(tmp_path, f"{head}  - id: payment_days\n{others}  - id: lived\n{screening}")
    lines = late.read_text(encoding="utf-8").splitlines()

    problem = only_problem(late)
    assert (problem.line, problem.field) == (
        lines.index("    situation: child_payment") + 1,
        "questions[0].situation",
    )
    assert problem.message == (
        'the screening question "lived" comes later; put it before the questions of every '
        f"situation (see line {lines.index('  - id: lived') + 1})"
    )

    missing = situations_file(tmp_path, "    screening: true\n", "")
    assert problems_in(missing)[0] == Problem(
        missing,
        9,
        "situations",
        "a survey with situations needs one screening question: a multi question with "
        "`screening: true` asking which of them the respondent or their family went through",
    )


def test_a_fault_in_a_situation_is_reported_where_it_was_written(tmp_path: Path) -> None:
    """The situations are also the screening question's options; a mistake in one is
    reported once, at the situation, not at an option the author never wrote."""
    path = situations_file(
        tmp_path, "title: {ru: Поиск работы, en: Finding a job}", "title: {ru: Поиск работы}"
    )
    assert only_problem(path) == Problem(
        path, 16, "situations[1].title.en", "the English translation is missing"
    )

    scored = situations_file(
        tmp_path, "text: {ru: Ничего, en: None}", "text: {ru: Ничего, en: None}\n        score: 120"
    )
    assert only_problem(scored) == Problem(
        scored, 27, "questions[0].options[0].score", "score must be between 0 and 100"
    )


def test_a_situation_question_depends_only_on_its_own_situation(tmp_path: Path) -> None:
    path = situations_file(
        tmp_path,
        "    situation: job_search\n",
        "    situation: job_search\n    show_if: {question: payment_days, min: 30}\n",
    )

    problem = only_problem(path)
    assert (problem.line, problem.field) == (40, "questions[2].show_if.question")
    assert problem.message.startswith('a question of situation "job_search" may depend only')


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            "unit: days",
            "unit: hours",
            31,
            "questions[1].unit",
            'unknown unit "hours"; use one of days, weeks, months, visits, documents, times',
        ),
        ("max: 365", "max: 0", 33, "questions[1].max", "`max` must be greater than `min` (0)"),
        ("max: 365", "max: 20000", 33, "questions[1].max", "must be at most 10000"),
        ("    unit: days\n", "", 27, "questions[1].unit", "a number question needs `unit`"),
        (
            "type: likert5",
            "type: likert5\n    dont_know: true",
            38,
            "questions[2].dont_know",
            "only a number question takes `dont_know`",
        ),
    ],
)
def test_number_fields_are_checked(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    path = situations_file(tmp_path, old, new)

    assert only_problem(path) == Problem(path, line, field, message)
