"""The bundled region catalog and the checks that keep an operator's edits honest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from surveys.regions import (
    BUNDLED_CATALOG_PATH,
    CatalogError,
    Municipality,
    Region,
    RegionCatalog,
    fold_name,
    load_catalog,
)

FEDERAL_DISTRICTS = {
    "central",
    "northwestern",
    "southern",
    "north_caucasian",
    "volga",
    "ural",
    "siberian",
    "far_eastern",
}


@pytest.fixture(scope="module")
def catalog() -> RegionCatalog:
    return load_catalog()


# The bundled data -------------------------------------------------------------------------


def test_bundled_catalog_loads_and_names_its_edition(catalog: RegionCatalog) -> None:
    assert BUNDLED_CATALOG_PATH.name == "regions.yaml"
    assert "OKTMO" in catalog.classifier and "OKATO" in catalog.classifier


def test_bundled_catalog_is_cached(catalog: RegionCatalog) -> None:
    assert load_catalog() is catalog
    assert load_catalog(BUNDLED_CATALOG_PATH) is catalog


def test_85_subjects_in_8_federal_districts(catalog: RegionCatalog) -> None:
    assert {district.code for district in catalog.federal_districts} == FEDERAL_DISTRICTS
    assert len(catalog.regions()) == 85
    sizes = {district.code: len(district.regions) for district in catalog.federal_districts}
    assert sizes == {
        "central": 18,
        "northwestern": 11,
        "southern": 8,
        "north_caucasian": 7,
        "volga": 14,
        "ural": 6,
        "siberian": 10,
        "far_eastern": 11,
    }


@pytest.mark.parametrize(
    ("code", "name_en", "district"),
    [
        ("49", "Novgorod Region", "northwestern"),
        ("65", "Sverdlovsk Region", "ural"),
        ("05", "Primorsky Territory", "far_eastern"),
        ("45", "Moscow", "central"),
        ("40", "Saint Petersburg", "northwestern"),
        ("46", "Moscow Region", "central"),
        ("92", "Republic of Tatarstan", "volga"),
        ("96", "Chechen Republic", "north_caucasian"),
        ("35", "Republic of Crimea", "southern"),
        ("67", "Sevastopol", "southern"),
        ("81", "Republic of Buryatia", "far_eastern"),
        ("71", "Tyumen Region", "ural"),
    ],
)
def test_subject_codes_are_okato_not_iso_or_tax_codes(
    catalog: RegionCatalog, code: str, name_en: str, district: str
) -> None:
    region = catalog.region(code)
    assert region is not None
    assert region.name.en == name_en
    assert region.federal_district == district
    assert catalog.district(district) is not None
    assert region in catalog.district(district).regions


@pytest.mark.parametrize(
    ("code", "okato", "enclosing"),
    [("118", "11100", "11"), ("718", "71100", "71"), ("719", "71140", "71")],
)
def test_nested_autonomous_okrugs_use_their_oktmo_block(
    catalog: RegionCatalog, code: str, okato: str, enclosing: str
) -> None:
    region = catalog.region(code)
    assert region is not None and region.okato_code == okato
    assert catalog.region(enclosing) is not None
    assert all(m.code.startswith(code) for m in region.municipalities)


def test_other_regions_have_two_digit_codes_that_are_their_okato(catalog: RegionCatalog) -> None:
    plain = [r for r in catalog.regions() if r.code not in {"118", "718", "719"}]
    assert len(plain) == 82
    assert all(len(r.code) == 2 and r.okato_code == r.code for r in plain)


@pytest.mark.parametrize(
    ("region_code", "at_least", "capital_code", "capital_en"),
    [
        ("49", 21, "49701000", "Veliky Novgorod"),
        ("65", 25, "65701000", "Yekaterinburg"),
        ("05", 20, "05701000", "Vladivostok"),
    ],
)
def test_municipalities_of_the_pilot_regions(
    catalog: RegionCatalog, region_code: str, at_least: int, capital_code: str, capital_en: str
) -> None:
    region = catalog.region(region_code)
    assert region is not None
    assert len(region.municipalities) >= at_least
    capital = catalog.municipality(region_code, capital_code)
    assert capital is not None and capital.name.en == capital_en
    assert all(len(m.code) == 8 and m.code.startswith(region_code) for m in region.municipalities)


@pytest.mark.parametrize(
    ("region_code", "code", "name_ru"),
    [
        ("49", "49606000", "Боровичский муниципальный район"),
        ("49", "49639000", "Старорусский муниципальный район"),
        ("65", "65751000", "Нижний Тагил"),
        ("65", "65740000", "Каменск-Уральский"),
        ("05", "05723000", "Уссурийск"),
        ("05", "05714000", "Находка"),
    ],
)
def test_well_known_municipality_codes(
    catalog: RegionCatalog, region_code: str, code: str, name_ru: str
) -> None:
    municipality = catalog.municipality(region_code, code)
    assert municipality is not None and municipality.name.ru == name_ru


def test_every_code_is_unique(catalog: RegionCatalog) -> None:
    region_codes = Counter(region.code for region in catalog.regions())
    municipality_codes = Counter(
        m.code for region in catalog.regions() for m in region.municipalities
    )
    assert max(region_codes.values()) == 1
    assert max(municipality_codes.values()) == 1


def test_municipality_belongs_to_longest_matching_region(catalog: RegionCatalog) -> None:
    assert catalog.region_for_municipality("71876000").code == "718"  # Surgut, KhMAO
    assert catalog.region_for_municipality("71701000").code == "71"  # Tyumen
    assert catalog.region_for_municipality("11851000").code == "118"  # Naryan-Mar, NAO
    assert catalog.region_for_municipality("00000000") is None


def test_lookups_miss_cleanly(catalog: RegionCatalog) -> None:
    assert catalog.region("00") is None
    assert catalog.district("atlantis") is None
    assert catalog.municipality("49", "65701000") is None
    assert catalog.municipality("00", "49701000") is None


# Search -----------------------------------------------------------------------------------


def _codes(found: Sequence[Region | Municipality]) -> list[str]:
    return [entry.code for entry in found]


def test_search_regions_by_russian_prefix(catalog: RegionCatalog) -> None:
    assert _codes(catalog.search_regions("новг")) == ["49"]


def test_search_regions_by_english_prefix_ignoring_case(catalog: RegionCatalog) -> None:
    assert _codes(catalog.search_regions("Sverd")) == ["65"]
    assert _codes(catalog.search_regions("PRIMOR")) == ["05"]


def test_search_regions_by_exact_code(catalog: RegionCatalog) -> None:
    assert _codes(catalog.search_regions("49"))[0] == "49"
    assert _codes(catalog.search_regions(" 718 "))[0] == "718"


def test_search_ignores_hyphens_dashes_and_spacing(catalog: RegionCatalog) -> None:
    assert _codes(catalog.search_regions("ханты  мансийский")) == ["718"]
    assert _codes(catalog.search_regions("Khanty Mansi")) == ["718"]
    assert _codes(catalog.search_regions("кемеровская область кузбасс")) == ["32"]
    assert _codes(catalog.search_regions("северная осетия-алания")) == ["90"]


def test_search_ranks_prefix_matches_first(catalog: RegionCatalog) -> None:
    # "Нижегородская" starts with "нижег"; nothing else contains it at all.
    assert _codes(catalog.search_regions("нижег")) == ["22"]
    # "Moscow Region" and "Moscow" both start with the query; ties keep the file's order.
    assert _codes(catalog.search_regions("moscow")) == ["46", "45"]
    # A word inside the name ("область") ranks after a name that starts with the query.
    found = _codes(catalog.search_regions("ом"))
    assert found[0] == "52"  # Омская область starts with "ом"; Томская only contains it
    assert "69" in found[1:]


def test_search_respects_limit_and_ignores_blank_queries(catalog: RegionCatalog) -> None:
    assert len(catalog.search_regions("область", limit=5)) == 5
    assert catalog.search_regions("   ") == []
    assert catalog.search_regions("-") == []
    assert catalog.search_regions("атлантида") == []


def test_search_municipalities_within_a_region(catalog: RegionCatalog) -> None:
    found = catalog.search_municipalities("65", "екатерин")
    assert _codes(found) == ["65701000"]
    assert catalog.search_municipalities("49", "екатерин") == []
    assert catalog.search_municipalities("00", "екатерин") == []
    assert _codes(catalog.search_municipalities("05", "05701000")) == ["05701000"]


def test_search_folds_yo_into_ye_both_ways(catalog: RegionCatalog) -> None:
    # The name has ё, the query е ...
    assert _codes(catalog.search_municipalities("49", "марев")) == ["49623000"]
    assert _codes(catalog.search_municipalities("05", "Артем")) == ["05705000"]
    # ... and the other way round.
    assert _codes(catalog.search_municipalities("49", "пёстов")) == ["49632000"]
    assert _codes(catalog.search_municipalities("65", "ЁКАТЕРИНБУРГ")) == ["65701000"]


def test_search_ranks_name_start_then_word_start_then_substring(catalog: RegionCatalog) -> None:
    found = _codes(catalog.search_municipalities("65", "ural", limit=20))
    assert found[0] == "65767000"  # "Uralsky (closed settlement)" starts with it
    assert found[1] == "65740000"  # "Kamensk-Uralsky" has a word that does
    # The rest only contain it (Pervouralsk, Novouralsk, ...), in the file's order.
    assert set(found[2:]) == {
        "65753000",
        "65752000",
        "65755000",
        "65746000",
        "65757000",
        "65717000",
    }


# Malformed catalogs -----------------------------------------------------------------------

_VALID = """\
classifier: "OKATO OK 019-95 / OKTMO OK 033-2013, test edition"
federal_districts:
  - code: northwestern
    name: {ru: Северо-Западный федеральный округ, en: Northwestern Federal District}
    regions:
      - code: "49"
        name: {ru: Новгородская область, en: Novgorod Region}
        municipalities:
          - {code: "49701000", name: {ru: Великий Новгород, en: Veliky Novgorod}}
      - {code: "58", name: {ru: Псковская область, en: Pskov Region}}
  - code: ural
    name: {ru: Уральский федеральный округ, en: Ural Federal District}
    regions:
      - code: "71"
        name: {ru: Тюменская область, en: Tyumen Region}
        municipalities:
          - {code: "71701000", name: {ru: Тюмень, en: Tyumen}}
      - code: "718"
        okato: "71100"
        name: {ru: Ханты-Мансийский автономный округ — Югра, en: Khanty-Mansi AO}
        municipalities:
          - {code: "71876000", name: {ru: Сургут, en: Surgut}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom-regions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(_write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("custom-regions.yaml: ")
    assert caught.value.problems
    return message


def test_a_valid_custom_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, _VALID))
    assert _codes(catalog.regions()) == ["49", "58", "71", "718"]
    assert catalog.region("58").municipalities == ()
    assert catalog.region("718").federal_district == "ural"


