"""Answering a survey in chat: one question per message, edited in place.

Every press is checked against the dialog state (is this the question on screen?) and
against the database (is this your response, is the wave still open?) before anything is
stored; the answer is committed before the next question is shown.
"""

from __future__ import annotations

from contextlib import suppress
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.callbacks import AnswerCb, StartWaveCb, StepCb, ToggleCb
from bot.handlers.replies import show
from bot.keyboards import waves_keyboard
from bot.question_view import question_keyboard, question_text
from bot.states import Questionnaire
from bot.texts import Texts
from storage.participation import Participation, Refusal, Session
from storage.repositories.respondents import Respondent
from surveys.model import SCALE_RANGES, AnswerValue, Question, QuestionType
from surveys.targeting import previous_question

QuestionPress = AnswerCb | ToggleCb | StepCb


def refusal_text(refusal: Refusal, texts: Texts, title: str = "") -> str:
    return {
        Refusal.NO_PROFILE: texts("profile.needed"),
        Refusal.NOT_YOURS: texts("error.stale_button"),
        Refusal.NOT_FOR_YOU: texts("survey.not_for_you"),
        Refusal.CLOSED: texts("survey.closed"),
        Refusal.COMPLETED: texts("survey.already_done", title=escape(title)),
        Refusal.INVALID: texts("error.invalid_answer"),
    }[refusal]


async def offer_surveys(
    event: Message | CallbackQuery,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    """Start the one open survey, or list them when there are several."""
    target = event.message if isinstance(event, CallbackQuery) else event
    if not isinstance(target, Message):
        return
    if respondent is None or not respondent.profile_complete:
        await target.answer(texts("profile.needed"))
        return
    offers = await participation.offers(respondent)
    pending = [offer for offer in offers if not offer.completed]
    if not pending:
        await target.answer(texts("survey.all_done" if offers else "survey.none"))
    elif len(pending) == 1:
        await begin(target, state, respondent, texts, participation, pending[0].wave.id)
    else:
        choices = [(o.wave.id, o.survey.title.get(texts.language)) for o in pending]
        await target.answer(texts("survey.choose"), reply_markup=waves_keyboard(choices, texts))


async def begin(
    target: Message,
    state: FSMContext,
    respondent: Respondent,
    texts: Texts,
    participation: Participation,
    wave_id: int,
) -> None:
    session = await participation.begin(respondent, wave_id)
    if isinstance(session, Refusal):
        offer = next(
            (o for o in await participation.offers(respondent) if o.wave.id == wave_id), None
        )
        title = offer.survey.title.get(texts.language) if offer else ""
        await target.answer(refusal_text(session, texts, title))
        return
    await _forget_previous_screen(target.bot, state, target.chat.id)
    question = session.progress().question
    assert question is not None, "a session that is not completed has a next question"
    sent = await target.answer(
        question_text(session, question, texts),
        reply_markup=question_keyboard(session, question, texts),
    )
    await _remember(state, session, question, sent.message_id)


async def _remember(
    state: FSMContext,
    session: Session,
    question: Question,
    message_id: int,
    selected: list[str] | None = None,
) -> None:
    await state.set_state(Questionnaire.answering)
    await state.set_data(
        {
            "response": session.response.id,
            "question": session.survey.questions.index(question),
            "message": message_id,
            "selected": selected or [],
        }
    )


async def _forget_previous_screen(bot: Bot | None, state: FSMContext, chat_id: int) -> None:
    """Take the buttons off the question message a new one replaces, so it cannot be pressed."""
    message_id = (await state.get_data()).get("message")
    if bot is None or not isinstance(message_id, int):
        return
    with suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )


async def survey_command(
    message: Message,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    await offer_surveys(message, state, respondent, texts, participation)


async def on_start_wave(
    callback: CallbackQuery,
    callback_data: StartWaveCb,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
    callback_answer: CallbackAnswer,
) -> None:
    if respondent is None or not isinstance(callback.message, Message):
        callback_answer.text = texts("profile.needed")
        return
    await begin(callback.message, state, respondent, texts, participation, callback_data.wave)


async def _on_screen(
    press: QuestionPress,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
    callback_answer: CallbackAnswer,
) -> tuple[Session, Question, list[str]] | None:
    """The session and question a press refers to, if that question is the one on screen."""
    session = await participation.session(respondent, press.response)
    if isinstance(session, Refusal):
        callback_answer.text = refusal_text(session, texts)
        callback_answer.show_alert = session is not Refusal.NOT_YOURS
        return None
    data = await state.get_data()
    current = await state.get_state() == Questionnaire.answering.state
    if (
        not current
        or data.get("response") != press.response
        or data.get("question") != press.question
    ):
        callback_answer.text = texts("error.stale_button")
        return None
    question = session.survey.questions[press.question]
    return session, question, list(data.get("selected") or [])


async def _store_and_advance(
    event: CallbackQuery | Message,
    state: FSMContext,
    session: Session,
    question: Question,
    value: AnswerValue,
    texts: Texts,
    participation: Participation,
) -> Refusal | None:
    updated = await participation.record(session, question, value)
    if isinstance(updated, Refusal):
        return updated
    following = updated.progress().question
    if isinstance(event, Message):
        await _forget_previous_screen(event.bot, state, event.chat.id)
    if following is None:
        await state.clear()
        title = escape(updated.survey.title.get(texts.language))
        await show(event, texts("survey.thanks", title=title))
        return None
    screen = await show(
        event,
        question_text(updated, following, texts),
        question_keyboard(updated, following, texts),
    )
    if screen is not None:
        await _remember(state, updated, following, screen.message_id)
    return None


async def on_answer(
    callback: CallbackQuery,
    callback_data: AnswerCb,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
    callback_answer: CallbackAnswer,
) -> None:
    found = await _on_screen(
        callback_data, state, respondent, texts, participation, callback_answer
    )
    if found is None:
        return
    session, question, _ = found
    value: AnswerValue = None
    if question.type in SCALE_RANGES:
        value = callback_data.value
    elif question.type is QuestionType.SINGLE and 0 <= callback_data.value < len(question.options):
        value = question.options[callback_data.value].id
    refusal = None
    if value is None:
        refusal = Refusal.INVALID
    else:
        refusal = await _store_and_advance(
            callback, state, session, question, value, texts, participation
        )
    if refusal is not None:
        callback_answer.text = refusal_text(refusal, texts)


async def on_toggle(
    callback: CallbackQuery,
    callback_data: ToggleCb,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
    callback_answer: CallbackAnswer,
) -> None:
    """Multi-choice ticks live in the dialog state until Done commits them as one answer."""
    found = await _on_screen(
        callback_data, state, respondent, texts, participation, callback_answer
    )
    if found is None:
        return
    session, question, selected = found
    if question.type is not QuestionType.MULTI or not 0 <= callback_data.option < len(
        question.options
    ):
        callback_answer.text = texts("error.invalid_answer")
        return
    option_id = question.options[callback_data.option].id
    if option_id in selected:
        selected.remove(option_id)
    else:
        selected.append(option_id)
    await state.update_data(selected=selected)
    await show(
        callback,
        question_text(session, question, texts),
        question_keyboard(session, question, texts, selected),
    )


async def on_step(
    callback: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
    callback_answer: CallbackAnswer,
) -> None:
    found = await _on_screen(
        callback_data, state, respondent, texts, participation, callback_answer
    )
    if found is None:
        return
    session, question, selected = found
    if callback_data.action == "back":
        previous = previous_question(session.survey, session.track, session.answers, question.id)
        if previous is None:
            callback_answer.text = texts("error.stale_button")
            return
        await show(
            callback,
            question_text(session, previous, texts),
            question_keyboard(session, previous, texts),
        )
        if isinstance(callback.message, Message):
            await _remember(state, session, previous, callback.message.message_id)
        return
    if callback_data.action == "done":
        if question.type is not QuestionType.MULTI:
            callback_answer.text = texts("error.invalid_answer")
            return
        if not selected:
            callback_answer.text = texts("error.choose_one")
            return
        ordered = [option.id for option in question.options if option.id in selected]
        refusal = await _store_and_advance(
            callback, state, session, question, ordered, texts, participation
        )
    else:
        refusal = await _store_and_advance(
            callback, state, session, question, None, texts, participation
        )
    if refusal is not None:
        callback_answer.text = refusal_text(refusal, texts)


async def on_message_while_answering(
    message: Message,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    """Free-text answers arrive as messages; anything else gets a hint and changes nothing."""
    data = await state.get_data()
    session = await participation.session(respondent, int(data.get("response", 0)))
    if isinstance(session, Refusal):
        if session in (Refusal.CLOSED, Refusal.COMPLETED, Refusal.NOT_YOURS):
            await state.clear()
        await message.answer(refusal_text(session, texts))
        return
    index = int(data.get("question", -1))
    if not 0 <= index < len(session.survey.questions):
        await state.clear()
        await message.answer(texts("error.stale_button"))
        return
    question = session.survey.questions[index]
    if question.type is not QuestionType.TEXT:
        await message.answer(texts("error.use_buttons"))
        return
    if message.text is None or message.text.startswith("/"):
        await message.answer(texts("error.text_expected"))
        return
    text = message.text.strip()
    if len(text) > question.max_length:
        await message.answer(texts("error.too_long", length=len(text), limit=question.max_length))
        return
    if not text:
        await message.answer(texts("error.text_expected"))
        return
    refusal = await _store_and_advance(
        message, state, session, question, text, texts, participation
    )
    if refusal is not None:
        await message.answer(refusal_text(refusal, texts))


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="questionnaire")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.register(survey_command, Command("survey"))
    router.callback_query.register(on_start_wave, StartWaveCb.filter())
    router.callback_query.register(on_answer, AnswerCb.filter())
    router.callback_query.register(on_toggle, ToggleCb.filter())
    router.callback_query.register(on_step, StepCb.filter())
    router.message.register(on_message_while_answering, StateFilter(Questionnaire.answering))
    return router
