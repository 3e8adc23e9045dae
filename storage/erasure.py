"""The right to erasure, as a privacy officer would check it: in the files, not the tables.

Deleting a person's rows hides them from queries, but SQLite keeps deleted records in free
pages of the database and, in WAL mode, the pages as they were written in the log until a
checkpoint copies them back and the log is reused. Every connection runs with
`secure_delete` (storage.database), so the deleted records are overwritten with zeros;
here the log is then checkpointed and cut to nothing, so that neither file holds the
person's Telegram id or anything they wrote once the erasure returns.
"""

from __future__ import annotations

from storage.fsm import DialogStorage
from storage.store import Store


async def erase_person(store: Store, dialogs: DialogStorage, telegram_id: int) -> bool:
    """Erase the profile (answers, responses and invitations go with it by cascade) and
    every dialog of the person, in memory and on disk. True if there was a profile."""
    existed = await store.respondents.delete(telegram_id)
    await dialogs.forget_user(telegram_id)
    await store.database.truncate_log()
    return existed


async def withdraw_disability_consent(store: Store, telegram_id: int) -> bool:
    """Withdrawing the consent to the health question erases what it covered, the flag on
    the profile and in past responses, from the files too. True if there was a consent."""
    withdrawn = await store.respondents.withdraw_disability_consent(telegram_id)
    if withdrawn:
        await store.database.truncate_log()
    return withdrawn
