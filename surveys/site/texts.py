"""Every word the site shows, in Russian and English.

The site is read by people who never saw the bot: the wording explains rather than
abbreviates, and each code in the files (a verdict, a group, a status) has its words here.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("ru", "en")
#: The decimal mark a reader of each language expects (72,3 in Russian, 72.3 in English).
DECIMAL_MARK: Mapping[str, str] = {"ru": ",", "en": "."}

TEXTS: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "site": "Итоги опроса",
        "too_few": "слишком мало ответов",
        "not_comparable": "не сравнимо",
        "wave": "Волна {wave}: {start} — {end}",
        "respondents": "Ответили",
        "region": "Регион",
        "municipality": "Муниципалитет",
        "score": "Балл (0–100)",
        "interval": "95% интервал",
        "share": "Доля довольных",
        "rank": "Место (95% интервал)",
        "group": "Группа",
        "change": "Изменение",
        "before": "Прошлая волна",
        "now": "Эта волна",
        "verdict": "Вывод",
        "topic": "Тема",
        "track": "Кто отвечал",
        "segment": "Группа населения",
        "rest": "Остальные",
        "gap": "Разница",
        "situation": "Жизненная ситуация",
        "measure": "Показатель",
        "value": "Значение",
        "quartiles": "Интервал или квартили",
        "map_heading": "Карта регионов",
        "map_alt": "Карта: регионы квадратами, цвет — общий балл волны {wave}; "
        "штриховка — данные скрыты. Те же цифры — в таблице ниже.",
        "map_score": "По баллу этой волны",
        "map_change": "По изменению с волны {against}",
        "change_map_alt": "Карта: регионы квадратами, цвет — изменение общего балла с волны "
        "{against} до волны {wave}, от −20 (оранжевый, хуже) через 0 (белый) до +20 "
        "(фиолетовый, лучше); стрелка вверх — стало лучше, вниз — стало хуже; штриховка — "
        "нет сравнимых данных. Те же цифры — в столбцах «Изменение» и «Вывод» таблицы ниже.",
        "table_heading": "Регионы",
        "table_note": "Нажмите на заголовок столбца, чтобы отсортировать таблицу.",
        "topics": "Темы",
        "change_heading": "Изменение с волны {wave}",
        "municipalities": "Муниципалитеты",
        "groups": "Группы населения",
        "situations": "Жизненные ситуации",
        "actions": "Что делает регион",
        "no_actions": "Регион пока не сообщил о своих действиях.",
        "since": "с {date}",
        "more": "Подробнее",
        "how": "Как читать эти цифры",
        "data": "Открытые данные",
        "data_note": "Все цифры сайта взяты из этих файлов (UTF-8, разделитель «,», "
        "десятичная точка). Ответы отдельных людей не публикуются.",
        "rows": "строк: {rows}",
        "home": "Все регионы",
        "other_language": "English",
        "all": "все",
        "youth": "молодёжь",
        "general": "старшие",
        "overall": "Общий балл",
        "index": "Сводный индекс",
        "above_average": "выше среднего",
        "average": "около среднего",
        "below_average": "ниже среднего",
        "improved": "стало лучше",
        "declined": "стало хуже",
        "no_clear_change": "явного изменения нет",
        "worse_off": "хуже остальных",
        "better_off": "лучше остальных",
        "no_clear_gap": "явной разницы нет",
        "families_with_children": "семьи с детьми",
        "elderly": "люди 65 лет и старше",
        "disability": "люди с инвалидностью",
        "village": "жители сёл",
        "got_needed": "получили то, что нужно (доля)",
        "planned": "запланировано",
        "in_progress": "идёт работа",
        "done": "сделано",
        "whole_region": "весь регион",
        "days": "дней",
        "weeks": "недель",
        "months": "месяцев",
        "visits": "визитов",
        "documents": "документов",
        "times": "раз",
        "median": "медиана, {unit}",
    },
    "en": {
        "site": "Survey results",
        "too_few": "too few answers",
        "not_comparable": "not comparable",
        "wave": "Wave {wave}: {start} to {end}",
        "respondents": "Respondents",
        "region": "Region",
        "municipality": "Municipality",
        "score": "Score (0–100)",
        "interval": "95% interval",
        "share": "Share satisfied",
        "rank": "Place (95% interval)",
        "group": "Group",
        "change": "Change",
        "before": "Previous wave",
        "now": "This wave",
        "verdict": "Verdict",
        "topic": "Topic",
        "track": "Who answered",
        "segment": "Population group",
        "rest": "Everyone else",
        "gap": "Gap",
        "situation": "Life situation",
        "measure": "Measure",
        "value": "Value",
        "quartiles": "Interval or quartiles",
        "map_heading": "Map of the regions",
        "map_alt": "Map: one square per region, coloured by the overall score of wave "
        "{wave}; hatched where figures are withheld. The table below has the same figures.",
        "map_score": "By this wave's score",
        "map_change": "By the change since wave {against}",
        "change_map_alt": "Map: one square per region, coloured by the change in the overall "
        "score from wave {against} to wave {wave}, from −20 (orange, worse) through 0 "
        "(white) to +20 (purple, better); an up arrow where it improved, a down arrow where "
        "it declined; hatched where there are no comparable figures. The Change and Verdict "
        "columns of the table below have the same figures.",
        "table_heading": "Regions",
        "table_note": "Press a column heading to sort the table.",
        "topics": "Topics",
        "change_heading": "Change since wave {wave}",
        "municipalities": "Municipalities",
        "groups": "Population groups",
        "situations": "Life situations",
        "actions": "What the region is doing",
        "no_actions": "The region has not reported any actions yet.",
        "since": "since {date}",
        "more": "More",
        "how": "How to read these figures",
        "data": "Open data",
        "data_note": "Every figure on this site comes from these files (UTF-8, comma "
        "separated, decimal point). No individual answers are published.",
        "rows": "{rows} rows",
        "home": "All regions",
        "other_language": "Русский",
        "all": "everyone",
        "youth": "youth",
        "general": "older people",
        "overall": "Overall score",
        "index": "Composite index",
        "above_average": "above average",
        "average": "about average",
        "below_average": "below average",
        "improved": "improved",
        "declined": "declined",
        "no_clear_change": "no clear change",
        "worse_off": "worse off than the rest",
        "better_off": "better off than the rest",
        "no_clear_gap": "no clear gap",
        "families_with_children": "families with children",
        "elderly": "people aged 65 and over",
        "disability": "people with disabilities",
        "village": "village residents",
        "got_needed": "got what they needed (share)",
        "planned": "planned",
        "in_progress": "in progress",
        "done": "done",
        "whole_region": "the whole region",
        "days": "days",
        "weeks": "weeks",
        "months": "months",
        "visits": "visits",
        "documents": "documents",
        "times": "times",
        "median": "median, {unit}",
    },
}

#: The "how to read these figures" page: headings and paragraphs, plain text.
HOW_TO_READ: Mapping[str, tuple[tuple[str, str], ...]] = {
    "ru": (
        (
            "Откуда эти цифры",
            "Это ответы людей, которые сами решили пройти опрос в чат-боте. Такая выборка "
            "не вероятностная: отвечают те, кто узнал об опросе и захотел ответить, поэтому "
            "цифры описывают ответивших, а не всё население региона. Сравнивайте их "
            "осторожно и смотрите, сколько человек ответило.",
        ),
        (
            "Что значит интервал",
            "Рядом с баллом стоит 95% интервал: если бы опрос повторили с другими "
            "ответившими, балл почти наверняка оказался бы в этих пределах. Чем меньше "
            "ответов, тем шире интервал. Если интервалы двух регионов перекрываются, "
            "разница между ними может быть случайной.",
        ),
        (
            "Почему одно место в рейтинге вводит в заблуждение",
            "Место считается по баллу, а балл известен лишь с точностью до интервала. "
            "Поэтому у места тоже есть интервал: «3–9» значит, что регион мог бы оказаться "
            "и третьим, и девятым. Группа «выше среднего», «около среднего» или «ниже "
            "среднего» надёжнее, чем одно число.",
        ),
        (
            "Изменение между волнами",
            "Изменение — разница баллов этой и прошлой волны по тем же вопросам. «Стало "
            "лучше» или «стало хуже» пишется, только когда интервал изменения не включает "
            "ноль; иначе — «явного изменения нет».",
        ),
        (
            "Что скрыто и почему",
            "Если в ячейке слишком мало ответов, её цифры не показываются — вместо них "
            "написано «слишком мало ответов». Иногда скрыта и соседняя ячейка: иначе "
            "скрытое число можно было бы вычислить вычитанием. Так никто не может узнать, "
            "что ответил конкретный человек.",
        ),
        (
            "Что не публикуется никогда",
            "Ни имена, ни идентификаторы, ни псевдонимы, ни свободные ответы людей, ни "
            "их отдельные ответы. Только сводные цифры по регионам и муниципалитетам.",
        ),
    ),
    "en": (
        (
            "Where these figures come from",
            "They are the answers of people who chose to take the survey in a chat bot. "
            "That is an opt-in sample, not a probability sample: those who heard of the "
            "survey and wished to answer did, so the figures describe the respondents, not "
            "the whole population of a region. Compare them with care, and look at how "
            "many people answered.",
        ),
        (
            "What the intervals mean",
            "Beside each score is its 95% interval: had the survey been repeated with "
            "other respondents, the score would almost surely have fallen inside it. The "
            "fewer the answers, the wider it is. Where two regions' intervals overlap, the "
            "difference between them may be chance.",
        ),
        (
            "Why a place alone misleads",
            "A place follows from the score, which is only known to within its interval, "
            "so a place has an interval too: “3–9” means the region could as well be third "
            "as ninth. The group (above, about or below average) is sturdier than one "
            "number.",
        ),
        (
            "Change between waves",
            "The change is this wave's score minus the previous wave's, on the questions "
            "both asked alike. “Improved” or “declined” is said only when the change's "
            "interval excludes zero; otherwise “no clear change”.",
        ),
        (
            "What is hidden and why",
            "Where a cell has too few answers its figures are not shown: it reads “too few "
            "answers” instead. Sometimes a neighbouring cell is hidden too, since the "
            "hidden figure could otherwise be worked out by subtraction. That way nobody "
            "can tell what any one person answered.",
        ),
        (
            "What is never published",
            "No names, ids, pseudonyms, free-text answers or individual answers: only "
            "figures summed over regions and municipalities.",
        ),
    ),
}
