"""Benchmark of `civicpulse publish`: the public site of a national wave.

Not a test: it prints its figures. It reuses the database `bench/export.py` builds and
caches (two closed waves of 500,000 respondents each across the catalog's 85 regions and
their municipalities, ten million answers by default), then publishes the second wave's
site — the ratings, the change since the first wave, the groups and the situations at both
levels, a page per region in two languages, the map — exactly as a person types it, in a
fresh process, and reports the wall time, CPU time and peak memory, and the site's size.

    .venv/bin/python bench/publish.py                    # full size (builds ~0.8 GB once)
    .venv/bin/python bench/publish.py --respondents 20000

Target: under 30 s. Exits with status 1 if it is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.export import CACHE, NEW_WAVE, build, civicpulse, database_path, warm_up  # noqa: E402

TARGET_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=500_000, help="per wave")
    parser.add_argument("--repeat", type=int, default=1, help="runs (median)")
    args = parser.parse_args()
    path = database_path(args.respondents)
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o700)  # the database in it is personal data, as the bot's is
    if not path.exists():
        print(
            f"building {path.name} ({args.respondents:,} respondents × 2 waves)…", file=sys.stderr
        )
        build(path, args.respondents)
    warm_up(path)
    site = CACHE / "site"
    runs = civicpulse(path, ["publish", "--wave", str(NEW_WAVE), "-o", str(site)], args.repeat)
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html"]
    data = sum(p.stat().st_size for p in files if p.suffix == ".csv")
    total = sum(p.stat().st_size for p in files)
    met = runs.median < TARGET_SECONDS
    print(
        f"civicpulse publish --wave {NEW_WAVE} ({args.respondents:,} respondents a wave): "
        f"{runs.median:.2f} s {runs.spread()} wall, {runs.median_cpu:.2f} s CPU, "
        f"{runs.peak:.0f} MB peak; target under {TARGET_SECONDS:.0f} s: "
        f"{'met' if met else 'MISSED'}"
    )
    print(
        f"site: {len(files)} files ({len(pages)} pages), {total / 2**20:.1f} MB "
        f"of which the CSV files {data / 2**20:.1f} MB"
    )
    shutil.rmtree(site)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
