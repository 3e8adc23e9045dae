"""Immutable stored copies of every survey version that was ever asked."""

from __future__ import annotations

from functools import lru_cache

from storage.backend import Backend, returned_id
from storage.clock import now_db
from surveys.loader import survey_fingerprint
from surveys.model import Survey


class SurveyVersionConflict(ValueError):
    """A file changed its questions but kept its version: old answers would be mislabelled."""


@lru_cache(maxsize=64)
def _parse(definition: str) -> Survey:
    return Survey.model_validate_json(definition)


class SurveyRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database
        # A stored version never changes, so it is read and parsed once per process; every
        # answer needs its survey, and this saves a query and a several-KB read per answer.
        self._versions: dict[int, Survey] = {}

    async def store(self, survey: Survey) -> int:
        """Returns the id of this exact version, storing it the first time it is seen."""
        fingerprint = survey_fingerprint(survey)
        row = await self._db.fetch_one(
            "SELECT id, fingerprint FROM survey_versions WHERE survey_id = ? AND version = ?",
            (survey.id, survey.version),
        )
        if row is not None:
            if row["fingerprint"] != fingerprint:
                raise SurveyVersionConflict(
                    f"survey `{survey.id}` version {survey.version} differs from the copy "
                    "already stored; raise `version` when you change a survey"
                )
            return int(row["id"])
        async with self._db.transaction() as connection:
            return await returned_id(
                await connection.execute(
                    "INSERT INTO survey_versions (survey_id, version, fingerprint, definition,"
                    " stored_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (survey.id, survey.version, fingerprint, survey.model_dump_json(), now_db()),
                )
            )

    async def get(self, version_id: int) -> Survey | None:
        survey = self._versions.get(version_id)
        if survey is not None:
            return survey
        row = await self._db.fetch_one(
            "SELECT definition FROM survey_versions WHERE id = ?", (version_id,)
        )
        if row is None:
            return None
        survey = self._versions[version_id] = _parse(row["definition"])
        return survey
