"""Every text a citizen or an administrator reads, in Russian and English.

Kept as one Python catalog rather than gettext files: there is no compile step to forget,
and tests/test_texts.py checks that both languages have every message with the same
placeholders, and renders each with the counts that take every plural form.
Texts are HTML (the bot's parse mode); values from users or files are escaped by the caller.

A count of something is written `{name:unit}` (`{rows:rows}`, `{limit:characters}`): the
caller passes the number, and the text shows it with its noun in the form the number asks
for ("1 строка", "2 строки", "5 строк"; "1 row", "5 rows"). Counts are always in the
nominative ("предел — 21 символ", never "до 21 символов"), so one table of forms serves.
Where the noun is the caller's to choose (a survey's `number` question names its unit), the
text writes `{name:{unit}}` and the caller passes `unit` too.
"""

from __future__ import annotations

import string
from typing import Any

from surveys.figures import format_figure
from surveys.text import LANGUAGES

#: Bump when the consent text changes in substance; the version a citizen agreed to is stored.
CONSENT_VERSION = "2026-12-v2"

MESSAGES: dict[str, dict[str, str]] = {
    "consent.body": {
        "ru": (
            "<b>Здравствуйте! Это CivicPulse — опрос жителей о качестве школ, поликлиник, "
            "больниц, социальной помощи и центров занятости.</b>\n\n"
            "Чтобы участвовать, нам нужно ваше согласие. Мы сохраним только регион, "
            "муниципалитет, возрастную группу, язык и ваши ответы — без имени и телефона, "
            "а если захотите ответить — есть ли в семье дети и где вы живёте (город, посёлок, "
            "село). "
            "Результаты публикуются только обобщённо; малые группы скрываются. "
            "Удалить свои данные можно в любой момент командой /delete_me.\n\n"
            "Подробнее: /privacy. Версия согласия: {version}."
        ),
        "en": (
            "<b>Hello! This is CivicPulse, a survey of residents about schools, clinics, "
            "hospitals, social assistance and employment centres.</b>\n\n"
            "To take part we need your consent. We store only your region, municipality, "
            "age group, language and your answers — no name, no phone number — and, if you "
            "choose to say, whether there are children in your family and whether you live "
            "in a city, a town or a village. Results are "
            "published only in aggregate; small groups are hidden. You can erase your data "
            "at any time with /delete_me.\n\n"
            "More: /privacy. Consent version: {version}."
        ),
    },
    "consent.agree": {"ru": "✅ Согласен(на)", "en": "✅ I agree"},
    "consent.decline": {"ru": "Не согласен(на)", "en": "I decline"},
    "consent.other_language": {"ru": "English", "en": "Русский"},
    "consent.declined": {
        "ru": "Понятно. Мы ничего о вас не сохранили. Если передумаете — нажмите /start.",
        "en": "Understood. We have stored nothing about you. If you change your mind, send /start.",
    },
    "language.ask": {"ru": "Выберите язык:", "en": "Choose your language:"},
    "region.ask": {
        "ru": "В каком регионе вы живёте? Выберите федеральный округ или напишите часть "
        "названия региона.",
        "en": "Which region do you live in? Choose a federal district or type part of the "
        "region's name.",
    },
    "region.pick": {"ru": "Выберите регион:", "en": "Choose your region:"},
    "region.not_found": {
        "ru": "Не нашли регион «{query}». Попробуйте иначе или выберите округ кнопкой.",
        "en": "No region matches “{query}”. Try another spelling or choose a district.",
    },
    "municipality.ask": {
        "ru": "Ваш муниципалитет (город или район)? Выберите или напишите часть названия.",
        "en": "Your municipality (city or district)? Choose one or type part of its name.",
    },
    "municipality.not_found": {
        "ru": "Не нашли «{query}». Попробуйте иначе или нажмите «Другой / не знаю».",
        "en": "Nothing matches “{query}”. Try again or press “Other / don't know”.",
    },
    "municipality.unknown": {"ru": "Другой / не знаю", "en": "Other / don't know"},
    "age.ask": {"ru": "Сколько вам лет?", "en": "How old are you?"},
    "age.band": {"ru": "{low}–{high:years}", "en": "{low}–{high:years}"},
    "age.band_open": {"ru": "{low:years} и старше", "en": "{low} and over"},
    "summary.body": {
        "ru": "<b>Проверьте данные:</b>\n{profile}",
        "en": "<b>Please check:</b>\n{profile}",
    },
    "profile.fields": {
        "ru": "Язык: {language}\nРегион: {region}\nМуниципалитет: {municipality}\n"
        "Возраст: {age}\nДети до 18 лет в семье: {children}\n"
        "Инвалидность у вас или у того, о ком вы заботитесь: {disability}\n"
        "Где вы живёте: {settlement}",
        "en": "Language: {language}\nRegion: {region}\nMunicipality: {municipality}\n"
        "Age: {age}\nChildren under 18 in the family: {children}\n"
        "A disability, yours or of someone you care for: {disability}\n"
        "Where you live: {settlement}",
    },
    "summary.confirm": {"ru": "✅ Всё верно", "en": "✅ All correct"},
    "summary.change": {"ru": "✏️ Исправить", "en": "✏️ Change"},
    "summary.groups": {
        "ru": "👪 Семья, здоровье, место жительства",
        "en": "👪 Family, health, where you live",
    },
    # The optional profile questions after the age band (surveys.profile_groups) ----------
    "groups.children.ask": {
        "ru": "Есть ли в вашей семье дети младше 18 лет?\n\n<i>Этот и следующие вопросы "
        "необязательны: они показывают, как услуги работают для семей с детьми, людей с "
        "инвалидностью и жителей сёл.</i>",
        "en": "Are there children under 18 in your family?\n\n<i>This and the next questions "
        "are optional: they show how services work for families with children, people with "
        "disabilities and people in villages.</i>",
    },
    "groups.disability_consent.body": {
        "ru": "<b>Необязательный вопрос об инвалидности</b>\n\n"
        "Следующий вопрос — есть ли инвалидность у вас или у человека, о котором вы "
        "заботитесь. Это сведения о здоровье, поэтому сначала спрашиваем отдельное согласие.\n"
        "• Зачем: чтобы увидеть, хуже ли работают услуги для людей с инвалидностью и их "
        "близких. Публикуются только обобщённые цифры, малые группы скрываются.\n"
        "• Что хранится: только ответ «да», «нет» или «не хочу отвечать» — без диагноза и "
        "подробностей. В приглашениях он никогда не упоминается.\n"
        "• Это необязательно: без согласия вы участвуете в опросах как обычно.\n"
        "• Как стереть: /profile → «Семья, здоровье, место жительства» → «Нет, не спрашивать», "
        "или /delete_me, чтобы удалить всё. Что хранится о вас: /mydata.\n\n"
        "Согласны ответить на этот вопрос?",
        "en": "<b>An optional question about disability</b>\n\n"
        "The next question asks whether you, or someone you care for, have a disability. "
        "That is health data, so we first ask for your separate consent.\n"
        "• Why: to see whether services work worse for people with disabilities and those "
        "close to them. Only aggregate figures are published; small groups are hidden.\n"
        "• What is stored: only the answer “yes”, “no” or “prefer not to say” — no diagnosis, "
        "no details. Invitations never mention it.\n"
        "• It is optional: without consent you take part in surveys as usual.\n"
        "• How to erase it: /profile → “Family, health, where you live” → “No, don't ask”, "
        "or /delete_me to erase everything. What we store about you: /mydata.\n\n"
        "Do you agree to answer this question?",
    },
    "groups.disability_consent.agree": {"ru": "Да, спросите", "en": "Yes, ask me"},
    "groups.disability_consent.decline": {
        "ru": "Нет, не спрашивать",
        "en": "No, don't ask",
    },
    "groups.disability.ask": {
        "ru": "Есть ли инвалидность у вас или у человека, о котором вы заботитесь?",
        "en": "Do you, or someone you care for, have a disability?",
    },
    "groups.settlement.ask": {
        "ru": "Где вы живёте?",
        "en": "Where do you live?",
    },
    "groups.answer.yes": {"ru": "Да", "en": "Yes"},
    "groups.answer.no": {"ru": "Нет", "en": "No"},
    "groups.answer.city": {"ru": "Город", "en": "City"},
    "groups.answer.town": {"ru": "Посёлок, пгт", "en": "Town"},
    "groups.answer.village": {"ru": "Село, деревня", "en": "Village"},
    "groups.answer.undisclosed": {"ru": "Не хочу отвечать", "en": "Prefer not to say"},
    "groups.not_given": {"ru": "не указано", "en": "not given"},
    "groups.skip_rest": {
        "ru": "⏭ Пропустить необязательные вопросы",
        "en": "⏭ Skip the optional questions",
    },
    "summary.saved": {
        "ru": "Спасибо, данные сохранены.",
        "en": "Thank you, your profile is saved.",
    },
    "actions.header": {
        "ru": "<b>Что делается: {region}</b>",
        "en": "<b>What is being done: {region}</b>",
    },
    "actions.none": {
        "ru": "Регион пока не рассказал здесь о своих мерах.",
        "en": "The region has not described its actions here yet.",
    },
    "actions.other_topic": {"ru": "Другое", "en": "Other"},
    "actions.more": {"ru": "И ещё {n:actions}.", "en": "Also {n:actions} not listed here."},
    "actions.status.planned": {"ru": "запланировано", "en": "planned"},
    "actions.status.in_progress": {"ru": "идёт работа", "en": "in progress"},
    "actions.status.done": {"ru": "сделано", "en": "done"},
    "actions.since": {"ru": "{status}, {date}", "en": "{status}, {date}"},
    "actions.link": {"ru": "подробнее", "en": "details"},
    "results.region_news": {
        "ru": "📊 Как дела в моём регионе",
        "en": "📊 How my region is doing",
    },
    "results.region_news_gone": {
        "ru": "Эта кнопка больше не действует. Результаты региона: /results.",
        "en": "This button no longer works. Your region's results: /results.",
    },
    "results.region_news_none": {
        "ru": "Результатов по вашему региону пока нет: они появятся, когда закроется опрос."
        " О мерах региона здесь тоже пока ничего нет.",
        "en": "There are no results for your region yet: they appear when the survey closes."
        " The region has not described its actions here yet either.",
    },
    "profile.needed": {
        "ru": "Сначала расскажите немного о себе: нажмите /start.",
        "en": "First tell us a little about yourself: send /start.",
    },
    "survey.none": {
        "ru": "Сейчас для вашего региона нет открытых опросов. Мы сообщим, когда появится новый.",
        "en": "There are no open surveys for your region right now. We will let you know "
        "when one opens.",
    },
    "survey.all_done": {
        "ru": "Вы прошли все открытые опросы. Спасибо!",
        "en": "You have completed every open survey. Thank you!",
    },
    "survey.choose": {"ru": "Доступные опросы:", "en": "Surveys open to you:"},
    "survey.start_button": {"ru": "▶️ {title}", "en": "▶️ {title}"},
    "survey.already_done": {
        "ru": "Вы уже прошли опрос «{title}». Спасибо!",
        "en": "You have already completed “{title}”. Thank you!",
    },
    "survey.closed": {
        "ru": "Этот опрос уже закрыт, ответы больше не принимаются.",
        "en": "This survey is closed and no longer accepts answers.",
    },
    "survey.not_for_you": {
        "ru": "Этот опрос не предназначен для вашего региона или возрастной группы.",
        "en": "This survey is not meant for your region or age group.",
    },
    "survey.thanks": {
        "ru": "<b>Спасибо! Ваши ответы сохранены.</b>\nОпрос «{title}» завершён.",
        "en": "<b>Thank you! Your answers are saved.</b>\nYou have completed “{title}”.",
    },
    "question.header": {
        "ru": "{title} · вопрос {number} · {percent}% пути",
        "en": "{title} · question {number} · {percent}% of the way",
    },
    "question.likert_hint": {
        "ru": "1 — совсем не удовлетворён(а), 5 — полностью удовлетворён(а)",
        "en": "1 — very dissatisfied, 5 — very satisfied",
    },
    "question.nps_hint": {
        "ru": "0 — точно нет, 10 — обязательно",
        "en": "0 — not at all likely, 10 — extremely likely",
    },
    "question.multi_hint": {
        "ru": "Можно выбрать несколько вариантов, затем нажмите «Готово».",
        "en": "Choose all that apply, then press “Done”.",
    },
    "question.text_hint": {
        "ru": "Напишите ответ сообщением; предел — {limit:characters}.",
        "en": "Type your answer as a message (up to {limit:characters}).",
    },
    "question.current_answer": {"ru": "Ваш ответ: {answer}", "en": "Your answer: {answer}"},
    "question.skipped": {"ru": "пропущено", "en": "skipped"},
    "question.number_hint": {
        "ru": "Напишите ответ цифрами одним сообщением. Наименьший ответ — {low:{unit}}, "
        "наибольший — {high:{unit}}.",
        "en": "Type your answer in digits as a message, from {low:{unit}} to {high:{unit}}.",
    },
    "question.dont_know": {"ru": "не помню", "en": "don't remember"},
    "button.dont_know": {"ru": "🤷 Не помню", "en": "🤷 I don't remember"},
    "button.back": {"ru": "⬅️ Назад", "en": "⬅️ Back"},
    "button.skip": {"ru": "Пропустить", "en": "Skip"},
    "button.done": {"ru": "✅ Готово", "en": "✅ Done"},
    "button.more": {"ru": "Ещё ▶️", "en": "More ▶️"},
    "button.previous_page": {"ru": "◀️ Назад", "en": "◀️ Back"},
    "button.districts": {"ru": "⬆️ К округам", "en": "⬆️ Districts"},
    "error.stale_button": {
        "ru": "Эта кнопка устарела. Ответьте на текущий вопрос.",
        "en": "This button is out of date. Please answer the current question.",
    },
    "error.invalid_answer": {"ru": "Такого ответа нет.", "en": "That is not a valid answer."},
    "error.choose_one": {
        "ru": "Выберите хотя бы один вариант.",
        "en": "Choose at least one option.",
    },
    "error.use_buttons": {
        "ru": "Пожалуйста, ответьте кнопками под вопросом.",
        "en": "Please answer with the buttons under the question.",
    },
    "error.number_expected": {
        "ru": "Ответ не принят: нужно одно целое число цифрами. Наименьший ответ — "
        "{low:{unit}}, наибольший — {high:{unit}}.",
        "en": "That answer was not accepted: please type one whole number in digits, from "
        "{low:{unit}} to {high:{unit}}.",
    },
    "error.text_expected": {
        "ru": "Пожалуйста, ответьте текстовым сообщением.",
        "en": "Please answer with a text message.",
    },
    "error.too_long": {
        "ru": "Слишком длинный ответ: {length:characters}, а предел — {limit:characters}.",
        "en": "That answer is too long: {length:characters}, the limit is {limit:characters}.",
    },
    "error.not_understood": {
        "ru": "Не понял сообщение. Команды: /survey — опросы, /profile — профиль, "
        "/privacy — о данных.",
        "en": "I did not understand that. Commands: /survey — surveys, /profile — your "
        "profile, /privacy — about your data.",
    },
    "error.private_only": {
        "ru": "Я работаю только в личных сообщениях — напишите мне напрямую.",
        "en": "I only work in private chats — please message me directly.",
    },
    "privacy.body": {
        "ru": (
            "<b>Что мы храним и зачем</b>\n"
            "• Ваш идентификатор Telegram — чтобы присылать приглашения и не считать вас "
            "дважды. Он никогда не попадает в выгрузки: там только обезличенный код.\n"
            "• Регион, муниципалитет, возрастную группу и язык — чтобы задавать подходящие "
            "вопросы и считать оценки по территориям.\n"
            "• Если вы ответили: есть ли в семье дети, где вы живёте и — только с отдельного "
            "согласия — есть ли инвалидность у вас или у того, о ком вы заботитесь, одним "
            "ответом «да/нет» — чтобы сравнивать, как услуги работают для этих групп.\n"
            "• Ваши ответы и время ответа — для расчёта оценок качества услуг.\n"
            "• Версию и время вашего согласия.\n"
            "Всё, что о вас хранится: /mydata.\n\n"
            "Мы не храним имя, телефон и переписку. Результаты публикуются только обобщённо, "
            "группы меньше установленного порога скрываются.\n\n"
            "<b>Что остаётся после удаления (/delete_me)</b>\n"
            "• У нас — ничего о вас: профиль, ответы, приглашения и диалог стираются, "
            "и файлы базы перезаписываются.\n"
            "• Итоги, опубликованные или выгруженные до удаления: в них ваши ответы уже учтены "
            "обобщённо или под обезличенным кодом, без идентификатора Telegram; отозвать их "
            "нельзя.\n"
            "• Резервные копии базы: в них ваши данные остаются, пока копии не уничтожат; "
            "срок их хранения — {retention:days}.\n"
            "• Сообщения этого чата хранит Telegram: удалите чат, чтобы стереть их у себя.\n"
            "Журнал действий хранит только идентификаторы администраторов, не участников."
        ),
        "en": (
            "<b>What we store and why</b>\n"
            "• Your Telegram id — to send invitations and not count you twice. It never "
            "appears in exports: they carry only a pseudonymous code.\n"
            "• Region, municipality, age group and language — to ask the right questions "
            "and compute scores per territory.\n"
            "• If you answered: whether there are children in your family, where you live and "
            "— only with its own consent — whether you or someone you care for has a "
            "disability, as a plain yes or no — to compare how services work for these "
            "groups.\n"
            "• Your answers and when you gave them — to compute service quality scores.\n"
            "• The version and time of your consent.\n"
            "Everything we store about you: /mydata.\n\n"
            "We do not store your name, phone number or messages. Results are published "
            "only in aggregate, and groups below a minimum size are hidden.\n\n"
            "<b>What remains after erasure (/delete_me)</b>\n"
            "• With us, nothing about you: your profile, answers, invitations and dialog are "
            "erased, and the database files are overwritten.\n"
            "• Results published or exported before the erasure: they count your answers in "
            "aggregate or under a pseudonymous code, never with your Telegram id; they cannot "
            "be recalled.\n"
            "• Backups of the database: your data stays in them for at most {retention:days}, "
            "then the backups are destroyed.\n"
            "• Telegram keeps the messages of this chat: delete the chat to remove them on "
            "your side.\n"
            "The log of actions keeps only administrators' ids, not participants'."
        ),
    },
    "mydata.body": {
        "ru": "<b>Что о вас хранится</b>\n{profile}\n\n<b>Согласия</b>\n"
        "На участие: версия {version}, {consented_at}\n"
        "На вопрос об инвалидности: {disability_consent}\n\n<b>Участие</b>\n"
        "Начатые опросы: {started:surveys}, из них завершены: {completed}\n"
        "Ответы на вопросы: {answers:answers}\nПриглашения и напоминания: "
        "{invitations:messages}\n\nИзменить: /profile. Удалить всё: /delete_me.",
        "en": "<b>What we store about you</b>\n{profile}\n\n<b>Consents</b>\n"
        "To take part: version {version}, {consented_at}\n"
        "To the disability question: {disability_consent}\n\n<b>Taking part</b>\n"
        "Surveys started: {started:surveys}, of them completed: {completed}\n"
        "Answers to questions: {answers:answers}\nInvitations and reminders: "
        "{invitations:messages}\n\nChange it: /profile. Erase it all: /delete_me.",
    },
    "mydata.no_consent": {"ru": "не давали", "en": "not given"},
    "mydata.nothing": {
        "ru": "О вас ничего не хранится. /start — начать.",
        "en": "We store nothing about you. /start to begin.",
    },
    "delete.confirm": {
        "ru": "Удалить ваш профиль и все ответы без возможности восстановления?",
        "en": "Erase your profile and all your answers? This cannot be undone.",
    },
    "delete.yes": {"ru": "🗑 Да, удалить", "en": "🗑 Yes, erase"},
    "delete.no": {"ru": "Отмена", "en": "Cancel"},
    "delete.done": {
        "ru": "Ваши данные удалены. Спасибо, что участвовали. /start — начать заново.",
        "en": "Your data has been erased. Thank you for taking part. /start to begin again.",
    },
    "delete.nothing": {
        "ru": "О вас ничего не хранится.",
        "en": "We store nothing about you.",
    },
    "delete.cancelled": {"ru": "Ничего не удалено.", "en": "Nothing was erased."},
    "throttle.notice": {
        "ru": "Слишком много сообщений подряд. Подождите несколько секунд — пока я их пропускаю.",
        "en": "Too many messages in a row. Please wait a few seconds — until then I skip them.",
    },
    # Invitations and reminders (sent by the broadcaster) ---------------------------------
    "invite.body": {
        "ru": "<b>{title}</b>\n\n{why}\n\nОпрос открыт до {until}. Нажмите кнопку, чтобы начать.",
        "en": "<b>{title}</b>\n\n{why}\n\nThe survey is open until {until}. Press the button "
        "to start.",
    },
    "invite.why": {
        "ru": "Приглашаем вас ответить на несколько вопросов о работе государственных услуг. "
        "Ответы анонимны и помогут решить, что исправлять в первую очередь.",
        "en": "We invite you to answer a few questions on how public services work. Your "
        "answers are anonymous and will help decide what to fix first.",
    },
    "invite.start": {"ru": "▶️ Пройти опрос", "en": "▶️ Take the survey"},
    "remind.body": {
        "ru": "<b>Напоминание: «{title}»</b>\n\nВы ещё не завершили этот опрос. Он открыт до "
        "{until} — уделите ему несколько минут, ваше мнение важно.",
        "en": "<b>Reminder: “{title}”</b>\n\nYou have not finished this survey yet. It is open "
        "until {until} — a few minutes of your time make a difference.",
    },
    "remind.start": {"ru": "▶️ Продолжить опрос", "en": "▶️ Continue the survey"},
    # Administration ----------------------------------------------------------------------
    "admin.menu": {
        "ru": "<b>Администрирование CivicPulse</b>\n{access}\nВыберите действие. Команды: "
        "/waves — волны, /stats — показатели волны, /report и /export — результаты.",
        "en": "<b>CivicPulse administration</b>\n{access}\nChoose an action. Commands: "
        "/waves — waves, /stats — a wave's figures, /report and /export — results.",
    },
    "admin.access.federal": {
        "ru": "Ваш доступ: федеральный, все регионы.",
        "en": "Your access: federal, every region.",
    },
    "admin.access.regional": {
        "ru": "Ваш доступ: региональная команда; регионы: {regions}.",
        "en": "Your access: regional team; regions: {regions}.",
    },
    "admin.access.analyst": {
        "ru": "Ваш доступ: аналитик, только просмотр; регионы: {regions}.",
        "en": "Your access: analyst, read only; regions: {regions}.",
    },
    "admin.forbidden": {
        "ru": "Это вне вашего доступа.",
        "en": "That is outside your access.",
    },
    "admin.new_wave": {"ru": "➕ Новая волна", "en": "➕ New wave"},
    "admin.list_waves": {"ru": "📋 Волны", "en": "📋 Waves"},
    "admin.no_waves": {
        "ru": "Волн пока нет. Создать: /admin.",
        "en": "No waves yet. Create one: /admin.",
    },
    "admin.no_waves_to_read": {
        "ru": "Волн в ваших регионах пока нет.",
        "en": "No waves in your regions yet.",
    },
    "admin.waves_header": {"ru": "<b>Волны</b>", "en": "<b>Waves</b>"},
    "admin.wave_line": {
        "ru": "<b>#{wave}</b> · {survey} · {state}\n{start} – {end}\nприглашено {invited}, "
        "доставлено {delivered}, начали {started}, завершили {completed}",
        "en": "<b>#{wave}</b> · {survey} · {state}\n{start} – {end}\ninvited {invited}, "
        "delivered {delivered}, started {started}, completed {completed}",
    },
    "admin.wave_segments": {"ru": "Для групп: {segments}", "en": "For groups: {segments}"},
    "segment.families_with_children": {"ru": "семьи с детьми", "en": "families with children"},
    "segment.elderly": {"ru": "старшие, 65+", "en": "the elderly, 65+"},
    "segment.disability": {"ru": "люди с инвалидностью", "en": "people with disabilities"},
    "segment.village": {"ru": "жители сёл", "en": "village residents"},
    "admin.state.scheduled": {"ru": "запланирована", "en": "scheduled"},
    "admin.state.open": {"ru": "открыта", "en": "open"},
    "admin.state.closed": {"ru": "закрыта", "en": "closed"},
    "admin.state.cancelled": {"ru": "отменена", "en": "cancelled"},
    "admin.stats_button": {"ru": "📊 Статистика #{wave}", "en": "📊 Figures #{wave}"},
    "admin.cancel_button": {"ru": "✖ Отменить #{wave}", "en": "✖ Cancel #{wave}"},
    "admin.pick_wave": {"ru": "Выберите волну:", "en": "Choose a wave:"},
    "admin.unknown_wave": {"ru": "Волны #{wave} нет.", "en": "There is no wave #{wave}."},
    "admin.stats": {
        "ru": "<b>Волна #{wave} · {survey}</b> ({state})\n{start} – {end}\n"
        "Приглашено: {invited}\nДоставлено: {delivered}\nЗаблокировали бота: {blocked}\n"
        "Ошибки отправки: {failed}\nВ очереди: {waiting}\nНапоминаний доставлено: {reminded}\n"
        "Начали: {started}\nЗавершили: {completed}\nДоля завершивших: {rate}",
        "en": "<b>Wave #{wave} · {survey}</b> ({state})\n{start} – {end}\n"
        "Invited: {invited}\nDelivered: {delivered}\nBlocked the bot: {blocked}\n"
        "Send failures: {failed}\nWaiting to be sent: {waiting}\nReminders delivered: "
        "{reminded}\nStarted: {started}\nCompleted: {completed}\nCompletion rate: {rate}",
    },
    "admin.stats_regions": {
        "ru": "По регионам (приглашено / доставлено / заблокировали / начали / завершили, доля):",
        "en": "By region (invited / delivered / blocked / started / completed, rate):",
    },
    "admin.stats_region": {
        "ru": "{region} {name}: {invited} / {delivered} / {blocked} / {started} / "
        "{completed}, {rate}",
        "en": "{region} {name}: {invited} / {delivered} / {blocked} / {started} / "
        "{completed}, {rate}",
    },
    "admin.stats_more": {"ru": "…и ещё {count:regions}", "en": "…plus {count:regions}"},
    "admin.no_rate": {"ru": "—", "en": "—"},
    "admin.cancel_confirm": {
        "ru": "Отменить волну #{wave} ({survey})? Приглашения перестанут отправляться, "
        "ответы больше не будут приниматься.",
        "en": "Cancel wave #{wave} ({survey})? No more invitations will be sent and no more "
        "answers accepted.",
    },
    "admin.cancel_yes": {"ru": "Да, отменить", "en": "Yes, cancel it"},
    "admin.cancel_no": {"ru": "Нет", "en": "No"},
    "admin.cancelled": {"ru": "Волна #{wave} отменена.", "en": "Wave #{wave} is cancelled."},
    "admin.cancel_kept": {
        "ru": "Волна #{wave} не отменена.",
        "en": "Wave #{wave} was not cancelled.",
    },
    "admin.cannot_cancel": {
        "ru": "Волну #{wave} уже нельзя отменить: она {state}.",
        "en": "Wave #{wave} can no longer be cancelled: it is {state}.",
    },
    "admin.actions": {"ru": "📝 Действия регионов", "en": "📝 Regions' actions"},
    "staff_actions.header": {
        "ru": "<b>Действия ваших регионов</b> — стр. {page} из {pages}",
        "en": "<b>Your regions' actions</b> — page {page} of {pages}",
    },
    "staff_actions.none": {
        "ru": "Действий пока нет: добавьте первое.",
        "en": "No actions yet: add the first.",
    },
    "staff_actions.line": {
        "ru": "<b>#{id}</b> {place}: {title} — {status}",
        "en": "<b>#{id}</b> {place}: {title} — {status}",
    },
    "staff_actions.add": {"ru": "➕ Добавить действие", "en": "➕ Add an action"},
    "staff_actions.open": {"ru": "✏️ #{id}", "en": "✏️ #{id}"},
    "staff_actions.previous": {"ru": "◀ Назад", "en": "◀ Back"},
    "staff_actions.next": {"ru": "Дальше ▶", "en": "Next ▶"},
    "staff_actions.summary": {
        "ru": "Регион: {region}\nМуниципалитет: {municipality}\nТема: {topic}\n"
        "Название: {title}\nОписание: {description}\nСтатус: {status}\nСсылка: {link}",
        "en": "Region: {region}\nMunicipality: {municipality}\nTopic: {topic}\n"
        "Title: {title}\nDescription: {description}\nStatus: {status}\nLink: {link}",
    },
    "staff_actions.card": {
        "ru": "<b>Действие #{id}</b>\n{summary}",
        "en": "<b>Action #{id}</b>\n{summary}",
    },
    "staff_actions.whole_region": {"ru": "весь регион", "en": "the whole region"},
    "staff_actions.nothing": {"ru": "—", "en": "—"},
    "staff_actions.set_status": {"ru": "→ {status}", "en": "→ {status}"},
    "staff_actions.status_set": {
        "ru": "Статус действия #{id}: {status}.",
        "en": "Action #{id} is now: {status}.",
    },
    "staff_actions.remove": {"ru": "🗑 Удалить", "en": "🗑 Remove"},
    "staff_actions.remove_confirm": {
        "ru": "Удалить действие #{id} «{title}»? Жители перестанут его видеть.",
        "en": "Remove action #{id} “{title}”? Citizens will no longer see it.",
    },
    "staff_actions.remove_yes": {"ru": "Да, удалить", "en": "Yes, remove it"},
    "staff_actions.remove_no": {"ru": "Нет", "en": "No"},
    "staff_actions.removed": {"ru": "Действие #{id} удалено.", "en": "Action #{id} is removed."},
    "staff_actions.kept": {"ru": "Действие #{id} оставлено.", "en": "Action #{id} is kept."},
    "staff_actions.unknown": {"ru": "Действия #{id} нет.", "en": "There is no action #{id}."},
    "staff_actions.ask_region": {
        "ru": "Для какого региона действие? Выберите или введите код региона.",
        "en": "Which region is the action for? Choose one or type its code.",
    },
    "staff_actions.unknown_region": {
        "ru": "Региона с кодом {code} нет.",
        "en": "There is no region with the code {code}.",
    },
    "staff_actions.ask_municipality": {
        "ru": "Действие для всего региона или для одного муниципалитета? Введите название "
        "или код ОКТМО муниципалитета либо нажмите «Весь регион».",
        "en": "Is the action for the whole region or one municipality? Type the "
        "municipality's name or OKTMO code, or press “Whole region”.",
    },
    "staff_actions.whole_region_button": {"ru": "Весь регион", "en": "Whole region"},
    "staff_actions.no_municipality": {
        "ru": "В регионе нет такого муниципалитета. Попробуйте иначе.",
        "en": "The region has no such municipality. Try another spelling.",
    },
    "staff_actions.ask_topic": {
        "ru": "Какой теме опроса посвящено действие?",
        "en": "Which survey topic does the action address?",
    },
    "staff_actions.no_topic": {"ru": "Без темы", "en": "No topic"},
    "staff_actions.ask_title": {
        "ru": "Название действия, по-русски (предел — {limit:characters}):",
        "en": "The action's title, in Russian (the limit is {limit:characters}):",
    },
    "staff_actions.ask_description": {
        "ru": "Короткое описание (предел — {limit:characters}) или «Пропустить»:",
        "en": "A short description (the limit is {limit:characters}), or “Skip”:",
    },
    "staff_actions.skip": {"ru": "Пропустить", "en": "Skip"},
    "staff_actions.ask_status": {"ru": "Что с ним сейчас?", "en": "Where does it stand?"},
    "staff_actions.ask_link": {
        "ru": "Ссылка на страницу о нём (https://…) или «Пропустить»:",
        "en": "A link to a page about it (https://…), or “Skip”:",
    },
    "staff_actions.confirm": {
        "ru": "<b>Проверьте действие</b>\n{summary}",
        "en": "<b>Check the action</b>\n{summary}",
    },
    "staff_actions.save": {"ru": "✅ Сохранить", "en": "✅ Save"},
    "staff_actions.saved": {"ru": "Действие #{id} сохранено.", "en": "Action #{id} is saved."},
    "staff_actions.aborted": {"ru": "Действие не сохранено.", "en": "The action is not saved."},
    "action_error.empty": {
        "ru": "пусто: напишите, что делается.",
        "en": "it is empty: write what is being done.",
    },
    "action_error.control": {
        "ru": "в тексте есть служебные символы: наберите его обычным текстом.",
        "en": "the text contains control characters: type it as plain text.",
    },
    "action_error.too_long": {
        "ru": "слишком длинно: предел — {limit:characters}, сократите на {over:characters}.",
        "en": "too long: the limit is {limit:characters}; shorten it by {over:characters}.",
    },
    "action_error.status": {"ru": "такого статуса нет.", "en": "there is no such status."},
    "action_error.link_too_long": {
        "ru": "ссылка слишком длинная: предел — {limit:characters}.",
        "en": "the link is too long: the limit is {limit:characters}.",
    },
    "action_error.link": {
        "ru": "ссылка должна начинаться с https:// и вести на сайт.",
        "en": "the link must start with https:// and lead to a site.",
    },
    "action_error.link_spaces": {
        "ru": "в ссылке не должно быть пробелов.",
        "en": "the link must not contain spaces.",
    },
    "action_error.date": {
        "ru": "дату напишите так: ГГГГ-ММ-ДД.",
        "en": "write the date as YYYY-MM-DD.",
    },
    "staff_actions.refused": {
        "ru": "Не сохранено: {reason}",
        "en": "Not saved: {reason}",
    },
    "wizard.survey": {
        "ru": "<b>Новая волна</b> · шаг 1 из 6\nКакой опрос проводим?",
        "en": "<b>New wave</b> · step 1 of 6\nWhich survey?",
    },
    "wizard.scope": {
        "ru": "Шаг 2 из 6. Кого опрашиваем?",
        "en": "Step 2 of 6. Whom do we ask?",
    },
    "wizard.scope_all": {"ru": "Все регионы", "en": "All regions"},
    "wizard.scope_district": {"ru": "Федеральный округ", "en": "A federal district"},
    "wizard.scope_pick": {"ru": "Выбрать регионы", "en": "Chosen regions"},
    "wizard.scope_mine": {"ru": "Все мои регионы", "en": "All my regions"},
    "wizard.regions_yours": {"ru": "Ваши регионы: {regions}.", "en": "Your regions: {regions}."},
    "wizard.outside_access": {
        "ru": "Эти регионы вне вашего доступа: {codes}. Ваши регионы: {regions}.",
        "en": "These regions are outside your access: {codes}. Your regions: {regions}.",
    },
    "wizard.district": {"ru": "Выберите федеральный округ:", "en": "Choose a federal district:"},
    "wizard.regions_ask": {
        "ru": "Напишите коды регионов (ОКАТО/ОКТМО) через запятую, например: 49, 65, 05.",
        "en": "Type the region codes (OKATO/OKTMO) separated by commas, e.g. 49, 65, 05.",
    },
    "wizard.tracks": {
        "ru": "Шаг 3 из 6. Какие треки?",
        "en": "Step 3 of 6. Which tracks?",
    },
    "wizard.tracks.all": {"ru": "Все", "en": "All"},
    "wizard.tracks.youth": {"ru": "Молодёжный", "en": "Youth"},
    "wizard.tracks.general": {"ru": "Общий", "en": "General"},
    "wizard.start": {
        "ru": "Шаг 4 из 6. Когда начать? Нажмите «Сейчас» или напишите время ({zone}): "
        "2026-12-01 09:00, +2h, +30m.",
        "en": "Step 4 of 6. When does it start? Press “Now” or type a time ({zone}): "
        "2026-12-01 09:00, +2h, +30m.",
    },
    "wizard.now": {"ru": "Сейчас", "en": "Now"},
    "wizard.end": {
        "ru": "Шаг 5 из 6. Когда закончить? Выберите или напишите время ({zone}): "
        "2026-12-15 18:00, +14d.",
        "en": "Step 5 of 6. When does it end? Choose or type a time ({zone}): "
        "2026-12-15 18:00, +14d.",
    },
    "wizard.in_days": {"ru": "+{days:days}", "en": "+{days:days}"},
    "wizard.remind": {
        "ru": "Шаг 6 из 6. Напомнить тем, кто не завершил опрос?",
        "en": "Step 6 of 6. Remind those who have not completed it?",
    },
    "wizard.remind_none": {"ru": "Не напоминать", "en": "No reminder"},
    "wizard.remind_after": {"ru": "Через {hours} ч", "en": "After {hours} h"},
    "wizard.confirm": {
        "ru": "<b>Проверьте волну</b>\nОпрос: {survey}\nРегионы: {regions}\nТреки: {tracks}\n"
        "Начало: {start}\nКонец: {end}\nНапоминание: {remind}\n\nСоздать?",
        "en": "<b>Please check the wave</b>\nSurvey: {survey}\nRegions: {regions}\n"
        "Tracks: {tracks}\nStart: {start}\nEnd: {end}\nReminder: {remind}\n\nCreate it?",
    },
    "wizard.all_regions": {"ru": "все", "en": "all"},
    "wizard.create": {"ru": "✅ Создать", "en": "✅ Create"},
    "wizard.abort": {"ru": "✖ Отмена", "en": "✖ Cancel"},
    "wizard.created": {
        "ru": "Волна #{wave} создана, начало {start}. Ход рассылки покажу здесь.",
        "en": "Wave #{wave} is created and starts {start}. I will show the sending here.",
    },
    "wizard.refused": {
        "ru": "Не получилось: {reason}",
        "en": "That did not work: {reason}",
    },
    "wizard.aborted": {"ru": "Создание волны отменено.", "en": "Wave creation cancelled."},
    "wizard.expired": {
        "ru": "Этот шаг устарел. Начните заново: /admin.",
        "en": "This step is out of date. Start again: /admin.",
    },
    "progress.body": {
        "ru": "<b>Волна #{wave}: рассылка приглашений</b>\nОтправлено: {sent} / {total}\n"
        "Скорость: {rate} в секунду\nЗаблокировали бота: {blocked}, ошибки: {failed}\n"
        "Осталось примерно: {left}",
        "en": "<b>Wave #{wave}: sending invitations</b>\nSent: {sent} / {total}\n"
        "Rate: {rate} per second\nBlocked the bot: {blocked}, failures: {failed}\n"
        "Time left: about {left}",
    },
    "progress.done": {
        "ru": "<b>Волна #{wave}: приглашения разосланы</b>\nДоставлено: {delivered} из {total}\n"
        "Заблокировали бота: {blocked}, ошибки: {failed}",
        "en": "<b>Wave #{wave}: invitations sent</b>\nDelivered: {delivered} of {total}\n"
        "Blocked the bot: {blocked}, failures: {failed}",
    },
    "progress.stopped": {
        "ru": "<b>Волна #{wave}: рассылка остановлена</b> — волна {state}.\n"
        "Доставлено: {delivered} из {total}",
        "en": "<b>Wave #{wave}: sending stopped</b> — the wave is {state}.\n"
        "Delivered: {delivered} of {total}",
    },
    "duration": {"ru": "{minutes} мин {seconds} с", "en": "{minutes} min {seconds} s"},
    "results.pick_wave": {
        "ru": "Результаты какой волны нужны?",
        "en": "Which wave's results do you need?",
    },
    "results.wave_button": {"ru": "#{wave} · {survey}", "en": "#{wave} · {survey}"},
    "results.preparing": {
        "ru": "Готовлю результаты волны #{wave}…",
        "en": "Preparing the results of wave #{wave}…",
    },
    "results.ratings_caption": {
        "ru": "Рейтинг регионов, волна #{wave} (для Excel: UTF-8, «;»)",
        "en": "Regional ratings, wave #{wave} (Excel-ready: UTF-8, “;”)",
    },
    "results.answers_caption": {
        "ru": "Ответы волны #{wave}, обезличенные ({rows:rows})",
        "en": "Answers of wave #{wave}, pseudonymised ({rows:rows})",
    },
    "results.answers_on_server": {
        "ru": "Файл ответов — это микроданные, и в чат он не отправляется: выгрузите его на "
        "сервере командой <code>civicpulse export answers --wave {wave} -o answers.csv</code>.",
        "en": "The answers file is microdata and is not sent to a chat: export it on the server "
        "with <code>civicpulse export answers --wave {wave} -o answers.csv</code>.",
    },
    "results.answers_no_shared_key": {
        "ru": "Файл ответов не выгружен: на PostgreSQL нужен ключ псевдонимов PSEUDONYM_KEY, "
        "один на всех серверах. Задайте его в настройках или выгрузите файл на сервере: "
        "<code>civicpulse export answers --wave {wave}</code>.",
        "en": "The answers file was not exported: on PostgreSQL the pseudonym key "
        "PSEUDONYM_KEY must be set, the same on every server. Set it, or export the file on "
        "the server: <code>civicpulse export answers --wave {wave}</code>.",
    },
    "results.answers_not_granted": {
        "ru": "Файл ответов — это микроданные, и в ваш доступ он не входит.",
        "en": "The answers file is microdata and is not part of your access.",
    },
    "results.answers_too_big": {
        "ru": "Файл ответов ({size} МБ) больше лимита Telegram. Выгрузите его командой "
        "<code>civicpulse export answers --wave {wave}</code> на сервере.",
        "en": "The answers file ({size} MB) exceeds Telegram's limit. Export it on the server "
        "with <code>civicpulse export answers --wave {wave}</code>.",
    },
    "results.chart_caption": {
        "ru": "Индекс удовлетворённости по регионам, волна #{wave}",
        "en": "Satisfaction index by region, wave #{wave}",
    },
    "results.map_caption": {
        "ru": "Карта индекса по регионам, волна #{wave}",
        "en": "Map of the index by region, wave #{wave}",
    },
    "results.map_unavailable": {
        "ru": "Карты нет: рядом с каталогом регионов (REGIONS_FILE) не лежит файл "
        "region_tiles.yaml с раскладкой плиток.",
        "en": "No map: there is no tile layout (region_tiles.yaml) beside the region catalog "
        "(REGIONS_FILE).",
    },
    "results.too_few": {
        "ru": "У волны #{wave} пока {answers:answers}. Результаты показываются только по "
        "группам (регион, молодёжь региона), где ответов не меньше порога — {minimum:answers}: "
        "так никого нельзя узнать по ответам. Диаграмма и карта появятся, когда хотя бы один "
        "регион достигнет порога.",
        "en": "Wave #{wave} has {answers:answers} so far. Results are shown only for groups (a "
        "region, a region's young people) with at least {minimum:answers}, so that no one can "
        "be recognised by their answers. The chart and the map will appear once a region has "
        "that many.",
    },
    "results.none_closed": {
        "ru": "Результаты появятся, когда закроется опрос, в котором вы участвовали.",
        "en": "Results appear once a survey you took part in has closed.",
    },
    "results.header": {
        "ru": "<b>{survey}: как ответил ваш регион — {region}</b>\n"
        "Оценки от 0 до 100; в скобках — по всем участникам опроса.",
        "en": "<b>{survey}: how your region answered — {region}</b>\n"
        "Scores from 0 to 100; in brackets, all participants of the survey.",
    },
    "number.decimal_mark": {"ru": ",", "en": "."},
    "results.overall": {"ru": "Общий индекс", "en": "Overall index"},
    "results.line": {
        "ru": "{topic}: <b>{region}</b> ({wave})",
        "en": "{topic}: <b>{region}</b> ({wave})",
    },
    "results.with_change": {"ru": "{line} — {change}", "en": "{line} — {change}"},
    "results.change_better": {
        "ru": "лучше, чем в прошлый раз: {change}",
        "en": "better than last time: {change}",
    },
    "results.change_worse": {
        "ru": "хуже, чем в прошлый раз: {change}",
        "en": "worse than last time: {change}",
    },
    "results.change_unclear": {
        "ru": "без явных изменений с прошлого раза",
        "en": "no clear change since last time",
    },
    "results.rank": {
        "ru": "Место региона: {rank} из {total}.",
        "en": "Your region ranks {rank} of {total}.",
    },
    "results.hidden": {
        "ru": "Ответов из вашего региона пока слишком мало, чтобы показать оценки: "
        "так мы защищаем анонимность участников.",
        "en": "Too few people from your region answered to show scores: this protects "
        "participants' anonymity.",
    },
    # /report WAVE REGION: a region through a survey's closed waves -----------------------
    "report.series_header": {
        "ru": "<b>{region}: как менялись оценки</b>\nОпрос «{survey}», в сравнении — "
        "{waves:waves}. Оценки от 0 до 100, в скобках — 95-процентный интервал.",
        "en": "<b>{region}: how the scores moved</b>\n“{survey}”, {waves:waves} compared. "
        "Scores from 0 to 100, the 95% interval in brackets.",
    },
    "report.series_point": {
        "ru": "#{wave} · {date}: <b>{score}</b> ({low}–{high}), {respondents:respondents}",
        "en": "#{wave} · {date}: <b>{score}</b> ({low}–{high}), {respondents:respondents}",
    },
    "report.series_point_bare": {
        "ru": "#{wave} · {date}: <b>{score}</b>, {respondents:respondents}",
        "en": "#{wave} · {date}: <b>{score}</b>, {respondents:respondents}",
    },
    "report.series_hidden": {
        "ru": "#{wave} · {date}: слишком мало ответов",
        "en": "#{wave} · {date}: too few answers",
    },
    "report.series_change": {
        "ru": "Последняя волна — {change}",
        "en": "Latest wave — {change}",
    },
    "report.series_usage": {
        "ru": "Напишите номер волны и код региона, например: <code>/report 7 49</code>.",
        "en": "Give a wave number and a region code, for example: <code>/report 7 49</code>.",
    },
    "report.unknown_region": {
        "ru": "Региона с кодом «{code}» нет в каталоге.",
        "en": "There is no region with the code “{code}” in the catalog.",
    },
    "report.wave_not_closed": {
        "ru": "Волна #{wave} ещё не закрыта: по волнам сравниваются только закрытые.",
        "en": "Wave #{wave} is not closed yet: only closed waves are compared.",
    },
    "report.no_series": {
        "ru": "Сравнивать не с чем: до волны #{wave} у опроса нет другой закрытой волны с "
        "теми же вопросами.",
        "en": "Nothing to compare with: up to wave #{wave}, the survey has no other closed "
        "wave with the same questions.",
    },
    "report.region_without_answers": {
        "ru": "Из региона «{region}» в этих волнах ответов нет.",
        "en": "Nobody from {region} answered in these waves.",
    },
    "report.wave_header": {
        "ru": "<b>{region}: жизненные ситуации и группы, волна #{wave}</b>\n"
        "Оценки от 0 до 100, в скобках — 95-процентный интервал; у медианы в скобках — "
        "квартили (середина ответов).",
        "en": "<b>{region}: life situations and groups, wave #{wave}</b>\n"
        "Scores from 0 to 100, the 95% interval in brackets; after a median, the quartiles "
        "(the middle half of the answers).",
    },
    "report.situations": {"ru": "<b>Жизненные ситуации</b>", "en": "<b>Life situations</b>"},
    "report.situation_score": {
        "ru": "Оценка — <b>{score}</b>{interval}, {respondents:respondents}",
        "en": "Score: <b>{score}</b>{interval}, {respondents:respondents}",
    },
    "report.situation_needed": {
        "ru": "Получили то, за чем обращались, — {share}%{interval}",
        "en": "Got what they needed: {share}%{interval}",
    },
    "report.situation_median": {
        "ru": "Медиана — {median} {unit}{interval}",
        "en": "Median: {median} {unit}{interval}",
    },
    "report.groups": {
        "ru": "<b>Группы</b> — общий индекс группы против остальных жителей региона",
        "en": "<b>Groups</b>: the group's overall index against the rest of the region's",
    },
    "report.group_gap": {
        "ru": "{group}: <b>{score}</b> против {rest} у остальных, разница {gap}{interval} — "
        "{verdict}",
        "en": "{group}: <b>{score}</b> against {rest} for the rest, a gap of {gap}{interval}: "
        "{verdict}",
    },
    "report.gap_worse_off": {"ru": "хуже остальных", "en": "worse off than the rest"},
    "report.gap_better_off": {"ru": "лучше остальных", "en": "better off than the rest"},
    "report.gap_no_clear_gap": {"ru": "без явной разницы", "en": "no clear gap"},
    "report.too_few": {
        "ru": "{name}: слишком мало ответов",
        "en": "{name}: too few answers",
    },
    "results.situation": {
        "ru": "Люди в вашей ситуации («{situation}») в вашем регионе оценили её на "
        "<b>{score}</b> из 100.",
        "en": "People in your situation (“{situation}”) in your region rated it "
        "<b>{score}</b> out of 100.",
    },
}


