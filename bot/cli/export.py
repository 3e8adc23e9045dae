"""`civicpulse export ratings|answers|change|segments|situations|map`: a wave's results as CSV
files, and a map.

Without `-o` the CSV goes to stdout, so it can be piped; the progress bar goes to stderr
and only when stderr is a terminal, so it never ends up inside the data. With `-o` the file
is written beside its destination and renamed into place when complete, so a failed or
interrupted export never leaves a truncated file that looks like a finished one. The map
is the tile map `/report` sends, as PNG or as SVG for slides; an image needs `-o`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from bot.cli.context import open_command_database
from bot.cli.parsing import add_command
from bot.settings import Settings
from storage.change import ChangeError
from storage.pseudonym_key import key_of
from storage.result_files import (
    region_map,
    wave_report,
    write_answers_csv,
    write_change_csv,
    write_ratings_csv,
    write_segments_csv,
    write_series_csv,
    write_situations_csv,
)
from storage.results import Progress, UnknownWave
from storage.situations import SituationsError
from surveys.aggregate import LEVELS
from surveys.regions import MissingTileLayout, load_catalog
from surveys.weighting import PopulationError, load_population


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "export",
        help="write a wave's results as CSV",
        example="civicpulse export ratings --wave 3 --excel -o ratings.csv",
    )
    commands = group.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    ratings = add_command(
        commands,
        "ratings",
        help="scores, intervals, satisfied shares and ranks per region",
        example="civicpulse export ratings --wave 3 --level municipality --excel -o ratings.csv",
    )
    _wave_and_output(ratings)
    ratings.add_argument("--level", choices=LEVELS, default="region")
    _weights_option(ratings)
    ratings.set_defaults(handler=ratings_command)
    answers = add_command(
        commands,
        "answers",
        help="every answer, respondents pseudonymised",
        example="civicpulse export answers --wave 3 -o answers.csv",
    )
    _wave_and_output(answers)
    answers.set_defaults(handler=answers_command)
    change = add_command(
        commands,
        "change",
        help="each region's change between two waves, or through every closed wave of a survey",
        example="civicpulse export change --wave 7 --against 3 --excel -o change.csv",
    )
    change.add_argument("--wave", type=int, metavar="NEW", help="the later wave")
    change.add_argument("--against", type=int, metavar="OLD", help="the earlier wave")
    change.add_argument(
        "--survey",
        metavar="ID",
        help="instead of two waves: every closed wave of the survey in time order, "
        "each against the one before",
    )
    _output_options(change)
    change.add_argument("--level", choices=LEVELS, default="region")
    _weights_option(change)
    change.add_argument(
        "--partial",
        action="store_true",
        help="compare a wave that is still open, with the answers it has so far",
    )
    change.set_defaults(handler=change_command)
    segments = add_command(
        commands,
        "segments",
        help="each population group's score beside the rest of its area, and the gap",
        example="civicpulse export segments --wave 3 --level municipality -o segments.csv",
    )
    _wave_and_output(segments)
    segments.add_argument("--level", choices=LEVELS, default="region")
    segments.set_defaults(handler=segments_command)
    situations = add_command(
        commands,
        "situations",
        help="each life situation's score, share who got what they needed, medians",
        example="civicpulse export situations --wave 7 --against 3 --excel -o situations.csv",
    )
    _wave_and_output(situations)
    situations.add_argument("--level", choices=LEVELS, default="region")
    situations.add_argument(
        "--against",
        type=int,
        metavar="OLD",
        help="an earlier wave: adds its figures and the change",
    )
    situations.add_argument(
        "--partial",
        action="store_true",
        help="with --against, compare a wave that is still open, as it stands",
    )
    situations.set_defaults(handler=situations_command)
    tile_map = add_command(
        commands,
        "map",
        help="the overall index by region as a tile map, PNG or SVG",
        example="civicpulse export map --wave 3 -o map.svg --format svg",
    )
    tile_map.add_argument("--wave", type=int, required=True, metavar="ID")
    tile_map.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    tile_map.add_argument(
        "--format",
        choices=("png", "svg"),
        help="default: svg for a FILE ending in .svg, png otherwise",
    )
    tile_map.set_defaults(handler=map_command)


def _wave_and_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wave", type=int, required=True, metavar="ID")
    _output_options(parser)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    parser.add_argument(
        "--excel", action="store_true", help="BOM, `;` and decimal commas for Russian Excel"
    )


def _weights_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        type=Path,
        metavar="FILE",
        help="population per region by age band (and municipality) to rake to; see docs/results.md",
    )


async def ratings_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        population = load_population(args.weights) if args.weights else None
    except PopulationError as error:
        return _fail(str(error))
    database = await open_command_database(settings)
    try:
        with _progress("ratings") as progress, _output(args.output) as target:
            await write_ratings_csv(
                database,
                args.wave,
                target,
                level=args.level,
                min_cell_size=settings.min_cell_size,
                population=population,
                excel=args.excel,
                progress=progress,
            )
    except (UnknownWave, PopulationError, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


async def answers_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        key = key_of(settings)
    except (OSError, RuntimeError) as error:
        return _fail(f"no pseudonym key: {error}")
    database = await open_command_database(settings)
    try:
        with _progress("answers") as progress, _output(args.output) as target:
            await write_answers_csv(
                database, args.wave, target, key=key, excel=args.excel, progress=progress
            )
    except (UnknownWave, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


async def change_command(args: argparse.Namespace, settings: Settings) -> int:
    """Two waves (`--wave` against `--against`), or the series of a survey (`--survey`)."""
    if args.survey is not None and (args.wave is not None or args.against is not None):
        return _fail("--survey takes every closed wave itself; leave out --wave and --against")
    if args.survey is not None and args.partial:
        return _fail("a series is made of closed waves only; leave out --partial")
    if args.survey is None and (args.wave is None or args.against is None):
        return _fail("name two waves (--wave NEW --against OLD) or a survey (--survey ID)")
    try:
        population = load_population(args.weights) if args.weights else None
    except PopulationError as error:
        return _fail(str(error))
    catalog = load_catalog(settings.regions_file)
    database = await open_command_database(settings)
    try:
        # Figures first, file second: waves that cannot be compared leave no file behind.
        with _output(args.output) as target:
            if args.survey is not None:
                await write_series_csv(
                    database,
                    args.survey,
                    target,
                    level=args.level,
                    min_cell_size=settings.min_cell_size,
                    population=population,
                    excel=args.excel,
                    catalog=catalog,
                )
            else:
                await write_change_csv(
                    database,
                    args.wave,
                    args.against,
                    target,
                    level=args.level,
                    min_cell_size=settings.min_cell_size,
                    partial=args.partial,
                    population=population,
                    excel=args.excel,
                    catalog=catalog,
                )
    except (UnknownWave, ChangeError, PopulationError, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


async def segments_command(args: argparse.Namespace, settings: Settings) -> int:
    catalog = load_catalog(settings.regions_file)
    database = await open_command_database(settings)
    try:
        with _progress("segments") as progress, _output(args.output) as target:
            await write_segments_csv(
                database,
                args.wave,
                target,
                level=args.level,
                min_cell_size=settings.min_cell_size,
                excel=args.excel,
                catalog=catalog,
                progress=progress,
            )
    except (UnknownWave, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


async def situations_command(args: argparse.Namespace, settings: Settings) -> int:
    catalog = load_catalog(settings.regions_file)
    database = await open_command_database(settings)
    try:
        # Figures first, file second: a refusal leaves no file behind.
        with _progress("situations") as progress, _output(args.output) as target:
            await write_situations_csv(
                database,
                args.wave,
                target,
                level=args.level,
                min_cell_size=settings.min_cell_size,
                against=args.against,
                partial=args.partial,
                excel=args.excel,
                catalog=catalog,
                progress=progress,
            )
    except (UnknownWave, SituationsError, ChangeError, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


async def map_command(args: argparse.Namespace, settings: Settings) -> int:
    image_format = args.format or ("svg" if args.output.suffix.lower() == ".svg" else "png")
    catalog = load_catalog(settings.regions_file)
    database = await open_command_database(settings)
    try:
        report = await wave_report(
            database, args.wave, min_cell_size=settings.min_cell_size, catalog=catalog
        )
        image = await region_map(
            report,
            language=settings.default_locale,
            zone=settings.zone,
            image_format=image_format,
        )
        with _output(args.output) as target:
            target.write(image)
    except (UnknownWave, MissingTileLayout, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    return 0


def _fail(message: str) -> int:
    print(f"civicpulse: export failed: {message}", file=sys.stderr)
    return 1


@contextmanager
def _progress(what: str) -> Iterator[Progress]:
    """A tqdm bar on stderr when it is a terminal; a no-op otherwise (cron, pipes, tests)."""
    bar = tqdm(
        desc=f"export {what}",
        unit=" responses",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    )

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield advance
    finally:
        bar.close()


@contextmanager
def _output(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader (`| head`) has had enough; stop quietly, as command-line tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(141) from None
        return
    path = path.expanduser()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp makes the file 0600, and it stays so: the answers are microdata.
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
