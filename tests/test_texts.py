"""The catalog as a native reader checks it: both languages complete, counts that agree.

Every text is rendered in both languages with every placeholder set to each of the counts
that between them take every plural form (0, 1, 2, 5, 11, 21, and the teens and hundreds
that trip a naive rule), and wherever a number stands before one of the catalog's counted
nouns, the noun must be in the form that number asks for: "1 строка, 2 строки, 5 строк,
11 строк, 21 строка". A text that writes "{rows} строк" by hand fails here at 1.
"""

from __future__ import annotations

import re
import string

import pytest

from bot.chat.texts import MESSAGES, UNITS, Texts, age_band_label, count, translate
from surveys.model import AGE_BAND_IDS, NUMBER_UNITS
from surveys.text import LANGUAGES

COUNTS = (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111)


def placeholders(text: str) -> set[str]:
    """Every field of a text, those naming a count's unit (`{n:{unit}}`) included."""
    names: set[str] = set()
    for _, name, spec, _ in string.Formatter().parse(text):
        names |= {name} if name else set()
        names |= placeholders(spec) if spec else set()
    return names


def unit_placeholders(text: str) -> set[str]:
    """The fields that name the unit of a count, rather than a count."""
    return {
        unit
        for _, _, spec, _ in string.Formatter().parse(text)
        if spec
        for unit in placeholders(spec)
    }


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_text_has_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == set(LANGUAGES)
    assert placeholders(entry["ru"]) == placeholders(entry["en"])


def _expected_form(number: int, unit: str, language: str) -> str:
    return count(number, unit, language).split(" ", 1)[1]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_count_agrees_with_its_noun(key: str, language: str) -> None:
    template = MESSAGES[key][language]
    units = unit_placeholders(template)
    numbers = placeholders(template) - units
    forms = {form: unit for unit, by_language in UNITS.items() for form in by_language[language]}
    noun = re.compile(r"(?<![\d.,])(\d+)\s+(" + "|".join(map(re.escape, forms)) + r")\b")
    for number in COUNTS:
        for unit in NUMBER_UNITS if units else ("",):
            values = {**dict.fromkeys(numbers, number), **dict.fromkeys(units, unit)}
            text = translate(key, language, **values)
            for match in noun.finditer(text):
                said, form = int(match[1]), match[2]
                assert form == _expected_form(said, forms[form], language), (key, text)


@pytest.mark.parametrize(
    ("number", "russian"),
    [
        (0, "0 строк"),
        (1, "1 строка"),
        (2, "2 строки"),
        (5, "5 строк"),
        (11, "11 строк"),
        (21, "21 строка"),
        (22, "22 строки"),
        (111, "111 строк"),
        (1001, "1001 строка"),
    ],
)
def test_russian_counts_take_three_forms(number: int, russian: str) -> None:
    assert count(number, "rows", "ru") == russian
    assert count(number, "rows", "en") == f"{number} {'row' if number == 1 else 'rows'}"


def test_a_count_in_a_text_is_written_with_its_noun() -> None:
    caption = Texts("ru")("results.answers_caption", wave=3, rows=21)
    assert caption == "Ответы волны #3, обезличенные (21 строка)"
    assert Texts("en")("results.answers_caption", wave=3, rows=1).endswith("(1 row)")
    assert Texts("ru")("error.too_long", length=501, limit=500) == (
        "Слишком длинный ответ: 501 символ, а предел — 500 символов."
    )


def test_a_number_question_names_its_range_in_the_unit_and_form_each_end_asks_for() -> None:
    russian = Texts("ru")("error.number_expected", low=1, high=21, unit="days")
    assert russian.endswith("Наименьший ответ — 1 день, наибольший — 21 день.")
    assert Texts("ru")("question.number_hint", low=0, high=4, unit="visits").endswith(
        "Наименьший ответ — 0 посещений, наибольший — 4 посещения."
    )
    english = Texts("en")("error.number_expected", low=1, high=12, unit="months")
    assert english.endswith("from 1 month to 12 months.")
    assert {count(n, "times", "ru") for n in (1, 2, 5)} == {"1 раз", "2 раза", "5 раз"}
    assert set(NUMBER_UNITS) <= set(UNITS)


def test_age_bands_read_as_a_russian_editor_writes_them() -> None:
    russian = [age_band_label(band, Texts("ru")) for band in AGE_BAND_IDS]
    assert russian == [
        "14–17 лет",
        "18–24 года",
        "25–30 лет",
        "31–35 лет",
        "36–44 года",
        "45–54 года",
        "55–64 года",
        "65 лет и старше",
    ]
    english = [age_band_label(band, Texts("en")) for band in AGE_BAND_IDS]
    assert english[1] == "18–24 years" and english[-1] == "65 and over"


@pytest.mark.parametrize("language", LANGUAGES)
def test_ranges_use_an_en_dash_not_a_hyphen(language: str) -> None:
    """Numeric ranges written in the catalog itself ("18-24") would read as a hyphen; an
    ISO date shown as what to type ("2026-12-01") is not a range."""
    for key, entry in MESSAGES.items():
        text = re.sub(r"\d{4}-\d{2}-\d{2}", "", entry[language])
        assert not re.search(r"\d-\d", text), key
