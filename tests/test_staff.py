"""Staff on the command line and the rules of the roles: `staff add|list|remove`, `audit`,
on each database in turn.

The chat side — what each role sees and may do there — is in tests/test_staff_chat.py.
"""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.access import StaffMember
from storage.connect import open_database
from storage.repositories.waves import Wave
from tests.commands import Cli, cli_settings


def staff_lines(cli: Cli, admin_ids: str = "") -> list[str]:
    status, out, _ = cli("staff", "list", admin_ids=admin_ids)
    assert status == 0
    return out.splitlines()[1:]


def audit_lines(cli: Cli, *options: str) -> list[str]:
    status, out, _ = cli("audit", *options)
    assert status == 0
    return out.splitlines()


def test_staff_are_added_listed_changed_and_removed_and_each_change_is_audited(
    cli: Cli,
) -> None:
    assert cli("staff", "add", "111", "--role", "regional", "--regions", "49,53", "--name", "Анна")[
        :2
    ] == (0, "111 added: regional for 49,53\n")
    assert (
        cli("staff", "add", "222", "--role", "analyst", "--regions", "all", "--microdata")[0] == 0
    )
    listed = staff_lines(cli, admin_ids="900")
    user = getpass.getuser()
    assert listed[0].split() == ["900", "federal", "all", "yes", "ADMIN_IDS"]
    assert listed[1].split()[:4] == ["111", "regional", "49,53", "yes"]
    assert listed[1].split()[-3:] == ["by", user, "Анна"]
    assert listed[2].split()[:4] == ["222", "analyst", "all", "yes"]
    assert listed[2].split()[-2:] == ["by", user]

    # Changing a member keeps the name they were given.
    status, out, _ = cli("staff", "add", "111", "--role", "analyst", "--regions", "53")
    assert (status, out) == (0, "111 changed (was regional for 49,53): analyst for 53\n")
    changed = staff_lines(cli)[0].split()
    assert changed[:4] == ["111", "analyst", "53", "no"] and changed[-1] == "Анна"
    assert cli("staff", "remove", "222")[:2] == (
        0,
        "222 removed (was analyst for all, with the answers file)\n",
    )
    assert [line.split()[0] for line in staff_lines(cli)] == ["111"]

    actions = [line.split()[6] for line in audit_lines(cli)]
    assert actions == ["staff.add", "staff.add", "staff.change", "staff.remove"]
    change = audit_lines(cli)[2]
    assert (
        '"role": "analyst"' in change
        and '"before": {"telegram_id": 111, "role": "regional"' in change
    )


