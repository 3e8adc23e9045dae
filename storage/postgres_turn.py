"""A citizen's turn on PostgreSQL, and what every update of theirs reads first, in one
round trip.

Every update of a citizen takes their turn (`storage.coordination`), then reads their
dialog and their respondent record. On PostgreSQL each of those is a round trip to the
server, and together they were three of an answer's seven. Asked in one plain statement,
lock and reads would be wrong: the statement reads with a snapshot taken when it starts,
before it waits for the lock, and would miss what the previous holder committed
meanwhile. A function can do it in one call: `pg_advisory_lock` is its first statement
and the reads its second, and a volatile function takes a fresh snapshot for each
statement it runs — after the lock was granted.
"""

from __future__ import annotations

import asyncpg
import orjson

from storage.coordination import CitizenReading
from storage.repositories.respondents import Respondent

#: Defined by the first start that finds it missing (`TURN_FUNCTION_DEFINED`): a changed
#: definition therefore takes a new name (`_v2`), which also lets instances of the older
#: version keep calling theirs during a rolling upgrade.
TURN_FUNCTION = """
CREATE OR REPLACE FUNCTION civicpulse_citizen_turn_v1(citizen bigint)
RETURNS TABLE (dialogs json, respondent json) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_lock(citizen);
    RETURN QUERY SELECT
        (SELECT json_agg(json_build_array(f.storage_key, f.state, f.data))
         FROM fsm_states f WHERE f.user_id = citizen),
        (SELECT row_to_json(r) FROM respondents r WHERE r.telegram_id = citizen);
END
$$
"""

TURN_FUNCTION_DEFINED = "SELECT to_regprocedure('civicpulse_citizen_turn_v1(bigint)') IS NOT NULL"

_TAKE = "SELECT dialogs, respondent FROM civicpulse_citizen_turn_v1($1)"


async def take_turn(connection: asyncpg.Connection, user_id: int) -> CitizenReading:
    """Wait for the citizen's turn on `connection` (a session lock, released by
    `pg_advisory_unlock` or the end of the session) and read what the update needs."""
    row = await connection.fetchrow(_TAKE, user_id)
    dialogs = orjson.loads(row["dialogs"]) if row["dialogs"] is not None else []
    respondent = row["respondent"]
    return CitizenReading(
        dialogs=[(key, state, data) for key, state, data in dialogs],
        respondent=None if respondent is None else Respondent.from_row(orjson.loads(respondent)),
    )
