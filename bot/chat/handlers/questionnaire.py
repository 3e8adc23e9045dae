"""Answering a survey in chat: one question per message, edited in place.

Every press is checked against the dialog state (is this the question on screen?) and
against the database (is this your response, is the wave still open?) before anything is
stored; the answer is committed before the next question is shown.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.callbacks import AnswerCb, StartWaveCb, StepCb, ToggleCb, parse_number, prefix_of
from bot.chat.handlers.replies import show
from bot.chat.keyboards import region_news_keyboard, waves_keyboard
from bot.chat.middlewares import Data, UpdateHandler
from bot.chat.middlewares.serial import READING
from bot.chat.press_lane import PressHandler
from bot.chat.question_view import question_keyboard, question_text, screen_of, thanks_text
from bot.chat.states import Questionnaire
from bot.chat.texts import Texts
from storage.fsm import DialogStorage
from storage.participation import Participation, Refusal, Session
from storage.repositories.respondents import Respondent
from storage.repositories.responses import AnsweringState
from surveys.model import DONT_KNOW, SCALE_RANGES, AnswerValue, Question, QuestionType
from surveys.targeting import previous_question

QuestionPress = AnswerCb | ToggleCb | StepCb
#: Question types answered by typing a message rather than pressing a button.
TYPED_TYPES = frozenset({QuestionType.TEXT, QuestionType.NUMBER})


def refusal_text(refusal: Refusal, texts: Texts, title: str = "") -> str:
    return {
        Refusal.NO_PROFILE: texts("profile.needed"),
        Refusal.NOT_YOURS: texts("error.stale_button"),
        Refusal.NOT_FOR_YOU: texts("survey.not_for_you"),
        Refusal.CLOSED: texts("survey.closed"),
        Refusal.COMPLETED: texts("survey.already_done", title=escape(title)),
        Refusal.INVALID: texts("error.invalid_answer"),
    }[refusal]


#: The dialog's state while a question is on screen.
ANSWERING = Questionnaire.answering.state


@dataclass(slots=True)
class Dialog:
    """One citizen's questionnaire conversation during one update: who they are, their
    language, their state."""

    state: FSMContext
    respondent: Respondent | None
    texts: Texts
    participation: Participation
    #: What the citizen's turn read of the response their dialog names, if it read it.
    answering: AnsweringState | None = None

    async def offer_surveys(self, target: Message) -> None:
        """Start the one open survey, or list them when there are several."""
        respondent, texts = self.respondent, self.texts
        if respondent is None or not respondent.profile_complete:
            await target.answer(texts("profile.needed"))
            return
        offers = await self.participation.offers(respondent)
        pending = [offer for offer in offers if not offer.completed]
        if not pending:
            await target.answer(texts("survey.all_done" if offers else "survey.none"))
        elif len(pending) == 1:
            await self.begin(target, pending[0].wave.id)
        else:
            choices = [(o.wave.id, o.survey.title.get(texts.language)) for o in pending]
            await target.answer(texts("survey.choose"), reply_markup=waves_keyboard(choices, texts))

    async def begin(self, target: Message, wave_id: int) -> None:
        """Show the current question of a wave as a new message (starting it if need be)."""
        if self.respondent is None:
            await target.answer(self.texts("profile.needed"))
            return
        session = await self.participation.begin(self.respondent, wave_id)
        if isinstance(session, Refusal):
            offers = await self.participation.offers(self.respondent)
            offer = next((o for o in offers if o.wave.id == wave_id), None)
            title = offer.survey.title.get(self.texts.language) if offer else ""
            await target.answer(refusal_text(session, self.texts, title))
            return
        await self.forget_screen(target)
        question = session.next_question()
        assert question is not None, "a session that is not completed has a next question"
        await self.present(target, session, question)

    async def present(
        self,
        event: CallbackQuery | Message,
        session: Session,
        question: Question,
        selected: list[str] | None = None,
    ) -> None:
        """Show a question, its dialog state written *first*.

        The citizen can press a button the moment the screen appears, and a crash can
        come right after it appears: written afterwards, the state would still name the
        previous question, the press would be refused as stale, and a typed answer would
        be stored under the previous question.
        """
        known, after = _screen_ids(event)
        await self.remember(session, question, known, selected, after)
        await self.show_question(event, session, question, selected)

    async def show_question(
        self,
        event: CallbackQuery | Message,
        session: Session,
        question: Question,
        selected: list[str] | None,
    ) -> None:
        """Show a question whose dialog state is stored; a question message sent anew gets
        its id recorded once Telegram has assigned it."""
        known, after = _screen_ids(event)
        view = screen_of(session, question, selected or [])
        markup = question_keyboard(view, self.texts)
        screen = await show(event, question_text(view, self.texts), markup)
        if screen is not None and screen != known:
            await self.remember(session, question, screen, selected, after)

    async def remember(
        self,
        session: Session,
        question: Question,
        message_id: int | None,
        selected: list[str] | None = None,
        after: int | None = None,
    ) -> None:
        data = await self.screen_data(session, question, message_id, selected, after)
        await self.dialogs.set_dialog(self.state.key, ANSWERING, data)

    async def screen_data(
        self,
        session: Session,
        question: Question,
        message_id: int | None,
        selected: list[str] | None,
        after: int | None,
    ) -> dict[str, Any]:
        """The dialog while a question is on screen; `after`, unless given, as it was."""
        if after is None:
            after = (await self.state.get_data()).get("after")
        return {
            "response": session.response.id,
            "question": session.survey.question_index(question.id),
            "message": message_id,
            "selected": selected or [],
            "after": after,
        }

    async def forget_screen(self, near: Message) -> None:
        """Take the buttons off the question message a new one replaces: it is no longer live."""
        await self.take_buttons_off(near, (await self.state.get_data()).get("message"))

    async def take_buttons_off(self, near: Message, message_id: Any) -> None:
        if near.bot is None or not isinstance(message_id, int):
            return
        with suppress(TelegramBadRequest):
            await near.bot.edit_message_reply_markup(
                chat_id=near.chat.id, message_id=message_id, reply_markup=None
            )

    async def session(self, response_id: int) -> Session | Refusal:
        """The response behind a press or a typed answer, if this citizen may still answer
        it: as the citizen's turn read it, where it did (`CitizenReading.answering`). Only
        the first call of an update may use that reading: later ones may come after the
        update's own writes."""
        known, self.answering = self.answering, None
        if known is not None and known.response.id != response_id:
            known = None
        return await self.participation.session(self.respondent, response_id, known)

    async def on_screen(
        self, press: QuestionPress, answer: CallbackAnswer, callback: CallbackQuery
    ) -> tuple[Session, Question, list[str]] | None:
        """The session and question a press refers to, if that question is the one on screen.

        A press that names another question of the same response comes from a screen older
        than the dialog — a crash between storing a step and showing the next one, or an
        update delivered twice. The press is refused and the current question shown on the
        message pressed, so the citizen is never left with buttons that only say "stale".
        """
        session = await self.session(press.response)
        if isinstance(session, Refusal):
            answer.text = refusal_text(session, self.texts)
            answer.show_alert = session is not Refusal.NOT_YOURS
            if session is Refusal.COMPLETED:
                # A crash can come between storing the last answer and the thanks: the
                # citizen still sees a question, so the screen pressed becomes the thanks.
                survey = await self.participation.survey_of(press.response)
                title = survey.title.get(self.texts.language) if survey else ""
                await show(callback, refusal_text(session, self.texts, title))
            return None
        data = await self.state.get_data()
        shown = (await self.state.get_state()) == ANSWERING
        if not shown or (data.get("response"), data.get("question")) != (
            press.response,
            press.question,
        ):
            answer.text = self.texts("error.stale_button")
            if shown and data.get("response") == press.response:
                await self.resync(callback, session, data)
            return None
        return session, session.survey.questions[press.question], list(data.get("selected") or [])

    async def resync(self, callback: CallbackQuery, session: Session, data: dict[str, Any]) -> None:
        """Show the dialog's current question on the message pressed, which becomes the
        live screen; any other screen of the dialog loses its buttons."""
        message, index = callback.message, data.get("question")
        questions = session.survey.questions
        if not isinstance(message, Message) or not isinstance(index, int):
            return
        if not 0 <= index < len(questions):
            return
        if data.get("message") != message.message_id:
            await self.forget_screen(message)
        await self.present(callback, session, questions[index], list(data.get("selected") or []))

    async def advance(
        self,
        event: CallbackQuery | Message,
        session: Session,
        question: Question,
        value: AnswerValue,
    ) -> Refusal | None:
        """Store the answer and the dialog moved past it, then show the next question or
        the thanks.

        Answer and dialog are stored in one transaction: apart, a crash between them would
        leave the dialog on the question just answered (and on PostgreSQL each costs a round
        trip to the server, the most expensive part of an answer).
        """
        answered = self.participation.answered(session, question, value)
        if isinstance(answered, Refusal):
            return answered
        updated = answered.session
        following = updated.next_question()
        known, after = _screen_ids(event)
        # A typed answer leaves the question message in place: its buttons come off below.
        typed = isinstance(event, Message)
        replaced = (await self.state.get_data()).get("message") if typed else None
        if following is None:
            dialog = self.dialogs.writing(self.state.key, None, {})
        else:
            data = await self.screen_data(updated, following, known, None, after)
            dialog = self.dialogs.writing(self.state.key, ANSWERING, data)
        with dialog as statement:
            await self.participation.record(answered, along=[statement])
        if isinstance(event, Message):
            await self.take_buttons_off(event, replaced)
        if following is None:
            thanks = thanks_text(updated.survey, self.texts)
            await show(event, thanks, region_news_keyboard(updated.response.id, self.texts))
            return None
        await self.show_question(event, updated, following, None)
        return None

    @property
    def dialogs(self) -> DialogStorage:
        """The bot's FSM storage, which can store a dialog together with an answer."""
        storage = self.state.storage
        if not isinstance(storage, DialogStorage):
            raise TypeError(f"the questionnaire needs the bot's own FSM storage, not {storage!r}")
        return storage


