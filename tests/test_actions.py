"""Actions as staff enter them: on the command line, which acts as the operator for every
region, and in the admin chat, where a member changes only their own regions' actions.

Every refusal is checked to store nothing and to say what to change; every change to leave
its audit record with the regions it concerned.
"""

from __future__ import annotations

import asyncio
import copy
import getpass
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.chat.callbacks import ActionCb
from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram
from storage.connect import open_database
from storage.repositories.audit import AuditEntry
from storage.store import Store
from surveys.actions import TITLE_LIMIT, Action, ActionDraft, checked
from tests.commands import Cli, cli_settings
from tests.harness import Citizen
from tests.test_staff_chat import ANALYST, NORTH, URALS, grant, labels, staff_bot

NOVGOROD = "49701000"  # a municipality of region 49
OTHER_TOWN = "53701000"  # not of region 49


def _stored(tmp_path: Path) -> tuple[list[Action], list[AuditEntry]]:
    """The actions and the audit log as another process reads them."""

    async def read() -> tuple[list[Action], list[AuditEntry]]:
        database = await open_database(cli_settings(tmp_path))
        try:
            store = Store(database)
            return await store.actions.listed(), await store.audit.entries()
        finally:
            await database.close()

    return asyncio.run(read())


def test_the_command_line_adds_lists_updates_and_removes_and_audits_each(
    cli: Cli,
    tmp_path: Path,
) -> None:
    status, out, err = cli(
        "actions", "add", "--region", "49", "--municipality", NOVGOROD, "--situation",
        "child_payment", "--title", " Выплаты за один визит ", "--title-en", "One visit",
        "--status", "in_progress", "--since", "2026-03-01", "--link", "https://example.org/a",
    )  # fmt: skip
    assert (status, out, err) == (0, "1\n", "")
    assert cli("actions", "add", "--region", "65", "--title", "Дороги")[:2] == (0, "2\n")
    (first, second), _ = _stored(tmp_path)
    assert first.title_ru == "Выплаты за один визит" and first.title_en == "One visit"
    assert first.topic == "social_support"  # the situation's topic, filled in
    assert str(first.since) == "2026-03-01" and second.status == "planned"
    assert second.since is not None  # the day it was recorded

    status, out, _ = cli("actions", "list", "--region", "49")
    assert status == 0 and len(out.splitlines()) == 2
    assert out.splitlines()[1].split()[:6] == [
        "1", "49", NOVGOROD, "social_support", "in_progress", "2026-03-01",
    ]  # fmt: skip
    assert out.splitlines()[1].endswith("Выплаты за один визит")
    assert len(cli("actions", "list")[1].splitlines()) == 3

    status, out, _ = cli("actions", "update", "1", "--status", "done", "--link", "")
    assert (status, out) == (0, "action 1: status, since, link changed\n")
    assert cli("actions", "update", "1", "--status", "done")[1] == "action 1: no change\n"
    (first, _), _ = _stored(tmp_path)
    assert first.status == "done" and first.link is None and first.title_en == "One visit"

    assert cli("actions", "remove", "2")[:2] == (0, "action 2 removed\n")
    actions, audit = _stored(tmp_path)
    assert [action.id for action in actions] == [1]
    assert [(entry.source, entry.actor, entry.action, entry.regions) for entry in audit] == [
        ("cli", getpass.getuser(), "action.add", "49"),
        ("cli", getpass.getuser(), "action.add", "65"),
        ("cli", getpass.getuser(), "action.update", "49"),
        ("cli", getpass.getuser(), "action.remove", "65"),
    ]
    assert audit[2].detail is not None
    assert audit[2].detail["changed"]["status"] == ["in_progress", "done"]
    assert audit[2].detail["changed"]["link"] == ["https://example.org/a", None]
    assert audit[3].detail is not None and audit[3].detail["title_ru"] == "Дороги"


@pytest.mark.parametrize(
    "argv,reason",
    [
        (("add", "--region", "00", "--title", "x"), "unknown region code '00'"),
        (("add", "--region", "49", "--municipality", OTHER_TOWN, "--title", "x"),
         f"region 49 has no municipality '{OTHER_TOWN}'"),
        (("add", "--region", "49", "--topic", "roads", "--title", "x"),
         "no survey has a topic 'roads'"),
        (("add", "--region", "49", "--situation", "moving", "--title", "x"),
         "no survey has a life situation 'moving'"),
        (("add", "--region", "49", "--topic", "education", "--situation", "child_payment",
          "--title", "x"), "belongs to topic social_support, not 'education'"),
        (("add", "--region", "49", "--title", "   "), "the title is empty"),
        (("add", "--region", "49", "--title", "Т" * (TITLE_LIMIT + 5)), "shorten it by 5"),
        (("add", "--region", "49", "--title", "x", "--description", "a\x1bb"),
         "description contains control characters"),
        (("add", "--region", "49", "--title", "x", "--link", "http://example.org"),
         "must start with https://"),
        (("add", "--region", "49", "--title", "x", "--status", "finished"), "not one of planned"),
        (("add", "--region", "49", "--title", "x", "--since", "01.03.2026"), "YYYY-MM-DD"),
        (("update", "1", "--title", ""), "the title is empty"),
        (("update", "1", "--region", "65"), f"region 65 has no municipality '{NOVGOROD}'"),
        (("update", "7", "--status", "done"), "there is no action 7"),
        (("update", str(2**70), "--status", "done"), "there is no action"),
        (("remove", "7"), "there is no action 7"),
        (("list", "--region", "00"), "unknown region code '00'"),
    ],
)  # fmt: skip
def test_a_refused_command_says_why_and_stores_nothing(
    cli: Cli,
    tmp_path: Path,
    argv: tuple[str, ...],
    reason: str,
) -> None:
    assert (
        cli("actions", "add", "--region", "49", "--municipality", NOVGOROD, "--title", "ok")[0] == 0
    )
    before = _stored(tmp_path)
    status, out, err = cli("actions", *argv)
    assert (status, out) == (1, "")
    assert err.startswith("civicpulse: action not ") and reason in err, err
    assert _stored(tmp_path) == before


