"""How many DMS API calls per minute the task poller makes while a task runs, idles, is throttled, and after it ends.

Runs the real :class:`dms_tui.aws.task_poller.TaskPoller` against a stubbed client on simulated time (each pause
advances a virtual clock instead of sleeping), so the figures are exact for the default schedule and take well under
a second to compute. Usage: ``.venv/bin/python bench/poller_calls.py [--tables 1200] [--minutes 10]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from dms_tui.aws.task_poller import PollSchedule, TaskPoller

ARN = "arn:aws:dms:eu-west-1:123456789012:task:bench"
PAGE_SIZE = 500  # DescribeTableStatistics' maximum MaxRecords


class SimulatedClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.t)


@dataclass
class StubbedDms:
    """Answers like DMS for a task whose status is a function of simulated time; counts every call."""

    clock: SimulatedClock
    status_at: Callable[[float], str]  # "throttled" raises ThrottlingException instead of answering
    tables: int
    calls: Counter[str]

    def describe_replication_tasks(self, **_: Any) -> dict[str, Any]:
        self.calls["DescribeReplicationTasks"] += 1
        status = self.status_at(self.clock.t)
        if status == "throttled":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeReplicationTasks"
            )
        return {
            "ReplicationTasks": [
                {
                    "ReplicationTaskArn": ARN,
                    "ReplicationTaskIdentifier": "bench",
                    "MigrationType": "full-load",
                    "Status": status,
                }
            ]
        }

    def get_paginator(self, _name: str) -> StubbedDms:
        return self

    def paginate(self, **_: Any) -> Any:
        for start in range(0, max(self.tables, 1), PAGE_SIZE):
            self.calls["DescribeTableStatistics"] += 1
            count = min(PAGE_SIZE, self.tables - start)
            yield {
                "TableStatistics": [
                    {"SchemaName": "s", "TableName": f"t{start + i}", "TableState": "Full load"} for i in range(count)
                ]
            }


def calls_per_minute(
    status_at: Callable[[float], str],
    *,
    minutes: float,
    tables: int,
    schedule: PollSchedule,
    stop_when_ended: bool = True,
    count_from_s: float = 0.0,
) -> float:
    """Watch for ``minutes`` of simulated time; API calls per minute counted from ``count_from_s`` on."""
    clock = SimulatedClock()
    calls: Counter[str] = Counter()
    client = StubbedDms(clock, status_at, tables, calls)
    poller = TaskPoller(client, ARN, schedule, stop_when_ended=stop_when_ended, now=clock.now)
    horizon = minutes * 60.0
    counted = 0

    def wait(seconds: float) -> bool:
        clock.t += seconds
        return clock.t >= horizon

    before = 0
    for _ in poller.events(wait=wait):
        total = sum(calls.values())
        if clock.t >= count_from_s:
            counted += total - before
        before = total
    window = (horizon - count_from_s) / 60.0
    return counted / window


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tables", type=int, default=1200, help="tables in the task (500 per statistics page)")
    parser.add_argument("--minutes", type=float, default=10.0, help="simulated minutes per phase")
    args = parser.parse_args(argv)
    schedule = PollSchedule()
    m, n = args.minutes, args.tables
    end_s = 60.0  # the task runs one minute, then stops; the rest of the window is "after it ends"
    figures = {
        "running": calls_per_minute(lambda t: "running", minutes=m, tables=n, schedule=schedule),
        "idle (ready, never started)": calls_per_minute(lambda t: "ready", minutes=m, tables=n, schedule=schedule),
        "stopped, screen still watching": calls_per_minute(
            lambda t: "stopped", minutes=m, tables=n, schedule=schedule, stop_when_ended=False, count_from_s=60.0
        ),
        "throttled (every call refused)": calls_per_minute(
            lambda t: "throttled", minutes=m, tables=n, schedule=schedule
        ),
        "after it ends": calls_per_minute(
            lambda t: "running" if t < end_s else "stopped",
            minutes=m,
            tables=n,
            schedule=schedule,
            count_from_s=end_s + 1e-9,
        ),
    }
    pages = -(-n // PAGE_SIZE)
    print(
        f"TaskPoller API calls per minute — {n} tables ({pages} statistics page(s) per poll), "
        f"{m:g} simulated minutes per phase, schedule {schedule}"
    )
    for phase, rate in figures.items():
        print(f"  {phase:<34} {rate:8.1f} calls/min")
    return figures


if __name__ == "__main__":
    main()
