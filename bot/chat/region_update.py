"""What a citizen is told about their region: in `/results`, and right after finishing a
survey, when what they said is fresh and they are most likely to ask "and then what?".

Two messages: the region's figures (each topic's score beside the whole wave's, the change
since the previous wave with its verdict, how people in their life situation rated it) from
the cached computation the files also come from; and what the region is doing, the topics
this citizen rated lowest first, so the answer to their own complaint comes first.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from statistics import fmean

from aiogram.types import Message

from bot.chat.actions_view import area_actions_text
from bot.chat.results_cache import ClosedWaveResults
from bot.chat.results_view import region_results_text
from bot.chat.texts import Texts
from storage.change import ChangeError
from storage.repositories.responses import Response
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.change import ChangeEstimate
from surveys.model import Survey
from surveys.regions import RegionCatalog


@dataclass(frozen=True, slots=True)
class RegionUpdate:
    store: Store
    closed_results: ClosedWaveResults
    catalog: RegionCatalog
    surveys: dict[str, StoredSurvey]

    async def figures_text(self, wave_id: int, response: Response, texts: Texts) -> str:
        """The region's figures in closed wave `wave_id`, for the citizen of `response`."""
        region_code = response.region_code
        comparison = await self.closed_results.comparison(wave_id, region_code)
        changes: dict[str, ChangeEstimate] = {}
        previous = await self.store.waves.previous_closed(wave_id)
        if previous is not None:
            # Two waves with nothing asked alike leave the figures without a change.
            with contextlib.suppress(ChangeError):
                changes = await self.closed_results.region_change(wave_id, previous.id, region_code)
        wave = await self.store.waves.get(wave_id)
        survey = await self.store.surveys.get(wave.survey_version_id) if wave else None
        region = self.catalog.region(region_code)
        title = survey.title.get(texts.language) if survey else ""
        region_name = region.name.get(texts.language) if region else region_code
        situations = await self._lived_situations(response, wave_id, survey, texts)
        return region_results_text(title, region_name, comparison, texts, changes, situations)

    async def actions_text(self, response: Response, texts: Texts) -> str | None:
        """The region's and the citizen's municipality's actions, the topics this response
        rated lowest first; None while the region has recorded none (`/actions` says so)."""
        region_code = response.region_code
        found = await self.store.actions.for_area(region_code, response.municipality_code)
        if not found:
            return None
        lowest = await self.lowest_topics(response.id)
        surveys = (stored.survey for stored in self.surveys.values())
        return area_actions_text(found, region_code, lowest, self.catalog, surveys, texts)

    async def after_survey(self, target: Message, response: Response, texts: Texts) -> None:
        """What the button under the thanks shows: the region's figures from the response's
        wave once it is closed, else from the survey's last closed wave, and what the
        region is doing; a short word when there is neither yet."""
        wave = await self.store.waves.get(response.wave_id)
        closed = wave if wave is not None and wave.state == "closed" else None
        closed = closed or await self.store.waves.previous_closed(response.wave_id)
        if closed is not None:
            await target.answer(await self.figures_text(closed.id, response, texts))
        actions = await self.actions_text(response, texts)
        if actions is not None:
            await target.answer(actions)
        elif closed is None:
            await target.answer(texts("results.region_news_none"))

    async def lowest_topics(self, response_id: int) -> list[str]:
        """The response's topics by the mean of its scored answers, lowest first."""
        scores: dict[str, list[float]] = {}
        for topic, score in await self.store.responses.scores(response_id):
            scores.setdefault(topic, []).append(score)
        return sorted(scores, key=lambda topic: fmean(scores[topic]))

    async def _lived_situations(
        self, response: Response, wave_id: int, survey: Survey | None, texts: Texts
    ) -> list[tuple[str, float]]:
        """Each situation the citizen said they went through (their answer to the screening
        question), with how people in it rated it in their region in `wave_id`: only where
        the situations file shows that cell, so nothing is said of a small group."""
        screening = next((q for q in survey.questions if q.screening), None) if survey else None
        if survey is None or screening is None:
            return []
        answer = (await self.store.responses.answers(response.id)).get(screening.id)
        lived = set(answer) if isinstance(answer, list) else set()
        if not lived:
            return []
        scores = await self.closed_results.situation_scores(wave_id, response.region_code)
        return [
            (situation.title.get(texts.language), scores[situation.id])
            for situation in survey.situations
            if situation.id in lived and situation.id in scores
        ]
