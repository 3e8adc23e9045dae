"""Pure computation in a forked child process, for a second core.

Publishing a national site is mostly Python, and Python runs one thread at a time: the
population groups' 156,000 cells and the change since the last wave took turns on one
core while the other waited. A forked child starts with the parent's memory as it is, so
the scan's half a million sums reach it without being copied or pickled; only its result
travels back, through a pipe.

Forking a process that has threads (the database's reader threads, asyncio's executor) is
safe here only because the child touches none of what they hold: it computes on objects
already in memory and sends the result. It opens no database, runs no event loop and
takes no lock the parent's threads may hold. Where fork is not available, the function
runs in a thread instead: the same result, one core.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class ChildFailed(RuntimeError):
    """The child ended without a result: killed, out of memory, or its result would not
    go through the pipe."""


async def run_in_child(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a forked child; its exception, if it raised, is raised here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return await asyncio.to_thread(function, *args)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, function, args), daemon=True)
    with warnings.catch_warnings():
        # Python 3.12+ warns on any fork of a process with threads; see the module doc
        # for why this child is safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        process.start()
    sender.close()
    try:
        succeeded, value = await asyncio.to_thread(_receive, receiver, process)
    finally:
        receiver.close()
        await asyncio.to_thread(process.join)
    if not succeeded:
        raise value
    return value  # type: ignore[no-any-return]


def _receive(receiver: Connection, process: multiprocessing.process.BaseProcess) -> Any:
    try:
        return receiver.recv()
    except EOFError:
        process.join()
        raise ChildFailed(
            f"the child computing in parallel ended with exit code {process.exitcode} and no result"
        ) from None


def _child(sender: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    # The parent's signal handlers write to its event loop's wake-up pipe, which the child
    # shares: a signal meant for the child must not look like one sent to the parent.
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    try:
        result: tuple[bool, Any] = (True, function(*args))
    except BaseException as error:  # handed to the parent, which raises it
        result = (False, error)
    try:
        sender.send(result)
    except Exception as error:  # an unpicklable result or exception
        sender.send((False, ChildFailed(f"the child's result could not be sent back: {error}")))
    finally:
        sender.close()
