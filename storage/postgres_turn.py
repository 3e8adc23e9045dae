"""A citizen's turn on PostgreSQL, and what every update of theirs reads first, in one
round trip.

Every update of a citizen takes their turn (`storage.coordination`), then reads their
dialog and their respondent record, and a press or a typed answer the response it
answers. On PostgreSQL each of those is a round trip to the server, and together they
were four of an answer's seven. Asked in one plain statement, lock and reads would be
wrong: the statement reads with a snapshot taken when it starts, before it waits for the
lock, and would miss what the previous holder committed meanwhile. A function can do it
in one call: `pg_advisory_lock` is its first statement and the reads come after, and a
volatile function takes a fresh snapshot for each statement it runs — after the lock was
granted.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from storage.coordination import CitizenReading
from storage.repositories.respondents import Respondent
from storage.repositories.responses import AnsweringState, Response, stored_value

#: Defined by the first start that finds it missing (`TURN_FUNCTION_DEFINED`): a changed
#: definition therefore takes a new name (`_v3`), which also lets instances of the older
#: version keep calling theirs during a rolling upgrade.
#:
#: The response a dialog is answering is the one its data names (`"response"`, the
#: questionnaire's); its answers come as [question, value] pairs rather than as rows of
#: `ResponseRepository.answering_state`, which repeat the response in every row.
TURN_FUNCTION = """
CREATE OR REPLACE FUNCTION civicpulse_citizen_turn_v2(citizen bigint)
RETURNS TABLE (dialogs json, respondent json, answering json) LANGUAGE plpgsql AS $$
DECLARE
    answered bigint;
BEGIN
    PERFORM pg_advisory_lock(citizen);
    SELECT (f.data::json ->> 'response')::bigint INTO answered
    FROM fsm_states f
    WHERE f.user_id = citizen AND f.data::json ->> 'response' ~ '^[0-9]{1,18}$'
    ORDER BY f.storage_key LIMIT 1;
    RETURN QUERY SELECT
        (SELECT json_agg(json_build_array(f.storage_key, f.state, f.data))
         FROM fsm_states f WHERE f.user_id = citizen),
        (SELECT row_to_json(r) FROM respondents r WHERE r.telegram_id = citizen),
        (SELECT json_build_object(
            'response', row_to_json(r),
            'wave_state', w.state,
            'answers', (SELECT json_agg(json_build_array(a.question_id, a.value))
                        FROM answers a WHERE a.response_id = r.id))
         FROM responses r JOIN waves w ON w.id = r.wave_id WHERE r.id = answered);
END
$$
"""

TURN_FUNCTION_DEFINED = "SELECT to_regprocedure('civicpulse_citizen_turn_v2(bigint)') IS NOT NULL"

_TAKE = "SELECT dialogs, respondent, answering FROM civicpulse_citizen_turn_v2($1)"


async def take_turn(connection: asyncpg.Connection, user_id: int) -> CitizenReading:
    """Wait for the citizen's turn on `connection` (a session lock, released by
    `pg_advisory_unlock` or the end of the session) and read what the update needs."""
    row = await connection.fetchrow(_TAKE, user_id)
    dialogs = orjson.loads(row["dialogs"]) if row["dialogs"] is not None else []
    respondent, answering = row["respondent"], row["answering"]
    return CitizenReading(
        dialogs=[(key, state, data) for key, state, data in dialogs],
        respondent=None if respondent is None else Respondent.from_row(orjson.loads(respondent)),
        answering=None if answering is None else _answering_state(orjson.loads(answering)),
    )


def _answering_state(read: dict[str, Any]) -> AnsweringState:
    answers = read["answers"] or []
    return AnsweringState(
        Response.from_row(read["response"]),
        read["wave_state"],
        {question: stored_value(value) for question, value in answers},
    )
