"""Benchmark of the command line's start-up: how long a person waits for an answer.

Not a test: it prints its figures. Each command runs in a fresh process, the way an
administrator types it (the `civicpulse` script of this environment, a database in a
temporary folder), several times; the table gives the median and the fastest run in
milliseconds, and the median as a multiple of `python -c pass` measured in the same run,
so that a slower machine does not read as a slower program.

    .venv/bin/python bench/cli.py
    .venv/bin/python bench/cli.py --runs 21

Target: each command under 0.5 s. Before the command line stopped importing aiogram for
commands that never talk to Telegram, each took 3.5-4.5 s on the reference machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.5
COMMANDS = (
    ("civicpulse --help", ["--help"]),
    ("civicpulse wave list", ["wave", "list"]),
    ("civicpulse surveys list", ["surveys", "list"]),
)


def civicpulse() -> list[str]:
    """The installed script beside this interpreter, else the module (a source checkout)."""
    script = Path(sys.executable).with_name("civicpulse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command (default 11)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_PATH": str(Path(folder) / "civicpulse.db")}
        # One untimed run creates the database and compiles the bytecode.
        subprocess.run(
            [*civicpulse(), "wave", "list"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        baseline = statistics.median(timed([sys.executable, "-c", "pass"], env, args.runs))
        print(f"{'command':<26} {'median ms':>10} {'fastest ms':>11} {'x python':>9}  target")
        print(f"{'python -c pass':<26} {baseline * 1000:>10.0f} {'':>11} {1:>9.1f}")
        for label, words in COMMANDS:
            seconds = timed([*civicpulse(), *words], env, args.runs)
            median = statistics.median(seconds)
            verdict = "met" if median < TARGET_SECONDS else "MISSED"
            print(
                f"{label:<26} {median * 1000:>10.0f} {min(seconds) * 1000:>11.0f} "
                f"{median / baseline:>9.1f}  {verdict} (< {TARGET_SECONDS * 1000:.0f} ms)"
            )


if __name__ == "__main__":
    main()
