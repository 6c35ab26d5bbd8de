"""Story: the person runs a full-load-and-cdc task and watches it replicate: the phase moves from the full load to
ongoing replication, source and target latency (read from CloudWatch with GetMetricData) appear with a sparkline,
and each table shows the changes captured and applied. Choosing a change-capturing type shows its prerequisites.

The control plane is the scripted DMS client (moto has no DescribeTableStatistics); CloudWatch is moto's, holding
the metrics DMS would publish under its dimensions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from textual.pilot import Pilot
from textual.widgets import DataTable, RadioButton, Sparkline

from dms_tui.checks.cdc_prerequisites import Prerequisite
from dms_tui.screens.migrate import MigrateScreen
from dms_tui.steps.cdc_prerequisites import CdcPrerequisites
from dms_tui.steps.cdc_watch import CdcPhase
from dms_tui.steps.migrate import CLOCK, CLOUDWATCH_CLIENT, METRICS_CLOCK, METRICS_INTERVAL, PREREQUISITES
from tests.ui.scripted_dms import T0, FixedClock, ScriptedDms, table
from tests.ui.scripted_dms import Step as Answer
from tests.ui.test_migrate_screen import (
    ARN,
    SALES_MAPPINGS,
    _snapshot_app,
    events_of,
    fake_outputs,
    hint,
    migrate_app,
    open_migrate,
    text_of,
    until,
)

INSTANCE_ID = "INSTANCE"  # fake_outputs()'s replication instance ARN ends in it


def cdc_script() -> list[Answer]:
    """Loading, then loaded with changes captured and applied; the task keeps running (the last answer holds)."""
    return [
        Answer("running", 40, [table("sales", "customers", "Full load", 10), table("sales", "orders", "Before load")]),
        Answer(
            "running",
            100,
            [
                table(
                    "sales",
                    "customers",
                    "Table completed",
                    20,
                    Inserts=12,
                    Updates=4,
                    Deletes=2,
                    AppliedInserts=12,
                    AppliedUpdates=4,
                    AppliedDeletes=2,
                ),
                table(
                    "sales",
                    "orders",
                    "Table completed",
                    300,
                    Inserts=30,
                    Updates=9,
                    Deletes=1,
                    AppliedInserts=28,
                    AppliedUpdates=9,
                    AppliedDeletes=1,
                ),
                # no key on the target: its inserts apply, its updates and deletes cannot find their row
                table(
                    "sales",
                    "visits",
                    "Table completed",
                    50,
                    Inserts=7,
                    Updates=3,
                    Deletes=2,
                    AppliedInserts=7,
                ),
            ],
            elapsed_ms=42000,
        ),
    ]


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    """moto's CloudWatch with the task's CDC metrics as DMS publishes them (namespace AWS/DMS, its dimensions)."""
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        dimensions = [
            {"Name": "ReplicationInstanceIdentifier", "Value": INSTANCE_ID},
            {"Name": "ReplicationTaskIdentifier", "Value": ARN.rsplit(":", 1)[-1]},
        ]
        values = {
            "CDCLatencySource": 0.3,
            "CDCLatencyTarget": 0.6,
            "CDCIncomingChanges": 4.0,
            "CDCThroughputRowsSource": 21.0,
            "CDCThroughputRowsTarget": 20.0,
        }
        client.put_metric_data(
            Namespace="AWS/DMS",
            MetricData=[
                {"MetricName": name, "Value": value, "Dimensions": dimensions, "Timestamp": T0}
                for name, value in values.items()
            ],
        )
        yield client


def cdc_options(cloudwatch: Any, clock_step_s: float = 2.0) -> dict[str, Any]:
    return {
        CLOCK: FixedClock(step_s=clock_step_s),
        CLOUDWATCH_CLIENT: cloudwatch,
        METRICS_CLOCK: lambda: T0 + dt.timedelta(seconds=30),
        METRICS_INTERVAL: 0.05,
    }


def started_cdc_task(client: ScriptedDms) -> None:
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load-and-cdc",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    client.start_replication_task(ReplicationTaskArn=ARN, StartReplicationTaskType="start-replication")


async def test_a_cdc_task_shows_its_phase_latency_and_applied_changes(cloudwatch: Any) -> None:
    client = ScriptedDms(cdc_script())
    started_cdc_task(client)
    app = migrate_app(client, **cdc_options(cloudwatch))
    async with app.run_test(size=(80, 24)) as pilot:
        app.journey.update_task(arn=ARN)
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await until(pilot, lambda: screen.phase is CdcPhase.ONGOING)
        screen.stop_watching()

        assert screen.query_one("#cdc-panel").display
        phase = text_of(screen, "#cdc-phase")
        assert "full load › applying cached changes › ▶ ongoing replication" in phase
        latency = text_of(screen, "#cdc-latency-label")
        assert "source 0.30 s" in latency and "target 0.60 s" in latency and "incoming 4" in latency
        assert "applied 20/s" in latency
        assert screen.query_one("#cdc-latency", Sparkline).data == screen.latency_history
        assert 0.6 in screen.latency_history
        tables = screen.query_one("#task-tables", DataTable)
        assert [str(c) for c in tables.get_row("sales.orders")] == [
            "sales.orders",
            "Table completed",
            "300",
            "30/9/1",
            "28/9/1",
        ]
        assert "phase: ongoing replication" in events_of(screen)
        assert [str(c) for c in tables.get_row("sales.visits")][3:] == ["7/3/2", "7/0/0"]
        assert (
            "! sales.visits: 5 updates/deletes captured, none applied: DMS applies them only to a table with a "
            "primary key or unique index" in events_of(screen)
        )
        assert "sales.orders: " not in events_of(screen).split("phase: ongoing")[-1]  # applied tables say nothing
        # the latency's equivalent command: the same GetMetricData call, as printed
        command = hint(screen)
        assert command.startswith("aws cloudwatch get-metric-data --metric-data-queries ")
        assert "CDCLatencyTarget" in command and "ReplicationInstanceIdentifier" in command and INSTANCE_ID in command
        # the workload key exists in the sandbox for a change-capturing task
        assert screen.check_action("toggle_workload", ()) is True


async def test_choosing_a_cdc_type_shows_the_prerequisites_with_their_fixes() -> None:
    report = CdcPrerequisites(
        "full-load-and-cdc",
        (
            Prerequisite(
                "source.wal_level",
                "source",
                "logical decoding on the source",
                False,
                "wal_level = replica (logical decoding needs logical)",
                "Run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL.",
            ),
            Prerequisite(
                "source.identity.sales.audit",
                "source",
                "sales.audit: primary key or replica identity",
                False,
                "no primary key",
                "ALTER TABLE ... ADD PRIMARY KEY (...);",
                blocker=False,
            ),
        ),
    )
    asked: list[str] = []

    def prerequisites(_env: Any, _outputs: Any, _mappings: Any, kind: str) -> CdcPrerequisites:
        asked.append(kind)
        return report

    app = migrate_app(ScriptedDms([]), **{PREREQUISITES: prerequisites})
    async with app.run_test(size=(100, 40)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        assert not screen.query_one("#cdc-prerequisites").display  # full-load needs none of it
        assert screen.check_action("toggle_workload", ()) is False
        screen.query_one("#type-full-load-and-cdc", RadioButton).value = True
        await until(pilot, lambda: screen.prerequisites is report)
        shown = text_of(screen, "#cdc-prerequisites")
        assert "CDC prerequisites NOT met" in shown
        assert "✗ logical decoding on the source: wal_level = replica" in shown
        assert "fix: Run ALTER SYSTEM SET wal_level = logical" in shown
        assert "! sales.audit: primary key or replica identity: no primary key" in shown
        assert asked == ["full-load-and-cdc"]
        assert screen.check_action("toggle_workload", ()) is True  # a sandbox, a change-capturing type


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_a_cdc_task_replicating(
    snap_compare, monkeypatch: pytest.MonkeyPatch, cloudwatch: Any, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    client = ScriptedDms(cdc_script())
    # A clock that stands still: which poll saw the phase change is timing, so every event carries the same time.
    app = _snapshot_app(monkeypatch, client, **cdc_options(cloudwatch, clock_step_s=0))
    started_cdc_task(client)

    async def open_screen(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await pilot.app.workers.wait_for_complete()
        app.journey.update(outputs=fake_outputs().to_json())  # the journey the opened environment left
        app.journey.update_task(arn=ARN)
        screen = MigrateScreen(app.journey)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.phase is CdcPhase.ONGOING and len(screen.latency_history) >= 1)
        screen.stop_watching()
        await pilot.app.workers.wait_for_complete()
        screen.latency_history = [0.6]  # how many reads happened before the stop is timing: show one
        screen._render_latency()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_screen)
