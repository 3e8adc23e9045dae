"""Reads survey files and explains every mistake in them at once, each with its line.

Survey files are written by hand by civil servants, not programmers. One run must list
every problem in plain words, each pointing at the line to fix: fixing errors one at a
time, or decoding pydantic's vocabulary, is what makes authors give up on a format.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from surveys.model import (
    MAX_TEXT_ANSWER,
    REFERENCES_ERROR,
    Condition,
    Identifier,
    Location,
    Option,
    Question,
    QuestionRefs,
    ReferenceProblem,
    Situation,
    SituationRefs,
    Survey,
    Topic,
    Track,
    YouthAge,
    reference_problems,
    situation_condition,
)
from surveys.text import LocalizedText

BUNDLED_SURVEYS_DIR: Path = Path(__file__).parent / "examples"
#: A real survey is a few dozen kilobytes; anything far larger is a mistake or an attack.
MAX_FILE_SIZE = 1024 * 1024
SURVEY_SUFFIXES = (".yaml", ".yml")

#: A further check of a loaded survey by a layer that knows more than the domain (the chat's
#: message limits): each finding is a place in the survey data and what to fix there, and
#: is reported with its file and line like the loader's own problems.
SurveyCheck = Callable[[Survey], Iterable[tuple[Location, str]]]


@dataclass(frozen=True)
class Problem:
    """One thing a survey author must fix, phrased so they can fix it without help."""

    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class SurveyFileError(ValueError):
    """Carries every problem found, so callers can show them all, one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_survey_file(path: Path) -> Survey:
    """One survey file; SurveyFileError lists all its problems, so one run finds them all."""
    survey, _ = _load(path)
    return survey


def load_survey_with_lines(path: Path) -> tuple[Survey, dict[str, int]]:
    """One survey file and the line each question starts on, by question id: for messages
    that point an author at a question, such as `surveys diff`."""
    survey, document = _load(path)
    lines = {
        question.id: document.line_of(("questions", index)) or 1
        for index, question in enumerate(survey.questions)
    }
    return survey, lines


def load_surveys(directory: Path, check: SurveyCheck | None = None) -> dict[str, Survey]:
    """All surveys of a folder by id; any problem in any file refuses the whole folder.

    Loading a folder half-way would let the bot run with a survey silently missing.
    """
    files, problems = _files_in(directory)
    surveys, load_problems = _load_all(files, check)
    problems += load_problems
    if problems:
        raise SurveyFileError(problems)
    return surveys


