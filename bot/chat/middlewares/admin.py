"""Admin commands exist only for ADMIN_IDS, and every admin action leaves an audit record.

The check is a router filter, not a middleware that swallows the update: for anyone else
the admin routers simply do not match, so the update goes on to the other routers and a
non-admin's `/admin` gets exactly what any unknown command gets — nothing that reveals
the admin commands, and nothing stored. The audit is an *inner* middleware: it runs only
when an admin handler was chosen, and writes after the handler so it can say what
came of the action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.chat.middlewares import Data, UpdateHandler
from bot.settings import Settings
from storage.store import Store

#: How much of a typed message the audit keeps (wizard answers are short).
AUDIT_TEXT_LIMIT = 200


class IsAdmin(Filter):
    async def __call__(
        self, event: TelegramObject, settings: Settings, event_from_user: User | None = None
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.admin_ids


@dataclass(slots=True)
class AuditNote:
    """Filled in by a handler that changed something: what it did, and to what."""

    action: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class AuditMiddleware(BaseMiddleware):
    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        note = data["audit"] = AuditNote()
        try:
            return await handler(event, data)
        finally:
            user: User | None = data.get("event_from_user")
            store: Store = data["store"]
            await store.audit.record(
                "chat",
                user.id if user else "unknown",
                note.action or _describe(event),
                note.detail or None,
            )


def _describe(event: TelegramObject) -> str:
    if isinstance(event, Message):
        return f"message: {(event.text or '')[:AUDIT_TEXT_LIMIT]}"
    if isinstance(event, CallbackQuery):
        return f"button: {event.data}"
    return type(event).__name__


def admin_only(router: Router) -> Router:
    """Guard a router's messages and button presses: private chats, ADMIN_IDS, audited."""
    audit = AuditMiddleware()
    router.message.filter(F.chat.type == "private", IsAdmin())
    router.callback_query.filter(F.message.chat.type == "private", IsAdmin())
    router.message.middleware(audit)
    router.callback_query.middleware(audit)
    return router