@pytest.mark.parametrize(
    "argv,reason",
    [
        (
            ("add", "1", "--role", "regional", "--regions", "49,00,123"),
            "unknown region code(s): 00, 123",
        ),
        (("add", "1", "--role", "governor", "--regions", "49"), "unknown role 'governor'"),
        (("add", "1", "--role", "regional"), "a regional member needs --regions"),
        (("add", "1", "--role", "regional", "--regions", "all"), "not all of them"),
        (("add", "1", "--role", "federal", "--regions", "49"), "leave out --regions"),
        (("add", "1", "--role", "regional", "--regions", "49", "--microdata"), "for analysts"),
        (("add", "900", "--role", "analyst", "--regions", "49"), "is in ADMIN_IDS"),
        (("remove", "900"), "they are in ADMIN_IDS"),
        (("remove", "5"), "5 is not staff held in the database"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    cli: Cli, argv: tuple[str, ...], reason: str
) -> None:
    assert cli("staff", "add", "111", "--role", "regional", "--regions", "49")[0] == 0
    before = (staff_lines(cli), audit_lines(cli))
    status, out, err = cli("staff", *argv, admin_ids="900")
    assert (status, out) == (1, "")
    assert err.startswith("civicpulse: staff not changed: ") and reason in err
    assert (staff_lines(cli), audit_lines(cli)) == before


def test_the_last_federal_member_held_in_the_database_stays(cli: Cli) -> None:
    assert cli("staff", "add", "7", "--role", "federal")[0] == 0
    for argv in (("remove", "7"), ("add", "7", "--role", "regional", "--regions", "49")):
        status, _, err = cli("staff", *argv)
        assert status == 1 and "the last federal member of staff" in err
    assert staff_lines(cli)[0].split()[:2] == ["7", "federal"]
    # With a second federal member, or with ADMIN_IDS set, the first may go.
    assert cli("staff", "add", "8", "--role", "federal")[0] == 0
    assert cli("staff", "remove", "7")[0] == 0
    assert cli("staff", "remove", "8")[0] == 1
    assert cli("staff", "remove", "8", admin_ids="900")[0] == 0
    assert staff_lines(cli) == []


def test_the_audit_is_filtered_by_time_and_by_member_of_staff(cli: Cli, tmp_path: Path) -> None:
    assert cli("staff", "add", "111", "--role", "regional", "--regions", "49")[0] == 0
    assert cli("staff", "add", "222", "--role", "analyst", "--regions", "53")[0] == 0

    async def chat_records() -> None:
        database = await open_database(cli_settings(tmp_path))
        try:
            await database.execute(
                "INSERT INTO audit_log (at, source, actor, role, regions, action)"
                " VALUES ('2001-01-01T00:00:00.000000Z', 'chat', '111', 'regional', '49',"
                " 'message: /waves')"
            )
        finally:
            await database.close()

    asyncio.run(chat_records())
    everything = audit_lines(cli)
    assert len(everything) == 3
    assert "111 (regional)" in everything[2] and "message: /waves" in everything[2]
    assert len(audit_lines(cli, "--since", "2020-01-01")) == 2
    assert len(audit_lines(cli, "--since", "7d")) == 2
    # A member's own actions and the changes to their access.
    about = audit_lines(cli, "--staff", "111")
    assert len(about) == 2 and "staff.add" in about[0] and "message: /waves" in about[1]
    assert audit_lines(cli, "--staff", "111", "--since", "2020-01-01") == about[:1]
    status, _, err = cli("audit", "--since", "last tuesday")
    assert status == 2 and "cannot read 'last tuesday'" in err


def _wave(regions: tuple[str, ...]) -> Wave:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    return Wave(1, 1, "pulse", 1, moment, moment, not regions, regions, "all", None, "open")


NATIONAL, NORTH, NOVGOROD = _wave(()), _wave(("49", "53")), _wave(("49",))
FEDERAL = StaffMember(1, "federal", None)
REGIONAL = StaffMember(2, "regional", frozenset({"49", "53"}))
ELSEWHERE = StaffMember(3, "regional", frozenset({"65"}))
ANALYST = StaffMember(4, "analyst", frozenset({"49"}))


@pytest.mark.parametrize(
    "member,sees,manages",
    [
        (FEDERAL, (True, True, True), (True, True, True)),
        (REGIONAL, (True, True, True), (False, True, True)),
        (ELSEWHERE, (True, False, False), (False, False, False)),
        (ANALYST, (True, True, True), (False, False, False)),
    ],
)
def test_who_sees_and_who_manages_a_wave(
    member: StaffMember, sees: tuple[bool, ...], manages: tuple[bool, ...]
) -> None:
    waves = (NATIONAL, NORTH, NOVGOROD)
    assert tuple(member.sees(wave) for wave in waves) == sees
    assert tuple(member.manages(wave) for wave in waves) == manages


def test_a_regional_member_plans_only_within_their_regions() -> None:
    assert REGIONAL.may_target(["49"]) and REGIONAL.may_target(["49", "53"])
    assert not REGIONAL.may_target(["49", "65"])
    assert not REGIONAL.may_target(None) and not REGIONAL.may_target([])
    assert FEDERAL.may_target(None) and not ANALYST.may_target(["49"])
    assert REGIONAL.concerning(NATIONAL) == "49,53" and FEDERAL.concerning(NATIONAL) == "all"
    assert ANALYST.reads_microdata is False and REGIONAL.reads_microdata is True
