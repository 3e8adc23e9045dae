"""Runtime settings, read from the environment or a `.env` file.

The names and defaults are a public contract (see docs/operating.md, "Settings"); the
token is a `SecretStr` so that it never appears in a log line or a traceback by accident.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.database_url import check_database_url
from surveys.loader import BUNDLED_SURVEYS_DIR
from surveys.regions import BUNDLED_CATALOG_PATH

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class _BothDatabases(str):
    """A `DATABASE_URL` given together with `DATABASE_PATH`, marked so that the refusal is
    reported against the setting's name, like every other bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_path: Path = Path("data/civicpulse.db")
    #: `postgresql://user:password@host:5432/db`: PostgreSQL instead of the SQLite file.
    #: A secret like the token, since it usually carries the password.
    database_url: SecretStr | None = None
    surveys_dir: Path = BUNDLED_SURVEYS_DIR
    regions_file: Path = BUNDLED_CATALOG_PATH
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    pseudonym_key: SecretStr | None = None
    broadcast_rate: float = Field(default=25.0, gt=0)
    #: Opt-in: send invitations with allow_paid_broadcast (up to 1,000/s, paid in Stars).
    broadcast_paid: bool = False
    #: Updates per second one user may send before the rest are ignored (0 turns it off).
    throttle_rate: float = Field(default=3.0, ge=0)
    #: Updates one user may send at once, on top of the rate, before throttling starts.
    throttle_burst: int = Field(default=10, ge=1)
    #: Shared secret Telegram sends with every webhook request; generated when unset.
    webhook_secret: SecretStr | None = None
    min_cell_size: int = Field(default=10, ge=1)
    #: Whether /export in chat also sends the answers file. Off: that file is microdata
    #: (pseudonymised, with free text), and a file sent to a chat lives in the messenger's
    #: cloud and on every device of the account, beyond erasure and the audit log.
    chat_export_answers: bool = False
    #: Days the operator keeps database backups, which hold erased people's data until
    #: destroyed: /privacy tells citizens this figure, so it must match the backup rotation.
    backup_retention_days: int = Field(default=30, ge=1, le=3650)
    #: The public results site's folder, published again as each wave closes; None: never.
    publish_dir: Path | None = None
    default_locale: Literal["ru", "en"] = "ru"
    timezone: str = "Europe/Moscow"

    @field_validator(
        "bot_token", "pseudonym_key", "webhook_secret", "publish_dir", "database_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`BOT_TOKEN=` as copied from .env.example means "not set", not an empty secret."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="before")
    @classmethod
    def _one_database(cls, data: object) -> object:
        """Both databases named is a mistake to point out, not to settle by a silent rule:
        an operator who sets both means one of them, and a wrong guess splits the data."""
        if isinstance(data, dict):
            url = data.get("database_url")
            if isinstance(url, str) and url.strip() and data.get("database_path") is not None:
                return {**data, "database_url": _BothDatabases(url)}
        return data

    @field_validator("database_url", mode="before")
    @classmethod
    def _not_both_databases(cls, value: object) -> object:
        if isinstance(value, _BothDatabases):
            raise ValueError(
                "DATABASE_URL and DATABASE_PATH are both set: keep DATABASE_URL for "
                "PostgreSQL or DATABASE_PATH for SQLite, and remove the other"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_database_url(value.get_secret_value())
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts 1-256 characters of A-Z, a-z, 0-9, `_` and `-`, nothing else."""
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        """Accept the comma-separated form an operator writes in `.env`."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
