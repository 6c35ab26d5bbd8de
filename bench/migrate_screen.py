"""How much a DMS snapshot costs the Migrate screen: the core diff (events, rates) and the screen's update, by table count.

A task polls every 2 s while it runs; each answer updates one DataTable row per table. This measures, for N tables,
(1) activity_between + table_rates on two consecutive snapshots (pure Python, below the UI line) and (2) the screen
applying a snapshot (cells updated, events written) and settling, headless at 160x48.

    .venv/bin/python bench/migrate_screen.py [--tables 10 100 500 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dms_tui.aws.task_events import activity_between, table_rates  # noqa: E402
from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics, TaskStats  # noqa: E402

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def snapshot(tables: int, round_: int) -> ReplicationTaskSnapshot:
    """Round r: every table has r*1000 rows; one table in ten changes state each round (so events are written)."""
    entries = tuple(
        TableStatistics(
            "bench",
            f"table_{i:05d}",
            "Table completed" if i % 10 < round_ else "Full load",
            full_load_rows=round_ * 1000 + i,
        )
        for i in range(tables)
    )
    done = sum(1 for t in entries if t.completed)
    return ReplicationTaskSnapshot(
        "arn:aws:dms:us-east-1:123456789012:task:BENCH",
        "bench-task",
        "full-load",
        "running",
        None,
        None,
        TaskStats(full_load_progress_percent=done * 100 // tables, tables_loaded=done, tables_loading=tables - done),
        entries,
        T0 + dt.timedelta(seconds=2 * round_),
    )


def core_cost(tables: int, rounds: int) -> float:
    """Median milliseconds for activity_between + table_rates between consecutive snapshots."""
    timings = []
    for r in range(1, rounds + 1):
        before, after = snapshot(tables, r - 1), snapshot(tables, r)
        started = time.perf_counter()
        activity_between(before, after)
        table_rates(before, after)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def screen_cost(tables: int, rounds: int) -> tuple[float, float, float]:
    """(first snapshot ms: rows added, median later snapshot ms: cells updated, median settle with nothing new ms)."""
    from dms_tui.app import DmsTuiApp
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey
    from dms_tui.screens.migrate import MigrateScreen
    from dms_tui.steps.migrate import SOURCE_CATALOG
    from tests.ui.conftest import instant_services

    journey = Journey.resume_or_start("bench", "sandbox")
    services = instant_services(
        Environment(mode="sandbox", region="us-east-1"), options={SOURCE_CATALOG: lambda *_: []}
    )
    app = DmsTuiApp(journey, services=services)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        screen = MigrateScreen(journey)
        await app.push_screen(screen)
        await pilot.pause()
        timings = []
        for r in range(rounds + 1):
            started = time.perf_counter()
            screen.show_snapshot(snapshot(tables, r))
            await pilot.pause()
            timings.append((time.perf_counter() - started) * 1000)
        idle = []
        for _ in range(rounds):
            started = time.perf_counter()
            await pilot.pause()
            idle.append((time.perf_counter() - started) * 1000)
    return timings[0], statistics.median(timings[1:]), statistics.median(idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 100, 500, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["DMS_TUI_HOME"] = tempfile.mkdtemp(prefix="dms-tui-bench-")
    print(f"{'tables':>7} {'core ms':>9} {'screen first ms':>16} {'screen update ms':>17} {'settle only ms':>15}")
    for tables in args.tables:
        first, update, idle = asyncio.run(screen_cost(tables, args.rounds))
        core = core_cost(tables, args.rounds)
        print(f"{tables:>7} {core:>9.2f} {first:>16.1f} {update:>17.1f} {idle:>15.1f}")


if __name__ == "__main__":
    main()
