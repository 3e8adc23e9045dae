"""A citizen blocking or unblocking the bot: invitations stop, and start again.

Telegram tells a bot in a `my_chat_member` update; the broadcaster also learns it from a
403, but this way nobody blocked is even tried and an unblock brings them back.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from storage.store import Store


async def blocked(event: ChatMemberUpdated, store: Store) -> None:
    await store.respondents.set_active(event.from_user.id, False)


async def unblocked(event: ChatMemberUpdated, store: Store) -> None:
    await store.respondents.set_active(event.from_user.id, True)


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="membership")
    router.my_chat_member.filter(F.chat.type == "private")
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
