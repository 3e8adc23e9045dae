"""Evaluates magic filters (`F.chat.type == "private"`) in the event loop, not in a thread.

aiogram runs every callable that is not a coroutine function in a worker thread
(`asyncio.to_thread`), so that a slow synchronous filter cannot block the loop. A magic
filter is a synchronous callable, yet it only reads attributes of the update: the thread
hop — a pool submission, a context switch and a wake-up of the loop — costs a hundred
times more than the check itself. Every router of ours starts with such a filter, so each
update paid for several hops before any handler ran; the answer benchmark showed it.

`inline_magic_filters` is applied once, after the routers are assembled; other
synchronous filters keep aiogram's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver


def inline_magic_filters(router: Router) -> int:
    """Make the magic filters of `router` and its sub-routers run inline; returns how many."""
    count = 0
    for observer in router.observers.values():
        if isinstance(observer, TelegramEventObserver):
            count += _inline(_filters_of(observer))
    for sub_router in router.sub_routers:
        count += inline_magic_filters(sub_router)
    return count


def _filters_of(observer: TelegramEventObserver) -> Iterable[FilterObject]:
    # `_handler` holds the router-level filters (`router.message.filter(...)`).
    for handler in (observer._handler, *observer.handlers):
        yield from handler.filters or ()


def _inline(filters: Iterable[FilterObject]) -> int:
    count = 0
    for filter_object in filters:
        if filter_object.magic is not None and not filter_object.awaitable:
            filter_object.callback = _as_coroutine(filter_object.callback)
            filter_object.awaitable = True
            count += 1
    return count


def _as_coroutine(resolve: Callable[..., Any]) -> Callable[..., Any]:
    async def resolve_inline(*args: Any, **kwargs: Any) -> Any:
        return resolve(*args, **kwargs)

    return resolve_inline
