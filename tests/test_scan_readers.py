"""The readers behind figures and exports, on both databases (the `backend` fixture): one
snapshot shared by several connections, rows streamed in chunks, and the pieces of SQL in
which the scans' two dialects differ, each computing the same values."""

from __future__ import annotations

import pytest

from storage.backend import Backend

_INSERT = "INSERT INTO fsm_states (storage_key, user_id, state) VALUES (?, ?, ?)"
_COUNT = "SELECT count(*) FROM fsm_states"


async def test_readers_share_one_snapshot_though_a_commit_lands_between(backend: Backend) -> None:
    async with backend.readers(3) as (first, second, third):
        before = await (await first.execute(_COUNT)).fetchone()
        await backend.execute(_INSERT, ("k", 1, None))
        # The others read for the first time only now, and still see the state before it.
        for reader in (second, third, first):
            assert tuple(await (await reader.execute(_COUNT)).fetchone() or ()) == (0,)
    assert tuple(before or ()) == (0,)
    assert tuple(await backend.fetch_one(_COUNT) or ()) == (1,)


async def test_a_reader_cannot_write(backend: Backend) -> None:
    async with backend.readers(1) as (reader,):
        with pytest.raises(Exception, match=r"(?i)read.?only"):
            await reader.execute(_INSERT, ("k", 1, None))
    assert tuple(await backend.fetch_one(_COUNT) or ()) == (0,)


async def test_chunks_stream_every_row_in_order(backend: Backend) -> None:
    async with backend.transaction() as connection:
        await connection.executemany(_INSERT, [(f"k{i:02d}", i, None) for i in range(25)])
    async with backend.readers(1) as (reader,):
        chunks = [
            [tuple(row) for row in chunk]
            async for chunk in reader.chunks(
                "SELECT storage_key, user_id FROM fsm_states WHERE user_id >= :low"
                " ORDER BY user_id",
                {"low": 3},
                size=10,
            )
        ]
    assert [len(chunk) for chunk in chunks] == [10, 10, 2]
    assert [row for chunk in chunks for row in chunk] == [(f"k{i:02d}", i) for i in range(3, 25)]


async def test_the_scans_dialect_pieces_give_the_same_values(backend: Backend) -> None:
    rows = [("a", 1, "yes"), ("b", 2, None), ("c", 3, "no"), ("d", 4, "yes")]
    async with backend.transaction() as connection:
        await connection.executemany(_INSERT, rows)
    dialect = backend.dialect
    total, truth, same = dialect.total, dialect.truth, dialect.same
    yes = "'yes'"
    weight = dialect.real(":weight")
    weighted = f"{truth('state IS NOT NULL')} * {weight}"
    sums = (
        f"SELECT {total(f'user_id * {weight}')}, {total(truth('user_id >= 2'))},"
        f" {total(truth(same('state', yes)))}, {total(truth(same('state', 'NULL')))} * 8,"
        f" {total(weighted)}"
        " FROM fsm_states WHERE user_id > :above"
    )
    empty = f"SELECT {total(weighted)} FROM fsm_states WHERE user_id > 100"
    async with backend.readers(1) as (reader,):
        found = await (await reader.execute(sums, {"above": 0, "weight": 1.5})).fetchall()
        nothing = await (await reader.execute(empty, {"weight": 1.5})).fetchone()
    assert [tuple(row) for row in found] == [(15.0, 3, 2, 8, 4.5)]
    assert tuple(nothing or ()) == (0,)
