"""The rule "at least one federal member is kept" holds when two processes change staff at
the same moment: on PostgreSQL, whose transactions (READ COMMITTED) do not queue up as
SQLite's do, two removals of the last two federal members could otherwise both pass.
"""

from __future__ import annotations

import asyncio

import pytest

from storage.access import federal
from storage.postgres import PostgresDatabase
from storage.staff_changes import StaffError, add_staff, remove_staff
from storage.store import Store

#: Rounds of the race: each gives the two removals another chance to interleave.
ROUNDS = 5


@pytest.mark.postgresql
async def test_two_concurrent_removals_of_the_last_two_federal_members_keep_one(
    postgres_url: str,
) -> None:
    # Two pools: two processes, each with its own connections, as two `civicpulse staff`.
    one = await PostgresDatabase.open(postgres_url)
    other = await PostgresDatabase.open(postgres_url)
    try:
        for round_ in range(ROUNDS):
            ids = (1000 + 2 * round_, 1001 + 2 * round_)
            for telegram_id in ids:
                await add_staff(Store(one), federal(telegram_id), admin_ids=frozenset(), by="op")
            outcomes = await asyncio.gather(
                remove_staff(Store(one), ids[0], admin_ids=frozenset(), by="op"),
                remove_staff(Store(other), ids[1], admin_ids=frozenset(), by="op"),
                return_exceptions=True,
            )
            refused = [outcome for outcome in outcomes if isinstance(outcome, StaffError)]
            assert len(refused) == 1, outcomes
            assert "the last federal member of staff" in str(refused[0])
            remaining = await Store(one).staff.all()
            assert [member.role for member in remaining] == ["federal"]
            # The one kept is removed by hand for the next round: none left is allowed
            # only through the database itself.
            await one.execute("DELETE FROM staff")
    finally:
        await one.close()
        await other.close()
