"""Results in chat: CSV files and figures for administrators, a region's scores for citizens.

Administrators get the same files `civicpulse export` writes (in the Excel flavour, since
they open them by hand), the chart and the map; citizens see only what the published files
show — suppressed cells stay hidden here too. A member of staff for some regions gets
only waves that touch them, and of those only their regions' rows and figures, cut from
the full computation so that ranks and suppression are those of the full file.
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, FSInputFile, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.chat.admin_views import no_waves_text
from bot.chat.callbacks import RegionNewsCb, ResultsCb, ResultsKind, parse_number
from bot.chat.filters import ButtonOnMessage
from bot.chat.middlewares.admin import admin_only
from bot.chat.region_update import RegionUpdate
from bot.chat.report_groups_view import (
    SituationFigures,
    region_gaps,
    region_situations,
    region_wave_text,
)
from bot.chat.report_series_view import (
    REPORT_WAVES,
    ReportTopic,
    ReportWave,
    region_series_text,
)
from bot.chat.results_cache import ClosedWaveResults
from bot.chat.texts import Texts
from bot.settings import Settings
from storage.access import StaffMember, seen_wave, seen_waves
from storage.change import ChangeError, compute_survey_series
from storage.pseudonym_key import NoSharedKey, key_of
from storage.repositories.respondents import Respondent
from storage.result_files import (
    overall_chart_png,
    region_map,
    wave_report,
    write_answers_csv,
    write_ratings_csv,
)
from storage.segments import compute_segments
from storage.situations import compute_situations
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.aggregate import OVERALL
from surveys.model import Survey
from surveys.regions import MissingTileLayout, RegionCatalog, load_catalog

#: Telegram refuses bot uploads over 50 MB; larger answer files go through the CLI.
UPLOAD_LIMIT = 49 * 1024 * 1024
WAVES_OFFERED = 10


async def _wave_choice(
    message: Message, store: Store, texts: Texts, kind: ResultsKind, staff: StaffMember
) -> None:
    waves = await seen_waves(store.waves, staff, WAVES_OFFERED)
    if not waves:
        await message.answer(no_waves_text(staff, texts))
        return
    builder = InlineKeyboardBuilder()
    for wave in waves:
        label = texts("results.wave_button", wave=wave.id, survey=wave.survey_id)
        builder.button(text=label, callback_data=ResultsCb(wave=wave.id, kind=kind))
    builder.adjust(1)
    await message.answer(texts("results.pick_wave"), reply_markup=builder.as_markup())


def _wave_argument(command: CommandObject) -> int | None:
    return parse_number((command.args or "").strip().lstrip("#"))


async def results_command(
    message: Message,
    command: CommandObject,
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    """`/export [ID]` and `/report [ID]`: without an id, offer the member's recent waves."""
    kind: ResultsKind = "export" if command.command == "export" else "report"
    arguments = (command.args or "").split()
    if kind == "report" and len(arguments) > 1:
        await send_region_series(message, arguments, store, texts, settings, staff)
        return
    wave_id = _wave_argument(command)
    if wave_id is None:
        await _wave_choice(message, store, texts, kind, staff)
    else:
        await SENDERS[kind](message, wave_id, store, texts, settings, staff)


