"""The outbox of invitations and reminders: what each respondent is owed, and what happened.

A row is the only record that a message is due, so every step of its life is a committed
state change: filled when the wave opens (`pending`), reserved by the broadcaster a moment
ahead (`claimed`), committed as `sending` just before its request starts (some
milliseconds ahead, never through a pause), and
settled (`delivered`, `blocked`, `failed`, or back to `pending` for a retry) after.
Whatever the process forgets in a crash, these rows still say — and they say which
requests may have started: only `sending` ones. After a crash `claimed` rows go back to
`pending` and `sending` ones become `unconfirmed`, never sent again (docs/waves.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.backend import Backend
from storage.clock import from_db, to_db
from storage.dialect import Dialect
from surveys.profile_groups import SEGMENTS

log = logging.getLogger(__name__)

InvitationKind = Literal["invitation", "reminder"]
Settled = Literal["delivered", "unconfirmed", "blocked", "failed", "pending"]
#: States in which a row still awaits its outcome (waiting, reserved, or in flight).
UNSETTLED = ("pending", "claimed", "sending")
#: States that count as delivered: accepted by Telegram, or (`unconfirmed`) started before a
#: crash and therefore presumed accepted — the answer was lost with the process.
DELIVERED = ("delivered", "unconfirmed")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed row, with what the broadcaster needs to write the message."""

    id: int
    wave_id: int
    kind: InvitationKind
    chat_id: int
    language: str
    failures: int


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows now `claimed`; how many due rows wait for a busy chat; how many were dropped."""

    items: list[Outgoing]
    deferred: int
    skipped: int


@dataclass(frozen=True, slots=True)
class Recovered:
    """What start-up found of a run that ended abruptly."""

    #: `claimed` rows, whose request had not started: back to `pending`, sent as usual.
    released: int
    #: `sending` rows, whose request had started: now `unconfirmed`, never sent again.
    unconfirmed: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send ended; `state="pending"` with `retry_at` schedules another attempt."""

    invitation_id: int
    chat_id: int
    state: Settled
    failures: int = 0
    error: str | None = None
    message_id: int | None = None
    retry_at: datetime | None = None


class InvitationRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database
        self._sql = _Statements(database.dialect)

    async def fill(self, wave_id: int, age_bands: Sequence[str], now: datetime) -> int | None:
        """Invite every active respondent the wave targets (regions, age bands, segments as
        the profile says now), once; None if already filled.

        One INSERT … SELECT, in one transaction with the wave's `invited_at` mark: either the
        whole audience is in the outbox and the wave says so, or neither.
        """
        stamp = to_db(now)
        async with self._db.transaction() as connection:
            marked = await connection.execute(
                "UPDATE waves SET invited_at = ? WHERE id = ? AND state = 'open'"
                " AND invited_at IS NULL",
                (stamp, wave_id),
            )
            if marked.rowcount == 0:
                return None
            cursor = await connection.execute(
                self._sql.fill,
                (stamp, stamp, stamp, wave_id, self._db.dialect.list_parameter(age_bands)),
            )
            return cursor.rowcount

    async def unfilled_open_waves(self) -> list[int]:
        """Open waves whose outbox was never filled (a crash right after opening)."""
        rows = await self._db.fetch_all(
            "SELECT id FROM waves WHERE state = 'open' AND invited_at IS NULL ORDER BY id"
        )
        return [row["id"] for row in rows]

    async def queue_reminders(self, wave_id: int, invited_before: datetime, now: datetime) -> int:
        """One reminder to each respondent invited before the cutoff who has not completed."""
        stamp = to_db(now)
        return await self._db.execute(
            "INSERT INTO invitations (wave_id, respondent_id, kind, region_code,"
            " next_attempt_at, created_at, updated_at)"
            " SELECT i.wave_id, i.respondent_id, 'reminder', i.region_code, ?, ?, ?"
            " FROM invitations i"
            " WHERE i.wave_id = ? AND i.kind = 'invitation'"
            " AND i.state IN ('delivered', 'unconfirmed') AND i.sent_at <= ?"
            f" AND NOT {_COMPLETED.format(alias='i')}"
            " ON CONFLICT (wave_id, respondent_id, kind) DO NOTHING",
            (stamp, stamp, stamp, wave_id, to_db(invited_before)),
        )

    async def first_unreminded(self, wave_id: int) -> datetime | None:
        """When the earliest invitation still owed a reminder was delivered."""
        row = await self._db.fetch_one(
            "SELECT MIN(i.sent_at) AS first FROM invitations i"
            " WHERE i.wave_id = ? AND i.kind = 'invitation'"
            " AND i.state IN ('delivered', 'unconfirmed')"
            " AND NOT EXISTS (SELECT 1 FROM invitations m WHERE m.wave_id = i.wave_id"
            "   AND m.respondent_id = i.respondent_id AND m.kind = 'reminder')"
            f" AND NOT {_COMPLETED.format(alias='i')}",
            (wave_id,),
        )
        return from_db(row["first"]) if row and row["first"] else None

    async def recover_interrupted(self, now: datetime) -> Recovered:
        """After a crash: settle what the last run left between claiming and its outcome.

        `claimed` rows never had a request started (that is committed as `sending` first),
        so they go back to `pending` and are sent as usual. `sending` rows had their request
        started: Telegram most likely accepted it, and there is no way to ask, so they are
        recorded `unconfirmed` (sent_at: when the request started) and NOT sent again —
        at most once, never twice (docs/waves.md). One transaction; call only when no
        broadcaster is running, i.e. at start-up.
        """
        stamp = to_db(now)
        async with self._db.transaction() as connection:
            released = await connection.execute(
                "UPDATE invitations SET state = 'pending', updated_at = ? WHERE state = 'claimed'",
                (stamp,),
            )
            unconfirmed = await connection.execute(
                "UPDATE invitations SET state = 'unconfirmed', sent_at = updated_at,"
                " error = 'request started before a crash; outcome unknown, not sent again',"
                " updated_at = ? WHERE state = 'sending'",
                (stamp,),
            )
            return Recovered(released.rowcount, unconfirmed.rowcount)

    async def claim(self, now: datetime, limit: int, busy: Callable[[int], bool]) -> Claim:
        """Reserve up to `limit` due rows as `claimed` and return them, oldest due first.

        A claimed row's request has not started: that takes `start_sending` first.

        In the same transaction, rows that are no longer owed (wave not open, reminder
        after completion, respondent inactive) are settled as `skipped`. Rows whose chat
        is `busy` (written to less than a second ago) or repeated in this batch stay
        pending, counted as deferred so the caller knows work is waiting.
        """
        stamp = to_db(now)
        claimed: list[Outgoing] = []
        skipped: list[tuple[str, str, int]] = []
        deferred = 0
        chats: set[int] = set()
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT i.id, i.wave_id, i.kind, i.failures, p.telegram_id, p.language,"
                " p.active, w.state AS wave_state,"
                f" i.kind = 'reminder' AND {_COMPLETED.format(alias='i')} AS completed"
                " FROM invitations i"
                " JOIN respondents p ON p.id = i.respondent_id"
                " JOIN waves w ON w.id = i.wave_id"
                " WHERE i.state = 'pending' AND i.next_attempt_at <= ?"
                f" ORDER BY i.next_attempt_at, i.id LIMIT ?{self._sql.claim_lock}",
                (stamp, limit),
            )
            for row in await cursor.fetchall():
                reason = _not_owed(row["wave_state"], bool(row["completed"]), row["active"])
                chat_id = row["telegram_id"]
                if reason is not None:
                    skipped.append((reason, stamp, row["id"]))
                elif chat_id in chats or busy(chat_id):
                    deferred += 1
                else:
                    chats.add(chat_id)
                    claimed.append(
                        Outgoing(
                            id=row["id"],
                            wave_id=row["wave_id"],
                            kind=row["kind"],
                            chat_id=chat_id,
                            language=row["language"],
                            failures=row["failures"],
                        )
                    )
            if skipped:
                await connection.executemany(
                    "UPDATE invitations SET state = 'skipped', error = ?, updated_at = ?"
                    " WHERE id = ?",
                    skipped,
                )
            await connection.execute(
                "UPDATE invitations SET state = 'claimed', updated_at = ?"
                f" WHERE id {self._sql.one_of}",
                (stamp, self._db.dialect.list_parameter(item.id for item in claimed)),
            )
        return Claim(claimed, deferred, len(skipped))

    async def start_sending(self, ids: Sequence[int], now: datetime) -> list[int] | None:
        """Commit claimed rows as `sending`: only then may their requests start. Returns the
        ids committed, in order.

        Rows whose wave has closed or been cancelled since the claim (in chat, or by
        `civicpulse wave cancel` in another process) are settled `skipped` instead, so a
        cancel stops the sending within LEAD's worth of rows rather than a claim's.

        Each row is found by its id (`unindexed` keeps SQLite off the state index, which
        would scan every claimed row). None if any row was not found `claimed` — nothing
        in this process touches a claimed row meanwhile, so only a second bot on the same
        database could have; then no request of the group may start (the rows it did
        move stay `sending`, recorded `unconfirmed` at the next start: never twice).
        """
        stamp = to_db(now)
        listed = self._db.dialect.list_parameter
        ended: dict[str, list[int]] = {}  # reason -> ids
        for row in await self._db.point_fetch_all(
            "SELECT i.id, w.state AS wave_state FROM invitations i JOIN waves w ON w.id = i.wave_id"
            f" WHERE i.id {self._sql.one_of} AND w.state != 'open'",
            (listed(ids),),
        ):
            ended.setdefault(_wave_not_open(row["wave_state"]), []).append(row["id"])
        for reason, skipped in ended.items():
            await self._db.point_execute(
                "UPDATE invitations SET state = 'skipped', error = ?, updated_at = ?"
                f" WHERE {self._sql.claimed_among}",
                (reason, stamp, listed(skipped)),
            )
        not_owed = {row_id for skipped in ended.values() for row_id in skipped}
        owed = [row_id for row_id in ids if row_id not in not_owed]
        changed = (
            await self._db.point_execute(
                "UPDATE invitations SET state = 'sending', updated_at = ?"
                f" WHERE {self._sql.claimed_among}",
                (stamp, listed(owed)),
            )
            if owed
            else 0
        )
        if changed == len(owed):
            return owed
        log.error(
            "%d of %d claimed messages were taken by another bot", len(owed) - changed, len(owed)
        )
        return None

    async def release(self, ids: Iterable[int]) -> None:
        """Give back claimed rows whose request never started (orderly shutdown)."""
        await self._db.execute(
            f"UPDATE invitations SET state = 'pending' WHERE {self._sql.claimed_among}",
            (self._db.dialect.list_parameter(ids),),
        )

    async def settle(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record a batch of outcomes at once; a 403 also deactivates the person.

        One statement when nobody blocked the bot (the common case, and one round trip to
        the database thread), a transaction of two otherwise.
        """
        stamp = to_db(now)
        rows = json.dumps(
            [
                (
                    outcome.invitation_id,
                    outcome.state,
                    outcome.failures,
                    outcome.error,
                    outcome.message_id,
                    stamp if outcome.state in DELIVERED else None,
                    to_db(outcome.retry_at) if outcome.retry_at else None,
                )
                for outcome in outcomes
            ],
            ensure_ascii=False,
        )
        blocked = [o.chat_id for o in outcomes if o.state == "blocked"]
        if not blocked:
            await self._db.execute(self._sql.settle, (stamp, rows))
            return
        async with self._db.transaction() as connection:
            await connection.execute(self._sql.settle, (stamp, rows))
            await connection.execute(
                "UPDATE respondents SET active = 0, updated_at = ?"
                f" WHERE telegram_id {self._sql.one_of}",
                (stamp, self._db.dialect.list_parameter(blocked)),
            )

    async def next_due(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(next_attempt_at) AS due FROM invitations WHERE state = 'pending'"
        )
        return from_db(row["due"]) if row and row["due"] else None

    async def backlog(self) -> tuple[int, int]:
        """Across every wave: rows waiting to be sent (retries included), and rows claimed
        or in flight."""
        row = await self._db.fetch_one(
            "SELECT COUNT(CASE WHEN state = 'pending' THEN 1 END) AS waiting,"
            " COUNT(CASE WHEN state IN ('claimed', 'sending') THEN 1 END) AS sending"
            " FROM invitations WHERE state IN ('pending', 'claimed', 'sending')"
        )
        return (int(row["waiting"]), int(row["sending"])) if row else (0, 0)

    async def unsettled(self, wave_id: int) -> int:
        """Rows of the wave still waiting, claimed or in flight."""
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM invitations"
            " WHERE wave_id = ? AND state IN ('pending', 'claimed', 'sending')",
            (wave_id,),
        )
        return int(row["n"]) if row else 0


class _Statements:
    """The statements whose SQL depends on the dialect, written out once per repository."""

    def __init__(self, dialect: Dialect) -> None:
        #: `id {one_of}`: the id is in a list bound as one parameter.
        self.one_of = dialect.one_of()
        #: Claimed rows among a list of ids, each found by its id (`unindexed` keeps SQLite
        #: off the state index, which would scan every claimed row).
        self.claimed_among = f"{dialect.unindexed('state')} = 'claimed' AND id {self.one_of}"
        #: Due rows are locked as they are read, and rows another claimer holds are passed
        #: over, where the database has row locks (SQLite's writer lock covers it already).
        self.claim_lock = dialect.skip_locked("i")
        self.fill = (
            "INSERT INTO invitations (wave_id, respondent_id, kind, region_code,"
            " next_attempt_at, created_at, updated_at)"
            " SELECT w.id, r.id, 'invitation', r.region_code, ?, ?, ?"
            " FROM waves w JOIN respondents r ON TRUE"
            " WHERE w.id = ? AND r.active = 1 AND r.region_code IS NOT NULL"
            f" AND r.age_band {self.one_of}"
            " AND (w.all_regions = 1 OR r.region_code IN"
            "      (SELECT region_code FROM wave_regions WHERE wave_id = w.id))"
            f" AND {_in_segments(dialect)}"
            " ORDER BY r.id"
            " ON CONFLICT (wave_id, respondent_id, kind) DO NOTHING"
        )
        self.settle = _settle(dialect)


def _settle(dialect: Dialect) -> str:
    """Outcomes arrive as a JSON array of [id, state, failures, error, message_id, sent_at,
    next_attempt_at]; only rows still `sending` are settled, each found by its id."""

    def item(index: int, sql_type: str) -> str:
        return dialect.json_item("o", index, sql_type)

    return (
        f"UPDATE invitations AS i SET state = {item(1, 'text')},"
        f" failures = {item(2, 'integer')}, error = {item(3, 'text')},"
        f" message_id = COALESCE({item(4, 'bigint')}, i.message_id),"
        f" sent_at = {item(5, 'text')},"
        f" next_attempt_at = COALESCE({item(6, 'text')}, i.next_attempt_at),"
        " updated_at = ?1"
        f" FROM {dialect.json_rows('?2', 'o')}"
        f" WHERE i.id = {item(0, 'bigint')} AND {dialect.unindexed('i.state')} = 'sending'"
    )


def _in_segments(dialect: Dialect) -> str:
    """ "Respondent `r` is in the audience of wave `w`'s segments": none named, or any one
    the respondent's profile places them in. Written out from surveys.profile_groups, whose
    column names and values are this module's constants, never input."""
    named = []
    for segment_id, segment in SEGMENTS.items():
        found = dialect.find("',' || w.segments || ','", f"',{segment_id},'")
        named.append(f"({found} > 0 AND r.{segment.column} = '{segment.value}')")
    return f"(w.segments IS NULL OR {' OR '.join(named)})"


#: "This respondent has completed this wave", for a row aliased `{alias}`.
_COMPLETED = (
    "EXISTS (SELECT 1 FROM responses s WHERE s.wave_id = {alias}.wave_id"
    " AND s.respondent_id = {alias}.respondent_id AND s.completed_at IS NOT NULL)"
)


def _not_owed(wave_state: str, completed: bool, active: int) -> str | None:
    """Why a due row should not be sent any more, or None if it should."""
    if wave_state != "open":
        return _wave_not_open(wave_state)
    if completed:
        return "already completed"
    if not active:
        return "respondent inactive"
    return None


def _wave_not_open(wave_state: str) -> str:
    """The reason a row of a wave that is no longer open is skipped."""
    return f"wave {wave_state}"
