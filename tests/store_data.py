"""Respondents and waves put straight into a database, for tests of the storage layer
that need some to exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.store import Store
from surveys.loader import BUNDLED_SURVEYS_DIR, load_surveys
from surveys.model import AGE_BAND_IDS

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BAND = AGE_BAND_IDS[2]


async def citizen(store: Store, telegram_id: int, region: str = "49", **groups: str) -> int:
    await store.respondents.record_consent(telegram_id, "ru", "v1")
    respondent = await store.respondents.update_profile(
        telegram_id, region_code=region, municipality_code=f"{region}000000", age_band=BAND
    )
    assert respondent is not None
    if groups:
        await store.respondents.update_profile(telegram_id, **groups)
    return respondent.id


async def open_wave(store: Store, regions: list[str] | None = None, **options: object) -> int:
    version_id = await store.surveys.store(load_surveys(BUNDLED_SURVEYS_DIR)["pulse"])
    wave_id = await store.waves.create(
        version_id, NOW - timedelta(hours=1), NOW + timedelta(days=7), regions, "all", **options
    )
    assert await store.waves.transition(wave_id, ["scheduled"], "open")
    return wave_id
