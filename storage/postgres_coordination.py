"""Citizens' turns and the sender role across instances, in PostgreSQL's advisory locks.

Both are *session* locks: PostgreSQL drops them when the connection that took them ends,
however it ends — a process killed with SIGKILL, a server that restarts. Nothing here
writes rows that would need expiring.

- A turn locks the citizen's Telegram id (the one-number key space) on a connection of a
  small pool of its own. Kept apart from the queries' pool, the handler's own statements
  never wait behind updates that hold turns. Waiting is bounded by `lock_timeout`: an
  update that cannot get its turn fails, and Telegram delivers it again.
- The role is a two-number key on one connection kept open for it. A holder whose link
  to the database breaks must not go on sending while another instance takes over, so
  the connection carries `idle_session_timeout`: the server ends a session it has heard
  nothing from for `IDLE_SESSION_TIMEOUT`, and with it the lock. The holder checks the
  connection every few seconds (`bot.waves.sender_duty`), which keeps a healthy session
  busy and tells a cut-off holder within `CHECK_TIMEOUT` that it has lost the role —
  well before the server gives the lock to someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from storage.backend import DatabaseOpenError

log = logging.getLogger(__name__)

#: Connections a process may hold for turns at once: updates of different citizens
#: handled at the same time. Further updates wait for a connection, in order.
TURN_POOL_SIZE = 16
#: How long an update waits for its citizen's turn before failing (and being redelivered).
TURN_LOCK_TIMEOUT = "30s"
#: The sender role's key: "CPul", 1.
ROLE_KEY = (0x4350756C, 1)
#: The server ends a silent holder's session, and frees the role, after this long.
IDLE_SESSION_TIMEOUT = "10s"
#: The first PostgreSQL with `idle_session_timeout`.
MINIMUM_SERVER_VERSION = 140000
#: A check of the role's connection that takes longer than this counts as a lost role.
CHECK_TIMEOUT = 2.0

#: What a check of the role's connection may raise. Any failure counts as a lost role: a
#: connection in a state the driver itself cannot name (`InternalClientError` after the
#: server ended the session mid-query) is no proof of holding the lock, and sending
#: without the role is the one mistake that must not happen.
_CONNECTION_FAILURES = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


class PostgresRole:
    def __init__(self, url: str, instance: str) -> None:
        self._url = url
        self._application_name = f"civicpulse sender {instance}"[:63]
        self._connection: asyncpg.Connection | None = None
        self._holding = False
        self._failing = False  # said once in the log, not at every try

    async def take(self) -> bool:
        if self._holding:
            return True
        try:
            connection = await self._connected()
            self._holding = bool(
                await asyncio.wait_for(
                    connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", *ROLE_KEY),
                    CHECK_TIMEOUT,
                )
            )
        except _CONNECTION_FAILURES as error:
            if self._connection is not None or not self._failing:
                log.warning("cannot reach the database to take the sender role: %s", error)
            self._failing = True
            self._drop()
        else:
            self._failing = False
        return self._holding

    async def still_held(self) -> bool:
        if not self._holding or self._connection is None:
            return False
        try:
            await asyncio.wait_for(self._connection.fetchval("SELECT 1"), CHECK_TIMEOUT)
        except _CONNECTION_FAILURES:
            self._drop()
        return self._holding

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(*_CONNECTION_FAILURES):
                await asyncio.wait_for(self._connection.close(), CHECK_TIMEOUT)
            self._drop()

    async def held_anywhere(self) -> bool:
        connection = await asyncpg.connect(self._url, timeout=CHECK_TIMEOUT * 5)
        try:
            holders = await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = $1 AND objid = $2 AND objsubid = 2",
                *ROLE_KEY,
            )
        finally:
            await connection.close()
        return bool(holders)

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._url,
                timeout=CHECK_TIMEOUT * 5,
                server_settings={
                    "application_name": self._application_name,
                    "idle_session_timeout": IDLE_SESSION_TIMEOUT,
                },
            )
        return self._connection

    def _drop(self) -> None:
        """Forget the connection at once, without waiting on a link that may be dead."""
        if self._connection is not None:
            self._connection.terminate()
        self._connection = None
        self._holding = False


class PostgresCoordination:
    shared = True

    def __init__(self, turns: asyncpg.Pool, sender_role: PostgresRole) -> None:
        self._turns = turns
        self.sender_role = sender_role

    @classmethod
    async def open(cls, url: str, instance: str) -> PostgresCoordination:
        """DatabaseOpenError for a server older than `idle_session_timeout` (14), without
        which a holder cut off from the network would keep the role."""
        turns = await asyncpg.create_pool(
            url,
            min_size=0,
            max_size=TURN_POOL_SIZE,
            server_settings={
                "application_name": f"civicpulse turns {instance}"[:63],
                "lock_timeout": TURN_LOCK_TIMEOUT,
            },
        )
        version = await turns.fetchval("SHOW server_version_num")
        if int(version) < MINIMUM_SERVER_VERSION:
            await turns.close()
            raise DatabaseOpenError(
                f"PostgreSQL {MINIMUM_SERVER_VERSION // 10000} or newer is needed"
                f" (idle_session_timeout); this server is version {int(version) // 10000}"
            )
        return cls(turns, PostgresRole(url, instance))

    @asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        # Returning the connection to the pool resets it, and the reset unlocks every
        # advisory lock it holds: the turn ends even if the handler's last await failed.
        async with self._turns.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", user_id)
            yield

    async def close(self) -> None:
        await self.sender_role.release()
        await self._turns.close()