def test_duplicate_region_code(tmp_path: Path) -> None:
    text = _VALID.replace('{code: "58", name: {ru: Псковская', '{code: "49", name: {ru: Псковская')
    message = _problems(tmp_path, text)
    assert "region code 49 is used more than once" in message
    assert "Новгородская область" in message and "Псковская область" in message


def test_seven_digit_municipality_code(tmp_path: Path) -> None:
    message = _problems(tmp_path, _VALID.replace('"49701000"', '"4970100"'))
    assert "municipality code '4970100' must be exactly 8 digits" in message
    assert "region 49 (Новгородская область)" in message


def test_municipality_outside_its_region_prefix(tmp_path: Path) -> None:
    message = _problems(tmp_path, _VALID.replace('"49701000"', '"58701000"'))
    assert "municipality 58701000 (Великий Новгород)" in message
    assert "does not start with 49" in message


def test_municipality_of_a_nested_okrug_listed_under_the_enclosing_region(
    tmp_path: Path,
) -> None:
    message = _problems(tmp_path, _VALID.replace('"71701000"', '"71871000"'))
    assert "belongs to region 718" in message


def test_missing_english_name(tmp_path: Path) -> None:
    text = _VALID.replace("{ru: Псковская область, en: Pskov Region}", "{ru: Псковская область}")
    message = _problems(tmp_path, text)
    assert "region 58 (Псковская область) > name: 'en' is missing" in message


