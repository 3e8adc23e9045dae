"""One pattern of hidden cells for several waves published side by side.

Each wave's own complementary suppression (`surveys.aggregate.suppress`) leaves none of its
equations (parent = Σ children) with exactly one hidden term. A file that puts several
waves' cells next to each other shows a cell only where every wave shows it, so its hidden
set is at least the union of the waves' sets, and a union is not safe: a cell one wave hides
may be the only hidden term of an equation of another wave (a term empty in the first wave
is no term of its equation, but is one of the second's), and the second wave's figure is
then the others' difference. Complementary suppression is therefore run again over every
wave's equations, starting from the union, wave after wave until a whole round adds
nothing: hiding a cell to close one wave's equation can open another wave's.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from itertools import cycle
from typing import TypeVar

from surveys.aggregate import suppress

K = TypeVar("K", bound=Hashable)

#: One wave's equations: its cells' respondent counts and its partitions (parent, children).
Equations = tuple[Mapping[K, int], Sequence[tuple[K, Sequence[K]]]]


def joint_suppress(
    waves: Sequence[Equations[K]], min_cell_size: int, also: Iterable[K] = ()
) -> set[K]:
    """Cells to hide in every wave: `also`, each wave's small cells, and enough others that
    no equation of any wave has exactly one hidden non-empty term."""
    hidden = set(also)
    quiet = 0  # waves in a row whose equations were already closed
    for counts, partitions in cycle(waves):
        grown = suppress(counts, partitions, min_cell_size, also=hidden)
        # After its own pass a wave is closed, whether or not it added anything.
        quiet = quiet + 1 if len(grown) == len(hidden) else 1
        hidden = grown
        if quiet >= len(waves):
            break
    return hidden


def missing_somewhere(waves: Sequence[Collection[K]]) -> set[K]:
    """Cells some wave has and another has not: nothing to set them beside, so hidden."""
    everywhere = set.intersection(*map(set, waves)) if waves else set()
    return set().union(*waves) - everywhere
