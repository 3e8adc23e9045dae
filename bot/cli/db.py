"""`civicpulse db copy --to URL`: move a pilot from its SQLite file to PostgreSQL.

The copy itself is `storage.database_copy` (all or nothing, verified). This command adds
what an operator needs around it: progress on stderr while millions of answers go
across, a table of what arrived, and the steps that finish the move, the pseudonym key's
among them: pseudonyms are keyed hashes of respondents' ids, so the same ids (copied) and
the same key (moved) give the same pseudonyms.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.parsing import add_command
from bot.settings import Settings
from storage.database_url import check_database_url, masked
from storage.pseudonym_key import key_file_path

if TYPE_CHECKING:
    from storage.database_copy import TableCopy

#: Seconds between two progress lines of one table.
PROGRESS_EVERY = 5.0
#: Columns the steps after a copy are wrapped to.
_WIDTH = 88


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "db",
        help="move the data to another database",
        example="civicpulse db copy --to postgresql://civicpulse@db.example.org:5432/civicpulse",
    )
    commands = group.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    copy = add_command(
        commands,
        "copy",
        help="copy the SQLite database (DATABASE_PATH) into a new, empty PostgreSQL database",
        example="civicpulse db copy --to postgresql://civicpulse@db.example.org:5432/civicpulse",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user@host:5432/database; give the password in PGPASSWORD or "
        "~/.pgpass rather than in the URL, where the shell's history keeps it",
    )
    copy.set_defaults(handler=copy_command)


class _Progress:
    """Prints on stderr which table is being copied, and its rows every few seconds."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._table = ""
        self._printed_at = 0.0

    def __call__(self, table: str, rows: int) -> None:
        now = time.monotonic()
        if table != self._table:
            self._table, self._printed_at = table, now
            print(f"copying {table}…", file=self._stream, flush=True)
        elif now - self._printed_at >= PROGRESS_EVERY:
            self._printed_at = now
            print(f"  {table}: {rows:,} rows", file=self._stream, flush=True)


async def copy_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is not None:
        return _fail(
            "DATABASE_URL is set, so the data is in PostgreSQL already; to copy a SQLite "
            "database, run this with DATABASE_PATH naming it and without DATABASE_URL"
        )
    try:
        check_database_url(args.to)
    except ValueError as error:
        print(f"civicpulse: --to: {error}", file=sys.stderr)
        return 2
    # Loaded only here: no other command pays for the PostgreSQL driver.
    from storage.database_copy import CopyError, CopyMismatch, copy_sqlite_to_postgres

    try:
        copies = await copy_sqlite_to_postgres(
            settings.database_path, args.to, _Progress(sys.stderr)
        )
    except CopyMismatch as error:
        _print_tables(error.tables)
        return _fail(f"nothing copied: {error}")
    except CopyError as error:
        return _fail(f"nothing copied: {error}")
    _print_tables(copies)
    print()
    print(next_steps(settings, args.to, copies))
    return 0


def _fail(message: str) -> int:
    print(f"civicpulse: db copy: {message}", file=sys.stderr)
    return 1


def _print_tables(copies: list[TableCopy]) -> None:
    """Each table's rows in SQLite and in PostgreSQL, and whether their checksums agree."""
    width = max(len("table"), *(len(copy.table) for copy in copies))
    print(f"{'table':<{width}}  {'rows':>12}  {'copied':>12}  checksum")
    for copy in copies:
        print(
            f"{copy.table:<{width}}  {copy.rows:>12,}  {copy.target_rows:>12,}  "
            f"{'match' if copy.matches else 'DIFFERS'}"
        )


def next_steps(settings: Settings, url: str, copies: list[TableCopy]) -> str:
    """What finishes the move, with the paths of this installation."""
    rows = sum(copy.rows for copy in copies)
    key_text, key_command = _key_step(settings)
    steps = [
        ("Keep the bot stopped, so that nothing more is written to the SQLite file.", None),
        (
            f"In the settings (.env), set DATABASE_URL={masked(url)} (with its password)"
            " and remove DATABASE_PATH.",
            None,
        ),
        (key_text, key_command),
        (
            "Start the bot. Keep the SQLite file and its backups until you are sure, then"
            " destroy them as you would a backup.",
            None,
        ),
    ]
    lines = [f"Copied and verified {rows:,} rows in {len(copies)} tables. To finish the move:"]
    for number, (text, command) in enumerate(steps, start=1):
        lines += textwrap.wrap(
            text,
            _WIDTH,
            initial_indent=f"  {number}. ",
            subsequent_indent="     ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        if command is not None:
            lines.append(f"       {command}")
    return "\n".join(lines)


def _default_database_path() -> Path:
    """Where the key file is looked for with DATABASE_URL set: beside the default
    DATABASE_PATH, since the two settings cannot both be set."""
    default = Settings.model_fields["database_path"].default
    assert isinstance(default, Path)
    return default


def _key_step(settings: Settings) -> tuple[str, str | None]:
    """How the pseudonym key comes along, and the command that moves it if one must: it
    is `PSEUDONYM_KEY`, or the file beside DATABASE_PATH, which with DATABASE_URL set
    means beside the default path."""
    if settings.pseudonym_key is not None:
        return "Keep PSEUDONYM_KEY as it is: the pseudonyms stay the same.", None
    current = key_file_path(settings.database_path)
    wanted = key_file_path(_default_database_path())
    if not current.exists():
        return (
            f"No pseudonym key file exists yet ({current}), so no pseudonyms to keep. With"
            f" DATABASE_URL set, the key file is {wanted} in the bot's working folder.",
            None,
        )
    if current.resolve() == wanted.resolve():
        return (
            f"Leave the pseudonym key file {current} where it is: with DATABASE_URL set,"
            " CivicPulse reads it there too, and the pseudonyms stay the same.",
            None,
        )
    target = wanted.resolve()
    folder = shlex.join(["install", "-d", "-m", "700", str(target.parent)])
    return (
        f"Move the pseudonym key file: with DATABASE_URL set, CivicPulse reads it at {wanted}"
        " in its working folder (or set PSEUDONYM_KEY to the file's contents instead)."
        " Without the key, exports give every respondent a new pseudonym. Here:",
        f"{folder} && {shlex.join(['mv', str(current), str(target)])}",
    )