async def on_results_choice(
    callback: CallbackQuery,
    callback_data: ResultsCb,
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    if not isinstance(callback.message, Message):
        return
    await SENDERS[callback_data.kind](
        callback.message, callback_data.wave, store, texts, settings, staff
    )


async def send_exports(
    message: Message,
    wave_id: int,
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    """The ratings file and, where the operator and the member's access allow it, the
    answers file: for a member of some regions, only those regions' rows."""
    if await seen_wave(store.waves, staff, wave_id) is None:
        await message.answer(texts("admin.unknown_wave", wave=wave_id))
        return
    await message.answer(texts("results.preparing", wave=wave_id))
    database = store.database
    with tempfile.TemporaryDirectory(prefix="civicpulse-export-") as folder:
        ratings = Path(folder) / f"ratings_wave{wave_id}.csv"
        answers = Path(folder) / f"answers_wave{wave_id}.csv"
        with ratings.open("wb") as target:
            await write_ratings_csv(
                database,
                wave_id,
                target,
                min_cell_size=settings.min_cell_size,
                excel=True,
                regions=staff.regions,
            )
        await message.answer_document(
            FSInputFile(ratings), caption=texts("results.ratings_caption", wave=wave_id)
        )
        if not settings.chat_export_answers:
            await message.answer(texts("results.answers_on_server", wave=wave_id))
            return
        if not staff.reads_microdata:
            await message.answer(texts("results.answers_not_granted"))
            return
        try:
            key = key_of(settings)
        except NoSharedKey:
            await message.answer(texts("results.answers_no_shared_key", wave=wave_id))
            return
        with answers.open("wb") as target:
            rows = await write_answers_csv(
                database, wave_id, target, key=key, excel=True, regions=staff.regions
            )
        size = answers.stat().st_size
        if size > UPLOAD_LIMIT:
            megabytes = round(size / 1024 / 1024)
            await message.answer(texts("results.answers_too_big", size=megabytes, wave=wave_id))
        else:
            caption = texts("results.answers_caption", wave=wave_id, rows=rows)
            await message.answer_document(FSInputFile(answers), caption=caption)


async def send_report(
    message: Message,
    wave_id: int,
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    """The chart and the tile map of the member's regions; while none has enough answers,
    that in words, since an empty chart says nothing of why it is empty or when it will fill."""
    if await seen_wave(store.waves, staff, wave_id) is None:
        await message.answer(texts("admin.unknown_wave", wave=wave_id))
        return
    report = await wave_report(
        store.database,
        wave_id,
        min_cell_size=settings.min_cell_size,
        catalog=load_catalog(settings.regions_file),
        regions=staff.regions,
    )
    if not report.has_figures:
        minimum = settings.min_cell_size
        await message.answer(
            texts("results.too_few", wave=wave_id, answers=report.respondents, minimum=minimum)
        )
        return
    chart = await overall_chart_png(report, language=texts.language)
    await message.answer_photo(
        BufferedInputFile(chart, filename=f"report_wave{wave_id}.png"),
        caption=texts("results.chart_caption", wave=wave_id),
    )
    try:
        tile_map = await region_map(report, language=texts.language, zone=settings.zone)
    except MissingTileLayout:
        await message.answer(texts("results.map_unavailable"))
        return
    await message.answer_photo(
        BufferedInputFile(tile_map, filename=f"map_wave{wave_id}.png"),
        caption=texts("results.map_caption", wave=wave_id),
    )


SENDERS = {"export": send_exports, "report": send_report}


async def send_region_series(
    message: Message,
    arguments: list[str],
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    """`/report WAVE REGION`: the region's scores through the survey's last closed waves up
    to WAVE, as the series file publishes them, then its situations and groups in WAVE. A
    region outside the member's is as unknown as one outside the catalog; any bad input gets
    one short reply and changes nothing."""
    wave_id = parse_number(arguments[0].lstrip("#")) if len(arguments) == 2 else None
    if wave_id is None:
        await message.answer(texts("report.series_usage"))
        return
    wave = await seen_wave(store.waves, staff, wave_id)
    if wave is None:
        await message.answer(texts("admin.unknown_wave", wave=wave_id))
        return
    code = arguments[1]
    region = load_catalog(settings.regions_file).region(code) if staff.covers(code) else None
    if region is None:
        await message.answer(texts("report.unknown_region", code=escape(code[:16])))
        return
    if wave.state != "closed":
        await message.answer(texts("report.wave_not_closed", wave=wave_id))
        return
    name = region.name.get(texts.language)
    survey = await store.surveys.get(wave.survey_version_id)
    try:
        found = await compute_survey_series(
            store.database,
            wave.survey_id,
            min_cell_size=settings.min_cell_size,
            up_to=wave_id,
            last=REPORT_WAVES,
        )
    except ChangeError:
        await message.answer(texts("report.no_series", wave=wave_id))
    else:
        if (code,) not in found.series.areas("region"):
            await message.answer(texts("report.region_without_answers", region=escape(name)))
            return
        waves = [ReportWave(w.id, w.ends_at.astimezone(settings.zone).date()) for w in found.waves]
        topics = [
            ReportTopic(
                _topic_title(survey, topic, texts), found.series.line((code,), "all", topic)
            )
            for topic in (OVERALL, *found.series.comparability.comparable_topics)
        ]
        title = survey.title.get(texts.language) if survey else wave.survey_id
        await message.answer(region_series_text(title, name, waves, topics, texts))
    await _send_region_wave(message, wave_id, code, name, survey, store, texts, settings)


async def _send_region_wave(
    message: Message,
    wave_id: int,
    code: str,
    region_name: str,
    survey: Survey | None,
    store: Store,
    texts: Texts,
    settings: Settings,
) -> None:
    """The region's life situations and groups in the wave itself, as the situations and
    segments files show them: a series says how the region moved, this says who in it
    fares how."""
    minimum = settings.min_cell_size
    situations: list[SituationFigures] = []
    if survey is not None and survey.situations:
        table = (await compute_situations(store.database, wave_id, min_cell_size=minimum)).table
        situations = region_situations(survey, table, code, texts.language)
    segments = await compute_segments(store.database, wave_id, min_cell_size=minimum)
    gaps = region_gaps(segments, code)
    await message.answer(region_wave_text(wave_id, region_name, situations, gaps, texts))


def _topic_title(survey: Survey | None, topic: str, texts: Texts) -> str:
    if topic == OVERALL:
        return texts("results.overall")
    described = survey.topic(topic) if survey else None
    return described.title.get(texts.language) if described else topic


async def my_results(
    message: Message,
    respondent: Respondent | None,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    closed_results: ClosedWaveResults,
    surveys: dict[str, StoredSurvey],
) -> None:
    """How the citizen's region answered the last closed wave they took part in, then what
    the region is doing (`bot.chat.region_update`)."""
    if respondent is None:
        await message.answer(texts("profile.needed"))
        return
    response = await store.responses.latest_in_closed_wave(respondent.id)
    if response is None:
        await message.answer(texts("results.none_closed"))
        return
    update = RegionUpdate(store, closed_results, catalog, surveys)
    await message.answer(await update.figures_text(response.wave_id, response, texts))
    actions = await update.actions_text(response, texts)
    if actions is not None:
        await message.answer(actions)


async def region_news(
    callback: CallbackQuery,
    callback_data: RegionNewsCb,
    respondent: Respondent | None,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    closed_results: ClosedWaveResults,
    surveys: dict[str, StoredSurvey],
    callback_answer: CallbackAnswer,
) -> None:
    """The button under the thanks. The response is checked to be the presser's own: its
    lowest-rated topics order the actions, which says something of how they answered."""
    response = await store.responses.get(callback_data.response) if respondent else None
    if (
        response is None
        or respondent is None
        or response.respondent_id != respondent.id
        or not isinstance(callback.message, Message)
    ):
        callback_answer.text = texts("results.region_news_gone")
        return
    update = RegionUpdate(store, closed_results, catalog, surveys)
    await update.after_survey(callback.message, response, texts)


def create_admin_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = admin_only(Router(name="results_admin"))
    router.message.register(results_command, Command("export", "report"))
    router.callback_query.register(on_results_choice, ResultsCb.filter())
    return router


def create_router() -> Router:
    """Citizens' /results; a new router each call, like every router here."""
    router = Router(name="results")
    router.message.filter(F.chat.type == "private")
    router.message.register(my_results, Command("results"))
    router.callback_query.register(region_news, RegionNewsCb.filter(), ButtonOnMessage())
    return router
