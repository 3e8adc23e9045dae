"""Actions as entered: the rules of their text and links, and how they are stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage.database import Database
from storage.repositories.actions import ActionRepository
from surveys.actions import (
    DESCRIPTION_LIMIT,
    TITLE_LIMIT,
    ActionDraft,
    ActionError,
    checked,
    parse_since,
)


def test_texts_are_trimmed_and_kept_as_typed() -> None:
    draft = checked(ActionDraft("49", "  <script>alert(1)</script> ", description_ru=" \n "))
    assert draft.title_ru == "<script>alert(1)</script>"
    assert draft.description_ru is None


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (ActionDraft("49", "   "), "the title is empty"),
        (ActionDraft("49", "Т" * (TITLE_LIMIT + 3)), "shorten it by 3"),
        (ActionDraft("49", "ok", description_ru="a" * (DESCRIPTION_LIMIT + 1)), "limit is 1000"),
        (ActionDraft("49", "ok\x07"), "control characters"),
        (ActionDraft("49", "ok", link="http://example.org"), "must start with https://"),
        (ActionDraft("49", "ok", link="javascript:alert(1)"), "must start with https://"),
        (ActionDraft("49", "ok", link="https://"), "must start with https://"),
        (ActionDraft("49", "ok", link="https://example.org/a b"), "spaces"),
        (ActionDraft("49", "ok", status="finished"), "not one of planned"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_what_to_change(draft: ActionDraft, message: str) -> None:
    with pytest.raises(ActionError, match=message):
        checked(draft)


def test_a_link_typed_in_capitals_is_stored_as_the_site_shows_it() -> None:
    draft = checked(ActionDraft("49", "ok", link=" HTTPS://Example.org/Clinic "))
    assert draft.link == "https://Example.org/Clinic"


def test_dates_are_written_as_iso() -> None:
    assert parse_since(" 2026-11-30 ") == date(2026, 11, 30)
    with pytest.raises(ActionError, match="YYYY-MM-DD"):
        parse_since("30.11.2026")


async def test_stored_listed_updated_and_removed(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "actions.db")
    try:
        actions = ActionRepository(database)
        region = await actions.add(checked(ActionDraft("49", "Запись к врачу онлайн")), "7049")
        town = await actions.add(
            checked(
                ActionDraft(
                    "49",
                    "Новая поликлиника",
                    municipality_code="49701000",
                    topic="outpatient",
                    status="in_progress",
                    since=date(2026, 10, 1),
                    link="https://example.org/clinic",
                )
            ),
            "7049",
        )
        await actions.add(
            checked(ActionDraft("49", "Другой район", municipality_code="49603000")), "1"
        )
        await actions.add(checked(ActionDraft("65", "Урал")), "1")

        shown = await actions.for_area("49", "49701000")
        assert [a.id for a in shown] == [region, town]
        stored = shown[1]
        assert (stored.since, stored.link, stored.created_by) == (
            date(2026, 10, 1),
            "https://example.org/clinic",
            "7049",
        )
        assert stored.title("en") == "Новая поликлиника"  # no English title: the Russian one
        assert [a.region_code for a in await actions.listed(["65"])] == ["65"]

        assert await actions.update(
            town, checked(ActionDraft("49", "Поликлиника открыта", status="done"))
        )
        updated = await actions.get(town)
        assert updated is not None and (updated.title_ru, updated.status) == (
            "Поликлиника открыта",
            "done",
        )
        assert updated.municipality_code is None  # an update replaces every field
        assert await actions.remove(region) and await actions.get(region) is None
        assert not await actions.remove(region)
    finally:
        await database.close()
