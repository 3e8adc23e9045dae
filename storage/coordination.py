"""How the instances of the bot that share one database agree on who does what.

Two agreements, each kept by a lock that ends with the process or its connection — never
by a row that someone would have to expire:

- **A citizen's turn.** One update of a citizen is handled at a time. Within a process
  `bot.chat.middlewares.serial` sees to that; with several instances behind one proxy,
  two presses of the same citizen may reach two processes, and only a lock they share can
  stop both from answering the same question or drawing the same screen.
- **The sender role.** Exactly one instance runs the wave sweep and sends invitations, so
  that `BROADCAST_RATE` holds for the whole deployment and the outbox has one reader.

SQLite serves one instance, so a turn needs nothing beyond the process's own lock, and
the role is an exclusive `flock` on a file beside the database, which the kernel releases
however the process ends (a second bot started by mistake on the same file waits and sends
nothing). PostgreSQL keeps both in advisory locks (`storage.postgres_coordination`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storage.repositories.respondents import Respondent
from storage.repositories.responses import AnsweringState

#: One dialog of the citizen as stored: (storage key, state, data as JSON text).
DialogRow = tuple[str, str | None, str]


@dataclass(frozen=True, slots=True)
class CitizenReading:
    """What every update of a citizen reads first, read by the turn itself where taking
    the turn is a round trip to a database server anyway: all their dialogs, their
    respondent record (None: they have none), and the response their dialog is answering
    (None: none), which a press or a typed answer reads next."""

    dialogs: Sequence[DialogRow]
    respondent: Respondent | None
    answering: AnsweringState | None = None


class SenderRole(Protocol):
    """The right to send. Taken with `take`, kept until `release` or until the process or
    its database connection ends; `still_held` notices the second."""

    async def take(self) -> bool:
        """True if this instance holds the role now (taken now or earlier), without
        waiting for another holder."""
        ...

    async def still_held(self) -> bool: ...

    async def release(self) -> None: ...

    async def held_anywhere(self) -> bool:
        """Whether some instance (this one included) holds the role, for `status`."""
        ...


class Coordination(Protocol):
    @property
    def shared(self) -> bool:
        """True when other processes may handle this citizen's updates too, so that what
        this process remembers of a dialog must be read again at each turn."""
        ...

    @property
    def sender_role(self) -> SenderRole: ...

    def turn(self, user_id: int) -> AbstractAsyncContextManager[CitizenReading | None]:
        """Held while one update of the citizen is handled; gives what it read, or None
        where taking it reads nothing."""
        ...

    async def close(self) -> None: ...


class FileLockRole:
    """The sender role on SQLite: an exclusive `flock` of `path`, an empty file kept
    beside the database (mode 0600, as every file of the service)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._descriptor: int | None = None

    async def take(self) -> bool:
        if self._descriptor is None:
            self._descriptor = self._try_lock()
        return self._descriptor is not None

    async def still_held(self) -> bool:
        return self._descriptor is not None

    async def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file drops the lock
            self._descriptor = None

    async def held_anywhere(self) -> bool:
        if self._descriptor is not None:
            return True
        probe = self._try_lock()
        if probe is None:
            return True
        os.close(probe)
        return False

    def _try_lock(self) -> int | None:
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor


class LocalCoordination:
    """One instance on an SQLite file."""

    shared = False

    def __init__(self, database_path: Path) -> None:
        self.sender_role = FileLockRole(sender_lock_path(database_path))

    def turn(self, user_id: int) -> AbstractAsyncContextManager[CitizenReading | None]:
        return contextlib.nullcontext()

    async def close(self) -> None:
        await self.sender_role.release()


def sender_lock_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".sender")
