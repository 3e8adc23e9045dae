"""Actions regions record about their results (`surveys.actions`), kept for their citizens
and the public site. Callers check drafts (`surveys.actions.checked`) and the member's
right to the region before writing; the audit record is theirs to write too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import date

from storage.backend import Backend, Row, returned_id
from storage.clock import now_db
from surveys.actions import Action, ActionDraft

_FIELDS = (
    "region_code",
    "municipality_code",
    "topic",
    "situation",
    "title_ru",
    "title_en",
    "description_ru",
    "description_en",
    "status",
    "since",
    "link",
)
#: Regions in code order; within a region, whole-region actions first, then by
#: municipality, the newest first.
_ORDER = "ORDER BY region_code, municipality_code IS NOT NULL, municipality_code, id DESC"


def _values(draft: ActionDraft) -> tuple[object, ...]:
    fields = asdict(draft)
    since = fields["since"]
    fields["since"] = since.isoformat() if isinstance(since, date) else None
    return tuple(fields[name] for name in _FIELDS)


def _action(row: Row) -> Action:
    return Action(
        region_code=row["region_code"],
        municipality_code=row["municipality_code"],
        topic=row["topic"],
        situation=row["situation"],
        title_ru=row["title_ru"],
        title_en=row["title_en"],
        description_ru=row["description_ru"],
        description_en=row["description_en"],
        status=row["status"],
        since=date.fromisoformat(row["since"]) if row["since"] else None,
        link=row["link"],
        id=row["id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class ActionRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database

    async def add(self, draft: ActionDraft, by: str) -> int:
        """Stores a checked draft; returns its id."""
        now = now_db()
        marks = ", ".join("?" for _ in range(len(_FIELDS) + 3))
        columns = ", ".join((*_FIELDS, "created_by", "created_at", "updated_at"))
        async with self._db.transaction() as connection:
            return await returned_id(
                await connection.execute(
                    f"INSERT INTO actions ({columns}) VALUES ({marks}) RETURNING id",
                    (*_values(draft), by, now, now),
                )
            )

    async def get(self, action_id: int) -> Action | None:
        row = await self._db.fetch_one("SELECT * FROM actions WHERE id = ?", (action_id,))
        return _action(row) if row else None

    async def update(self, action_id: int, draft: ActionDraft) -> bool:
        """Replaces every field of the action with the checked draft's."""
        assignments = ", ".join(f"{name} = ?" for name in _FIELDS)
        changed = await self._db.execute(
            f"UPDATE actions SET {assignments}, updated_at = ? WHERE id = ?",
            (*_values(draft), now_db(), action_id),
        )
        return changed > 0

    async def remove(self, action_id: int) -> bool:
        return await self._db.execute("DELETE FROM actions WHERE id = ?", (action_id,)) > 0

    async def listed(self, regions: Collection[str] | None = None) -> list[Action]:
        """Every action, or those of `regions`, in region order."""
        if regions is None:
            rows = await self._db.fetch_all(f"SELECT * FROM actions {_ORDER}")
        else:
            marks = ", ".join("?" for _ in regions)
            rows = await self._db.fetch_all(
                f"SELECT * FROM actions WHERE region_code IN ({marks}) {_ORDER}", tuple(regions)
            )
        return [_action(row) for row in rows]

    async def for_area(self, region_code: str, municipality_code: str | None) -> list[Action]:
        """What a citizen of this region (and municipality) is shown: the region's own
        actions and their municipality's, not other municipalities'."""
        rows = await self._db.fetch_all(
            f"SELECT * FROM actions WHERE region_code = ?"
            f" AND (municipality_code IS NULL OR municipality_code = ?) {_ORDER}",
            (region_code, municipality_code),
        )
        return [_action(row) for row in rows]
