"""An invitation's or a reminder's text and button label, without aiogram.

`InvitationComposer` sends them; `civicpulse surveys validate` measures the very same text
(`bot.chat.message_limits`), and that command starts without aiogram.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape
from typing import TYPE_CHECKING

from bot.chat.texts import Texts
from surveys.model import Survey

if TYPE_CHECKING:  # for annotations only: the command line need not load the database
    from storage.repositories.invitations import InvitationKind


def invitation_message(
    survey: Survey, kind: InvitationKind, texts: Texts, ends_at: datetime, zone: tzinfo
) -> tuple[str, str]:
    """(text, button label) of an invitation to a wave that ends at `ends_at`, shown in
    `zone`, or of a reminder to finish it."""
    title = escape(survey.title.get(texts.language))
    until = ends_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    if kind == "reminder":
        return texts("remind.body", title=title, until=until), texts("remind.start")
    why = escape(survey.intro.get(texts.language)) if survey.intro else texts("invite.why")
    return texts("invite.body", title=title, why=why, until=until), texts("invite.start")
