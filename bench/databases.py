"""The database a benchmark runs on: SQLite in a file, or PostgreSQL the benchmark starts.

`--database postgresql` asks a benchmark for two runs of one scenario: first on a
throw-away PostgreSQL cluster (the tests' `tests.postgres_server`, started here and
removed at the end however the run ends), then on SQLite, so that the two sets of figures
come from the same hour of the same machine and can be read side by side — this machine's
speed varies too much from hour to hour for figures of different runs to compare.

The tests' cluster turns durability off, since it is deleted after the session; a
benchmark of that would flatter PostgreSQL, whose every commit otherwise waits for its
write-ahead log to reach the disk. `DurableCluster` puts PostgreSQL's own defaults back
(`fsync`, `synchronous_commit` and `full_page_writes` on), as a deployment runs it, and
tunes nothing else; the settings the server reports are printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from pydantic import SecretStr

from storage.backend import Backend
from storage.connect import open_database
from tests.postgres_server import PostgresCluster, fresh_database

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

#: PostgreSQL's defaults for the settings the tests' cluster turns off. PostgreSQL reads
#: its command line in order, so these, put after the tests' own, are the ones in force.
DURABLE = ("fsync=on", "synchronous_commit=on", "full_page_writes=on")

#: The server settings that decide what a commit costs, printed with the figures.
SHOWN_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
)

Result = TypeVar("Result")


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """`--database`, spelled and explained the same in every benchmark."""
    parser.add_argument(
        "--database",
        choices=(SQLITE, POSTGRESQL),
        default=SQLITE,
        help="postgresql: run on a local PostgreSQL the benchmark starts (fsync and "
        "synchronous_commit on), then on SQLite, and print the two side by side",
    )


@dataclass(frozen=True)
class Target:
    """Where one run keeps its data. It has the two fields `storage.connect` reads, so the
    benchmark opens it through the same `open_database` as the bot does."""

    label: str
    url: str | None = None
    path: Path = Path("civicpulse.db")
    #: The PostgreSQL server's `postmaster.pid`, to count the CPU it spends.
    server_pid_file: Path | None = None

    @classmethod
    def sqlite(cls, path: Path) -> Target:
        return cls("SQLite", path=path)

    @classmethod
    def postgresql(cls, url: str, server_pid_file: Path) -> Target:
        return cls("PostgreSQL", url=url, server_pid_file=server_pid_file)

    @property
    def database_url(self) -> SecretStr | None:
        return None if self.url is None else SecretStr(self.url)

    @property
    def database_path(self) -> Path:
        return self.path

    def settings(self) -> dict[str, Any]:
        """`bot.settings.Settings` fields naming this database, and only it: both set is a
        settings error."""
        if self.url is not None:
            return {"database_url": self.url}
        return {"database_path": self.path}

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` for a bot process on this database: whichever of `DATABASE_URL` and
        `DATABASE_PATH` it had (from this shell, say) gives way to this one alone."""
        chosen = {key.upper(): str(value) for key, value in self.settings().items()}
        kept = {
            key: value
            for key, value in env.items()
            if key.upper() not in {"DATABASE_URL", "DATABASE_PATH"}
        }
        return {**kept, **chosen}

    async def open(self) -> Backend:
        """The database, as the bot opens it (schema created or brought up to date)."""
        return await open_database(self)

    def server_cpu_seconds(self) -> float:
        """CPU time the PostgreSQL server has spent so far, in all its processes (those
        ended included: their parent has collected their time); 0 for SQLite, whose work
        is done inside the bot's own process and counted there. On a machine of two cores
        the server competes with the bot for them, so a comparison must count it."""
        if self.server_pid_file is None:
            return 0.0
        postmaster = int(self.server_pid_file.read_text().split()[0])
        total = process_cpu_seconds(postmaster, with_ended_children=True)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):  # ended while we looked
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    total += process_cpu_seconds(int(stat.parent.name))
        return total


