"""Who did what and when: every administrator action, from the chat or the command line.

Append-only: a record is written after the action, in words an auditor can read without
the code, and never changed. A chat record names the actor's Telegram id and role and the
regions the action concerned; a command-line record names the operating-system user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from storage.backend import Backend, Row, Statements
from storage.clock import now_db

AuditSource = Literal["chat", "cli"]

_INSERT = (
    "INSERT INTO audit_log (at, source, actor, role, regions, action, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = "SELECT at, source, actor, role, regions, action, detail FROM audit_log"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    source: AuditSource
    actor: str
    action: str
    detail: dict[str, Any] | None
    #: The actor's role in chat; None on the command line.
    role: str | None = None
    #: The regions the action concerned: `all`, or codes such as `49,53`; None if none.
    regions: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        detail = row["detail"]
        return cls(
            row["at"],
            row["source"],
            row["actor"],
            row["action"],
            json.loads(detail) if detail else None,
            row["role"],
            row["regions"],
        )


def _values(
    source: AuditSource,
    actor: str | int,
    action: str,
    detail: dict[str, Any] | None,
    role: str | None,
    regions: str | None,
) -> tuple[Any, ...]:
    text = None if detail is None else json.dumps(detail, ensure_ascii=False, default=str)
    # The action may be what a member of staff typed, and PostgreSQL's text cannot hold
    # U+0000 (SQLite's can): the log keeps a visible mark in its place, on both.
    return (now_db(), source, str(actor), role, regions, action.replace("\x00", "\ufffd"), text)


class AuditRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database

    async def record(
        self,
        source: AuditSource,
        actor: str | int,
        action: str,
        detail: dict[str, Any] | None = None,
        *,
        role: str | None = None,
        regions: str | None = None,
    ) -> None:
        await self._db.execute(_INSERT, _values(source, actor, action, detail, role, regions))

    async def recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = await self._db.fetch_all(f"{_SELECT} ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry.from_row(row) for row in rows]

    async def entries(
        self, *, since: str | None = None, staff: int | None = None
    ) -> list[AuditEntry]:
        """Oldest first, from `since` (a database time) on. With `staff`, what that member
        did and what was done to their access, which is what an auditor asks about one."""
        conditions: list[str] = []
        parameters: list[Any] = []
        if since is not None:
            conditions.append("at >= ?")
            parameters.append(since)
        if staff is not None:
            member = self._db.dialect.json_text("detail", "telegram_id")
            conditions.append(f"(actor = ? OR {member} = ?)")
            parameters += [str(staff), str(staff)]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = await self._db.fetch_all(f"{_SELECT}{where} ORDER BY id", parameters)
        return [AuditEntry.from_row(row) for row in rows]


async def record_in(
    connection: Statements,
    source: AuditSource,
    actor: str | int,
    action: str,
    detail: dict[str, Any] | None = None,
    *,
    regions: str | None = None,
) -> None:
    """An audit record written inside the caller's transaction: the change and its record
    are committed together or not at all."""
    await connection.execute(_INSERT, _values(source, actor, action, detail, None, regions))
