"""Everything stored about one citizen, for /mydata: the right of access.

The profile row says most of it; the rest is how much of their taking part is kept
(responses, answers, messages sent to them), counted rather than listed, since the
answers themselves are what they gave and the chat already shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.repositories.respondents import Respondent
from storage.store import Store


@dataclass(frozen=True, slots=True)
class PersonalData:
    respondent: Respondent
    started: int
    completed: int
    answers: int
    invitations: int


async def personal_data(store: Store, respondent: Respondent) -> PersonalData:
    row = await store.database.fetch_one(
        "SELECT (SELECT count(*) FROM responses WHERE respondent_id = ?1) AS started,"
        " (SELECT count(*) FROM responses WHERE respondent_id = ?1"
        "   AND completed_at IS NOT NULL) AS completed,"
        " (SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id"
        "   WHERE r.respondent_id = ?1) AS answers,"
        " (SELECT count(*) FROM invitations WHERE respondent_id = ?1) AS invitations",
        (respondent.id,),
    )
    assert row is not None
    return PersonalData(
        respondent, row["started"], row["completed"], row["answers"], row["invitations"]
    )