def validate_paths(paths: Sequence[Path], check: SurveyCheck | None = None) -> list[Problem]:
    """Problems in the given files and folders, checked as one set that is loaded together.

    A folder without survey files is reported, so a mistyped path never passes silently.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found, trouble = _files_in(path)
            if not found and not trouble:
                trouble = [Problem(path, None, "", "no survey files (*.yaml, *.yml) here")]
            files += found
            problems += trouble
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(path, None, "", "no such file or folder"))
    _, load_problems = _load_all(_unique(files), check)
    return problems + load_problems


def survey_fingerprint(survey: Survey) -> str:
    """Detects a file edited in place without raising `version`, which would mislabel answers."""
    return hashlib.sha256(survey.model_dump_json().encode("utf-8")).hexdigest()


# --- files and folders -------------------------------------------------------------------


def _files_in(directory: Path) -> tuple[list[Path], list[Problem]]:
    """Survey files of a folder in a stable order; hidden files (editor litter) are skipped."""
    if not directory.exists():
        return [], [Problem(directory, None, "", "no such folder")]
    if not directory.is_dir():
        return [], [Problem(directory, None, "", "this is a file, not a folder")]
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        return [], [Problem(directory, None, "", f"cannot read the folder: {_os_reason(error)}")]
    files = [
        entry
        for entry in entries
        if entry.suffix.lower() in SURVEY_SUFFIXES
        and not entry.name.startswith(".")
        and entry.is_file()
    ]
    return files, []


def _unique(files: Iterable[Path]) -> list[Path]:
    """Drops a file named twice (as itself and via its folder) so it is not its own duplicate."""
    seen: set[Path] = set()
    unique: list[Path] = []
    for file in files:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return unique


def _load_all(
    files: Sequence[Path], check: SurveyCheck | None
) -> tuple[dict[str, Survey], list[Problem]]:
    surveys: dict[str, Survey] = {}
    sources: dict[str, Path] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            survey, document = _load(file)
        except SurveyFileError as error:
            problems += error.problems
            continue
        if survey.id in sources:
            message = (
                f'survey id "{survey.id}" is also used by {sources[survey.id]}; '
                "every survey file needs its own id"
            )
            problems.append(document.problem(("id",), message))
            continue
        surveys[survey.id] = survey
        sources[survey.id] = file
        if check is not None:
            found = [document.problem(loc, message) for loc, message in check(survey)]
            problems += sorted(found, key=lambda problem: problem.line or 0)
    return surveys, problems


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


# --- reading and parsing -------------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    """A parsed file that remembers where each field was written.

    `data` may hold fields the loader filled in from others (see `_with_situations`);
    `written` maps each such place to the one the author wrote, so that every problem,
    wherever it is found, names a field and a line of the file as it was written.
    """

    path: Path
    data: Any
    lines: dict[Location, int]
    duplicate_keys: tuple[Location, ...]
    written: Mapping[Location, Location] = field(default_factory=dict)

    def written_at(self, loc: Location) -> Location:
        """Where the author wrote what `loc` of the data holds."""
        for length in range(len(loc), 0, -1):
            source = self.written.get(loc[:length])
            if source is not None:
                return (*source, *loc[length:])
        return loc

    def line_of(self, loc: Location) -> int | None:
        """The line of `loc`, or of its nearest parent that the file actually contains."""
        loc = self.written_at(loc)
        for length in range(len(loc), -1, -1):
            line = self.lines.get(loc[:length])
            if line is not None:
                return line
        return None

    def value_at(self, loc: Location) -> Any:
        value = self.data
        for part in loc:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                value = value[part]
            else:
                return None
        return value

    def problem(self, loc: Location, message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), _format_field(self.written_at(loc)), message)


def _load(path: Path) -> tuple[Survey, _Document]:
    document = _parse(path, _read_text(path))
    problems = [
        document.problem(loc, "this field is written twice in the same block; keep only one")
        for loc in document.duplicate_keys
    ]
    document = _with_situations(document)
    try:
        survey = Survey.model_validate(document.data)
    except ValidationError as error:
        problems += _validation_problems(document, error)
        problems += _cross_reference_problems(document)
    else:
        if not problems:
            return survey, document
    # A fault in a situation's title is also one in the option made of it: say it once.
    problems = sorted(dict.fromkeys(problems), key=lambda problem: problem.line or 0)
    raise SurveyFileError(problems)


def _with_situations(document: _Document) -> _Document:
    """The survey as the model takes it, its situations spelt out as choices and conditions.

    The screening question's options are the situations (each its id and title), before
    the options written under it (such as "none of these"); a question with `situation: ID`
    and no `show_if` of its own gets `show_if: {question: <screening>, any_of: [ID]}`. So a
    stored survey is an ordinary one: targeting, progress and exports need nothing new.
    """
    data = document.data
    situations, questions = data.get("situations"), data.get("questions")
    if not isinstance(situations, list) or not isinstance(questions, list):
        return document
    marked = [
        i for i, q in enumerate(questions) if isinstance(q, dict) and q.get("screening") is True
    ]
    screening = marked[0] if marked else 0
    screening_id = _valid_or_none(_IDENTIFIER, questions[screening].get("id")) if marked else None
    if screening_id is None:
        return document  # no screening question, or one without a valid id: both reported
    questions = list(questions)
    written: dict[Location, Location] = {}
    asked = [(i, s) for i, s in enumerate(situations) if isinstance(s, dict)]
    own = questions[screening].get("options", [])
    if isinstance(own, list):
        where: Location = ("questions", screening, "options")
        for position, (index, _) in enumerate(asked):
            written[(*where, position)] = ("situations", index)
            written[(*where, position, "text")] = ("situations", index, "title")
        for position in range(len(own)):
            written[(*where, len(asked) + position)] = (*where, position)
        made = [{"id": s.get("id"), "text": s.get("title")} for _, s in asked]
        questions[screening] = {**questions[screening], "options": made + own}
    for index, question in enumerate(questions):
        if not isinstance(question, dict) or "show_if" in question:
            continue
        situation = _valid_or_none(_IDENTIFIER, question.get("situation"))
        if situation is None:
            continue  # absent, or an ill-formed id reported where it is written
        condition = situation_condition(screening_id, situation)
        questions[index] = {**question, "show_if": condition.model_dump(exclude_none=True)}
        written[("questions", index, "show_if")] = ("questions", index, "situation")
    return replace(document, data={**data, "questions": questions}, written=written)


def _read_text(path: Path) -> str:
    def fail(message: str, line: int | None = None) -> SurveyFileError:
        return SurveyFileError([Problem(path, line, "", message)])

    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_SIZE + 1)
    except OSError as error:
        raise fail(f"cannot read the file: {_os_reason(error)}") from None
    if len(raw) > MAX_FILE_SIZE:
        raise fail("the file is larger than 1 MB; a survey file should be far smaller")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise fail(
            "the file is not in UTF-8 (perhaps it was saved as Windows-1251); "
            "save it again with UTF-8 encoding",
            line,
        ) from None


def _parse(path: Path, text: str) -> _Document:
    def fail(message: str, line: int | None = None) -> SurveyFileError:
        return SurveyFileError([Problem(path, line, "", message)])

    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        message = f"the file contains a character YAML does not allow ({error.reason})"
        raise fail(message, line) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise fail("the file is empty")
        data = loader.construct_document(root)
        lines, duplicates = _index_lines(loader, root)
    except yaml.MarkedYAMLError as error:
        raise fail(*_syntax_problem(error)) from None
    except yaml.YAMLError as error:
        raise fail(f"YAML syntax error: {error}") from None
    except RecursionError:
        raise fail("the file is nested too deeply to be a survey") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise fail(
            "a survey file must be a block of fields (id:, version:, title:, topics:, "
            f"questions:), not {_describe(data)}",
            lines[()],
        )
    return _Document(path, data, lines, tuple(duplicates))


def _syntax_problem(error: yaml.MarkedYAMLError) -> tuple[str, int | None]:
    """PyYAML's own words, with hints for the mistakes hand-written surveys really contain."""
    problem = error.problem or "invalid YAML"
    context = error.context or ""
    mark = error.problem_mark or error.context_mark
    opened = error.context_mark
    if "quoted scalar" in context and "end of stream" in problem and opened is not None:
        return "this quoted text is never closed (the closing quote is missing)", opened.line + 1
    if "another document" in problem:
        message = 'the file holds more than one YAML document ("---" line); keep only one'
    else:
        message = f"YAML syntax error: {problem}"
        if mark is not None:
            message += f" (column {mark.column + 1})"
        if context and opened is not None and mark is not None and opened.line != mark.line:
            message += f", {context} that starts on line {opened.line + 1}"
    if "mapping values are not allowed" in problem:
        message += '; if a text contains ": ", put the whole text in quotes, else check indents'
    elif "'\\t'" in problem:
        message += "; indent with spaces, not tabs"
    elif "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
        message += '; a text inside { } or [ ] with "?", ":", "," or "#" must be put in quotes'
    return message, None if mark is None else mark.line + 1


