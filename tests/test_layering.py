"""The direction of dependencies between the rooms, read from the source.

The design keeps the domain (`surveys/`) free of Telegram and SQL, the database
(`storage/`) free of the bot, and the transport (`bot/telegram/`) free of what it carries.
Described only in prose, such rules erode one convenient import at a time; read from
every module's `import` statements (top level, inside functions, under TYPE_CHECKING
alike), a broken rule fails here with the file and line that broke it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATABASE_DRIVERS = ("aiosqlite", "sqlite3", "asyncpg", "psycopg", "psycopg2")


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules under `room` may not import a module under any of `forbidden`, except
    those under `allowed`, and only from the files listed there."""

    room: str
    forbidden: tuple[str, ...]
    allowed: tuple[tuple[str, str], ...] = ()  # (module prefix, file relative to ROOT)
    why: str = ""


RULES = (
    Rule(
        "surveys",
        ("bot", "storage", "aiogram", *DATABASE_DRIVERS),
        why="the domain is pure: no Telegram, no database",
    ),
    Rule(
        "storage",
        ("bot", "aiogram"),
        allowed=(("aiogram.fsm.storage.base", "storage/fsm.py"),),
        why="the database knows nothing of the bot; the FSM adapter only aiogram's base",
    ),
    Rule(
        "bot/telegram",
        ("bot", "storage", "surveys"),
        allowed=(("bot.telegram", ""),),
        why="the transport carries what the rest of the bot sends, and knows none of it",
    ),
    Rule(
        "bot/sandbox",
        ("bot", "storage", "surveys", "aiogram"),
        allowed=(
            ("bot.sandbox", ""),
            ("bot.app", "bot/sandbox/runtime.py"),
            ("bot.settings", "bot/sandbox/runtime.py"),
            ("storage.pseudonym_key", "bot/sandbox/runtime.py"),
        ),
        why="the stand-in stands where Telegram stands; only the runtime starts the bot",
    ),
    Rule("bot/chat", ("bot.cli", "bot.sandbox"), why="chat never reaches for the CLI"),
    Rule("bot/waves", ("bot.cli", "bot.sandbox"), why="waves never reach for the CLI"),
)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every name `path` imports, with its line: `a.b` for `import a.b`, `a.b.c` for
    `from a.b import c` (which may be the submodule `a.b.c`, as in `from bot import cli`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(rule: Rule, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / rule.room).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for line, module in imports(path):
            if not any(_under(module, banned) for banned in rule.forbidden):
                continue
            if any(
                _under(module, prefix) and (not file or file == relative)
                for prefix, file in rule.allowed
            ):
                continue
            found.append(f"{relative}:{line}: imports {module} ({rule.why})")
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.room)
def test_room_imports_only_what_it_may(rule: Rule) -> None:
    assert (ROOT / rule.room).is_dir()
    assert violations(rule) == []


def test_a_forbidden_import_is_named_with_its_line(tmp_path: Path) -> None:
    """The checker itself: a planted import is found, an allowed one is not."""
    room = tmp_path / "storage"
    room.mkdir()
    (room / "fsm.py").write_text("from aiogram.fsm.storage.base import BaseStorage\n")
    (room / "repo.py").write_text(
        "import json\n\n\ndef late():\n    from bot.chat import texts\n    return texts\n"
    )
    (room / "other.py").write_text("from aiogram.fsm.storage.base import StorageKey\n")
    storage_rule = next(rule for rule in RULES if rule.room == "storage")

    found = violations(storage_rule, tmp_path)

    assert [entry.split(" (")[0] for entry in found] == [
        "storage/other.py:1: imports aiogram.fsm.storage.base.StorageKey",
        "storage/repo.py:5: imports bot.chat.texts",
    ]
