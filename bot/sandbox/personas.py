"""The people someone trying the sandbox can be: several citizens and one administrator.

Each persona is a separate Telegram user with its own private chat, so answers from
different people (and different regions) add up the way they do in production. The
administrator is only special because its id is in the sandbox's ADMIN_IDS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ADMIN_ID", "MAX_NAME_LENGTH", "Persona", "PersonaBook"]

Role = Literal["citizen", "admin"]

ADMIN_ID: Final = 9001
MAX_NAME_LENGTH: Final = 64
_FIRST_CITIZEN_ID: Final = 1001

_CAST: Final[dict[str, tuple[str, ...]]] = {
    "ru": ("Анна", "Борис", "Вера"),
    "en": ("Anna", "Boris", "Vera"),
}
#: The page marks the role with a badge, so the name can stay a plain name.
_ADMIN_NAME: Final = {"ru": "Ольга", "en": "Olga"}


@dataclass(frozen=True, slots=True)
class Persona:
    id: int
    name: str
    role: Role
    language: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role, "language": self.language}


class PersonaBook:
    """The cast, in the order the page lists it; citizens can be added while it runs."""

    def __init__(self, language: str = "ru") -> None:
        self.language = language if language in _CAST else "ru"
        names = _CAST[self.language]
        self._people: list[Persona] = [
            Persona(_FIRST_CITIZEN_ID + n, name, "citizen", self.language)
            for n, name in enumerate(names)
        ]
        self._people.append(Persona(ADMIN_ID, _ADMIN_NAME[self.language], "admin", self.language))

    def __iter__(self) -> Iterator[Persona]:
        return iter(list(self._people))

    def __len__(self) -> int:
        return len(self._people)

    def get(self, persona_id: int) -> Persona | None:
        return next((p for p in self._people if p.id == persona_id), None)

    @property
    def admin_ids(self) -> frozenset[int]:
        return frozenset(p.id for p in self._people if p.role == "admin")

    def add_citizen(self, name: str) -> Persona:
        """A new citizen; ids stay below the administrator's so the lists read naturally."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"a name is 1 to {MAX_NAME_LENGTH} characters")
        next_id = max(p.id for p in self._people if p.role == "citizen") + 1
        if next_id >= ADMIN_ID:
            raise ValueError("no room for more citizens")
        persona = Persona(next_id, name, "citizen", self.language)
        citizens = sum(1 for p in self._people if p.role == "citizen")
        self._people.insert(citizens, persona)
        return persona
