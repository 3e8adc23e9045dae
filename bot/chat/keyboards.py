"""Inline keyboards for onboarding, survey choice and erasure.

Long lists are paged: Telegram clients render at most 100 buttons, and a screen of ten
regions is easier to scan than eighty-five.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.chat.callbacks import (
    AgeCb,
    ConsentCb,
    DeleteMeCb,
    DisabilityConsentCb,
    DistrictCb,
    DistrictsCb,
    GroupCb,
    GroupsSkipCb,
    LanguageCb,
    MunicipalityCb,
    MunicipalityPageCb,
    RegionCb,
    RegionNewsCb,
    StartWaveCb,
    SummaryCb,
)
from bot.chat.texts import Texts, age_band_label
from surveys.model import AGE_BAND_IDS
from surveys.profile_groups import GROUP_QUESTIONS
from surveys.regions import Municipality, Region, RegionCatalog

PAGE_SIZE = 10
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}

#: A button's label and what pressing it sends.
Choice = tuple[str, CallbackData]


def choices_keyboard(choices: Iterable[Choice], *widths: int) -> InlineKeyboardMarkup:
    """Most keyboards are a list of choices; `widths` lays them out (the last one repeats),
    and without it they share one row."""
    builder = InlineKeyboardBuilder()
    for text, data in choices:
        builder.button(text=text, callback_data=data)
    if widths:
        builder.adjust(*widths)
    return builder.as_markup()


def consent_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    other = "en" if texts.language == "ru" else "ru"
    builder = InlineKeyboardBuilder()
    current = texts.language
    builder.button(text=texts("consent.agree"), callback_data=ConsentCb(action="yes", lang=current))
    builder.button(
        text=texts("consent.decline"), callback_data=ConsentCb(action="no", lang=current)
    )
    builder.button(
        text=texts("consent.other_language"), callback_data=ConsentCb(action="lang", lang=other)
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCb(lang=code))
    return builder.as_markup()


def districts_keyboard(catalog: RegionCatalog, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, district in enumerate(catalog.federal_districts):
        builder.button(text=district.name.get(language), callback_data=DistrictCb(district=index))
    builder.adjust(1)
    return builder.as_markup()


def _page_row(
    texts: Texts, page: int, total: int, page_data: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    """Previous and next page buttons where there are such pages (`page_data` packs a
    page number; page -1 would not even pack)."""
    row = []
    if page > 0:
        previous = page_data(page - 1)
        row.append(InlineKeyboardButton(text=texts("button.previous_page"), callback_data=previous))
    if (page + 1) * PAGE_SIZE < total:
        following = page_data(page + 1)
        row.append(InlineKeyboardButton(text=texts("button.more"), callback_data=following))
    return row


def district_regions_keyboard(
    catalog: RegionCatalog, district: int, page: int, texts: Texts
) -> InlineKeyboardMarkup:
    regions = catalog.federal_districts[district].regions
    builder = InlineKeyboardBuilder()
    for region in regions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        builder.button(
            text=region.name.get(texts.language), callback_data=RegionCb(code=region.code)
        )
    builder.adjust(2)
    navigation = _page_row(
        texts, page, len(regions), lambda shown: DistrictCb(district=district, page=shown).pack()
    )
    navigation.append(
        InlineKeyboardButton(text=texts("button.districts"), callback_data=DistrictsCb().pack())
    )
    builder.row(*navigation)
    return builder.as_markup()


def region_choices_keyboard(regions: Sequence[Region], texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for region in regions:
        builder.button(
            text=region.name.get(texts.language), callback_data=RegionCb(code=region.code)
        )
    builder.adjust(1)
    builder.row(
        InlineKeyboardButton(text=texts("button.districts"), callback_data=DistrictsCb().pack())
    )
    return builder.as_markup()


def municipalities_keyboard(
    municipalities: Sequence[Municipality], page: int | None, texts: Texts
) -> InlineKeyboardMarkup:
    """A page of a region's municipalities, or (page=None) a list of search results."""
    shown = municipalities if page is None else municipalities[page * PAGE_SIZE :][:PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    for municipality in shown:
        builder.button(
            text=municipality.name.get(texts.language),
            callback_data=MunicipalityCb(code=municipality.code),
        )
    builder.adjust(2)
    if page is not None:
        navigation = _page_row(
            texts, page, len(municipalities), lambda shown: MunicipalityPageCb(page=shown).pack()
        )
        if navigation:
            builder.row(*navigation)
    builder.row(
        InlineKeyboardButton(
            text=texts("municipality.unknown"), callback_data=MunicipalityCb(code="").pack()
        )
    )
    return builder.as_markup()


def age_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, band in enumerate(AGE_BAND_IDS):
        builder.button(text=age_band_label(band, texts), callback_data=AgeCb(band=index))
    builder.adjust(2)
    return builder.as_markup()


def group_keyboard(question: str, texts: Texts) -> InlineKeyboardMarkup:
    """An optional question's answers ("prefer not to say" last of them), and a way past
    all the optional questions."""
    choices: list[Choice] = [
        (texts(f"groups.answer.{answer}"), GroupCb(question=question, answer=answer))  # type: ignore[arg-type]
        for answer in GROUP_QUESTIONS[question]
    ]
    choices.append((texts("groups.skip_rest"), GroupsSkipCb()))
    return choices_keyboard(choices, len(choices) - 2, 1)


def disability_consent_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("groups.disability_consent.agree"), DisabilityConsentCb(agree=True)),
            (texts("groups.disability_consent.decline"), DisabilityConsentCb(agree=False)),
        ],
        1,
    )


def summary_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("summary.confirm"), SummaryCb(action="ok")),
            (texts("summary.change"), SummaryCb(action="edit")),
            (texts("summary.groups"), SummaryCb(action="groups")),
        ],
        2,
        1,
    )


def waves_keyboard(choices: Sequence[tuple[int, str]], texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("survey.start_button", title=title), StartWaveCb(wave=wave_id))
            for wave_id, title in choices
        ],
        1,
    )


def delete_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("delete.yes"), DeleteMeCb(confirm=True)),
            (texts("delete.no"), DeleteMeCb(confirm=False)),
        ]
    )


def region_news_keyboard(response_id: int, texts: Texts) -> InlineKeyboardMarkup:
    """Under the thanks: one tap to the region's figures and what it is doing."""
    return choices_keyboard([(texts("results.region_news"), RegionNewsCb(response=response_id))])


def invitation_keyboard(wave_id: int, label: str) -> InlineKeyboardMarkup:
    """The one button under an invitation or a reminder: start (or resume) the wave."""
    return choices_keyboard([(label, StartWaveCb(wave=wave_id))])
