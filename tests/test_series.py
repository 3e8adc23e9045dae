"""Waves side by side: one hidden pattern for all of them, checked by hand and by brute force.

Each wave's own complementary suppression leaves none of its equations (parent = Σ
children) with exactly one hidden term. A comparison shows a cell only where every wave
shows it, beside each wave's ratings file. These tests show where the plain union of the
waves' patterns leaks, that the joint pattern does not, and which questions a series of
survey versions is computed on. MIN_CELL_SIZE is 3; youth bands are 14–35 (18-24 is youth,
45-54 general).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.aggregate import OVERALL, Area, GroupStats, Moments, build_ratings, suppress
from surveys.change import change_cells, compare_series, compare_surveys
from surveys.joint_suppression import joint_suppress, missing_somewhere
from surveys.model import Survey
from surveys.series import SeriesWave, WaveSeries, series_hidden

MIN_CELL = 3
Y, G = "18-24", "45-54"


# The rule on its own, with cells named by hand ---------------------------------------------


def test_a_union_of_two_safe_patterns_can_leak() -> None:
    """Region R = municipalities M1 + M2 + M3 (one track, one topic).

    Wave A: nobody in M1, M2 5, M3 6, R 11: nothing to hide (M1 is empty, no term).
    Wave B: M1 2, M2 4, M3 6, R 12: M1 is small, so B hides M2 too, its smallest neighbour.
    The union {M1, M2} leaves A's equation R = M2 + M3 (M1 empty) with one hidden term:
    A's M2 would be 11 − 6. So M3 goes as well, the only shown child of A's equation; B's
    equation then has three hidden terms, and nothing more is needed.
    """
    partitions = [("R", ["M1", "M2", "M3"])]
    wave_a = {"R": 11, "M1": 0, "M2": 5, "M3": 6}
    wave_b = {"R": 12, "M1": 2, "M2": 4, "M3": 6}
    union = suppress(wave_a, partitions, MIN_CELL) | suppress(wave_b, partitions, MIN_CELL)
    assert union == {"M1", "M2"}
    hidden = joint_suppress([(wave_a, partitions), (wave_b, partitions)], MIN_CELL)
    assert hidden == {"M1", "M2", "M3"}


def test_a_cell_hidden_elsewhere_is_covered_in_every_wave() -> None:
    """R = M1 + M2 + M3 again; no cell is small in either wave, but A's ratings file (all
    its questions) hides M1, so the comparison hides it too (`also`).

    A: M1 4, M2 9, M3 5. M1 is now the only hidden term of A's equation: the smallest shown
    child goes, M3 (5). B: M1 6, M2 3, M3 8: M1 and M3 hidden, two terms, closed.
    """
    partitions = [("R", ["M1", "M2", "M3"])]
    wave_a = {"R": 18, "M1": 4, "M2": 9, "M3": 5}
    wave_b = {"R": 17, "M1": 6, "M2": 3, "M3": 8}
    waves = [(wave_a, partitions), (wave_b, partitions)]
    assert joint_suppress(waves, MIN_CELL, also={"M1"}) == {"M1", "M3"}
    assert joint_suppress(waves, MIN_CELL) == set()  # without it, nothing is hidden


def test_a_small_cell_of_one_wave_is_hidden_in_both() -> None:
    """all = youth + general. A: 12 = 2 + 10, so youth and general are hidden; B: 12 = 5 + 7
    would show both, but a change needs both ends: B hides them as well, and B's equation
    has two hidden terms."""
    partitions = [("all", ["youth", "general"])]
    wave_a = {"all": 12, "youth": 2, "general": 10}
    wave_b = {"all": 12, "youth": 5, "general": 7}
    hidden = joint_suppress([(wave_a, partitions), (wave_b, partitions)], MIN_CELL)
    assert hidden == {"youth", "general"}


def test_cells_one_wave_lacks_are_hidden() -> None:
    assert missing_somewhere([{"R", "M1", "M2"}, {"R", "M1"}]) == {"M2"}
    assert missing_somewhere([{"R"}, {"R"}, {"R", "X"}]) == {"X"}


# Series of real cells ------------------------------------------------------------------------


def _groups(people: Mapping[tuple[str, str, str], int]) -> list[GroupStats]:
    """(region, municipality, band) → that many respondents scoring 50, in health and so in
    overall (one topic)."""
    groups = []
    for (region, municipality, band), count in people.items():
        track = "youth" if band == Y else "general"
        moments = Moments(count, 50.0 * count, 2500.0 * count, 0)
        for topic in ("health", OVERALL):
            groups.append(GroupStats(region, municipality, track, band, topic, moments))
    return groups


def _wave(
    wave_id: int, people: Mapping[tuple[str, str, str], int], published: Iterable[tuple] = ()
) -> SeriesWave:
    ratings = build_ratings(_groups(people), ["health"], min_cell_size=MIN_CELL, ranked=False)
    return SeriesWave(wave_id, ratings, frozenset(published))


COMPARABLE = compare_surveys(
    *[
        Survey.model_validate(
            {
                "id": "s",
                "version": version,
                "title": {"ru": "Опрос", "en": "Survey"},
                "topics": [{"id": "health", "title": {"ru": "Здоровье", "en": "Health"}}],
                "questions": [
                    {
                        "id": "clinic",
                        "type": "likert5",
                        "topic": "health",
                        "text": {"ru": "Поликлиника?", "en": "Clinic?"},
                    }
                ],
            }
        )
        for version in (1, 2)
    ]
)


def _non_empty_hidden(series: WaveSeries) -> set[tuple[Area, str]]:
    return {(area, track) for area, track, topic in series.hidden if topic == "health"}


def test_a_municipality_only_one_wave_has_takes_its_neighbours_along() -> None:
    """Everyone is on the general track in Novgorod (49).

    Wave 1: municipality m1 has 5, m2 has 4. Wave 2: m1 has 6, and 5 named no municipality
    (""). Each wave alone hides nothing but the empty youth cells. Together: m2 is only in
    wave 1 and "" only in wave 2, so neither can be compared and both are hidden. Then wave
    1's region = m1 + m2 has m2 hidden alone, so m1 goes too (the only other child), and
    with it m1's `all` cell (m1 all = m1 general, youth being empty). Wave 2's region =
    m1 + "" has both hidden: closed. Novgorod itself and the whole wave stay shown.
    """
    first = _wave(1, {("49", "m1", G): 5, ("49", "m2", G): 4})
    second = _wave(2, {("49", "m1", G): 6, ("49", "", G): 5})
    series = WaveSeries.build(COMPARABLE, [first, second], MIN_CELL)
    municipalities = {("49", code) for code in ("m1", "m2", "")}
    expected = {(area, track) for area in municipalities for track in ("all", "general")}
    expected |= {(area, "youth") for area in (*municipalities, ("49",), ())}
    assert _non_empty_hidden(series) == expected
    region_rows = {(c.area, c.track): c for c in change_cells(series, "region")}
    assert not region_rows[(("49",), "all")].suppressed
    assert all(c.suppressed for c in change_cells(series, "municipality") if c.topic == "health")


def test_what_a_ratings_file_hides_stays_hidden() -> None:
    """Novgorod (49) has municipalities m1 (4 young, 5 others) and m2 (6 and 7); Sverdlovsk
    (65) has 5 and 8, in no named municipality. Nothing is small on the common questions,
    in either wave. But wave 1's own ratings file (all its questions) hid m1's youth and
    general cells, so the comparison hides them too. Then Novgorod's youth = m1 youth + m2
    youth has one hidden term, so m2 youth goes, and m2 general likewise; m1 and m2's `all`
    cells each have both parts hidden, and no other sum has a hidden term: four cells in all.
    """
    people = {
        ("49", "m1", Y): 4,
        ("49", "m1", G): 5,
        ("49", "m2", Y): 6,
        ("49", "m2", G): 7,
        ("65", "", Y): 5,
        ("65", "", G): 8,
    }
    m1, m2 = ("49", "m1"), ("49", "m2")
    published = {(m1, track, "health") for track in ("youth", "general")}
    series = WaveSeries.build(COMPARABLE, [_wave(1, people, published), _wave(2, people)], MIN_CELL)
    assert _non_empty_hidden(series) == {
        (area, track) for area in (m1, m2) for track in ("youth", "general")
    }
    cells = [c for c in change_cells(series, "municipality") if c.topic == "health"]
    shown = {(c.area, c.track) for c in cells if not c.suppressed}
    assert shown == {(m1, "all"), (m2, "all")} | {(("65", ""), t) for t in TRACKS}
    assert not any(c.suppressed for c in change_cells(series, "region"))


# Which questions a series compares -------------------------------------------------------------


def _version(version: int, doctor: str, topics: tuple[str, ...] = ("health",)) -> Survey:
    return Survey.model_validate(
        {
            "id": "s",
            "version": version,
            "title": {"ru": "Опрос", "en": "Survey"},
            "topics": [{"id": t, "title": {"ru": t, "en": t}} for t in topics],
            "questions": [
                {
                    "id": "clinic",
                    "type": "likert5",
                    "topic": "health",
                    "text": {"ru": "Поликлиника?", "en": "Clinic?"},
                },
                {
                    "id": "doctor",
                    "type": doctor,
                    "topic": "health",
                    "text": {"ru": "Врач?", "en": "Doctor?"},
                },
            ],
        }
    )


def test_a_question_changed_in_any_version_drops_out_of_the_whole_series() -> None:
    # doctor is likert5, then nps, then likert5 again: the first and last versions would
    # compare on it, but the middle wave did not ask it that way, so the line is clinic only.
    first, middle, last = _version(1, "likert5"), _version(2, "nps"), _version(3, "likert5")
    assert compare_surveys(first, last).questions == {"health": ("clinic", "doctor")}
    series = compare_series([first, middle, last])
    assert series.questions == {"health": ("clinic",)}
    doctor = next(m for m in series.matches if m.question_id == "doctor")
    assert not doctor.comparable and doctor.reason == "type changed from nps to likert5"
    # Two surveys: exactly the pair's comparison.
    assert compare_series([first, last]) == compare_surveys(first, last)


# The brute-force check ------------------------------------------------------------------------

REGIONS = ("49", "65")
MUNICIPALITIES = ("m1", "m2", "")
#: (region, municipality, band) of every group a random wave may have people in.
GROUPS = [(r, m, b) for r in REGIONS for m in MUNICIPALITIES for b in (Y, G)]
TRACKS = ("all", "youth", "general")


def _counts(people: Mapping[tuple[str, str, str], int]) -> dict[tuple[Area, str], int]:
    """Respondents per area × track, summed by hand from the groups."""
    counts: defaultdict[tuple[Area, str], int] = defaultdict(int)
    for (region, municipality, band), n in people.items():
        for area in ((), (region,), (region, municipality)):
            for track in ("all", "youth" if band == Y else "general"):
                counts[(area, track)] += n
    return counts


def _equations(counts: Mapping[tuple[Area, str], int]) -> list[list[tuple[Area, str]]]:
    """Every sum the files publish, written out: [parent, child, child, …]."""
    areas = {area for area, _ in counts}
    equations = [[(a, "all"), (a, "youth"), (a, "general")] for a in areas]
    for parent in areas:
        children = sorted(a for a in areas if len(a) == len(parent) + 1 and a[:-1] == parent)
        if children:
            equations += [[(parent, t)] + [(c, t) for c in children] for t in TRACKS]
    return equations


wave_people = st.fixed_dictionaries({group: st.integers(0, 6) for group in GROUPS}).map(
    lambda people: {group: n for group, n in people.items() if n}
)


@settings(max_examples=150, deadline=None)
@given(
    waves=st.lists(
        st.tuples(wave_people, st.fixed_dictionaries({g: st.integers(0, 2) for g in GROUPS})),
        min_size=2,
        max_size=3,
    )
)
def test_no_hidden_cell_is_one_subtraction_away(
    waves: list[tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]],
) -> None:
    """Random waves (the common questions' respondents, and extra people who answered only
    questions the series leaves out, who count in each wave's ratings file). In the series'
    pattern, no equation of any wave has exactly one hidden non-empty term, and nothing a
    wave's ratings file hides is shown."""
    series_waves = []
    for number, (people, extra) in enumerate(waves, start=1):
        everyone = {g: people.get(g, 0) + extra[g] for g in GROUPS if people.get(g, 0) + extra[g]}
        own = build_ratings(_groups(everyone), ["health"], min_cell_size=MIN_CELL, ranked=False)
        published = frozenset(key for key, cell in own.cells.items() if cell.suppressed)
        series_waves.append(_wave(number, people, published))
    hidden = series_hidden(series_waves, MIN_CELL)
    for (people, _), wave in zip(waves, series_waves, strict=True):
        counts = _counts(people)
        for equation in _equations(counts):
            terms = [(area, track, "health") for area, track in equation if counts[(area, track)]]
            assert sum(term in hidden for term in terms) != 1, (equation, sorted(hidden))
        assert wave.published_hidden <= hidden
        # Every shown cell has people enough in every wave.
        for area, track in counts:
            if (area, track, "health") not in hidden:
                assert all(_counts(p).get((area, track), 0) >= MIN_CELL for p, _ in waves)