def _index_lines(
    loader: yaml.SafeLoader, root: yaml.Node
) -> tuple[dict[Location, int], list[Location]]:
    """Line of every field path, and the paths written twice in one block.

    Each node is visited once, so anchors and aliases cannot blow up the walk; a field
    reached only through an alias falls back to the alias's own line.
    """
    lines: dict[Location, int] = {(): root.start_mark.line + 1}
    duplicates: list[Location] = []
    visited: set[int] = set()
    stack: list[tuple[yaml.Node, Location]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen_keys: set[Any] = set()
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node)
                child = (*path, key)
                if key in seen_keys:
                    duplicates.append(child)
                seen_keys.add(key)
                lines[child] = key_node.start_mark.line + 1
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                stack.append((item, (*path, index)))
    return lines, duplicates


# --- pydantic errors in plain words ----------------------------------------------------------

_LANGUAGE_NAMES = {"ru": "Russian", "en": "English"}
_NOUNS = {"type": "question type", "track": "track", "unit": "unit"}
_RANGES: dict[str, tuple[int, int]] = {"score": (0, 100), "max_length": (1, MAX_TEXT_ANSWER)}
_FIELD_NAMES = sorted(
    {
        name
        for model in (
            Survey,
            Topic,
            Situation,
            Question,
            Option,
            Condition,
            YouthAge,
            LocalizedText,
        )
        for name in model.model_fields
    }
)
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "text (such as an option id)",
    "bool": "true or false",
}
_TYPE_MESSAGES = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "model_type": "must be a block of fields (name: value lines)",
    "model_attributes_type": "must be a block of fields (name: value lines)",
    "dict_type": "must be a block of fields (name: value lines)",
    "tuple_type": 'must be a list (one "- " line per item)',
    "list_type": 'must be a list (one "- " line per item)',
}
#: Fields that are true or false by design: no YAML pitfall when a problem points at one.
_FLAGS = frozenset({"optional", "screening", "dont_know"})
_YAML_BOOL_HINT = (
    "YAML reads bare yes, no, on, off, true and false as true/false; put the word in quotes, "
    'like "no"'
)


