"""Adding, changing and removing staff: the checks, the change and its audit record.

Each runs in one transaction, so the check that keeps a federal member in the database
and the change it allows cannot be split by another `civicpulse staff` running at the
same moment, and a change is never committed without its audit record. A refused change
changes nothing and says why in plain words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storage.access import ALL_REGIONS, ROLES, Role, StaffMember
from storage.backend import Statements
from storage.repositories.audit import record_in
from storage.repositories.staff import delete_staff, federal_rows, put_staff, staff_row
from storage.store import Store
from surveys.regions import RegionCatalog


class StaffError(ValueError):
    """The change is refused; the message says why."""


def staff_member(
    telegram_id: int,
    role: str,
    regions: str | None,
    catalog: RegionCatalog,
    *,
    microdata: bool = False,
    name: str | None = None,
) -> StaffMember:
    """A member as `staff add` describes them, checked against the roles and the catalog."""
    if telegram_id <= 0:
        raise StaffError(f"{telegram_id} is not a Telegram user id")
    if role not in ROLES:
        raise StaffError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    checked: Role = role  # type: ignore[assignment]
    if microdata and checked != "analyst":
        raise StaffError(
            "--microdata is for analysts: federal and regional staff have it by their role"
        )
    return StaffMember(
        telegram_id,
        checked,
        _regions(checked, regions, catalog),
        microdata=microdata,
        name=(name or "").strip() or None,
    )


def _regions(role: Role, text: str | None, catalog: RegionCatalog) -> frozenset[str] | None:
    if role == "federal":
        if text is not None:
            raise StaffError("federal staff work for every region: leave out --regions")
        return None
    if text is None or not text.strip():
        raise StaffError(f"a {role} member needs --regions (codes such as 49,53)")
    if text.strip().lower() == ALL_REGIONS:
        if role == "regional":
            raise StaffError("regional staff work for a list of regions, not all of them")
        return None
    codes = [code.strip() for code in text.split(",") if code.strip()]
    unknown = [code for code in codes if catalog.region(code) is None]
    if unknown:
        raise StaffError(f"unknown region code(s): {', '.join(unknown)} (see docs/regions.md)")
    return frozenset(codes)


def describe(member: StaffMember) -> dict[str, Any]:
    """A member as the audit log keeps them."""
    return {
        "telegram_id": member.telegram_id,
        "role": member.role,
        "regions": member.scope,
        "microdata": member.reads_microdata,
        "name": member.name,
    }


async def add_staff(
    store: Store, member: StaffMember, *, admin_ids: frozenset[int], by: str
) -> StaffMember | None:
    """Adds `member`, or replaces the record of the same id; returns the record replaced."""
    if member.telegram_id in admin_ids:
        raise StaffError(
            f"{member.telegram_id} is in ADMIN_IDS and so federal already; "
            "remove them from ADMIN_IDS first to give them another role"
        )
    async with store.database.transaction() as connection:
        before = await staff_row(connection, member.telegram_id)
        if before is not None:
            if member.role != "federal":
                await _keep_a_federal_member(connection, before, admin_ids)
            if member.name is None:  # a change of role keeps the name it was given
                member = replace(member, name=before.name)
        await put_staff(connection, member, by)
        detail = describe(member)
        if before is not None:
            detail["before"] = describe(before)
        action = "staff.add" if before is None else "staff.change"
        await record_in(connection, "cli", by, action, detail, regions=member.scope)
    return before


async def remove_staff(
    store: Store, telegram_id: int, *, admin_ids: frozenset[int], by: str
) -> StaffMember:
    """Removes a member held in the database; returns their record."""
    async with store.database.transaction() as connection:
        member = await staff_row(connection, telegram_id)
        if member is None:
            where = (
                " (they are in ADMIN_IDS: remove them there)" if telegram_id in admin_ids else ""
            )
            raise StaffError(f"{telegram_id} is not staff held in the database{where}")
        await _keep_a_federal_member(connection, member, admin_ids)
        await delete_staff(connection, telegram_id)
        await record_in(
            connection, "cli", by, "staff.remove", describe(member), regions=member.scope
        )
    return member


async def _keep_a_federal_member(
    connection: Statements, leaving: StaffMember, admin_ids: frozenset[int]
) -> None:
    """Refuses to leave no federal member when ADMIN_IDS is empty: nobody could then plan a
    national wave or see every region in chat, and only the server could put that right."""
    if leaving.role != "federal" or admin_ids:
        return
    if await federal_rows(connection) <= 1:
        raise StaffError(
            f"{leaving.telegram_id} is the last federal member of staff (ADMIN_IDS is empty); "
            "add another federal member first"
        )
