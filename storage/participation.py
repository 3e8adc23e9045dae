"""The questionnaire use case: which waves a respondent may answer, and recording answers.

Every check that protects one citizen's answers from another, from a closed wave or from
a forged value happens here, before anything is written, so the Telegram handlers stay a
thin translation of buttons into calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.backend import Statement
from storage.repositories.respondents import Respondent
from storage.repositories.responses import AnsweringState, AnswerRecord, Response
from storage.repositories.waves import Wave
from storage.store import Store
from surveys.model import AnswerValue, Question, Survey, Track
from surveys.scoring import answer_score
from surveys.targeting import next_question, stale_answers, track_for


class Refusal(StrEnum):
    """Why a request was turned down; each maps to one short reply to the citizen."""

    NO_PROFILE = "no_profile"
    NOT_YOURS = "not_yours"
    NOT_FOR_YOU = "not_for_you"
    CLOSED = "closed"
    COMPLETED = "completed"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Offer:
    wave: Wave
    survey: Survey
    track: Track
    completed: bool


@dataclass(frozen=True, slots=True)
class Session:
    """One respondent's response to one open wave, with the answers stored so far."""

    response: Response
    survey: Survey
    answers: dict[str, AnswerValue]

    @property
    def track(self) -> Track:
        return "youth" if self.response.track == "youth" else "general"

    def next_question(self) -> Question | None:
        """The question to ask now; None when the questionnaire is finished."""
        return next_question(self.survey, self.track, self.answers)


@dataclass(frozen=True, slots=True)
class Answered:
    """An answer checked and ready to store (`Participation.answered`)."""

    session: Session
    record: AnswerRecord
    dropped: Sequence[str]


class Participation:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def offers(self, respondent: Respondent) -> list[Offer]:
        """Open waves that target this respondent's region, track and segments."""
        if not respondent.profile_complete or respondent.age_band is None:
            return []
        offers = []
        for wave in await self._store.waves.open_in_region(respondent.region_code):
            survey = await self._store.surveys.get(wave.survey_version_id)
            if survey is None:
                continue
            track = track_for(survey, respondent.age_band)
            if not wave.targets(respondent.region_code, track, respondent.segments):
                continue
            response = await self._store.responses.for_respondent(wave.id, respondent.id)
            offers.append(Offer(wave, survey, track, response is not None and response.completed))
        return offers

    async def begin(self, respondent: Respondent, wave_id: int) -> Session | Refusal:
        """Start (or resume) a wave; the profile is copied onto the response at this moment."""
        if not respondent.profile_complete:
            return Refusal.NO_PROFILE
        offer = next((o for o in await self.offers(respondent) if o.wave.id == wave_id), None)
        if offer is None:
            wave = await self._store.waves.get(wave_id)
            return Refusal.CLOSED if wave is None or wave.state != "open" else Refusal.NOT_FOR_YOU
        if offer.completed:
            return Refusal.COMPLETED
        assert respondent.region_code is not None and respondent.age_band is not None
        response = await self._store.responses.start(
            wave_id=wave_id,
            respondent_id=respondent.id,
            survey_version_id=offer.wave.survey_version_id,
            region_code=respondent.region_code,
            municipality_code=respondent.municipality_code,
            age_band=respondent.age_band,
            track=offer.track,
            groups=respondent.groups,
        )
        return await self.session(respondent, response.id)

    async def session(
        self, respondent: Respondent | None, response_id: int, known: AnsweringState | None = None
    ) -> Session | Refusal:
        """The response behind a pressed button, if this respondent may still answer it;
        `known`: its state as already read, in the same turn of the citizen's."""
        found = known or await self._store.responses.answering_state(response_id)
        if respondent is None or found is None or found.response.respondent_id != respondent.id:
            return Refusal.NOT_YOURS
        response = found.response
        if found.wave_state != "open":
            return Refusal.CLOSED
        if response.completed:
            return Refusal.COMPLETED
        survey = await self._store.surveys.get(response.survey_version_id)
        if survey is None:
            return Refusal.CLOSED
        return Session(response, survey, found.answers)

    async def survey_of(self, response_id: int) -> Survey | None:
        """The survey a response answers, for naming it on a screen."""
        response = await self._store.responses.get(response_id)
        return (
            None if response is None else await self._store.surveys.get(response.survey_version_id)
        )

    def answered(
        self, session: Session, question: Question, value: AnswerValue
    ) -> Answered | Refusal:
        """What storing this answer would make of the session, stored nothing yet: the
        caller decides from it what comes next (the next question, or the thanks) and
        stores that with the answer (`record`).

        Answers that a changed earlier answer hides are dropped from the session.
        """
        if not question.accepts(value) or session.survey.question(question.id) is not question:
            return Refusal.INVALID
        answers = {**session.answers, question.id: value}
        dropped = stale_answers(session.survey, session.track, answers)
        for question_id in dropped:
            answers.pop(question_id)
        record = AnswerRecord(question.id, question.topic, value, answer_score(question, value))
        return Answered(Session(session.response, session.survey, answers), record, dropped)

    async def record(self, answered: Answered, along: Sequence[Statement] = ()) -> None:
        """Store and commit the answer, with the answers it hid removed, the response
        marked complete when no question is left, and `along`, in one transaction."""
        await self._store.responses.save_answer(
            answered.session.response.id,
            answered.record,
            answered.dropped,
            complete=answered.session.next_question() is None,
            along=along,
        )
