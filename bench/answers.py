"""Benchmark: N citizens answer a 20-question survey at once through the real bot.

Not a test: it prints its figures. The bot runs as `python -m bot run` in its own process
(as in production, with the Telegram side elsewhere), polling the fake Bot API server
that lives in this process together with the simulated citizens — so the two sides get
one core each on a two-core machine.

What happens:

1. A fresh database gets N registered citizens of one region and an open wave of a
   survey of Q scale questions. The bot starts, opens the wave and broadcasts the
   invitations; each citizen presses the invitation's button and sees question 1.
2. Measured: every citizen answers each question the moment it appears (plus an optional
   think time), by pressing a random scale button. The bot stores the answer and edits
   the message into the next question; that edit is the reply we time.
3. SIGTERM; the bot must exit with status 0, and the database must hold exactly N × Q
   answers and N completed responses.

Figures: answers stored per second over the measured phase, and p50 / p99 of the time
from an update's arrival at the server (the citizen's press) to the bot's reply (the
edit recorded by the server).

    .venv/bin/python bench/answers.py                      # 2,000 citizens × 20 questions
    .venv/bin/python bench/answers.py --citizens 500 --think 1.0
    .venv/bin/python bench/answers.py --profile /tmp/bot.prof   # the bot under cProfile
    .venv/bin/python bench/answers.py --database postgresql     # PostgreSQL, SQLite beside it

With `--database postgresql` the same scenario runs first on a PostgreSQL cluster the
benchmark starts and removes (`bench/databases.py`), the bot given `DATABASE_URL`, then on
SQLite, and a table shows the two side by side.

Target: at least 1,000 answers per second with every answer stored, on either database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import pstats
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiogram.types import Update

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.databases import (  # noqa: E402
    SQLITE,
    Figure,
    Target,
    add_database_option,
    on_both,
    print_comparison,
    process_cpu_seconds,
)
from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram, FakeUser, buttons  # noqa: E402
from bot.telegram.gc_tuning import tune_for_serving  # noqa: E402
from tests.bot_process import BotProcess, bot_environment, seed_wave  # noqa: E402
from tests.harness import TOKEN  # noqa: E402

FIRST_USER_ID = 700_000
#: The SQLite file in a run's folder, where `seed_wave` and `bot_environment` put it.
DATABASE_FILE = "civicpulse.db"
#: Answers per second the bot must reach with every answer stored.
TARGET = 1_000
_POSITION = re.compile(r"вопрос (\d+) ·")


@dataclass
class Citizen:
    """One simulated person: which screen they look at and what they are waiting for."""

    user_id: int
    screen: int | None = None  # message id of the question message
    position: int = 0  # question number on screen (1-based), 0 before the first
    pressed_at: float | None = None  # when the unanswered press was made
    done: bool = False


@dataclass
class Crowd:
    """All citizens, driven by the server's change notifications (no polling, no sleeps)."""

    server: FakeTelegram
    users: dict[int, FakeUser]
    citizens: dict[int, Citizen]
    questions: int
    think: float
    rng: random.Random
    latencies: list[float] = field(default_factory=list)
    first_press: float = 0.0
    last_reply: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _waiting: int = 0

    def __post_init__(self) -> None:
        self._waiting = len(self.citizens)
        self.server.watch(self._changed)

    def _changed(self, chat_id: int) -> None:
        """Runs inside the server's request handling: must be quick and must not raise."""
        citizen = self.citizens.get(chat_id)
        if citizen is None or citizen.done:
            return
        now = time.monotonic()
        messages = self.server.chat(chat_id)
        if citizen.screen is None:
            self._on_invitation_or_first_question(citizen, messages)
            return
        screen = next((m for m in messages if m.message_id == citizen.screen), None)
        text = screen.text if screen is not None else None
        if text is None or citizen.pressed_at is None:
            return
        if "Спасибо" in text:
            position = self.questions + 1
        else:
            match = _POSITION.search(text)
            position = int(match.group(1)) if match else citizen.position
        if position <= citizen.position:
            return  # not the reply to this press (e.g. the keyboard being removed)
        self.latencies.append(now - citizen.pressed_at)
        self.last_reply = now
        citizen.position, citizen.pressed_at = position, None
        if position > self.questions:
            citizen.done = True
            self._waiting -= 1
            if not self._waiting:
                self.finished.set()
        else:
            self._press_later(citizen)

    def _on_invitation_or_first_question(
        self, citizen: Citizen, messages: list[ChatMessage]
    ) -> None:
        for message in reversed(messages):
            text = message.text or ""
            if _POSITION.search(text):
                citizen.screen, citizen.position = message.message_id, 1
                self._waiting -= 1
                if not self._waiting:
                    self.ready.set()
                return
            start = [data for _, data in buttons(message) if data.startswith("sw:")]
            if start and citizen.pressed_at is None:
                citizen.pressed_at = time.monotonic()
                self.users[citizen.user_id].press(message.message_id, start[0])
                return

    def _press_later(self, citizen: Citizen) -> None:
        delay = self.rng.expovariate(1 / self.think) if self.think > 0 else 0.0
        loop = asyncio.get_running_loop()
        if delay:
            loop.call_later(delay, self._press, citizen)
        else:
            loop.call_soon(self._press, citizen)

    def _press(self, citizen: Citizen) -> None:
        screen = next(
            m for m in self.server.chat(citizen.user_id) if m.message_id == citizen.screen
        )
        answers = [data for _, data in buttons(screen) if data.startswith("a:")]
        citizen.pressed_at = time.monotonic()
        self.users[citizen.user_id].press(screen.message_id, self.rng.choice(answers))

    def begin_answering(self) -> None:
        self._waiting = len(self.citizens)
        self.first_press = time.monotonic()
        for citizen in self.citizens.values():
            self._press_later(citizen)


