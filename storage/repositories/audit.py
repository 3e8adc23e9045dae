"""Who did what and when: every administrator action, from the chat or the command line.

Append-only: a record is written after the action, in words an auditor can read without
the code, and never changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from storage.clock import now_db
from storage.database import Database

AuditSource = Literal["chat", "cli"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    source: AuditSource
    actor: str
    action: str
    detail: dict[str, Any] | None


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(
        self,
        source: AuditSource,
        actor: str | int,
        action: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self._db.execute(
            "INSERT INTO audit_log (at, source, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
            (
                now_db(),
                source,
                str(actor),
                action,
                None if detail is None else json.dumps(detail, ensure_ascii=False, default=str),
            ),
        )

    async def recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT at, source, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditEntry(
                row["at"],
                row["source"],
                row["actor"],
                row["action"],
                json.loads(row["detail"]) if row["detail"] else None,
            )
            for row in rows
        ]
