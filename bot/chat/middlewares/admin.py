"""Admin commands exist only for staff, and every action of staff leaves an audit record.

Who is staff, in which role and for which regions, is loaded per update by
`bot.chat.middlewares.staff`; the check here is a router filter, not a middleware that
swallows the update: for anyone else the admin routers simply do not match, so the update
goes on to the other routers and a non-admin's `/admin` gets exactly what any unknown
command gets — nothing that reveals the admin commands, and nothing stored. A router only
planners may use (the wave wizard) is invisible to analysts in the same way. What a
member may see and do *within* a router is checked by its handlers (`storage.access`).

The audit is an *inner* middleware: it runs only when an admin handler was chosen, and
writes after the handler so it can say what came of the action, with the member's role
and the regions the action concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.chat.middlewares import Data, UpdateHandler
from storage.access import StaffMember
from storage.store import Store

#: How much of a typed message the audit keeps (wizard answers are short).
AUDIT_TEXT_LIMIT = 200


class IsStaff(Filter):
    """The sender is staff (and, with `planners`, may plan waves)."""

    def __init__(self, *, planners: bool = False) -> None:
        self._planners = planners

    async def __call__(self, event: TelegramObject, staff: StaffMember | None = None) -> bool:
        return staff is not None and (staff.plans_waves or not self._planners)


@dataclass(slots=True)
class AuditNote:
    """Filled in by a handler: what it did, to what, and for which regions (by default the
    member's own)."""

    action: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    regions: str | None = None


class AuditMiddleware(BaseMiddleware):
    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        note = data["audit"] = AuditNote()
        try:
            return await handler(event, data)
        finally:
            staff: StaffMember = data["staff"]
            store: Store = data["store"]
            await store.audit.record(
                "chat",
                staff.telegram_id,
                note.action or _describe(event),
                note.detail or None,
                role=staff.role,
                regions=note.regions or staff.scope,
            )


def _describe(event: TelegramObject) -> str:
    if isinstance(event, Message):
        return f"message: {(event.text or '')[:AUDIT_TEXT_LIMIT]}"
    if isinstance(event, CallbackQuery):
        return f"button: {event.data}"
    return type(event).__name__


def admin_only(router: Router, *, planners: bool = False) -> Router:
    """Guard a router's messages and button presses: private chats, staff, audited."""
    audit = AuditMiddleware()
    router.message.filter(F.chat.type == "private", IsStaff(planners=planners))
    router.callback_query.filter(F.message.chat.type == "private", IsStaff(planners=planners))
    router.message.middleware(audit)
    router.callback_query.middleware(audit)
    return router
