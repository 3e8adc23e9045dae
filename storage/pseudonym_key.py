"""Where the pseudonym key comes from: the PSEUDONYM_KEY setting, or a key file.

The key must live apart from the data it protects: whoever holds both can re-identify
every pseudonym by trying each respondent id. So it is never stored in the database. When
no key is configured one is generated on first use into `<database>.key` beside the
database, readable by the owner only, and reused ever after so that pseudonyms stay stable
between exports. Moving the key file elsewhere (and setting PSEUDONYM_KEY) is the
recommended production set-up; losing it only means new exports get new pseudonyms.

On PostgreSQL the data is shared by instances on several servers, and a key generated on
one of them would give its exports pseudonyms the others do not share. So there no key is
generated: it is PSEUDONYM_KEY, the same on every server, or a key file put in place (as
`civicpulse db copy` tells), and its absence is an error that says so.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

log = logging.getLogger(__name__)

_MIN_KEY_LENGTH = 16


def key_file_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".key")


class NoSharedKey(RuntimeError):
    """PostgreSQL without PSEUDONYM_KEY or a key file: generating one would split the
    pseudonyms between servers."""


def pseudonym_key(
    database_path: Path, configured: SecretStr | None = None, shared_database: bool = False
) -> bytes:
    """The configured key if there is one, else the key file's, created if missing unless
    the database is shared between servers (`shared_database`)."""
    if configured is not None and configured.get_secret_value():
        key = configured.get_secret_value()
        if len(key) < _MIN_KEY_LENGTH:
            log.warning(
                "PSEUDONYM_KEY is shorter than %d characters; a short key can be guessed",
                _MIN_KEY_LENGTH,
            )
        return key.encode()
    path = key_file_path(database_path)
    if shared_database and not path.exists():
        raise NoSharedKey(
            "with DATABASE_URL, set PSEUDONYM_KEY (the same on every server) so that every"
            f" export shares one key; no key file {path} was found either"
        )
    return _key_from_file(path)


class KeySettings(Protocol):
    """The settings that say where the key is (`bot.settings.Settings` has them)."""

    @property
    def database_path(self) -> Path: ...

    @property
    def pseudonym_key(self) -> SecretStr | None: ...

    @property
    def database_url(self) -> SecretStr | None: ...


def key_of(settings: KeySettings) -> bytes:
    """The key these settings name; on PostgreSQL (`DATABASE_URL`) never a generated one."""
    return pseudonym_key(
        settings.database_path, settings.pseudonym_key, settings.database_url is not None
    )


def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("key file %s is readable by others (mode %o); chmod 600 it", path, mode)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"the pseudonym key file {path} is empty; delete it or fill it")
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Write the whole key to a private temporary file, then link it into place.

    `link` fails if the key file already exists, so two processes exporting at once end up
    sharing whichever key was linked first, and nobody ever reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        log.info("generated a pseudonym key in %s; keep it apart from the data", path)
    finally:
        temporary.unlink(missing_ok=True)
