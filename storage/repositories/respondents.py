"""Citizens who agreed to take part, and their profile."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from storage.backend import Backend, Row
from storage.clock import now_db
from surveys.profile_groups import segments_of

#: Fields any profile step may set. The disability flag is not among them: it is health
#: data, written only by `record_disability`, and only after its own consent.
PROFILE_FIELDS = frozenset(
    {"language", "region_code", "municipality_code", "age_band", "children", "settlement"}
)


@dataclass(frozen=True, slots=True)
class GroupAnswers:
    """The profile's optional answers (surveys.profile_groups), None where not asked or
    skipped; a response carries a copy made when it started."""

    children: str | None = None
    disability: str | None = None
    settlement: str | None = None

    def segments(self, age_band: str | None) -> frozenset[str]:
        return segments_of({"age_band": age_band, **asdict(self)})

    @classmethod
    def from_row(cls, row: Row) -> GroupAnswers:
        return cls(row["children"], row["disability"], row["settlement"])


#: A profile whose optional questions were never answered.
NO_ANSWERS = GroupAnswers()


@dataclass(frozen=True, slots=True)
class Respondent:
    id: int
    telegram_id: int
    language: str
    region_code: str | None
    municipality_code: str | None
    age_band: str | None
    consent_version: str
    consented_at: str
    active: bool
    groups: GroupAnswers = NO_ANSWERS
    #: When the person agreed to the disability question; None if they never did.
    disability_consent_at: str | None = None

    @property
    def profile_complete(self) -> bool:
        return self.region_code is not None and self.age_band is not None

    @property
    def segments(self) -> frozenset[str]:
        """The segments the profile puts the person in now."""
        return self.groups.segments(self.age_band)

    @classmethod
    def from_row(cls, row: Row) -> Respondent:
        return cls(
            id=row["id"],
            telegram_id=row["telegram_id"],
            language=row["language"],
            region_code=row["region_code"],
            municipality_code=row["municipality_code"],
            age_band=row["age_band"],
            consent_version=row["consent_version"],
            consented_at=row["consented_at"],
            active=bool(row["active"]),
            groups=GroupAnswers.from_row(row),
            disability_consent_at=row["disability_consent_at"],
        )


class RespondentRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database
        changed_consent = database.dialect.distinct(
            "respondents.consent_version", "excluded.consent_version"
        )
        self._record_consent = (
            "INSERT INTO respondents (telegram_id, language, consent_version, consented_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET consent_version = excluded.consent_version,"
            " consented_at = excluded.consented_at, active = 1, updated_at = excluded.updated_at"
            # Agreeing again to the same text (a double tap, a redelivered press) keeps the
            # time of the first agreement.
            f" WHERE {changed_consent} OR respondents.active = 0"
        )

    async def by_telegram_id(self, telegram_id: int) -> Respondent | None:
        row = await self._db.point_fetch(
            "SELECT * FROM respondents WHERE telegram_id = ?", (telegram_id,)
        )
        return Respondent.from_row(row) if row else None

    async def record_consent(
        self, telegram_id: int, language: str, consent_version: str
    ) -> Respondent:
        """Consent is the first thing stored about a citizen; before it, nothing is."""
        now = now_db()
        await self._db.point_execute(
            self._record_consent, (telegram_id, language, consent_version, now, now, now)
        )
        respondent = await self.by_telegram_id(telegram_id)
        assert respondent is not None
        return respondent

    async def update_profile(self, telegram_id: int, **fields: str | None) -> Respondent | None:
        unknown = set(fields) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        if fields:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            await self._db.point_execute(
                f"UPDATE respondents SET {assignments}, updated_at = ? WHERE telegram_id = ?",
                (*fields.values(), now_db(), telegram_id),
            )
        return await self.by_telegram_id(telegram_id)

    async def consent_to_disability_question(self, telegram_id: int) -> None:
        """Record the consent to the disability question; agreeing again keeps the time of
        the first agreement, which is the one the flag was given under."""
        now = now_db()
        await self._db.point_execute(
            "UPDATE respondents SET disability_consent_at = COALESCE(disability_consent_at, ?),"
            " updated_at = ? WHERE telegram_id = ?",
            (now, now, telegram_id),
        )

    async def record_disability(self, telegram_id: int, answer: str) -> bool:
        """Store the flag, only for someone whose consent is on record; False otherwise."""
        changed = await self._db.point_execute(
            "UPDATE respondents SET disability = ?, updated_at = ?"
            " WHERE telegram_id = ? AND disability_consent_at IS NOT NULL",
            (answer, now_db(), telegram_id),
        )
        return changed > 0

    async def withdraw_disability_consent(self, telegram_id: int) -> bool:
        """Forget the flag and its consent: on the profile and on every response the flag
        was copied into under that consent, in one transaction. True if there was one."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE respondents SET disability = NULL, disability_consent_at = NULL,"
                " updated_at = ? WHERE telegram_id = ? AND disability_consent_at IS NOT NULL",
                (now_db(), telegram_id),
            )
            if cursor.rowcount == 0:
                return False
            await connection.execute(
                "UPDATE responses SET disability = NULL WHERE respondent_id ="
                " (SELECT id FROM respondents WHERE telegram_id = ?)",
                (telegram_id,),
            )
        return True

    async def set_active(self, telegram_id: int, active: bool) -> bool:
        changed = await self._db.execute(
            "UPDATE respondents SET active = ?, updated_at = ? WHERE telegram_id = ?",
            (int(active), now_db(), telegram_id),
        )
        return changed > 0

    async def delete(self, telegram_id: int) -> bool:
        """Erase the profile; responses and answers go with it through ON DELETE CASCADE."""
        return (
            await self._db.execute("DELETE FROM respondents WHERE telegram_id = ?", (telegram_id,))
            > 0
        )
