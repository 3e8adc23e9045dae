"""Texts that every citizen-facing file must carry in both supported languages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")


class LocalizedText(BaseModel):
    """A text in Russian and English; both are required so no citizen meets a gap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ru: str
    en: str

    @field_validator("ru", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the translation is empty")
        return value.strip()

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.ru
