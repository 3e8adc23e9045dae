"""Staff held in the database: who may administer, in which role, for which regions.

Read by Telegram id on every update an administrator sends (one lookup by primary key on
the event loop's thread), so that a change made by `civicpulse staff` in another process
applies from the next update, with no cache to go stale. Writes happen in the caller's
transaction (`storage.staff_changes`), together with their audit record.
"""

from __future__ import annotations

from storage.access import StaffMember, federal
from storage.backend import Backend, Row, Statements
from storage.clock import now_db

_COLUMNS = "telegram_id, role, regions, microdata, name, added_at, added_by"
#: Adds a member, or replaces every field of the one with the same id.
_PUT = (
    f"INSERT INTO staff ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (telegram_id) DO UPDATE SET role = excluded.role,"
    " regions = excluded.regions, microdata = excluded.microdata, name = excluded.name,"
    " added_at = excluded.added_at, added_by = excluded.added_by"
)


def _member(row: Row) -> StaffMember:
    regions = row["regions"]
    return StaffMember(
        telegram_id=row["telegram_id"],
        role=row["role"],
        regions=None if regions is None else frozenset(regions.split(",")),
        microdata=bool(row["microdata"]),
        name=row["name"],
        added_at=row["added_at"],
        added_by=row["added_by"],
    )


class StaffRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database

    async def member(self, telegram_id: int, admin_ids: frozenset[int]) -> StaffMember | None:
        """Who `telegram_id` is as staff: federal through ADMIN_IDS, else their row, if any."""
        if telegram_id in admin_ids:
            return federal(telegram_id)
        row = await self._db.point_fetch(
            f"SELECT {_COLUMNS} FROM staff WHERE telegram_id = ?", (telegram_id,)
        )
        return _member(row) if row else None

    async def all(self) -> list[StaffMember]:
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM staff ORDER BY telegram_id")
        return [_member(row) for row in rows]


#: Run first in every change of staff: locks the federal members' rows until the
#: transaction ends. On PostgreSQL (READ COMMITTED) two transactions could otherwise both
#: count two federal members and each remove one, leaving none; the second now waits here
#: for the first to commit, and then counts what it left. SQLite, whose write transactions
#: already run one at a time, merely rewrites the rows unchanged. An UPDATE rather than
#: PostgreSQL's advisory lock: it is the same SQL in both databases, so these functions,
#: which are handed a connection and not its dialect, need not ask which one they have.
_LOCK_FEDERAL_ROWS = "UPDATE staff SET role = role WHERE role = 'federal'"


async def staff_row(connection: Statements, telegram_id: int) -> StaffMember | None:
    """A member's row read inside a transaction, so that what is checked is what is
    changed; the first statement of every change of staff, so it takes their lock."""
    await connection.execute(_LOCK_FEDERAL_ROWS)
    cursor = await connection.execute(
        f"SELECT {_COLUMNS} FROM staff WHERE telegram_id = ?", (telegram_id,)
    )
    row = await cursor.fetchone()
    return _member(row) if row else None


async def federal_rows(connection: Statements) -> int:
    cursor = await connection.execute("SELECT COUNT(*) FROM staff WHERE role = 'federal'")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def put_staff(connection: Statements, member: StaffMember, by: str) -> None:
    await connection.execute(
        _PUT,
        (
            member.telegram_id,
            member.role,
            None if member.regions is None else ",".join(sorted(member.regions)),
            int(member.microdata),
            member.name,
            now_db(),
            by,
        ),
    )


async def delete_staff(connection: Statements, telegram_id: int) -> None:
    await connection.execute("DELETE FROM staff WHERE telegram_id = ?", (telegram_id,))
