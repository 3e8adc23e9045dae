"""A respondent's participation in a wave and the answers they gave."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from storage.backend import Backend, Row, Statement
from storage.clock import now_db
from storage.repositories.respondents import NO_ANSWERS, GroupAnswers
from surveys.model import AnswerValue


@dataclass(frozen=True, slots=True)
class Response:
    id: int
    wave_id: int
    respondent_id: int
    survey_version_id: int
    region_code: str
    municipality_code: str | None
    age_band: str
    track: str
    completed: bool
    #: The profile's optional answers as they were when the response started.
    groups: GroupAnswers = NO_ANSWERS

    @classmethod
    def from_row(cls, row: Row) -> Response:
        return cls(
            id=row["id"],
            wave_id=row["wave_id"],
            respondent_id=row["respondent_id"],
            survey_version_id=row["survey_version_id"],
            region_code=row["region_code"],
            municipality_code=row["municipality_code"],
            age_band=row["age_band"],
            track=row["track"],
            completed=row["completed_at"] is not None,
            groups=GroupAnswers.from_row(row),
        )


@dataclass(frozen=True, slots=True)
class AnsweringState:
    """A response as a press needs it: whose it is, whether its wave is open, what is
    answered so far."""

    response: Response
    wave_state: str
    answers: dict[str, AnswerValue]


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    question_id: str
    topic: str
    value: AnswerValue
    score: float | None


def stored_value(text: str | None) -> AnswerValue:
    """An answer's value as stored (JSON text; NULL: "don't know")."""
    return None if text is None else orjson.loads(text)


#: Marks a response complete, once: a second time changes no row.
_COMPLETE = "UPDATE responses SET completed_at = ? WHERE id = ? AND completed_at IS NULL"


class ResponseRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database
        self._one_of = database.dialect.one_of()
        #: The same answer given again (a double tap, an update delivered twice) changes
        #: nothing, not even the time: only a different value replaces the stored one.
        self._save_answer = (
            "INSERT INTO answers (response_id, question_id, topic, value, score, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE"
            " SET value = excluded.value, score = excluded.score,"
            " answered_at = excluded.answered_at"
            f" WHERE {database.dialect.distinct('answers.value', 'excluded.value')}"
        )

    async def start(
        self,
        wave_id: int,
        respondent_id: int,
        survey_version_id: int,
        region_code: str,
        municipality_code: str | None,
        age_band: str,
        track: str,
        groups: GroupAnswers = NO_ANSWERS,
    ) -> Response:
        """Idempotent: a second start (a double tap, a redelivered update) reuses the first,
        with the groups it was started with: a later change of the profile never moves it."""
        await self._db.point_execute(
            "INSERT INTO responses (wave_id, respondent_id, survey_version_id, region_code,"
            " municipality_code, age_band, track, children, disability, settlement, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (wave_id, respondent_id) DO NOTHING",
            (
                wave_id,
                respondent_id,
                survey_version_id,
                region_code,
                municipality_code,
                age_band,
                track,
                groups.children,
                groups.disability,
                groups.settlement,
                now_db(),
            ),
        )
        response = await self.for_respondent(wave_id, respondent_id)
        assert response is not None
        return response

    async def get(self, response_id: int) -> Response | None:
        row = await self._db.point_fetch("SELECT * FROM responses WHERE id = ?", (response_id,))
        return Response.from_row(row) if row else None

    async def for_respondent(self, wave_id: int, respondent_id: int) -> Response | None:
        row = await self._db.point_fetch(
            "SELECT * FROM responses WHERE wave_id = ? AND respondent_id = ?",
            (wave_id, respondent_id),
        )
        return Response.from_row(row) if row else None

    async def latest_in_closed_wave(self, respondent_id: int) -> Response | None:
        """The respondent's response to the most recently ended closed wave, if any."""
        row = await self._db.fetch_one(
            "SELECT r.* FROM responses r JOIN waves w ON w.id = r.wave_id"
            " WHERE r.respondent_id = ? AND w.state = 'closed'"
            " ORDER BY w.ends_at DESC, w.id DESC LIMIT 1",
            (respondent_id,),
        )
        return Response.from_row(row) if row else None

    async def answering_state(self, response_id: int) -> AnsweringState | None:
        """The response, its wave's state and its answers in one statement: read behind
        every press, where each round trip to a database server counts."""
        rows = await self._db.point_fetch_all(
            "SELECT r.*, w.state AS wave_state, a.question_id AS answered, a.value AS answer"
            " FROM responses r JOIN waves w ON w.id = r.wave_id"
            " LEFT JOIN answers a ON a.response_id = r.id WHERE r.id = ?",
            (response_id,),
        )
        if not rows:
            return None
        answers = {
            row["answered"]: stored_value(row["answer"])
            for row in rows
            if row["answered"] is not None
        }
        return AnsweringState(Response.from_row(rows[0]), rows[0]["wave_state"], answers)

    async def answers(self, response_id: int) -> dict[str, AnswerValue]:
        rows = await self._db.point_fetch_all(
            "SELECT question_id, value FROM answers WHERE response_id = ?", (response_id,)
        )
        return {row["question_id"]: stored_value(row["value"]) for row in rows}

    async def scores(self, response_id: int) -> list[tuple[str, float]]:
        """(topic, score) of the response's scored answers."""
        rows = await self._db.point_fetch_all(
            "SELECT topic, score FROM answers WHERE response_id = ? AND score IS NOT NULL",
            (response_id,),
        )
        return [(row["topic"], row["score"]) for row in rows]

    async def save_answer(
        self,
        response_id: int,
        answer: AnswerRecord,
        drop: Sequence[str] = (),
        complete: bool = False,
        along: Sequence[Statement] = (),
    ) -> None:
        """Store (or replace, after Back) one answer, forget answers it made irrelevant,
        mark the response complete if it was the last, and run the caller's `along` (the
        dialog moved on to the next question): all or none, committed before the bot shows
        the next question, in one round trip to a database server."""
        # The standard library writes it (orjson only reads it back): stored answers keep the
        # one format every earlier answer already has.
        value = None if answer.value is None else json.dumps(answer.value, ensure_ascii=False)
        writes = [
            Statement(
                self._save_answer,
                (response_id, answer.question_id, answer.topic, value, answer.score, now_db()),
            )
        ]
        if drop:
            writes.append(
                Statement(
                    f"DELETE FROM answers WHERE response_id = ? AND question_id {self._one_of}",
                    (response_id, self._db.dialect.list_parameter(drop)),
                )
            )
        if complete:
            writes.append(Statement(_COMPLETE, (now_db(), response_id)))
        await self._db.point_execute_together([*writes, *along])

    async def complete(self, response_id: int) -> bool:
        """True only for the call that actually completed it."""
        return await self._db.point_execute(_COMPLETE, (now_db(), response_id)) > 0