def process_cpu_seconds(pid: int, with_ended_children: bool = False) -> float:
    """User + system CPU time of a running process, from /proc (Linux), optionally with
    that of the children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = sum(int(field) for field in fields[11 : 15 if with_ended_children else 13])
    return used / os.sysconf("SC_CLK_TCK")


class DurableCluster(PostgresCluster):
    """The tests' throw-away cluster, with PostgreSQL's durability defaults back on.

    The tests' start hands its server options to `pg_ctl` in one string; adding ours at its
    end is the one way in that neither copies that start nor changes what the tests get."""

    def _pg_ctl(self, *arguments: str) -> None:
        if "--options" in arguments:
            at = arguments.index("--options") + 1
            durable = " ".join(f"-c {setting}" for setting in DURABLE)
            arguments = (*arguments[:at], f"{arguments[at]} {durable}", *arguments[at + 1 :])
        super()._pg_ctl(*arguments)


async def server_settings(url: str) -> str:
    """The server's version and the settings in `SHOWN_SETTINGS`, as it reports them."""
    connection = await asyncpg.connect(url)
    try:
        version = await connection.fetchval("SHOW server_version")
        shown = [f"{name}={await connection.fetchval(f'SHOW {name}')}" for name in SHOWN_SETTINGS]
    finally:
        await connection.close()
    return f"PostgreSQL {version.split()[0]}, " + ", ".join(shown) + ", the rest its defaults"


@asynccontextmanager
async def postgres_target() -> AsyncIterator[Target]:
    """A fresh database on a cluster started for it; the cluster is stopped and its folder
    removed on the way out, also after a failure or Ctrl-C (the server runs in a session
    of its own, so a Ctrl-C at the terminal does not reach it: only this stops it)."""
    # Started without yielding to the event loop: a Ctrl-C meanwhile cancels this task at
    # its first await below, inside the `try`, rather than while the start is under way.
    cluster = DurableCluster.start()
    try:
        async with fresh_database(cluster) as url:
            print(f"server: {await server_settings(url)}")
            yield Target.postgresql(url, cluster.root / "data" / "postmaster.pid")
    finally:
        cluster.stop()


async def on_both(
    scenario: Callable[[Target], Awaitable[Result]], sqlite: Target
) -> tuple[Result, Result]:
    """The scenario on PostgreSQL, then on SQLite: both results, in that order. The cluster
    is gone before the SQLite run starts, so that it takes no share of the machine."""
    print("== PostgreSQL ==")
    async with postgres_target() as target:
        on_postgres = await scenario(target)
    print("\n== SQLite, in the same run ==")
    return on_postgres, await scenario(sqlite)


@dataclass(frozen=True)
class Figure:
    """One row of the comparison: a figure of each run and how it is written."""

    name: str
    postgresql: float
    sqlite: float
    digits: int = 0
    unit: str = ""

    def cells(self) -> tuple[str, str, str, str]:
        def shown(value: float) -> str:
            return f"{value:,.{self.digits}f}{self.unit}"

        if self.sqlite:
            ratio = f"{self.postgresql / self.sqlite:.2f}"
        else:
            ratio = "=" if self.postgresql == self.sqlite else "—"
        return self.name, shown(self.postgresql), shown(self.sqlite), ratio


def print_comparison(figures: Sequence[Figure]) -> None:
    """The figures side by side, as a Markdown table that pastes into the docs; the ratio
    is PostgreSQL ÷ SQLite ("=" where both are 0)."""
    rows = [("figure", "PostgreSQL", "SQLite", "ratio"), *(f.cells() for f in figures)]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    rule = ["-" * (widths[0] + 2), *("-" * (width + 1) + ":" for width in widths[1:])]
    print()
    for number, (name, *numbers) in enumerate(rows):
        cells = [name.ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True)]
        print("| " + " | ".join(cells) + " |")
        if number == 0:
            print("|" + "|".join(rule) + "|")
