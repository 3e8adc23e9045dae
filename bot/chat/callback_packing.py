"""The question buttons' callback data as plain strings, without aiogram.

A question's keyboard is built for every answer, and `civicpulse surveys validate`
measures the very same strings against Telegram's 64-byte limit; that command must start
without loading aiogram (3 s), so the prefixes, the separator and the packing live here.
`bot.chat.callbacks` declares its CallbackData classes with these prefixes and separator,
so a model's `pack()` and `pack` below cannot drift apart.
"""

from __future__ import annotations

#: What aiogram's CallbackData puts between the prefix and each field (its default).
SEPARATOR = ":"
ANSWER_PREFIX = "a"
TOGGLE_PREFIX = "t"
STEP_PREFIX = "q"

#: The largest id or index a button or a command argument may carry: 15 digits, far above
#: any row id and below SQLite's 64-bit limit.
MAX_NUMBER = 10**15 - 1


def pack(prefix: str, *values: int | str, separator: str = SEPARATOR) -> str:
    """What a CallbackData model with `prefix` packs `values` to, without building and
    validating the model. Only for values that need no encoding: integers and the fixed
    words of a Literal field."""
    return separator.join((prefix, *map(str, values)))