def test_duplicate_municipality_code(tmp_path: Path) -> None:
    text = _VALID.replace(
        '{code: "49701000", name: {ru: Великий Новгород, en: Veliky Novgorod}}',
        '{code: "49701000", name: {ru: Великий Новгород, en: Veliky Novgorod}}\n'
        '          - {code: "49701000", name: {ru: Ещё раз, en: Again}}',
    )
    assert "municipality code 49701000 is used more than once" in _problems(tmp_path, text)


def test_duplicate_district_code(tmp_path: Path) -> None:
    text = _VALID.replace("  - code: ural\n", "  - code: northwestern\n")
    assert "federal district code northwestern is used more than once" in _problems(tmp_path, text)


def test_unquoted_code_loses_leading_zero(tmp_path: Path) -> None:
    text = _VALID.replace('{code: "58",', "{code: 05,")
    message = _problems(tmp_path, text)
    assert "code must be quoted text" in message and "the number 5" in message


def test_three_digit_code_needs_an_enclosing_region(tmp_path: Path) -> None:
    text = _VALID.replace('code: "71"\n', 'code: "72"\n').replace('"71701000"', '"72701000"')
    assert "no region 71 encloses it" in _problems(tmp_path, text)


def test_four_digit_region_code(tmp_path: Path) -> None:
    message = _problems(tmp_path, _VALID.replace('code: "718"', 'code: "7180"'))
    assert "region code '7180' must be 2 digits" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = _problems(tmp_path, _VALID.replace('regions:\n      - code: "49"', "regions: ["))
    assert "YAML syntax error" in message and "line " in message


def test_not_a_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in _problems(tmp_path, "- just\n- a list\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the file"):
        load_catalog(tmp_path / "absent.yaml")


def test_what_people_type_is_not_kept(catalog: RegionCatalog) -> None:
    """Only catalog names are cached for search; a person's typed words are not, so
    nothing of them stays in memory after they erase their data."""
    catalog.search_regions("первый запрос")
    catalog.search_municipalities("49", "первый запрос")
    cached = fold_name.cache_info().currsize
    assert catalog.search_regions("Новгородская") != []
    catalog.search_regions("мой-уникальный-адрес Лесная 7")
    catalog.search_municipalities("49", "мой-уникальный-адрес Лесная 7")
    assert fold_name.cache_info().currsize == cached