def _screen_ids(event: CallbackQuery | Message) -> tuple[int | None, int | None]:
    """The question message a press edits (None: a message is sent anew), and the message
    that led here: the same message delivered again is not a new answer."""
    edited = event.message if isinstance(event, CallbackQuery) else None
    known = edited.message_id if edited is not None else None
    after = event.message_id if isinstance(event, Message) else None
    return known, after


class DialogMiddleware:
    """Bundles what every questionnaire handler needs into one `dialog` argument."""

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        reading = data.get(READING)
        data["dialog"] = Dialog(
            data["state"],
            data["respondent"],
            data["texts"],
            data["participation"],
            reading.answering if reading is not None else None,
        )
        return await handler(event, data)


async def offer_surveys(
    target: Message,
    state: FSMContext,
    respondent: Respondent | None,
    texts: Texts,
    participation: Participation,
) -> None:
    """For onboarding, which ends by offering the surveys open to the new respondent."""
    await Dialog(state, respondent, texts, participation).offer_surveys(target)


async def survey_command(message: Message, dialog: Dialog) -> None:
    await dialog.offer_surveys(message)


async def on_start_wave(
    callback: CallbackQuery, callback_data: StartWaveCb, dialog: Dialog
) -> None:
    if isinstance(callback.message, Message):
        await dialog.begin(callback.message, callback_data.wave)