def _validation_problems(document: _Document, error: ValidationError) -> list[Problem]:
    """pydantic's errors as problems; the members of one failed union become one problem."""
    problems: list[Problem] = []
    union_members: dict[Location, list[ErrorDetails]] = {}
    for details in error.errors():
        if _is_follow_on(details):
            continue
        loc, is_union_member = _data_loc(details["loc"], document.data)
        if is_union_member:
            union_members.setdefault(loc, []).append(details)
        else:
            problems.append(document.problem(loc, _plain_message(details, loc)))
    for loc, members in union_members.items():
        problems.append(document.problem(loc, _union_message(loc, members)))
    return problems


def _is_follow_on(details: ErrorDetails) -> bool:
    """Errors that only repeat another: the references summary (reported one by one
    instead), and "too few items" when the items were there but themselves invalid."""
    if details["type"] == REFERENCES_ERROR:
        return True
    if details["type"] == "too_short":
        value = details.get("input")
        minimum = details.get("ctx", {}).get("min_length", 0)
        return isinstance(value, list | tuple) and len(value) >= minimum
    return False


def _data_loc(loc: Location, data: Any) -> tuple[Location, bool]:
    """The part of a pydantic location that names places in the file.

    pydantic appends the member name (`int`, `str`) to errors inside a union; a string
    step where the data holds no mapping is such a member, and is cut off.
    """
    value = data
    for depth, part in enumerate(loc):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(part, int) and isinstance(value, list):
            value = value[part] if 0 <= part < len(value) else None
        else:
            return loc[:depth], True
    return loc, False


