"""Runtime settings, read from the environment or a `.env` file.

The names and defaults are a public contract (see README.md); the token is a `SecretStr`
so that it never appears in a log line or a traceback by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from surveys.loader import BUNDLED_SURVEYS_DIR
from surveys.regions import BUNDLED_CATALOG_PATH


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_path: Path = Path("data/civicpulse.db")
    surveys_dir: Path = BUNDLED_SURVEYS_DIR
    regions_file: Path = BUNDLED_CATALOG_PATH
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    pseudonym_key: SecretStr | None = None
    broadcast_rate: float = Field(default=25.0, gt=0)
    min_cell_size: int = Field(default=10, ge=1)
    default_locale: Literal["ru", "en"] = "ru"
    timezone: str = "Europe/Moscow"

    @field_validator("bot_token", "pseudonym_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`BOT_TOKEN=` as copied from .env.example means "not set", not an empty secret."""
        return None if isinstance(value, str) and not value.strip() else value

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