async def check_database(target: Target, wave_id: int) -> tuple[int, int]:
    """(answers, completed responses) of the wave, read after the bot has exited, through
    the same database surface as the bot's, whichever database it is."""
    database = await target.open()
    try:
        answers = await database.fetch_one(
            "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id"
            " WHERE r.wave_id = ?",
            (wave_id,),
        )
        completed = await database.fetch_one(
            "SELECT count(*) FROM responses WHERE wave_id = ? AND completed_at IS NOT NULL",
            (wave_id,),
        )
    finally:
        await database.close()
    assert answers is not None and completed is not None
    return int(answers[0]), int(completed[0])


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of this process (None) or of a child still running."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    return process_cpu_seconds(pid)


#: A question press as Telegram sends it: the reference workload parses it with aiogram.
_REFERENCE_UPDATE = json.dumps(
    {
        "update_id": 1,
        "callback_query": {
            "id": "1",
            "from": {"id": 1, "is_bot": False, "first_name": "Citizen", "language_code": "ru"},
            "chat_instance": "1",
            "data": "a:1:0:3",
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 1, "type": "private", "first_name": "Citizen"},
                "text": "вопрос 1 · 5% пути",
                "entities": [{"type": "italic", "offset": 0, "length": 18}],
                "reply_markup": {
                    "inline_keyboard": [
                        [{"text": str(v), "callback_data": f"a:1:0:{v}"} for v in range(1, 6)]
                    ]
                },
            },
        },
    }
)


def reference_cost(rounds: int = 2000) -> float:
    """CPU µs to decode and parse one update with aiogram: a yardstick of this machine's
    speed at the moment, since its speed varies by a quarter from hour to hour. Best of 3."""
    best = math.inf
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            Update.model_validate(json.loads(_REFERENCE_UPDATE))
        best = min(best, (time.process_time() - started) / rounds)
    return best * 1e6


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class TimedOut(Exception):
    """A phase ran past `--timeout`; what was unfinished has been printed."""


@dataclass(frozen=True)
class Outcome:
    """One run's figures, for the comparison of two databases."""

    answers_per_second: float
    p50_ms: float
    p99_ms: float
    bot_cpu_us: float  # per answer
    server_cpu_us: float  # per answer, of a database server of its own (0 for SQLite)
    bench_cpu_us: float  # per answer
    yardstick_us: float
    ok: bool

    @property
    def bot_yardsticks(self) -> float:
        return self.bot_cpu_us / self.yardstick_us


