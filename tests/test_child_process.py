"""Work handed to a forked child: the result comes back, and so does every way it fails."""

from __future__ import annotations

import os

import pytest

from storage.child_process import ChildFailed, run_in_child


def _pids_and_sum(numbers: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def _refuse(reason: str) -> None:
    raise ValueError(reason)


def _die(code: int) -> None:
    os._exit(code)


def _unsendable() -> object:
    return lambda: None


async def test_the_result_comes_back_from_another_process() -> None:
    child, total = await run_in_child(_pids_and_sum, list(range(100_000)))
    assert total == sum(range(100_000))
    assert child != os.getpid()


async def test_the_childs_exception_is_raised_here() -> None:
    with pytest.raises(ValueError, match="no such region"):
        await run_in_child(_refuse, "no such region")


async def test_a_child_that_dies_is_reported_with_its_exit_code() -> None:
    with pytest.raises(ChildFailed, match="exit code 3"):
        await run_in_child(_die, 3)


async def test_a_result_that_cannot_travel_is_reported() -> None:
    with pytest.raises(ChildFailed, match="could not be sent back"):
        await run_in_child(_unsendable)
