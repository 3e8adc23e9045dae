"""Dialog states; stored in SQLite, so a restart resumes each citizen where they were."""

from aiogram.fsm.state import State, StatesGroup


class Onboarding(StatesGroup):
    consent = State()
    language = State()
    region = State()
    municipality = State()
    age = State()
    children = State()
    disability_consent = State()
    disability = State()
    settlement = State()
    summary = State()


class Questionnaire(StatesGroup):
    answering = State()
