"""Wall-clock time of `dms-tui diff` as a whole process: 1,000,000 identical rows in two real PostgreSQL databases.

What a person waits for after typing the command: Python start-up, imports, two logins, the checksum scans on both
servers, the report. Builds (once; kept in --workdir) two local clusters holding the same table as
bench/diff_bench.py (six columns of mixed types, integer primary key), then runs

    python -m dms_tui diff --source URL --target URL --table public.bench_identical_N --json

as a subprocess --repeat times (the password travels in PGPASSWORD, never in argv) and prints the best and the
median run. The issue's budget is 0.5 s for 1,000,000 rows on the 2-core sandbox machine.

    .venv/bin/python bench/diff_startup.py                 # 1,000,000 rows, best and median of 7
    .venv/bin/python bench/diff_startup.py --rows 20000 --repeat 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diff_bench import DATABASE, Side, build  # noqa: E402  # the sibling benchmark builds the same clusters and table

BUDGET_SECONDS = 0.5


def diff_argv(sides: tuple[Side, Side], table: str) -> list[str]:
    """The command, with URLs that carry no password (it comes from PGPASSWORD, as a person would pass it)."""
    source, target = (side.cluster.url(DATABASE) for side in sides)
    return [sys.executable, "-m", "dms_tui", "diff", "--source", source, "--target", target, "--table", table, "--json"]


def run_once(argv: list[str], password: str) -> tuple[float, int, dict[str, Any]]:
    env = {**os.environ, "PGPASSWORD": password}
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our own argv
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"dms-tui diff failed with exit code {done.returncode}:\n{done.stderr}")
    return elapsed, done.returncode, json.loads(done.stdout)


def compile_package() -> None:
    """Byte-compile dms_tui as a wheel install does: this machine's image sets PYTHONDONTWRITEBYTECODE, so without it
    an editable checkout compiles every module it imports again on every start, which no installed user pays."""
    import compileall

    import dms_tui

    compileall.compile_dir(Path(dms_tui.__file__).parent, quiet=1, workers=0)


def measure(sides: tuple[Side, Side], table: str, repeat: int) -> dict[str, Any]:
    # Both clusters of this benchmark share one password so that one PGPASSWORD serves both logins.
    argv = diff_argv(sides, table)
    run_once(argv, sides[0].password)  # warm the page cache and the servers' catalogs once, untimed
    times: list[float] = []
    code, document = 0, {}
    for _ in range(repeat):
        elapsed, code, document = run_once(argv, sides[0].password)
        times.append(elapsed)
        print(f"  run: {elapsed:.3f} s", flush=True)
    [report] = document["tables"]
    figures = {
        "table": table,
        "rows": report["source_rows"],
        "identical": report["identical"],
        "exit_code": code,
        "best_seconds": round(min(times), 3),
        "median_seconds": round(statistics.median(times), 3),
        "engine_seconds": document["elapsed_seconds"],
        "runs": len(times),
        "budget_seconds": BUDGET_SECONDS,
    }
    print(
        f"dms-tui diff of {report['source_rows']:,} identical rows as a process: best {min(times):.3f} s, "
        f"median {statistics.median(times):.3f} s (engine {document['elapsed_seconds']:.3f} s; "
        f"budget {BUDGET_SECONDS} s)",
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dms-tui-diff-bench")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs (best and median are reported)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the table even if it exists")
    parser.add_argument("--keep", action="store_true", help="leave the clusters running")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document at the end")
    args = parser.parse_args(argv)
    sides = (Side(args.workdir, "source"), Side(args.workdir, "target"))
    try:
        sides[1].cluster.set_password(sides[1].cluster.superuser, sides[0].password)
        table = f"bench_identical_{args.rows}"
        build(sides, table, args.rows, False, args.rebuild)
        compile_package()
        figures = measure(sides, f"public.{table}", args.repeat)
    finally:
        if not args.keep:
            for side in sides:
                side.cluster.stop()
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