async def on_answer(
    callback: CallbackQuery,
    callback_data: AnswerCb,
    dialog: Dialog,
    callback_answer: CallbackAnswer,
) -> None:
    found = await dialog.on_screen(callback_data, callback_answer, callback)
    if found is None:
        return
    session, question, _ = found
    value: AnswerValue = None
    if question.type in SCALE_RANGES:
        value = callback_data.value
    elif question.type is QuestionType.SINGLE and 0 <= callback_data.value < len(question.options):
        value = question.options[callback_data.value].id
    refusal = (
        Refusal.INVALID
        if value is None
        else await dialog.advance(callback, session, question, value)
    )
    if refusal is not None:
        callback_answer.text = refusal_text(refusal, dialog.texts)


async def on_toggle(
    callback: CallbackQuery,
    callback_data: ToggleCb,
    dialog: Dialog,
    callback_answer: CallbackAnswer,
) -> None:
    """Multi-choice ticks live in the dialog state until Done commits them as one answer."""
    found = await dialog.on_screen(callback_data, callback_answer, callback)
    if found is None:
        return
    session, question, selected = found
    options = question.options
    if question.type is not QuestionType.MULTI or not 0 <= callback_data.option < len(options):
        callback_answer.text = dialog.texts("error.invalid_answer")
        return
    option_id = options[callback_data.option].id
    if option_id in selected:
        selected.remove(option_id)
    else:
        selected.append(option_id)
    await dialog.present(callback, session, question, selected)


async def on_step(
    callback: CallbackQuery,
    callback_data: StepCb,
    dialog: Dialog,
    callback_answer: CallbackAnswer,
) -> None:
    """Back shows the previous question; Done commits the ticks; Skip stores "no answer",
    and "I don't remember" its own answer, where the question offers it."""
    found = await dialog.on_screen(callback_data, callback_answer, callback)
    if found is None:
        return
    session, question, selected = found
    texts = dialog.texts
    refusal: Refusal | None
    if callback_data.action == "back":
        previous = previous_question(session.survey, session.track, session.answers, question.id)
        if previous is None:
            callback_answer.text = texts("error.stale_button")
        else:
            earlier = session.answers.get(previous.id)
            ticks = list(earlier) if isinstance(earlier, list) else []
            await dialog.present(callback, session, previous, ticks)
        return
    if callback_data.action == "done":
        if question.type is not QuestionType.MULTI:
            refusal = Refusal.INVALID
        elif not selected:
            callback_answer.text = texts("error.choose_one")
            return
        else:
            ordered = [option.id for option in question.options if option.id in selected]
            refusal = await dialog.advance(callback, session, question, ordered)
    elif callback_data.action == "dont_know" and not question.dont_know:
        refusal = Refusal.INVALID  # a text question would even take the word for its text
    else:
        value = DONT_KNOW if callback_data.action == "dont_know" else None
        refusal = await dialog.advance(callback, session, question, value)
    if refusal is not None:
        callback_answer.text = refusal_text(refusal, texts)