async def scenario(
    args: argparse.Namespace, directory: Path, target: Target, profile: str | None
) -> Outcome:
    """Seed, run the bot, answer every question, check the database; prints as it goes."""
    started = time.monotonic()
    ids = range(FIRST_USER_ID, FIRST_USER_ID + args.citizens)
    # The tests' seeding: registered through the repositories, on either database.
    wave_id = await seed_wave(directory, ids, args.questions, url=target.url)
    print(f"prepared {args.citizens} citizens in {time.monotonic() - started:.1f} s")
    reference = reference_cost()
    async with FakeTelegram(token=TOKEN) as server:
        crowd = Crowd(
            server,
            {user_id: server.user(user_id, f"Citizen {user_id}") for user_id in ids},
            {user_id: Citizen(user_id) for user_id in ids},
            args.questions,
            args.think,
            random.Random(args.seed),
        )
        env = target.environment(
            bot_environment(
                server,
                directory,
                surveys_dir=str(directory / "surveys"),
                broadcast_rate=str(args.broadcast_rate),
                throttle_rate=str(args.throttle_rate),
            )
        )
        profiler = ["-m", "cProfile", "-o", profile] if profile else []
        bot = BotProcess(env, directory, python_args=profiler)
        await bot.start()
        try:
            started = time.monotonic()
            await asyncio.wait_for(crowd.ready.wait(), args.timeout)
            print(
                f"wave opened, {args.citizens} invitations sent and surveys started "
                f"in {time.monotonic() - started:.1f} s"
            )
            crowd.latencies.clear()
            # The fake Telegram keeps every request and message it has seen: without
            # this, its full collections walk them all and stall the bot being
            # measured for a third of a second every few seconds.
            tune_for_serving()
            cpu_before = cpu_seconds(None), cpu_seconds(bot.pid), target.server_cpu_seconds()
            crowd.begin_answering()
            await asyncio.wait_for(crowd.finished.wait(), args.timeout)
            cpu_after = cpu_seconds(None), cpu_seconds(bot.pid), target.server_cpu_seconds()
        except TimeoutError:
            stuck = sum(not c.done for c in crowd.citizens.values())
            print(f"timed out with {stuck} citizens unfinished; bot log:\n{bot.log()[-3000:]}")
            raise TimedOut from None
        finally:
            if bot.running and not crowd.finished.is_set():
                await bot.kill()  # timed out, failed or interrupted: no bot left behind
        status = await bot.terminate()
    stored, completed = await check_database(target, wave_id)
    total = args.citizens * args.questions
    elapsed = crowd.last_reply - crowd.first_press
    print(f"answers: {total} in {elapsed:.2f} s = {total / elapsed:,.0f} answers/s")
    p50, p99 = percentile(crowd.latencies, 0.50), percentile(crowd.latencies, 0.99)
    print(
        "update → reply: "
        f"p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, "
        f"mean {statistics.fmean(crowd.latencies) * 1000:.1f} ms "
        f"({len(crowd.latencies)} replies)"
    )
    bench_cpu, bot_cpu, server_cpu = (
        after - before for after, before in zip(cpu_after, cpu_before, strict=True)
    )
    print(
        f"CPU per answer: bot {bot_cpu / total * 1e6:.0f} µs, fake Telegram + citizens "
        f"{bench_cpu / total * 1e6:.0f} µs (busy {bot_cpu / elapsed:.0%} and "
        f"{bench_cpu / elapsed:.0%} of a core)"
    )
    if target.server_pid_file:  # SQLite's work is inside the bot's process, counted above
        print(
            f"CPU per answer of the {target.label} server: {server_cpu / total * 1e6:.0f} µs "
            f"(busy {server_cpu / elapsed:.0%} of a core, all its processes)"
        )
    reference = (reference + reference_cost()) / 2
    print(
        f"machine yardstick: {reference:.0f} µs to parse one update (before and after); "
        f"bot CPU per answer = {bot_cpu / total * 1e6 / reference:.1f} yardsticks"
    )
    print(f"stored: {stored} answers, {completed} completed responses; bot exit status {status}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile_lines)
    ok = stored == total and completed == args.citizens and status == 0
    print("OK: every answer stored" if ok else "FAILED: answers missing or unclean exit")
    return Outcome(
        total / elapsed,
        p50 * 1000,
        p99 * 1000,
        bot_cpu / total * 1e6,
        server_cpu / total * 1e6,
        bench_cpu / total * 1e6,
        reference,
        ok,
    )


def profile_path(args: argparse.Namespace, database: str) -> str | None:
    """`--profile FILE` as given for one run; `FILE` with the database's name before its
    suffix when there are two runs, so that the second does not overwrite the first."""
    if not args.profile or args.database == SQLITE:
        return args.profile
    path = Path(args.profile)
    return str(path.with_name(f"{path.stem}-{database}{path.suffix}"))


def compare(on_postgres: Outcome, on_sqlite: Outcome) -> bool:
    """The comparison table and the verdict against the target, on PostgreSQL."""
    print_comparison(
        [
            Figure("answers/s", on_postgres.answers_per_second, on_sqlite.answers_per_second),
            Figure("update → reply p50", on_postgres.p50_ms, on_sqlite.p50_ms, 1, " ms"),
            Figure("update → reply p99", on_postgres.p99_ms, on_sqlite.p99_ms, 1, " ms"),
            Figure("bot CPU per answer", on_postgres.bot_cpu_us, on_sqlite.bot_cpu_us, 0, " µs"),
            Figure(
                "database server CPU per answer",
                on_postgres.server_cpu_us,
                on_sqlite.server_cpu_us,
                0,
                " µs",
            ),
            Figure(
                "bot + database CPU per answer",
                on_postgres.bot_cpu_us + on_postgres.server_cpu_us,
                on_sqlite.bot_cpu_us + on_sqlite.server_cpu_us,
                0,
                " µs",
            ),
            Figure(
                "bot CPU per answer, yardsticks",
                on_postgres.bot_yardsticks,
                on_sqlite.bot_yardsticks,
                1,
            ),
            Figure(
                "bench CPU per answer", on_postgres.bench_cpu_us, on_sqlite.bench_cpu_us, 0, " µs"
            ),
            Figure("machine yardstick", on_postgres.yardstick_us, on_sqlite.yardstick_us, 0, " µs"),
        ]
    )
    rate = on_postgres.answers_per_second
    verdict = (
        "met" if rate >= TARGET else f"missed by {TARGET - rate:,.0f} ({1 - rate / TARGET:.0%})"
    )
    print(f"\ntarget ≥ {TARGET:,} answers/s with every answer stored, on PostgreSQL: {verdict}")
    ok = on_postgres.ok and on_sqlite.ok
    print("OK: every answer stored on both" if ok else "FAILED: answers missing or unclean exit")
    return ok


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="civicpulse-bench-") as tmp:
        directory = Path(args.keep or tmp)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            if args.database == SQLITE:
                target = Target.sqlite(directory / DATABASE_FILE)
                outcome = await scenario(args, directory, target, args.profile)
                return 0 if outcome.ok else 1

            async def one(target: Target) -> Outcome:
                """Each run in a folder of its own: its bot.log, surveys and profile."""
                folder = directory / target.label.lower()
                folder.mkdir(exist_ok=True)
                profile = profile_path(args, target.label.lower())
                return await scenario(args, folder, target, profile)

            sqlite = Target.sqlite(directory / SQLITE / DATABASE_FILE)
            return 0 if compare(*await on_both(one, sqlite)) else 1
        except TimedOut:
            return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds between reply and next press"
    )
    parser.add_argument("--broadcast-rate", type=float, default=1000.0)
    parser.add_argument(
        "--throttle-rate", type=float, default=0.0, help="THROTTLE_RATE for the bot (0: off)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", help="run the bot under cProfile, writing stats here")
    parser.add_argument("--profile-lines", type=int, default=40)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (database, bot.log)")
    add_database_option(parser)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    os.umask(0o077)  # the databases it builds are private, as the bot makes them
    sys.exit(main())
