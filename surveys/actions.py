"""Actions: what a region is doing about its results, as its staff record them.

Everything here is typed by people into a command line or a chat, and later shown to
citizens and published on the open site, so it is untrusted input: every field is checked
when it is entered, with a message that says what to change, and nothing is stored until
all of it passes. Limits are on characters as read; the text is kept as typed (no markup
is interpreted) and escaped by whoever shows it. A link must be `https://` with a host:
the site and the chat never point people at plain HTTP, `javascript:` or a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

ActionStatus = Literal["planned", "in_progress", "done"]
STATUSES: tuple[ActionStatus, ...] = ("planned", "in_progress", "done")

#: A title is read in a list on a phone: one or two lines.
TITLE_LIMIT = 150
#: A description is a short paragraph, not a report.
DESCRIPTION_LIMIT = 1000
LINK_LIMIT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ActionError(ValueError):
    """An action that cannot be stored; the message names the field and the fix.

    The message is English, for the command line; `code` and `values` let the chat say the
    same in the reader's language (`action_error.<code>` in its catalog). `field` is one of
    `title`, `title_en`, `description`, `description_en`.
    """

    def __init__(self, message: str, code: str = "", **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """An action as entered, before it has an id."""

    region_code: str
    title_ru: str
    municipality_code: str | None = None
    topic: str | None = None
    situation: str | None = None
    title_en: str | None = None
    description_ru: str | None = None
    description_en: str | None = None
    status: ActionStatus = "planned"
    since: date | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Action(ActionDraft):
    id: int = 0
    created_by: str = ""
    created_at: str = ""
    updated_at: str = ""

    def title(self, language: str) -> str:
        return (self.title_en if language == "en" else None) or self.title_ru

    def description(self, language: str) -> str | None:
        return (self.description_en if language == "en" else None) or self.description_ru


def checked(draft: ActionDraft) -> ActionDraft:
    """The draft with its texts trimmed, or `ActionError` naming the first problem.

    Region, municipality, topic and situation codes are checked against the catalog and
    the surveys by the caller, which has them; here are the rules of the text itself.
    """
    title_ru = _text("title", draft.title_ru, TITLE_LIMIT, required=True)
    assert title_ru is not None
    if draft.status not in STATUSES:
        raise ActionError(f"status {draft.status!r} is not one of {', '.join(STATUSES)}", "status")
    return replace(
        draft,
        title_ru=title_ru,
        title_en=_text("title_en", draft.title_en, TITLE_LIMIT),
        description_ru=_text("description", draft.description_ru, DESCRIPTION_LIMIT),
        description_en=_text("description_en", draft.description_en, DESCRIPTION_LIMIT),
        link=checked_link(draft.link),
    )


def checked_link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    link = link.strip()
    if len(link) > LINK_LIMIT:
        raise ActionError(
            f"the link is {len(link)} characters long; the limit is {LINK_LIMIT}",
            "link_too_long",
            limit=LINK_LIMIT,
        )
    parts = urlsplit(link)
    if parts.scheme.lower() != "https" or not parts.hostname or _CONTROL.search(link):
        raise ActionError(
            f"the link must start with https:// and name a site: {link[:80]!r}", "link"
        )
    if any(character.isspace() for character in link):
        raise ActionError("the link must not contain spaces", "link_spaces")
    # Stored as https:// however typed, so the site, which shows only https links, shows it.
    return "https" + link[len(parts.scheme) :]


def parse_since(text: str) -> date:
    """A status date as YYYY-MM-DD, or `ActionError`."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise ActionError(f"the date {text[:20]!r} must be written YYYY-MM-DD", "date") from error


_FIELD_NAMES = {
    "title": "title",
    "title_en": "English title",
    "description": "description",
    "description_en": "English description",
}


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    text, name = (value or "").strip(), _FIELD_NAMES[field]
    if not text:
        if required:
            raise ActionError(
                f"the {name} is empty; write what is being done", "empty", field=field
            )
        return None
    if _CONTROL.search(text):
        raise ActionError(
            f"the {name} contains control characters; type it as plain text",
            "control",
            field=field,
        )
    if len(text) > limit:
        raise ActionError(
            f"the {name} is {len(text)} characters long; the limit is {limit}: shorten it by "
            f"{len(text) - limit}",
            "too_long",
            field=field,
            limit=limit,
            over=len(text) - limit,
        )
    return text
