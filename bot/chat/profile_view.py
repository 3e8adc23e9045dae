"""A citizen's profile as they read it: the summary after onboarding and /profile, and
/mydata, which adds the consents and how much of their taking part is stored.

One rendering of the profile for both, so /mydata can never show less than the summary.
"""

from __future__ import annotations

from html import escape

from bot.chat.keyboards import LANGUAGE_NAMES
from bot.chat.texts import Texts, age_band_label
from storage.clock import from_db
from storage.personal_data import PersonalData
from storage.repositories.respondents import Respondent
from surveys.regions import RegionCatalog


def group_answer(answer: str | None, texts: Texts) -> str:
    """An optional question's stored answer in words; "not given" when there is none."""
    return texts(f"groups.answer.{answer}") if answer else texts("groups.not_given")


def profile_summary(respondent: Respondent, texts: Texts, catalog: RegionCatalog) -> str:
    """The screen that closes onboarding and opens /profile."""
    return texts("summary.body", profile=profile_fields(respondent, texts, catalog))


def profile_fields(respondent: Respondent, texts: Texts, catalog: RegionCatalog) -> str:
    region = catalog.region(respondent.region_code or "")
    municipality = catalog.municipality(
        respondent.region_code or "", respondent.municipality_code or ""
    )
    groups = respondent.groups
    return texts(
        "profile.fields",
        language=LANGUAGE_NAMES.get(respondent.language, respondent.language),
        region=escape(region.name.get(texts.language)) if region else "—",
        municipality=escape(municipality.name.get(texts.language))
        if municipality
        else texts("municipality.unknown"),
        age=age_band_label(respondent.age_band, texts) if respondent.age_band else "—",
        children=group_answer(groups.children, texts),
        disability=group_answer(groups.disability, texts),
        settlement=group_answer(groups.settlement, texts),
    )


def stored_time(text: str) -> str:
    """A stored time to the minute, in UTC: a citizen's own time zone is not known."""
    return from_db(text).strftime("%Y-%m-%d %H:%M UTC")


def personal_data_text(data: PersonalData, texts: Texts, catalog: RegionCatalog) -> str:
    respondent = data.respondent
    consent = respondent.disability_consent_at
    return texts(
        "mydata.body",
        profile=profile_fields(respondent, texts, catalog),
        version=escape(respondent.consent_version),
        consented_at=stored_time(respondent.consented_at),
        disability_consent=stored_time(consent) if consent else texts("mydata.no_consent"),
        started=data.started,
        completed=data.completed,
        answers=data.answers,
        invitations=data.invitations,
    )
