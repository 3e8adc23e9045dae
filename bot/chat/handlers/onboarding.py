"""Consent, language, region, municipality, age band and the optional questions: who is
answering, from where, and whether they belong to a group the programme puts first.

Nothing about a citizen is stored before they agree; each later step is saved at once, so
leaving half-way and coming back with /start or /profile continues rather than restarts.
The disability question is health data: it is asked only after its own consent, and
declining that consent erases an answer given under an earlier one.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.callbacks import (
    AgeCb,
    ConsentCb,
    DisabilityConsentCb,
    DistrictCb,
    DistrictsCb,
    GroupCb,
    GroupsSkipCb,
    LanguageCb,
    MunicipalityCb,
    MunicipalityPageCb,
    RegionCb,
    SummaryCb,
)
from bot.chat.filters import ButtonOnMessage
from bot.chat.handlers.questionnaire import offer_surveys
from bot.chat.handlers.replies import show
from bot.chat.keyboards import (
    PAGE_SIZE,
    age_keyboard,
    consent_keyboard,
    disability_consent_keyboard,
    district_regions_keyboard,
    districts_keyboard,
    group_keyboard,
    language_keyboard,
    municipalities_keyboard,
    region_choices_keyboard,
    summary_keyboard,
)
from bot.chat.profile_view import profile_summary
from bot.chat.states import Onboarding
from bot.chat.texts import CONSENT_VERSION, Texts
from storage.erasure import withdraw_disability_consent
from storage.participation import Participation
from storage.repositories.respondents import Respondent
from storage.store import Store
from surveys.model import AGE_BAND_IDS
from surveys.profile_groups import GROUP_QUESTIONS
from surveys.regions import RegionCatalog

SEARCH_LIMIT = 8
MAX_QUERY = 100


async def start(
    message: Message,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    if respondent is None:
        await state.clear()
        await message.answer(
            texts("consent.body", version=CONSENT_VERSION), reply_markup=consent_keyboard(texts)
        )
    elif not respondent.profile_complete:
        await ask_language(message, state, texts)
    else:
        await offer_surveys(message, state, respondent, texts, participation)


async def profile(
    message: Message,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    catalog: RegionCatalog,
) -> None:
    """The profile menu: the profile as stored, to confirm, change, or change only the
    optional questions; an unfinished profile continues where it stopped."""
    if respondent is None:
        await message.answer(texts("profile.needed"))
    elif not respondent.profile_complete:
        await ask_language(message, state, texts)
    else:
        await show_summary(message, state, respondent, texts, catalog)


async def on_consent(
    callback: CallbackQuery, callback_data: ConsentCb, state: FSMContext, store: Store
) -> None:
    texts = Texts(callback_data.lang)
    if callback_data.action == "lang":
        await show(
            callback, texts("consent.body", version=CONSENT_VERSION), consent_keyboard(texts)
        )
    elif callback_data.action == "no":
        await state.clear()
        await show(callback, texts("consent.declined"))
    else:
        await store.respondents.record_consent(
            callback.from_user.id, callback_data.lang, CONSENT_VERSION
        )
        await ask_language(callback, state, texts)


async def ask_language(event: Message | CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await state.set_state(Onboarding.language)
    await show(event, texts("language.ask"), language_keyboard())


async def on_language(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    state: FSMContext,
    store: Store,
    catalog: RegionCatalog,
) -> None:
    await store.respondents.update_profile(callback.from_user.id, language=callback_data.lang)
    await ask_region(callback, state, Texts(callback_data.lang), catalog)


async def ask_region(
    event: Message | CallbackQuery, state: FSMContext, texts: Texts, catalog: RegionCatalog
) -> None:
    await state.set_state(Onboarding.region)
    await show(event, texts("region.ask"), districts_keyboard(catalog, texts.language))


async def on_districts(
    callback: CallbackQuery, state: FSMContext, texts: Texts, catalog: RegionCatalog
) -> None:
    await ask_region(callback, state, texts, catalog)


async def on_district(
    callback: CallbackQuery,
    callback_data: DistrictCb,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    districts = catalog.federal_districts
    if not 0 <= callback_data.district < len(districts) or callback_data.page < 0:
        callback_answer.text = texts("error.stale_button")
        return
    markup = district_regions_keyboard(catalog, callback_data.district, callback_data.page, texts)
    await show(callback, texts("region.pick"), markup)


async def on_region_search(message: Message, texts: Texts, catalog: RegionCatalog) -> None:
    query = (message.text or "")[:MAX_QUERY]
    found = catalog.search_regions(query, limit=SEARCH_LIMIT)
    if not found:
        await message.answer(
            texts("region.not_found", query=escape(query)),
            reply_markup=districts_keyboard(catalog, texts.language),
        )
        return
    await message.answer(texts("region.pick"), reply_markup=region_choices_keyboard(found, texts))


async def on_region(
    callback: CallbackQuery,
    callback_data: RegionCb,
    state: FSMContext,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    region = catalog.region(callback_data.code)
    if region is None:
        callback_answer.text = texts("error.stale_button")
        return
    await store.respondents.update_profile(
        callback.from_user.id, region_code=region.code, municipality_code=None
    )
    if region.municipalities:
        await state.set_state(Onboarding.municipality)
        markup = municipalities_keyboard(region.municipalities, 0, texts)
        await show(callback, texts("municipality.ask"), markup)
    else:
        await ask_age(callback, state, texts)


async def on_municipality_page(
    callback: CallbackQuery,
    callback_data: MunicipalityPageCb,
    respondent: Respondent | None,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    region = catalog.region(respondent.region_code or "") if respondent else None
    pages = -(-len(region.municipalities) // PAGE_SIZE) if region else 0
    if region is None or not 0 <= callback_data.page < pages:
        callback_answer.text = texts("error.stale_button")
        return
    markup = municipalities_keyboard(region.municipalities, callback_data.page, texts)
    await show(callback, texts("municipality.ask"), markup)


async def on_municipality_search(
    message: Message, respondent: Respondent | None, texts: Texts, catalog: RegionCatalog
) -> None:
    query = (message.text or "")[:MAX_QUERY]
    region_code = respondent.region_code if respondent else None
    found = catalog.search_municipalities(region_code or "", query, limit=SEARCH_LIMIT)
    key = "municipality.ask" if found else "municipality.not_found"
    markup = municipalities_keyboard(found, None, texts)
    await message.answer(texts(key, query=escape(query)), reply_markup=markup)


async def on_municipality(
    callback: CallbackQuery,
    callback_data: MunicipalityCb,
    state: FSMContext,
    respondent: Respondent | None,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    region_code = respondent.region_code if respondent else None
    code = callback_data.code or None
    if region_code is None or (code and catalog.municipality(region_code, code) is None):
        callback_answer.text = texts("error.stale_button")
        return
    await store.respondents.update_profile(callback.from_user.id, municipality_code=code)
    await ask_age(callback, state, texts)


async def ask_age(event: Message | CallbackQuery, state: FSMContext, texts: Texts) -> None:
    await state.set_state(Onboarding.age)
    await show(event, texts("age.ask"), age_keyboard(texts))


async def on_age(
    callback: CallbackQuery,
    callback_data: AgeCb,
    state: FSMContext,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    if not 0 <= callback_data.band < len(AGE_BAND_IDS):
        callback_answer.text = texts("error.stale_button")
        return
    respondent = await store.respondents.update_profile(
        callback.from_user.id, age_band=AGE_BAND_IDS[callback_data.band]
    )
    if respondent is None:
        callback_answer.text = texts("profile.needed")
        return
    await ask_group(callback, state, texts, "children")


#: Each optional question's dialog state, in the order they are asked.
_GROUP_STATES = {
    "children": Onboarding.children,
    "disability": Onboarding.disability,
    "settlement": Onboarding.settlement,
}


async def ask_group(
    event: Message | CallbackQuery, state: FSMContext, texts: Texts, question: str
) -> None:
    await state.set_state(_GROUP_STATES[question])
    await show(event, texts(f"groups.{question}.ask"), group_keyboard(question, texts))


async def on_group(
    callback: CallbackQuery,
    callback_data: GroupCb,
    state: FSMContext,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    callback_answer: CallbackAnswer,
) -> None:
    question, answer = callback_data.question, callback_data.answer
    on_screen = await state.get_state() == _GROUP_STATES[question].state
    if not on_screen or answer not in GROUP_QUESTIONS[question]:
        callback_answer.text = texts("error.stale_button")
        return
    telegram_id = callback.from_user.id
    if question == "children":
        await store.respondents.update_profile(telegram_id, children=answer)
        await ask_disability_consent(callback, state, texts)
    elif question == "disability":
        # Kept only under a consent on record: one withdrawn meanwhile (an older screen's
        # "No") is asked for again rather than answered around.
        if not await store.respondents.record_disability(telegram_id, answer):
            await ask_disability_consent(callback, state, texts)
            return
        await ask_group(callback, state, texts, "settlement")
    else:
        respondent = await store.respondents.update_profile(telegram_id, settlement=answer)
        if respondent is None:
            callback_answer.text = texts("profile.needed")
            return
        await show_summary(callback, state, respondent, texts, catalog)


async def ask_disability_consent(
    event: Message | CallbackQuery, state: FSMContext, texts: Texts
) -> None:
    await state.set_state(Onboarding.disability_consent)
    await show(event, texts("groups.disability_consent.body"), disability_consent_keyboard(texts))


async def on_disability_consent(
    callback: CallbackQuery,
    callback_data: DisabilityConsentCb,
    state: FSMContext,
    store: Store,
    texts: Texts,
) -> None:
    if callback_data.agree:
        await store.respondents.consent_to_disability_question(callback.from_user.id)
        await ask_group(callback, state, texts, "disability")
    else:
        await withdraw_disability_consent(store, callback.from_user.id)
        await ask_group(callback, state, texts, "settlement")


async def on_groups_skip(
    callback: CallbackQuery,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    catalog: RegionCatalog,
) -> None:
    if respondent is None:
        await show(callback, texts("profile.needed"))
        return
    await show_summary(callback, state, respondent, texts, catalog)


async def show_summary(
    event: Message | CallbackQuery,
    state: FSMContext,
    respondent: Respondent,
    texts: Texts,
    catalog: RegionCatalog,
) -> None:
    await state.set_state(Onboarding.summary)
    await show(event, profile_summary(respondent, texts, catalog), summary_keyboard(texts))


async def on_summary(
    callback: CallbackQuery,
    callback_data: SummaryCb,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    if callback_data.action == "edit" or respondent is None or not respondent.profile_complete:
        await ask_language(callback, state, texts)
        return
    if callback_data.action == "groups":
        await ask_group(callback, state, texts, "children")
        return
    await state.clear()
    await show(callback, texts("summary.saved"))
    if isinstance(callback.message, Message):
        await offer_surveys(callback.message, state, respondent, texts, participation)


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="onboarding")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.register(start, CommandStart())
    router.message.register(profile, Command("profile"))
    # No dialog state guards consent: the button itself must be on the message pressed.
    router.callback_query.register(on_consent, ConsentCb.filter(), ButtonOnMessage())
    router.callback_query.register(
        on_language, StateFilter(Onboarding.language), LanguageCb.filter()
    )
    router.callback_query.register(
        on_districts, StateFilter(Onboarding.region), DistrictsCb.filter()
    )
    router.callback_query.register(on_district, StateFilter(Onboarding.region), DistrictCb.filter())
    router.message.register(on_region_search, StateFilter(Onboarding.region), F.text)
    router.callback_query.register(on_region, StateFilter(Onboarding.region), RegionCb.filter())
    router.callback_query.register(
        on_municipality_page, StateFilter(Onboarding.municipality), MunicipalityPageCb.filter()
    )
    router.message.register(on_municipality_search, StateFilter(Onboarding.municipality), F.text)
    router.callback_query.register(
        on_municipality, StateFilter(Onboarding.municipality), MunicipalityCb.filter()
    )
    router.callback_query.register(on_age, StateFilter(Onboarding.age), AgeCb.filter())
    optional = StateFilter(*_GROUP_STATES.values())
    router.callback_query.register(on_group, optional, GroupCb.filter())
    router.callback_query.register(
        on_disability_consent,
        StateFilter(Onboarding.disability_consent),
        DisabilityConsentCb.filter(),
    )
    router.callback_query.register(
        on_groups_skip,
        StateFilter(*_GROUP_STATES.values(), Onboarding.disability_consent),
        GroupsSkipCb.filter(),
    )
    router.callback_query.register(on_summary, StateFilter(Onboarding.summary), SummaryCb.filter())
    return router
