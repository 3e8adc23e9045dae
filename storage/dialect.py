"""Every difference between the SQL of SQLite and of PostgreSQL, in one place.

Repositories write their statements once, in the SQL both databases share (`ON CONFLICT`,
`RETURNING`, `?` placeholders), and ask the database's `Dialect` for the few pieces that
differ: a list bound as one parameter, joining text, reading JSON, an index hint; and, for
the scans behind figures and exports (`storage.results`), a sum, a condition as 0 or 1, a
parameter's type, a join order and a range the planner needs repeated. The
PostgreSQL backend translates the placeholders when it runs a statement; nothing outside
`storage/` sees either difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

DialectName = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The SQL pieces that differ, as templates; each method below fills one in."""

    name: DialectName
    #: Turns a migration, written in SQLite's types, into this dialect's (`schema`).
    _schema: Callable[[str], str]
    _one_of: str
    _lists_as_json: bool
    _join_text: str
    _json_text: str
    _find: str
    _distinct: str
    _unindexed: str
    _json_rows: str
    _json_item: str
    _skip_locked: str
    _total: str
    _real: str
    _truth: str
    _same: str
    _join_in_order: str
    _carried_range: str
    #: The table that records the migrations applied, created before any of them.
    schema_table: str
    #: Run first in every migration's transaction: only one process migrates at a time.
    migration_lock: str | None

    def schema(self, sql: str) -> str:
        """A migration of `storage/migrations` (SQLite's types) in this dialect's types."""
        return self._schema(sql)

    def one_of(self, placeholder: str = "?") -> str:
        """`column {one_of()}`: the column equals one item of a list bound as a single
        parameter (`list_parameter`), so one statement serves lists of any length."""
        return self._one_of.format(placeholder)

    def list_parameter(self, values: Iterable[Any]) -> Any:
        """A list as `one_of` reads it: JSON text for SQLite, an array for PostgreSQL."""
        items = list(values)
        return json.dumps(items, ensure_ascii=False) if self._lists_as_json else items

    def join_text(self, expression: str) -> str:
        """An aggregate joining the group's values with commas."""
        return self._join_text.format(expression)

    def json_text(self, column: str, key: str) -> str:
        """The text of a top-level key of the JSON text in `column` (None if absent)."""
        return self._json_text.format(column, key)

    def find(self, haystack: str, needle: str) -> str:
        """1-based position of `needle` in `haystack`, 0 if absent."""
        return self._find.format(haystack, needle)

    def distinct(self, left: str, right: str) -> str:
        """True when the values differ, counting NULL as a value."""
        return self._distinct.format(left, right)

    def unindexed(self, column: str) -> str:
        """A column SQLite's planner must not pick an index for (PostgreSQL plans by
        statistics and needs no such hint)."""
        return self._unindexed.format(column)

    def json_rows(self, placeholder: str, alias: str) -> str:
        """A FROM item of the elements of a JSON array bound as text, each `alias.value`."""
        return self._json_rows.format(placeholder, alias)

    def json_item(self, alias: str, index: int, sql_type: str) -> str:
        """Item `index` of the array `alias.value` (from `json_rows`) as `sql_type`."""
        return self._json_item.format(alias, index, sql_type)

    def skip_locked(self, alias: str) -> str:
        """Appended to a SELECT: lock the rows of `alias` it returns until the transaction
        ends, passing over rows another transaction holds. Empty for SQLite, whose one
        writer at a time needs no row locks."""
        return self._skip_locked.format(alias)

    def total(self, expression: str) -> str:
        """The sum of a group's floating-point (or 0/1, `truth`) values, 0 for none:
        SQLite's `total`, which PostgreSQL spells with `sum`, NULL for an empty group."""
        return self._total.format(expression)

    def real(self, placeholder: str) -> str:
        """A parameter read as a floating-point number. PostgreSQL gives an untyped
        parameter the type of what it meets, and beside an integer (a `truth`) would make
        it one, dropping a weight's fraction; SQLite keeps whatever it is given."""
        return self._real.format(placeholder)

    def truth(self, condition: str) -> str:
        """A condition as the integer 1 or 0 (NULL counting as 0), to sum or multiply:
        SQLite's comparisons are integers already, PostgreSQL's are booleans."""
        return self._truth.format(condition)

    def same(self, left: str, right: str) -> str:
        """True when the values are equal, counting NULL as a value (`distinct`'s opposite)."""
        return self._same.format(left, right)

    def join_in_order(self, table: str, condition: str) -> str:
        """`JOIN table ON condition` that SQLite must walk in the order written, the
        left table outside (a CROSS JOIN there); PostgreSQL chooses its own order."""
        return self._join_in_order.format(table, condition)

    def carried_range(self, column: str, low: str, high: str) -> str:
        """`AND column BETWEEN low AND high` where the planner needs a range of the outer
        table's key repeated on the joined table's: PostgreSQL carries equalities across a
        join but not ranges, and would read all of the joined table; SQLite walks the
        join key by key and needs nothing (empty)."""
        return self._carried_range.format(column, low, high)


