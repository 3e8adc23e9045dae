"""The command line's parser: an example under every `--help`, a suggestion for every typo.

argparse on Python 3.11 answers `civicpulse wave lst` with the whole list of choices and
`--wav 3` with "unrecognized arguments"; a person who mistyped wants the one word they
meant. `Parser.error` finds it among the sub-commands or options of the command that was
being parsed, with the standard library's `difflib`.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>[^']*)' \(choose from (?P<known>.*)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<words>.*)")


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors name the closest known word."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argv: Sequence[str] = ()

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        self._argv = list(args) if args is not None else sys.argv[1:]
        return super().parse_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if match := _INVALID_CHOICE.search(message):
            hint = _closest(match["word"], re.findall(r"'([^']*)'", match["known"]))
            super().error(message + hint)
        if match := _UNRECOGNIZED.search(message):
            # Shown with the usage of the command the options were given to.
            command = self._command_parser()
            options = [option for action in command._actions for option in action.option_strings]
            typo = next((word for word in match["words"].split() if word.startswith("-")), "")
            hint = _closest(typo.split("=", 1)[0], options) if typo else ""
            argparse.ArgumentParser.error(command, message + hint)
        super().error(message)

    def _command_parser(self) -> argparse.ArgumentParser:
        """The parser of the sub-command the arguments named: unrecognised options are
        reported by the top-level parser, but they belong to the innermost command."""
        parser: argparse.ArgumentParser = self
        for word in self._argv:
            chosen = next(
                (action.choices[word] for action in _subcommands(parser) if word in action.choices),
                None,
            )
            if chosen is not None:
                parser = chosen
        return parser


def _subcommands(parser: argparse.ArgumentParser) -> list[Any]:
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def _closest(word: str, known: Sequence[str]) -> str:
    matches = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def add_command(subparsers: Any, name: str, *, help: str, example: str) -> argparse.ArgumentParser:
    """A sub-command with its one-line help and the example line its `--help` ends with."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=help[:1].upper() + help[1:] + ".", **with_example(example)
    )
    return parser


def with_example(example: str) -> dict[str, Any]:
    """The keyword arguments that end a parser's `--help` with an example line."""
    return {
        "epilog": f"example:\n  {example}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
