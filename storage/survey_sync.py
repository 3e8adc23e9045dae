"""Brings the survey files on disk into the database as immutable versions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.store import Store
from surveys.loader import SurveyCheck, load_surveys
from surveys.model import Survey


@dataclass(frozen=True, slots=True)
class StoredSurvey:
    survey: Survey
    version_id: int


async def sync_surveys(
    store: Store, directory: Path, check: SurveyCheck | None = None
) -> dict[str, StoredSurvey]:
    """Load every file and store its version; a changed file with an old version is refused.

    Waves created from now on use these versions; running waves keep the version they
    were created with, so their answers stay comparable. `check` (the chat's message
    limits) refuses, before anything is stored, a survey Telegram would refuse to carry.
    """
    stored = {}
    for survey_id, survey in load_surveys(directory, check).items():
        stored[survey_id] = StoredSurvey(survey, await store.surveys.store(survey))
    return stored