def _format_field(loc: Location) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _plain_message(details: ErrorDetails, loc: Location) -> str:
    kind = details["type"]
    value = details.get("input")
    ctx: dict[str, Any] = details.get("ctx") or {}
    name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    language = _LANGUAGE_NAMES.get(name) if loc and loc[-1] == name else None
    if kind == "missing":
        if language:
            return f"the {language} translation is missing"
        return "required field is missing"
    if language and (value is None or kind == "value_error"):
        return f"the {language} translation is empty"
    if kind == "extra_forbidden":
        return "unknown field (typo?)" + _unknown_field_hint(str(loc[-1]), value)
    if kind == "invalid_key":
        return f"field names must be text, not {_describe(value)}"
    if kind in ("enum", "literal_error"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        noun = _NOUNS.get(name, "value")
        return f"unknown {noun} {_describe(value)}; use one of {', '.join(choices)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound_message(kind, name, ctx)
    if kind == "string_pattern_mismatch":
        return (
            'must be an id of lowercase Latin letters, digits and "_", starting with a letter, '
            f"at most 32 characters, not {_describe(value)}"
        )
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind == "value_error":
        return str(ctx.get("error", details["msg"]))
    if value is None and kind in _TYPE_MESSAGES:
        return "is empty; write a value here"
    if kind == "model_type" and ctx.get("class_name") == LocalizedText.__name__:
        return 'needs a Russian and an English text: write "ru:" and "en:" on the lines below'
    if kind == "string_type" and isinstance(value, bool):
        return f"must be text, not true/false: {_YAML_BOOL_HINT}"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, not {_describe(value)}"
    return details["msg"]


def _unknown_field_hint(name: str, value: Any) -> str:
    if value is None or " " in name.strip():
        # `{ru: Да, в срок, en: …}` splits at the comma: the rest becomes an empty "field".
        return '; a text with a comma inside { } must be put in quotes, like "Да, в срок"'
    return _suggestion(name, _FIELD_NAMES)


def _bound_message(kind: str, name: str, ctx: dict[str, Any]) -> str:
    if name in _RANGES:
        low, high = _RANGES[name]
        return f"{name} must be between {low} and {high}"
    bound = next(iter(ctx.values()), "")
    limit = f"{bound:g}" if isinstance(bound, float) else str(bound)
    phrases = {
        "greater_than": "greater than",
        "greater_than_equal": "at least",
        "less_than": "less than",
        "less_than_equal": "at most",
    }
    return f"must be {phrases[kind]} {limit}"


def _union_message(loc: Location, members: list[ErrorDetails]) -> str:
    value = members[0].get("input")
    if value is None:
        return "is empty; write a value here"
    kinds = [
        _KINDS.get(str(member["loc"][len(loc)]), str(member["loc"][len(loc)])) for member in members
    ]
    return f"must be {' or '.join(dict.fromkeys(kinds))}, not {_describe(value)}"


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a block of fields"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else f'"{value[:40]}…"'
    return str(value)


def _suggestion(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.7)
    return f'; did you mean "{close[0]}"?' if close else ""


# --- cross-references, also in files whose fields are broken ------------------------------

_T = TypeVar("_T")
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_TRACK: TypeAdapter[Track] = TypeAdapter(Track)
_CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def _cross_reference_problems(document: _Document) -> list[Problem]:
    """The model's cross-reference rules, run on whatever parts of the file are valid.

    pydantic skips `Survey`'s own cross-field check once any field fails, but an author
    should still learn about a dangling condition in the same run as about a typo.
    """
    data = document.data
    topics = data.get("topics")
    questions = data.get("questions")
    situations = data.get("situations")
    topic_ids = [_raw_id(topic) for topic in topics] if isinstance(topics, list) else []
    refs = [_question_refs(raw) for raw in questions] if isinstance(questions, list) else []
    lived = [_situation_refs(raw) for raw in situations] if isinstance(situations, list) else []
    if not isinstance(topics, list):  # every topic would look unknown: pure noise
        refs = [replace(item, topic=None) for item in refs]
        lived = [replace(item, topic=None) for item in lived]
    found = reference_problems(topic_ids, refs, lived)
    return [_reference_problem(document, problem) for problem in found]


def _reference_problem(document: _Document, found: ReferenceProblem) -> Problem:
    message = found.message
    if found.related is not None and (line := document.line_of(found.related)) is not None:
        message += f" (see line {line})"
    if isinstance(document.value_at(found.loc), bool) and found.loc[-1] not in _FLAGS:
        message += f"; {_YAML_BOOL_HINT}"
    return document.problem(found.loc, message)


def _raw_id(raw: Any) -> str | None:
    """An id as written, even an ill-formed one: it is reported on its own, and treating
    it as absent would make every reference to it look like a second mistake."""
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return str(raw["id"]).strip()
    return None


def _question_refs(raw: Any) -> QuestionRefs:
    if not isinstance(raw, dict):
        return QuestionRefs(None)
    try:
        return QuestionRefs.of(Question.model_validate(raw))
    except ValidationError:
        pass
    return QuestionRefs(
        id=_raw_id(raw),
        topic=_valid_or_none(_IDENTIFIER, raw.get("topic")),
        track=_valid_or_none(_TRACK, raw.get("track")),
        show_if=_valid_or_none(_CONDITION, raw.get("show_if")),
        situation=_valid_or_none(_IDENTIFIER, raw.get("situation")),
        screening=raw.get("screening") is True,
    )


def _situation_refs(raw: Any) -> SituationRefs:
    if not isinstance(raw, dict):
        return SituationRefs(None)
    return SituationRefs(_raw_id(raw), _valid_or_none(_IDENTIFIER, raw.get("topic")))


def _valid_or_none(adapter: TypeAdapter[_T], raw: Any) -> _T | None:
    if raw is None:
        return None
    try:
        return adapter.validate_python(raw)
    except ValidationError:
        return None
