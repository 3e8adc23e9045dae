"""Citizens' turns and the sender role across instances, in PostgreSQL's advisory locks.

Both are *session* locks: PostgreSQL drops them when the connection that took them ends,
however it ends — a process killed with SIGKILL, a server that restarts. Nothing here
writes rows that would need expiring.

- A turn locks the citizen's Telegram id (the one-number key space):
  `storage.postgres.PostgresDatabase.citizen_turn`, which lends the turn's connection to
  the update's statements.
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

import asyncpg

from storage.backend import DatabaseOpenError
from storage.postgres import PostgresDatabase

log = logging.getLogger(__name__)

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

    def __init__(self, database: PostgresDatabase, sender_role: PostgresRole) -> None:
        self.turn = database.citizen_turn
        self.sender_role = sender_role

    @classmethod
    async def open(
        cls, database: PostgresDatabase, url: str, instance: str
    ) -> PostgresCoordination:
        """DatabaseOpenError for a server older than `idle_session_timeout` (14), without
        which a holder cut off from the network would keep the role."""
        row = await database.fetch_one("SHOW server_version_num")
        version = int(row[0]) if row else 0
        if version < MINIMUM_SERVER_VERSION:
            raise DatabaseOpenError(
                f"PostgreSQL {MINIMUM_SERVER_VERSION // 10000} or newer is needed"
                f" (idle_session_timeout); this server is version {version // 10000}"
            )
        return cls(database, PostgresRole(url, instance))

    async def close(self) -> None:
        await self.sender_role.release()