async def on_message_while_answering(message: Message, dialog: Dialog) -> None:
    """Free-text and number answers arrive as messages; anything else, and a message that
    is not an answer to the question on screen, gets a hint and changes nothing."""
    texts = dialog.texts
    data = await dialog.state.get_data()
    if message.message_id <= int(data.get("after") or 0):
        return  # delivered again after a restart: it has been handled already
    session = await dialog.session(int(data.get("response", 0)))
    if isinstance(session, Refusal):
        await dialog.state.clear()
        await message.answer(refusal_text(session, texts))
        return
    index = int(data.get("question", -1))
    question = (
        session.survey.questions[index] if 0 <= index < len(session.survey.questions) else None
    )
    if question is None or question.type not in TYPED_TYPES:
        await message.answer(texts("error.use_buttons"))
        return
    if data.get("message") is None:
        # The question was stored as current but its message was never confirmed sent (a
        # crash in between): the citizen may be answering the previous one. Ask again.
        await dialog.present(message, session, question)
        return
    text = (message.text or "").strip()
    answer: AnswerValue = text
    if question.type is QuestionType.NUMBER:
        answer = parse_number(text)
        if answer is None or not question.accepts(answer):
            low, high = question.bounds
            await message.answer(
                texts("error.number_expected", low=low, high=high, unit=question.unit)
            )
            return
    elif not text or text.startswith("/"):
        await message.answer(texts("error.text_expected"))
        return
    elif len(text) > question.max_length:
        await message.answer(texts("error.too_long", length=len(text), limit=question.max_length))
        return
    refusal = await dialog.advance(message, session, question, answer)
    if refusal is not None:
        await message.answer(refusal_text(refusal, texts))


def trim_question_press(update: dict[str, Any]) -> dict[str, Any]:
    """Drop the echoed keyboard, text formatting and sender from a press on a question button.

    Telegram sends the whole message a button sits on with every press, and aiogram parses
    all of it into models: for a question screen, its keyboard and bold and italic runs
    were more than half of receiving a press (300 µs a press, of the 2 ms an answer costs),
    and the message's sender (the bot itself) one model in six of what is left. The
    question handlers check a press against the dialog state and never read the echoed
    buttons, formatting or sender; every other press (consent and erasure check their
    keyboard: `ButtonOnMessage`) arrives whole. Given to the polling session (`make_bot`).
    """
    press = update.get("callback_query")
    if isinstance(press, dict):
        data, message = press.get("data"), press.get("message")
        if isinstance(data, str) and data.startswith(_QUESTION_PRESS) and isinstance(message, dict):
            for echoed in ("reply_markup", "entities", "from"):
                message.pop(echoed, None)
    return update


#: The question buttons and their handlers: the router below and the press lane
#: (`bot.chat.press_lane`) both take them from here.
PRESS_HANDLERS: dict[type[CallbackData], PressHandler] = {
    AnswerCb: on_answer,
    ToggleCb: on_toggle,
    StepCb: on_step,
}
_QUESTION_PRESS = tuple(map(prefix_of, PRESS_HANDLERS))


def create_presses_router() -> Router:
    """The question buttons: pressed thousands of times a second while a wave is open.

    The dispatcher puts this router first, so a press does not walk every other router's
    filters on its way. Their callback prefixes (`bot.chat.callbacks`) belong to no other
    router, so being first changes no outcome. A new router each call, like every router
    here: aiogram attaches a router to one dispatcher only.
    """
    router = Router(name="questionnaire_presses")
    router.callback_query.filter(F.message.chat.type == "private")
    router.callback_query.middleware(DialogMiddleware())
    router.callback_query.register(on_start_wave, StartWaveCb.filter())
    for kind, handler in PRESS_HANDLERS.items():
        router.callback_query.register(handler, kind.filter())
    return router


def create_router() -> Router:
    """/survey and typed answers, after the admin routers (an admin's commands are not
    answers); a new router each call."""
    router = Router(name="questionnaire")
    router.message.filter(F.chat.type == "private")
    router.message.middleware(DialogMiddleware())
    router.message.register(survey_command, Command("survey"))
    router.message.register(on_message_while_answering, StateFilter(Questionnaire.answering))
    return router