#: Units a count is shown with: Russian has three plural forms (1 день, 2 дня, 5 дней;
#: 11-14 take the third), English two.
UNITS: dict[str, dict[str, tuple[str, ...]]] = {
    "days": {"ru": ("день", "дня", "дней"), "en": ("day", "days")},
    "actions": {"ru": ("мера", "меры", "мер"), "en": ("action", "actions")},
    "years": {"ru": ("год", "года", "лет"), "en": ("year", "years")},
    "characters": {"ru": ("символ", "символа", "символов"), "en": ("character", "characters")},
    "rows": {"ru": ("строка", "строки", "строк"), "en": ("row", "rows")},
    "regions": {"ru": ("регион", "региона", "регионов"), "en": ("region", "regions")},
    "answers": {"ru": ("ответ", "ответа", "ответов"), "en": ("answer", "answers")},
    "waves": {"ru": ("волна", "волны", "волн"), "en": ("wave", "waves")},
    "surveys": {"ru": ("опрос", "опроса", "опросов"), "en": ("survey", "surveys")},
    "messages": {"ru": ("сообщение", "сообщения", "сообщений"), "en": ("message", "messages")},
    "respondents": {
        "ru": ("участник", "участника", "участников"),
        "en": ("respondent", "respondents"),
    },
    # The units of a survey's `number` questions (surveys.model.NUMBER_UNITS).
    "weeks": {"ru": ("неделя", "недели", "недель"), "en": ("week", "weeks")},
    "months": {"ru": ("месяц", "месяца", "месяцев"), "en": ("month", "months")},
    "visits": {"ru": ("посещение", "посещения", "посещений"), "en": ("visit", "visits")},
    "documents": {"ru": ("документ", "документа", "документов"), "en": ("document", "documents")},
    "times": {"ru": ("раз", "раза", "раз"), "en": ("time", "times")},
}


