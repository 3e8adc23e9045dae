"""A throw-away PostgreSQL cluster for the test session.

`initdb` into a temporary folder, `pg_ctl start` on a free port of 127.0.0.1 (its socket
in that folder too), and at the end `pg_ctl stop` and the folder removed. PostgreSQL
refuses to run as root, so as root the cluster belongs to, and runs as, the `postgres`
system user. Without the server's programs the tests that need it are skipped, not failed.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

NOT_INSTALLED = (
    "PostgreSQL server binaries not found: install the postgresql package to run these tests"
)
#: The cluster's superuser, whose password tests put in their URLs.
SUPERUSER = "civicpulse"
SERVER_ACCOUNT = "postgres"


class Unavailable(Exception):
    """No cluster can be started here; the message says why, for the skip."""


def server_programs() -> Path:
    """The folder holding `initdb` and `pg_ctl`: on PATH, or Debian's versioned folders."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).parent)):
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(Path(f).parent.name))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise Unavailable(NOT_INSTALLED)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    root: Path
    port: int
    password: str
    programs: Path
    account: str | None  # the system user the server runs as, when we are root

    def url(self, database: str, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{SUPERUSER}:{secret}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresCluster:
        programs = server_programs()
        account = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_ACCOUNT)
            except KeyError:
                raise Unavailable(
                    f"running as root and there is no `{SERVER_ACCOUNT}` user to run "
                    "PostgreSQL as (useradd --system postgres)"
                ) from None
            account = SERVER_ACCOUNT
        root = Path(tempfile.mkdtemp(prefix="civicpulse-pg-"))
        cluster = cls(root, _free_port(), secrets.token_hex(8), programs, account)
        try:
            cluster._init_and_start()
        except BaseException:
            cluster.remove()
            raise
        return cluster

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.account, "--"] if self.account else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def _init_and_start(self) -> None:
        if self.account:
            shutil.chown(self.root, self.account)
        password_file = self.root / "password"
        password_file.write_text(self.password)
        if self.account:
            shutil.chown(password_file, self.account)
        self._run(
            str(self.programs / "initdb"),
            "--pgdata",
            str(self.root / "data"),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # Durability is of no use to a cluster that is deleted at the end of the session.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("--log", str(self.root / "server.log"), "--options", options, "start")

    def _pg_ctl(self, *arguments: str) -> None:
        """`pg_ctl` on this cluster, waiting until the server has done what it was told."""
        self._run(
            str(self.programs / "pg_ctl"), "--pgdata", str(self.root / "data"), "--wait", *arguments
        )

    def stop(self) -> None:
        try:
            self._pg_ctl("--mode", "immediate", "stop")
        finally:
            self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@asynccontextmanager
async def fresh_database(cluster: PostgresCluster) -> AsyncIterator[str]:
    """A new empty database on the cluster for one test, dropped after it; its URL."""
    name = f"test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(cluster.url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield cluster.url(name)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
