"""Watching the task: snapshots from DescribeReplicationTasks + every page of DescribeTableStatistics, paced calls."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dms_fixtures import REGION, emulator

from dms_tui.aws.task_poller import (
    PollFailed,
    PollSchedule,
    ReplicationTaskSnapshot,
    TaskGone,
    TaskPoller,
)
from dms_tui.dmstask.migration import TaskDraft
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.steps.migrate import MigrateStep, TaskLaunched
from dms_tui.steps.services import StepServices

TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:demo-task"
DESCRIBE = {"Filters": [{"Name": "replication-task-arn", "Values": [TASK_ARN]}], "WithoutSettings": True}
START = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def task(status: str, *, loaded: int = 0, loading: int = 0, percent: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "ReplicationTasks": [
            {
                "ReplicationTaskIdentifier": "demo-task",
                "ReplicationTaskArn": TASK_ARN,
                "MigrationType": "full-load",
                "Status": status,
                "ReplicationTaskStats": {
                    "FullLoadProgressPercent": percent,
                    "ElapsedTimeMillis": 1500,
                    "TablesLoaded": loaded,
                    "TablesLoading": loading,
                    "TablesQueued": 0,
                    "TablesErrored": 0,
                    "StartDate": START,
                },
                **extra,
            }
        ]
    }


def table(name: str, state: str, rows: int) -> dict[str, Any]:
    return {
        "SchemaName": "demo_schema",
        "TableName": name,
        "TableState": state,
        "FullLoadRows": rows,
        "Inserts": 0,
        "Updates": 0,
        "Deletes": 0,
        "Ddls": 0,
        "FullLoadStartTime": START,
        "LastUpdateTime": START,
        "ValidationState": "Not enabled",
    }


def stats_pages(stub: Stubber, pages: list[list[dict[str, Any]]]) -> None:
    """Queue DescribeTableStatistics pages chained by Marker, as the paginator asks for them."""
    for i, entries in enumerate(pages):
        expected: dict[str, Any] = {"ReplicationTaskArn": TASK_ARN, "MaxRecords": 500}
        if i:
            expected["Marker"] = f"page-{i}"
        answer: dict[str, Any] = {"ReplicationTaskArn": TASK_ARN, "TableStatistics": entries}
        if i + 1 < len(pages):
            answer["Marker"] = f"page-{i + 1}"
        stub.add_response("describe_table_statistics", answer, expected)


@pytest.fixture
def stubbed() -> Any:
    # moto 5.2.5 has no DescribeTableStatistics (in-process it raises NotImplementedError), hence the Stubber.
    return boto3.client("dms", region_name=REGION)


def test_a_running_task_snapshot_gathers_every_page_of_table_statistics(stubbed: Any) -> None:
    poller = TaskPoller(stubbed, TASK_ARN)
    with Stubber(stubbed) as stub:
        stub.add_response("describe_replication_tasks", task("running", loaded=1, loading=2, percent=40), DESCRIBE)
        stats_pages(
            stub, [[table("a", "Table completed", 4), table("b", "Before load", 0)], [table("c", "Full load", 7)]]
        )
        snapshot = poller.poll_once()
        stub.assert_no_pending_responses()
    assert isinstance(snapshot, ReplicationTaskSnapshot)
    assert snapshot.status == "running" and not snapshot.ended and not snapshot.succeeded
    assert snapshot.stats.full_load_progress_percent == 40 and snapshot.stats.tables_loading == 2
    assert snapshot.stats.start_date == START
    assert [(t.table_name, t.table_state, t.full_load_rows) for t in snapshot.tables] == [
        ("a", "Table completed", 4),
        ("b", "Before load", 0),
        ("c", "Full load", 7),
    ]
    assert snapshot.tables[0].completed and snapshot.tables[0].validation_state == "Not enabled"
    assert poller.next_delay_s == PollSchedule().active_s


def test_a_task_that_was_never_started_is_not_asked_for_table_statistics(stubbed: Any) -> None:
    poller = TaskPoller(stubbed, TASK_ARN)
    with Stubber(stubbed) as stub:  # only one answer queued: a DescribeTableStatistics call would fail the test
        stub.add_response("describe_replication_tasks", task("ready"), DESCRIBE)
        snapshot = poller.poll_once()
    assert isinstance(snapshot, ReplicationTaskSnapshot) and snapshot.tables == ()


def test_statistics_that_fail_still_give_a_task_snapshot_with_the_reason(stubbed: Any) -> None:
    with Stubber(stubbed) as stub:
        stub.add_response("describe_replication_tasks", task("running"), DESCRIBE)
        stub.add_client_error(
            "describe_table_statistics", "AccessDeniedFault", "not allowed: dms:DescribeTableStatistics"
        )
        snapshot = TaskPoller(stubbed, TASK_ARN).poll_once()
    assert isinstance(snapshot, ReplicationTaskSnapshot) and snapshot.status == "running"
    assert snapshot.table_statistics_error == "AccessDeniedFault: not allowed: dms:DescribeTableStatistics"


def test_the_poller_backs_off_while_idle_and_when_throttled_and_speeds_up_when_running(stubbed: Any) -> None:
    schedule = PollSchedule(active_s=1, idle_s=5, idle_max_s=30, failing_max_s=60, growth=2)
    poller = TaskPoller(stubbed, TASK_ARN, schedule, stop_when_ended=False)
    delays: list[float] = []
    with Stubber(stubbed) as stub:
        for _ in range(5):
            stub.add_response("describe_replication_tasks", task("ready"), DESCRIBE)
        for _ in range(3):
            stub.add_client_error("describe_replication_tasks", "ThrottlingException", "Rate exceeded")
        stub.add_response("describe_replication_tasks", task("running"), DESCRIBE)
        stats_pages(stub, [[table("a", "Full load", 1)]])
        events = []
        for _ in range(9):
            events.append(poller.poll_once())
            delays.append(poller.next_delay_s)
        stub.assert_no_pending_responses()
    assert delays == [5, 10, 20, 30, 30, 60, 60, 60, 1]
    failed = [e for e in events if isinstance(e, PollFailed)]
    assert len(failed) == 3 and all(e.throttled and "Rate exceeded" in e.message for e in failed)
    assert [e.retry_in_s for e in failed] == [60, 60, 60]


def test_the_sync_iterator_ends_with_the_task_and_waits_only_between_answers(stubbed: Any) -> None:
    waits: list[float] = []
    poller = TaskPoller(stubbed, TASK_ARN, PollSchedule(active_s=2))
    with Stubber(stubbed) as stub:
        stub.add_response("describe_replication_tasks", task("starting"), DESCRIBE)
        stats_pages(stub, [[]])
        stub.add_response("describe_replication_tasks", task("running", loading=1, percent=50), DESCRIBE)
        stats_pages(stub, [[table("demo_accounts", "Full load", 2)]])
        finished = task("stopped", loaded=1, percent=100, StopReason="Stop Reason FULL_LOAD_ONLY_FINISHED")
        stub.add_response("describe_replication_tasks", finished, DESCRIBE)
        stats_pages(stub, [[table("demo_accounts", "Table completed", 4)]])
        events = list(poller.events(wait=lambda s: waits.append(s) or False))
        stub.assert_no_pending_responses()
    assert [e.status for e in events if isinstance(e, ReplicationTaskSnapshot)] == ["starting", "running", "stopped"]
    last = events[-1]
    assert isinstance(last, ReplicationTaskSnapshot) and last.ended and last.succeeded
    assert last.stop_reason == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert waits == [2, 2]  # two pauses between three answers, none after the last


def test_a_deleted_task_ends_the_watch(stubbed: Any) -> None:
    with Stubber(stubbed) as stub:
        stub.add_client_error("describe_replication_tasks", "ResourceNotFoundFault", "No Tasks found")
        events = list(TaskPoller(stubbed, TASK_ARN).events(wait=lambda s: False))
    assert len(events) == 1 and isinstance(events[0], TaskGone)


def test_setting_the_stop_event_ends_the_watch_promptly(stubbed: Any) -> None:
    stop = threading.Event()
    poller = TaskPoller(stubbed, TASK_ARN, PollSchedule(active_s=30))
    with Stubber(stubbed) as stub:
        stub.add_response("describe_replication_tasks", task("running"), DESCRIBE)
        stats_pages(stub, [[]])
        threading.Timer(0.2, stop.set).start()
        began = time.monotonic()
        events = list(poller.events(stop))
    assert len(events) == 1 and time.monotonic() - began < 5  # the 30 s pause was cut short


class SlowClient:
    """Answers after a delay and records how many calls were ever in flight at once."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0
        self.lock = threading.Lock()

    def describe_replication_tasks(self, **_: Any) -> dict[str, Any]:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.calls += 1
            status = self.statuses[min(self.calls - 1, len(self.statuses) - 1)]
        time.sleep(0.05)
        with self.lock:
            self.in_flight -= 1
        return task(status)

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_table_statistics"
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"TableStatistics": [table("a", "Table completed", 1)]}]