async def add_action_in_chat(
    member: Citizen,
    region: str,
    municipality: str,
    topic: str,
    title: str,
    status: str,
    link: str,
    refused: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, ChatMessage]:
    """Add an action through the admin chat's actions menu, tap by tap, as staff do; returns
    the screens of the steps ("regions", "confirm", "saved") as they were then, before the
    next step edited them. `refused` types a wrong value first at a step ("region", "title"
    or "link") and checks the bot's reply to it."""
    wrong = dict(refused or {})

    async def try_wrong(step: str) -> None:
        if step in wrong:
            typed, reply = wrong.pop(step)
            assert (await member.say(typed)).text == reply

    await member.command("/admin")
    await member.tap("Действия регионов")
    screens = {"regions": copy.deepcopy(await member.tap("Добавить действие"))}
    await try_wrong("region")
    await member.tap(region)
    await member.say(municipality)
    await member.tap(topic)
    await try_wrong("title")
    await member.say(title)
    await member.tap("Пропустить")
    await member.tap(status)
    await try_wrong("link")
    screens["confirm"] = copy.deepcopy(await member.say(link))
    screens["saved"] = await member.tap("Сохранить")
    assert not wrong, f"no such step: {sorted(wrong)}"
    return screens


async def refused_in_chat(member: Citizen, action: Action) -> None:
    """A member of another region neither sees `action` nor reaches it: not with its buttons
    forged, nor by typing its region when adding one."""
    await member.command("/admin")
    listing = await member.tap("Действия регионов")
    assert action.title_ru not in (listing.text or "")
    absent = f"Действия #{action.id} нет."
    for do in ("open", "done", "remove", "yes"):
        forged = ActionCb(action=action.id, do=do).pack()
        assert await member.press_data(listing.message_id, forged) == absent
    await member.tap("Добавить действие")
    assert (await member.say(action.region_code)).text == "Это вне вашего доступа."


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_regional_member_adds_an_action_for_their_region_in_chat(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        await grant(settings, NORTH, "regional", "49,53")
        member = Citizen(server, server.user(NORTH, "Анна"))
        screens = await add_action_in_chat(
            member,
            "Новгородская область",
            "Великий Новгород",
            "Здравоохранение",
            "<script>alert(1)</script>",
            "идёт работа",
            "https://example.org/clinics",
            refused={
                "region": ("65", "Это вне вашего доступа."),
                "title": (
                    "Т" * (TITLE_LIMIT + 1),
                    "Не сохранено: слишком длинно: предел — 150 символов, сократите на 1 символ.",
                ),
                "link": (
                    "http://example.org",
                    "Не сохранено: ссылка должна начинаться с https:// и вести на сайт.",
                ),
            },
        )
        assert labels(screens["regions"]) == ["Новгородская область", "Оренбургская область"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (screens["confirm"].raw_text or "")
        assert "Действие #1 сохранено." in (screens["saved"].text or "")

        (action,) = await running.app.store.actions.listed()
        assert (action.region_code, action.municipality_code) == ("49", NOVGOROD)
        assert (action.title_ru, action.status) == ("<script>alert(1)</script>", "in_progress")
        assert action.link == "https://example.org/clinics"
        (added,) = [e for e in await running.app.store.audit.recent() if e.action == "action.add"]
        assert (added.actor, added.role, added.regions) == (str(NORTH), "regional", "49")

        await member.command("/admin")
        listing = await member.tap("Действия регионов")
        assert "<script>alert(1)</script>" in (listing.text or "")
        assert "&lt;script&gt;" in (listing.raw_text or "")
        await member.tap("#1")
        await member.tap("→ сделано")
        assert (await running.app.store.actions.get(1)).status == "done"  # type: ignore[union-attr]


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_member_of_another_region_changes_nothing(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        await grant(settings, URALS, "regional", "65")
        await grant(settings, ANALYST, "analyst", "49")
        theirs = await running.app.store.actions.add(
            checked(ActionDraft("49", "Запись к врачу онлайн")), "operator"
        )
        before = await running.app.store.actions.listed()
        member = Citizen(server, server.user(URALS, "Борис"))
        (action,) = before
        assert action.id == theirs
        await refused_in_chat(member, action)
        assert await running.app.store.actions.listed() == before

        analyst = Citizen(server, server.user(ANALYST, "Вера"))
        assert "Действия регионов" not in labels(await analyst.command("/admin"))