#: SQLite's types as PostgreSQL's, each read back as the same Python value: a row id
#: becomes an identity column, every integer a 64-bit one (Telegram ids pass 2³¹), REAL
#: a double; a WITHOUT ROWID table is an ordinary table there. Times stay ISO 8601 text and
#: flags 0/1 integers, so no caller sees which database it has.
_POSTGRESQL_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^(\s*id\s+)INTEGER(\s+)PRIMARY KEY", re.MULTILINE),
        r"\1BIGINT\2GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
)


def postgresql_schema(sql: str) -> str:
    """A migration written for SQLite in PostgreSQL's types (`_POSTGRESQL_TYPES`): one
    schema for both, so the two can never drift apart."""
    for pattern, replacement in _POSTGRESQL_TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


SQLITE = Dialect(
    name="sqlite",
    _schema=lambda sql: sql,
    _one_of="IN (SELECT value FROM json_each({}))",
    _lists_as_json=True,
    _join_text="group_concat({})",
    _json_text="CAST(json_extract({0}, '$.{1}') AS TEXT)",
    _find="instr({0}, {1})",
    _distinct="{0} IS NOT {1}",
    _unindexed="+{}",
    _json_rows="json_each({0}) AS {1}",
    _json_item="{0}.value ->> {1}",
    _skip_locked="",
    _total="total({})",
    _real="{}",
    _truth="({})",
    _same="{0} IS {1}",
    _join_in_order="CROSS JOIN {0} ON {1}",
    _carried_range="",
    schema_table=(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    ),
    migration_lock=None,  # BEGIN IMMEDIATE already admits one writer
)

POSTGRESQL = Dialect(
    name="postgresql",
    _schema=postgresql_schema,
    _one_of="= ANY({})",
    _lists_as_json=False,
    _join_text="string_agg({}, ',')",
    _json_text="(CAST({0} AS json) ->> '{1}')",
    _find="strpos({0}, {1})",
    _distinct="{0} IS DISTINCT FROM {1}",
    _unindexed="{}",
    _json_rows="json_array_elements(CAST({0} AS json)) AS {1}(value)",
    _json_item="CAST({0}.value ->> {1} AS {2})",
    _skip_locked=" FOR UPDATE OF {} SKIP LOCKED",
    _total="coalesce(sum({}), 0)",
    _real="CAST({} AS double precision)",
    _truth="(CASE WHEN {} THEN 1 ELSE 0 END)",
    _same="{0} IS NOT DISTINCT FROM {1}",
    _join_in_order="JOIN {0} ON {1}",
    _carried_range=" AND {0} BETWEEN {1} AND {2}",
    schema_table=(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
        ' \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\'))'
    ),
    # A transaction-level advisory lock: released by the commit, whatever happens.
    migration_lock="SELECT pg_advisory_xact_lock(hashtext('civicpulse.schema_migrations'))",
)

#: `?`, `?NNN` and `:name` outside string literals, quoted names and comments; `::` (a
#: PostgreSQL cast) is matched whole so that its second colon is never read as a name.
_TOKEN = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::|\?(\d*)|:([A-Za-z_]\w*)""", re.ASCII
)


@lru_cache(maxsize=1024)
def numbered_placeholders(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with SQLite's placeholders as PostgreSQL's `$1`, `$2`, …, and the names of
    `:name` placeholders in the order of their numbers (empty when the statement has none).

    Numbering follows SQLite: `?NNN` is parameter NNN, a bare `?` the one after the largest
    so far, and each distinct `:name` the next. Cached: statements are constants.
    """
    names: dict[str, int] = {}
    largest = 0

    def number(match: re.Match[str]) -> str:
        nonlocal largest
        digits, name = match.group(1), match.group(2)
        if name is not None:
            if name not in names:
                largest += 1
                names[name] = largest
            return f"${names[name]}"
        if digits is None:
            return match.group(0)  # a literal, a quoted name, a comment or a cast
        index = int(digits) if digits else largest + 1
        largest = max(largest, index)
        return f"${index}"

    return _TOKEN.sub(number, sql), tuple(names)