async def test_the_async_form_never_overlaps_calls_and_stops_with_the_task() -> None:
    client = SlowClient(["running"] * 4 + ["stopped"])
    # An interval far shorter than a call: a timer-driven poll would overlap here, a rescheduled one cannot.
    poller = TaskPoller(client, TASK_ARN, PollSchedule(active_s=0.001, idle_s=0.001))
    events = [e async for e in poller.aevents()]
    assert client.max_in_flight == 1 and client.calls == 5
    assert isinstance(events[-1], ReplicationTaskSnapshot) and events[-1].status == "stopped"


async def test_cancelling_the_async_consumer_stops_polling() -> None:
    client = SlowClient(["running"])
    poller = TaskPoller(client, TASK_ARN, PollSchedule(active_s=0.01))
    seen: list[Any] = []

    async def consume() -> None:
        async for event in poller.aevents():
            seen.append(event)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    calls = client.calls
    await asyncio.sleep(0.2)
    assert seen and client.calls <= calls + 1  # at most the call already in its thread finishes


def test_watching_a_moto_task_reads_status_from_moto(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    step = MigrateStep(emulator().with_outputs(outputs), StepServices(dms_client=lambda _: dms_client))
    [launched] = [e for e in step.launch(TaskDraft(identifier="demo-task")) if isinstance(e, TaskLaunched)]
    arn = launched.task.arn

    # Status from moto; DescribeTableStatistics (absent from moto 5.2.5) from a stubbed client of the same region.
    stats_client = boto3.client("dms", region_name=REGION)

    class MotoWithStubbedStatistics:
        describe_replication_tasks = dms_client.describe_replication_tasks
        get_paginator = stats_client.get_paginator

    poller = TaskPoller(MotoWithStubbedStatistics(), arn)
    with Stubber(stats_client) as stub:
        stub.add_response(
            "describe_table_statistics",
            {"ReplicationTaskArn": arn, "TableStatistics": [table("demo_accounts", "Full load", 2)]},
            {"ReplicationTaskArn": arn, "MaxRecords": 500},
        )
        running = poller.poll_once()
    assert isinstance(running, ReplicationTaskSnapshot) and running.status == "running"
    assert running.tables[0].full_load_rows == 2
    step.delete(arn)
    assert isinstance(poller.poll_once(), TaskGone)


def test_a_task_that_stays_stopped_is_not_asked_for_its_unchanged_table_statistics_again(stubbed: Any) -> None:
    poller = TaskPoller(stubbed, TASK_ARN, stop_when_ended=False)
    with Stubber(stubbed) as stub:  # statistics queued once: a second DescribeTableStatistics would fail the test
        stub.add_response("describe_replication_tasks", task("stopped", loaded=1), DESCRIBE)
        stats_pages(stub, [[table("a", "Table completed", 4)]])
        stub.add_response("describe_replication_tasks", task("stopped", loaded=1), DESCRIBE)
        first, second = poller.poll_once(), poller.poll_once()
        stub.assert_no_pending_responses()
    assert isinstance(first, ReplicationTaskSnapshot) and isinstance(second, ReplicationTaskSnapshot)
    assert second.tables == first.tables and second.succeeded
