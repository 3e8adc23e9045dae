"""An action as staff enter it, checked as a whole: its text (`surveys.actions.checked`) and
the places and subjects it names, against the region catalog and the surveys.

The command line and the admin chat both enter actions; they share this so that neither can
store what the other would refuse. A code that names nothing would leave an action that no
citizen is ever shown, so it is refused at entry, with the code in the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from surveys.actions import Action, ActionDraft, ActionError, checked
from surveys.model import Survey
from surveys.regions import RegionCatalog


@dataclass(frozen=True, slots=True)
class ActionSubjects:
    """What an action may be about: each topic id of the surveys, and each situation id with
    the topics it belongs to (an id may recur across surveys)."""

    topics: frozenset[str]
    situations: dict[str, frozenset[str]]

    @classmethod
    def of(cls, surveys: Iterable[Survey]) -> ActionSubjects:
        topics: set[str] = set()
        situations: dict[str, set[str]] = {}
        for survey in surveys:
            topics.update(topic.id for topic in survey.topics)
            for situation in survey.situations:
                situations.setdefault(situation.id, set()).add(situation.topic)
        return cls(frozenset(topics), {key: frozenset(value) for key, value in situations.items()})


def entered(draft: ActionDraft, catalog: RegionCatalog, subjects: ActionSubjects) -> ActionDraft:
    """The checked draft, or `ActionError` naming the first problem.

    A situation given without a topic takes its topic when that is unambiguous, so that the
    action is listed under it where citizens read actions by topic.
    """
    draft = checked(draft)
    region = catalog.region(draft.region_code or "")
    if region is None:
        raise ActionError(f"unknown region code {draft.region_code!r} (see docs/regions.md)")
    municipality = draft.municipality_code
    if municipality is not None and region.municipality(municipality) is None:
        raise ActionError(f"region {region.code} has no municipality {municipality!r}")
    if draft.topic is not None and draft.topic not in subjects.topics:
        raise ActionError(f"no survey has a topic {draft.topic!r}")
    if draft.situation is None:
        return draft
    owners = subjects.situations.get(draft.situation)
    if owners is None:
        raise ActionError(f"no survey has a life situation {draft.situation!r}")
    if draft.topic is None:
        return replace(draft, topic=next(iter(owners))) if len(owners) == 1 else draft
    if draft.topic not in owners:
        raise ActionError(
            f"the life situation {draft.situation!r} belongs to topic "
            f"{', '.join(sorted(owners))}, not {draft.topic!r}"
        )
    return draft


def described(action: ActionDraft) -> dict[str, Any]:
    """An action's fields as the audit log keeps them: plain values, unset ones left out."""
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in _draft_fields(action).items()
        if value is not None
    }


def changed_fields(before: ActionDraft, after: ActionDraft) -> dict[str, list[Any]]:
    """What an update changed, field by field, as [before, after] for the audit log."""
    old, new = described(before), described(after)
    return {
        name: [old.get(name), new.get(name)]
        for name in ActionDraft.__dataclass_fields__
        if old.get(name) != new.get(name)
    }


def draft_of(action: Action) -> ActionDraft:
    """The entered fields of a stored action, to change some and check it again."""
    return ActionDraft(**_draft_fields(action))


def _draft_fields(action: ActionDraft) -> dict[str, Any]:
    return {name: getattr(action, name) for name in ActionDraft.__dataclass_fields__}