def count(number: int, unit: str, language: str) -> str:
    """`number` with its unit in the plural form the language asks for: "21 день"."""
    return f"{number} {unit_noun(number, unit, language)}"


def unit_noun(number: float, unit: str, language: str) -> str:
    """The unit's form that `number` asks for. A fraction (a median of 4.5) takes the form
    of 2 in Russian ("4,5 месяца") and the plural in English ("4.5 months")."""
    forms = UNITS[unit].get(language) or UNITS[unit]["ru"]
    if number != int(number):
        return forms[1]
    whole = int(number)
    if len(forms) == 2:
        return forms[0] if whole == 1 else forms[1]
    tens, ones = whole % 100, whole % 10
    if ones == 1 and tens != 11:
        return forms[0]
    if 2 <= ones <= 4 and not 12 <= tens <= 14:
        return forms[1]
    return forms[2]


class _CountFormatter(string.Formatter):
    """`str.format`, where a field's format spec naming a unit writes the count with it."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self._language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in UNITS:
            return count(value, format_spec, self._language)
        return str(super().format_field(value, format_spec))


_FORMATTERS = {language: _CountFormatter(language) for language in LANGUAGES}


def translate(key: str, language: str, /, **values: Any) -> str:
    """Look up a message; an unknown language falls back to Russian, the default locale."""
    entry = MESSAGES[key]
    language = language if language in entry else "ru"
    text = entry[language]
    if not values:
        return text
    if key in _COUNTED:  # the slower formatter only where a text counts something
        return _FORMATTERS[language].format(text, **values)
    return text.format(**values)


def age_band_label(band: str, texts: Texts) -> str:
    """ "18–24 года", "65 лет и старше": the noun agrees with the band's last number."""
    if band.endswith("+"):
        return texts("age.band_open", low=int(band[:-1]))
    low, high = band.split("-")
    return texts("age.band", low=int(low), high=int(high))


class Texts:
    """The catalog bound to one reader's language, handed to handlers per update."""

    __slots__ = ("language",)

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "ru"

    def __call__(self, key: str, /, **values: Any) -> str:
        return translate(key, self.language, **values)

    def figure(self, value: float, digits: int = 1) -> str:
        """A published figure as the files round it, with this language's decimal mark:
        "72,3" in Russian, as the Excel file writes it."""
        return format_figure(value, digits, decimal=self("number.decimal_mark"))


#: Keys whose texts count something (`{name:unit}`), in either language.
_COUNTED = frozenset(
    key
    for key, entry in MESSAGES.items()
    if any(f":{unit}}}" in text for text in entry.values() for unit in (*UNITS, "{unit}"))
)
