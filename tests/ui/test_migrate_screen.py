"""Story: the person defines the DMS task in a form that validates as they type, starts it, and watches it live.

The control plane here is a scripted DMS client (tests/ui/scripted_dms.py: real API shapes, every request validated
against botocore's model) because moto lacks DescribeTableStatistics and ReloadTables. The preview reads a real
source catalog (PostgreSQL behind a real forwarder, its secret in moto). The whole path against the sandbox's real
engine is tests/ui/test_migrate_sandbox_screen.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import (
    Button,
    ContentSwitcher,
    DataTable,
    Input,
    ProgressBar,
    RichLog,
    Sparkline,
    Static,
    TextArea,
)
from textual.worker import WorkerFailed

from dms_tui.app import ConfirmScreen, DmsTuiApp
from dms_tui.aws.task_poller import PollSchedule
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.screens.migrate import MigrateScreen
from dms_tui.steps.migrate import CLOCK, POLL_SCHEDULE, READY_INTERVAL, SOURCE_CATALOG
from dms_tui.widgets.command_hint import CommandHint
from tests.checks.moto_environment import REGION, MotoWorld, moto_environment
from tests.ui.conftest import instant_services
from tests.ui.scripted_dms import FixedClock, ScriptedDms, table
from tests.ui.scripted_dms import Step as Answer

FAST = PollSchedule(active_s=0.05, idle_s=0.05, idle_max_s=0.1, failing_max_s=0.1)
ARN = "arn:aws:dms:us-east-1:123456789012:task:SCRIPTED"

SALES_MAPPINGS = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "sales",
            "rule-action": "include",
            "object-locator": {"schema-name": "sales", "table-name": "%"},
        },
        {
            "rule-type": "selection",
            "rule-id": "2",
            "rule-name": "no-audit",
            "rule-action": "exclude",
            "object-locator": {"schema-name": "sales", "table-name": "audit_log"},
        },
        {
            "rule-type": "transformation",
            "rule-id": "3",
            "rule-name": "rename-orders",
            "rule-action": "rename",
            "rule-target": "table",
            "object-locator": {"schema-name": "sales", "table-name": "orders"},
            "value": "customer_orders",
        },
    ]
}


def fake_outputs() -> EnvironmentOutputs:
    def side(name: str) -> SideOutputs:
        return SideOutputs(
            vpc_id=f"vpc-{name}",
            vpc_cidr="10.0.0.0/16",
            cluster_identifier=f"{name}-cluster",
            database_name="demo",
            port=5432,
            secret_arn=f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}",
            nlb_arn=f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/net/{name}/1",
            target_group_arn=f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/{name}/1",
            endpoint_service_id=f"vpce-svc-{name}",
            vpc_endpoint_id=f"vpce-{name}",
            endpoint_dns_name=f"vpce-0{name}.vpce-svc.{REGION}.vpce.amazonaws.com",
            dms_endpoint_arn=f"arn:aws:dms:{REGION}:123456789012:endpoint:{name.upper()}",
        )

    return EnvironmentOutputs(
        source=side("source"),
        target=side("target"),
        dms_vpc_id="vpc-dms",
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn=f"arn:aws:dms:{REGION}:123456789012:rep:INSTANCE",
        dms_access_role_arn="arn:aws:iam::123456789012:role/dms-vpc-role",
        bastion_instance_id="i-0123456789abcdef0",
        region=REGION,
    )


def no_catalog(environment: Environment, outputs: EnvironmentOutputs) -> list[Any]:
    """The preview's catalog when the test has no source database: no tables."""
    return []


def migrate_app(
    client: ScriptedDms | None = None,
    *,
    target: Environment | None = None,
    catalog: Callable[..., Any] | None = no_catalog,
    **options: Any,
) -> DmsTuiApp:
    """The app as its factory builds it, with the Migrate step's seams in StepServices: the DMS client (None: the
    environment's own), a fast poll schedule, and the preview's catalog (None: read the real source)."""
    journey = Journey.resume_or_start("dev", "sandbox")
    target = target or Environment(mode="sandbox", region=REGION, env="dev")
    knobs: dict[str, Any] = {POLL_SCHEDULE: FAST, READY_INTERVAL: 0.01, **options}
    if catalog is not None:
        knobs[SOURCE_CATALOG] = catalog
    fields: dict[str, Any] = {"options": knobs}
    if client is not None:
        fields["dms_client"] = lambda _environment: client
    return DmsTuiApp(journey, services=instant_services(target, **fields))


def loading_script() -> list[Answer]:
    """Two tables: queued, then loading, then one completed, then both completed and the task stopped."""
    return [
        Answer("running", 0, [table("sales", "customers", "Before load"), table("sales", "orders", "Before load")]),
        Answer(
            "running", 30, [table("sales", "customers", "Full load", 10), table("sales", "orders", "Full load", 100)]
        ),
        Answer(
            "running",
            70,
            [table("sales", "customers", "Table completed", 20), table("sales", "orders", "Full load", 220)],
        ),
        Answer(
            "stopped",
            100,
            [table("sales", "customers", "Table completed", 20), table("sales", "orders", "Table completed", 300)],
            stop_reason="Stop Reason FULL_LOAD_ONLY_FINISHED",
            elapsed_ms=6000,
        ),
    ]


async def settle(app: DmsTuiApp, pilot: Pilot) -> None:  # type: ignore[type-arg]
    with contextlib.suppress(WorkerFailed):  # a failed worker is shown on the screen; the test reads it there
        await app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    """Let the app run until ``condition`` holds (the watcher polls on its own schedule)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the screen did not get there in time"
        await pilot.pause(0.02)


async def open_migrate(app: DmsTuiApp, pilot: Pilot, screen: MigrateScreen, outputs: EnvironmentOutputs) -> None:  # type: ignore[type-arg]
    await app.workers.wait_for_complete()
    app.journey.update(outputs=outputs.to_json())
    await app.push_screen(screen)
    await pilot.pause()


def text_of(screen: MigrateScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def events_of(screen: MigrateScreen) -> str:
    """The event strip's text with wrapping undone (whitespace collapsed)."""
    return " ".join(" ".join(line.text for line in screen.query_one("#task-events", RichLog).lines).split())


SANDBOX_KEYS = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "  # the sandbox's dummy keys: runs as printed


def hint(screen: MigrateScreen) -> str:
    """The shown command from `aws` on (in the sandbox it starts with the dummy keys it needs to run as printed)."""
    return screen.query_one(CommandHint).command.removeprefix(SANDBOX_KEYS)


# -- defining the task -------------------------------------------------------------------------------------------------


@pytest.fixture
def sales_source(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    """A moto environment whose source secret points at a fresh database holding a small sales schema."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    name = "migrate_ui_" + secrets.token_hex(3)
    pg_source.cluster.create_database(name)
    with psycopg.connect(pg_source.url(name), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute("CREATE TABLE sales.customers (id int PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE sales.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2))")
        conn.execute("CREATE TABLE sales.audit_log (id int, note text)")
        conn.execute("CREATE TABLE public.unrelated (id int)")
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        env.rewrite_secret("source", dbname=name)
        yield env
    pg_source.cluster.drop_database(name)


async def test_the_form_validates_as_the_person_types_and_previews_what_is_copied(
    sales_source: MotoWorld,
) -> None:
    client = ScriptedDms(loading_script())
    app = migrate_app(client, target=sales_source.target, catalog=None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, sales_source.outputs)
        await settle(app, pilot)
        assert screen.query_one(ContentSwitcher).current == "migrate-define"
        # the seed's defaults: valid, and the create command is shown with the real ARNs from the outputs
        assert "valid" in text_of(screen, "#draft-problems")
        assert screen.query_one(CommandHint).command.startswith(SANDBOX_KEYS + "aws dms create-replication-task")
        assert hint(screen).startswith(
            "aws dms create-replication-task --replication-task-identifier dms-tui-demo-task"
        )
        assert sales_source.outputs.source.dms_endpoint_arn in hint(screen)
        assert "nothing" in text_of(screen, "#preview-status")  # the seed maps demo_schema, which is not here

        mappings = screen.query_one("#mappings-json", TextArea)
        broken = json.loads(json.dumps(SALES_MAPPINGS))
        broken["rules"][2]["rule-action"] = "drop-table"
        del broken["rules"][2]["value"]
        mappings.text = json.dumps(broken, indent=2)
        await pilot.pause()
        problems = text_of(screen, "#draft-problems")
        assert "rules[2].rule-action: 'drop-table' does not apply to rule-target 'table'" in problems, problems
        assert screen.query_one("#create-task", Button).disabled
        assert "fix the problems" in hint(screen)

        mappings.text = "{ not json"
        await pilot.pause()
        assert "not valid JSON" in text_of(screen, "#draft-problems")

        mappings.text = json.dumps(SALES_MAPPINGS, indent=2)
        await pilot.pause()
        assert "valid" in text_of(screen, "#draft-problems")
        preview = screen.query_one("#preview-table", DataTable)
        rows = {str(preview.get_row_at(i)[0]): str(preview.get_row_at(i)[1]) for i in range(preview.row_count)}
        assert rows == {"sales.customers": "sales.customers", "sales.orders": "sales.customer_orders"}
        assert "2 of 4 source tables selected; 1 renamed" in text_of(screen, "#preview-status")

        subtasks = screen.query_one("#max-subtasks", Input)
        subtasks.value = "60"
        await pilot.pause()
        assert "FullLoadSettings.MaxFullLoadSubTasks: 60 is out of range" in text_of(screen, "#draft-problems")
        subtasks.value = "four"
        await pilot.pause()
        assert "'four' is not a whole number" in text_of(screen, "#draft-problems")
        subtasks.value = "4"
        screen.query_one("#prep-DROP_AND_CREATE").value = True  # type: ignore[attr-defined]
        screen.query_one("#type-full-load-and-cdc").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        settings = json.loads(screen.query_one("#settings-json", TextArea).text)
        assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"
        assert settings["FullLoadSettings"]["MaxFullLoadSubTasks"] == 4
        assert "Drop each existing target table" in text_of(screen, "#prep-mode-help")
        assert "primary key" in text_of(screen, "#migration-type-help").lower()
        assert "--migration-type full-load-and-cdc" in hint(screen)
        screen.query_one("#task-id", Input).value = "bad--name"
        await pilot.pause()
        assert "task identifier 'bad--name' is not valid" in text_of(screen, "#draft-problems")
        assert client.operations() == ["DescribeReplicationTasks"]  # only "is there a task of that name?"


async def test_edited_mappings_survive_going_back_and_coming_again() -> None:
    app = migrate_app(ScriptedDms([]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        screen.query_one("#mappings-json", TextArea).text = json.dumps(SALES_MAPPINGS)
        screen.query_one("#task-id", Input).value = "sales-task"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, MigrateScreen)
        assert json.loads(app.journey.state.task.table_mappings) == SALES_MAPPINGS

        again = MigrateScreen(app.journey)
        await app.push_screen(again)
        await pilot.pause()
        assert json.loads(again.query_one("#mappings-json", TextArea).text) == SALES_MAPPINGS
        assert again.query_one("#task-id", Input).value == "sales-task"


async def test_an_unreadable_source_is_explained_in_the_preview(
    sales_source: MotoWorld,
) -> None:
    sales_source.rewrite_secret("source", password="not-the-password")
    app = migrate_app(ScriptedDms([]), target=sales_source.target, catalog=None)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, sales_source.outputs)
        await settle(app, pilot)
        status = text_of(screen, "#preview-status")
        assert "Could not read the source catalog" in status and "Go back to Verify" in status
        assert "not-the-password" not in status
        assert not screen.query_one("#create-task", Button).disabled  # a preview is not required to start


# -- running and watching ----------------------------------------------------------------------------------------------


async def test_a_started_task_is_watched_until_every_table_completes_then_next() -> None:
    client = ScriptedDms(loading_script())
    app = migrate_app(client)
    outputs = fake_outputs()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, outputs)
        screen.query_one("#mappings-json", TextArea).text = json.dumps(SALES_MAPPINGS)
        await pilot.pause()
        await pilot.click("#create-task")
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        await settle(app, pilot)

        assert app.journey.state.task_arn == ARN  # recorded as soon as it was created
        assert json.loads(app.journey.state.task.table_mappings) == SALES_MAPPINGS
        created = dict(client.calls)["CreateReplicationTask"]
        assert json.loads(created["TableMappings"]) == SALES_MAPPINGS
        assert created["SourceEndpointArn"] == outputs.source.dms_endpoint_arn
        assert client.operations()[:5] == [
            "DescribeReplicationTasks",  # on opening: is a task of that name running already?
            "DescribeReplicationTasks",  # on creating: is one left from an earlier run (to replace)?
            "CreateReplicationTask",
            "DescribeReplicationTasks",  # ready? (the emulator's "creating" counts, see ReplicationTaskRunner)
            "StartReplicationTask",
        ]
        assert screen.query_one(ContentSwitcher).current == "migrate-watch"
        header = text_of(screen, "#task-header")
        assert "dms-tui-demo-task" in header and "stopped" in header and "elapsed 6s" in header
        assert "Stop Reason FULL_LOAD_ONLY_FINISHED" in header
        assert screen.query_one("#task-progress", ProgressBar).percentage == 1.0
        assert "loaded 2  loading 0  queued 0  errored 0" in text_of(screen, "#task-counters")
        tables = screen.query_one("#task-tables", DataTable)
        assert [str(c) for c in tables.get_row("sales.orders")][:3] == ["sales.orders", "Table completed", "300"]
        events = events_of(screen)
        for expected in ("task dms-tui-demo-task started", "sales.customers completed (20 rows)", "task stopped"):
            assert expected in events, events
        assert "sales.orders completed (300 rows)" in events
        assert max(screen.query_one("#task-throughput", Sparkline).data or [0]) > 0
        assert hint(screen).startswith("aws dms start-replication-task --replication-task-arn")

        # d opens the diff for the selected table (the Diff screen itself is tested on its own)
        from dms_tui.screens.diff import DiffScreen

        pushed: list[Any] = []
        app.push_screen = lambda screen, *args, **kwargs: pushed.append(screen)  # type: ignore[method-assign,assignment,return-value]
        tables.focus()
        tables.move_cursor(row=1)
        await pilot.press("d")
        assert len(pushed) == 1 and isinstance(pushed[0], DiffScreen) and pushed[0].select_table == "sales.orders"

        moved_to: list[Step] = []
        app.goto = moved_to.append  # type: ignore[method-assign]
        await pilot.press("f5")
        assert app.journey.state.is_done(Step.MIGRATE) and moved_to == [Step.DIFF]
        assert app.journey.state.task.rows == 320


async def test_stop_resume_reload_and_delete_each_show_their_command() -> None:
    running = [table("sales", "customers", "Table completed", 20), table("sales", "orders", "Full load", 120)]
    done = [table("sales", "customers", "Table completed", 20), table("sales", "orders", "Table completed", 300)]
    client = ScriptedDms(
        [Answer("running", 40, running)],  # runs until stopped
        resume_script=[
            Answer("running", 80, running),
            Answer("stopped", 100, done, "Stop Reason FULL_LOAD_ONLY_FINISHED"),
        ],
    )
    # the task exists from an earlier visit: the screen finds it again by its ARN and watches it
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    client.start_replication_task(ReplicationTaskArn=ARN, StartReplicationTaskType="start-replication")
    app = migrate_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        app.journey.update_task(arn=ARN)
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await until(pilot, lambda: screen.last is not None and screen.last.status == "running")
        assert screen.query_one(ContentSwitcher).current == "migrate-watch"

        # reload the selected table (the cursor is on the second row)
        table_widget = screen.query_one("#task-tables", DataTable)
        table_widget.focus()
        table_widget.move_cursor(row=1)
        await pilot.press("r")
        await until(pilot, lambda: "ReloadTables" in client.operations())
        reload = dict(client.calls)["ReloadTables"]
        assert reload["TablesToReload"] == [{"SchemaName": "sales", "TableName": "orders"}]
        assert hint(screen).startswith("aws dms reload-tables") and '"TableName":"orders"' in hint(screen)

        # stop asks first; No changes nothing
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        polls = client.operations().count("DescribeReplicationTasks")
        await pilot.pause(0.4)  # eight polling intervals: nobody looks at the task while the question is open
        assert client.operations().count("DescribeReplicationTasks") <= polls + 1  # at most one already in flight
        await pilot.press("n")
        await pilot.pause()
        assert "StopReplicationTask" not in client.operations()
        assert hint(screen).startswith("aws dms stop-replication-task --replication-task-arn")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: screen.last is not None and screen.last.status == "stopped")
        assert "task stopped (Stop Reason STOPPED)" in events_of(screen)

        # s resumes where it stopped (not every table is loaded yet), then the rest loads
        await pilot.press("s")
        await until(pilot, lambda: screen.last is not None and screen.last.succeeded)
        starts = [p["StartReplicationTaskType"] for op, p in client.calls if op == "StartReplicationTask"]
        assert starts == ["start-replication", "resume-processing"]

        # delete asks, stops nothing (already stopped), deletes, and goes back to the definition
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: screen.arn is None)
        await settle(app, pilot)
        assert client.deleted and app.journey.state.task_arn is None
        assert screen.query_one(ContentSwitcher).current == "migrate-define"
        assert "deleted" in text_of(screen, "#draft-problems")
        assert hint(screen).startswith("aws dms create-replication-task")


def _existing_task(client: ScriptedDms) -> None:
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    client.start_replication_task(ReplicationTaskArn=ARN, StartReplicationTaskType="start-replication")


async def test_a_running_task_whose_arn_was_lost_is_found_again_by_its_identifier() -> None:
    client = ScriptedDms(loading_script())
    _existing_task(client)
    app = migrate_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.journey.state.task_arn is None  # e.g. the terminal dropped between create and checkpoint
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        assert app.journey.state.task_arn == ARN
        assert "found the running task dms-tui-demo-task again" in events_of(screen)
        assert screen.last is not None and screen.last.succeeded


async def test_an_idle_task_of_the_same_name_is_only_mentioned() -> None:
    client = ScriptedDms([])
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    app = migrate_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await settle(app, pilot)
        assert screen.query_one(ContentSwitcher).current == "migrate-define" and screen.arn is None
        assert any("already exists (ready)" in str(n.message) for n in app._notifications)


async def test_a_task_deleted_elsewhere_sends_the_person_back_to_the_definition() -> None:
    app = migrate_app(ScriptedDms([]))
    async with app.run_test(size=(80, 24)) as pilot:
        app.journey.update_task(arn=ARN)
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await settle(app, pilot)
        assert screen.query_one(ContentSwitcher).current == "migrate-define"
        assert "no longer exists" in text_of(screen, "#draft-problems")
        assert app.journey.state.task_arn is None


async def test_a_failing_task_shows_dms_s_message_and_next_stays_closed() -> None:
    failing = "Error executing source loop; Stream component failed at subtask 0 <[red]not markup[/red]>"
    client = ScriptedDms(
        [
            Answer("running", 10, [table("sales", "orders", "Full load", 5)]),
            Answer("failed", 10, [table("sales", "orders", "Table error", 5)], failure=failing),
        ]
    )
    app = migrate_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await pilot.click("#create-task")
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        await settle(app, pilot)
        assert failing in text_of(screen, "#task-header")  # shown as text: the brackets are still there
        events = events_of(screen)
        assert "task failed: " + failing in events and "sales.orders failed (Table error)" in events
        assert "errored 1" in text_of(screen, "#task-counters")
        await pilot.press("f5")
        await pilot.pause()
        assert not app.journey.state.is_done(Step.MIGRATE)


async def test_validation_failures_are_shown_from_the_target_s_failures_table() -> None:
    """DescribeTableStatistics says a table has failed records: the screen reads the failures table's rows (through
    the step's reader, given the task's identifier and ARN suffix) and lists them as text."""
    from dms_tui.data.validation_failures import ValidationFailure
    from dms_tui.steps.migrate import VALIDATION_FAILURES

    asked: list[set[str]] = []

    def failures(_environment: Environment, _outputs: EnvironmentOutputs, names: set[str], limit: int) -> list[Any]:
        asked.append(names)
        when = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
        return [
            ValidationFailure(
                "SCRIPTED",
                "sales",
                "orders",
                when,
                "Row",
                '{"key": ["3"]}',
                "RECORD_DIFF",
                "[[{'a': '1'}, {'a': '[red]2'}],]",
            ),
            ValidationFailure("SCRIPTED", "sales", "orders", when, "Row", '{"key": ["5"]}', "MISSING_TARGET", ""),
        ]

    validated = {"ValidationState": "Validated"}
    mismatched = {"ValidationState": "Mismatched records", "ValidationFailedRecords": 2}
    client = ScriptedDms(
        [
            Answer("running", 50, [table("sales", "orders", "Table completed", 5, ValidationState="Pending records")]),
            Answer(
                "stopped",
                100,
                [
                    table("sales", "orders", "Table completed", 5, **mismatched),
                    table("sales", "x", "Table completed", 1, **validated),
                ],
                stop_reason="Stop Reason FULL_LOAD_ONLY_FINISHED",
            ),
        ]
    )
    app = migrate_app(client, **{VALIDATION_FAILURES: failures})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        await pilot.click("#create-task")
        await until(pilot, lambda: "MISSING_TARGET" in events_of(screen))
        events = events_of(screen)
        assert "✗ validation RECORD_DIFF sales.orders {\"key\": [\"3\"]} [[{'a': '1'}, {'a': '[red]2'}],]" in events
        assert '✗ validation MISSING_TARGET sales.orders {"key": ["5"]}' in events
        assert asked and all("SCRIPTED" in names for names in asked)  # the ARN's last part names the task on AWS
        cells = screen.query_one("#task-tables", DataTable).get_row("sales.orders")
        assert str(cells[4]).startswith("Mismatched records (2 failed)")


async def test_the_preview_tab_shows_the_premigration_assessment_of_a_valid_draft() -> None:
    from dms_tui.dmstask.assessment import Finding
    from dms_tui.steps.migrate import ASSESSMENT

    asked: list[tuple[str, str]] = []

    def assess(_environment: Environment, _outputs: EnvironmentOutputs, mappings: str, settings: str, kind: str):  # type: ignore[no-untyped-def]
        asked.append((json.loads(mappings)["rules"][0]["rule-type"], kind))
        return [
            Finding("error", "cdc-wal-level", "source wal_level", "wal_level is replica", "CDC fails.", "set [b]it"),
            Finding("warning", "table-without-key", "sales.audit", "no key", "not validated.", "add a key."),
        ]

    app = migrate_app(ScriptedDms([]), **{ASSESSMENT: assess})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        screen.query_one("#migrate-tabs").active = "tab-preview"  # type: ignore[attr-defined]
        await until(pilot, lambda: "finding" in str(screen.query_one("#assessment", Static).render()))
        shown = " ".join(str(screen.query_one("#assessment", Static).render()).split())
        assert "premigration assessment: 2 findings" in shown
        assert "✗ source wal_level: wal_level is replica → CDC fails. Fix: set [b]it" in shown  # text, not markup
        assert "! sales.audit: no key" in shown
        assert asked == [("selection", "full-load")]


# -- snapshots (scripted answers, fixed clock: the same picture every run) ---------------------------------------------

SNAPSHOT_HOME = Path("/tmp/dms-tui-snapshot-home")


def _snapshot_app(monkeypatch: pytest.MonkeyPatch, client: ScriptedDms, **options: Any) -> DmsTuiApp:
    import shutil

    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    journey = Journey.resume_or_start("dev", "sandbox")
    journey.update(outputs=fake_outputs().to_json(), done=(Step.CONFIGURE, Step.PROVISION, Step.VERIFY, Step.PREPARE))
    app = migrate_app(client, **options)
    app.journey = journey
    return app


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_a_finished_run(snap_compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    client = ScriptedDms(loading_script())
    app = _snapshot_app(monkeypatch, client, **{CLOCK: FixedClock()})
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    client.start_replication_task(ReplicationTaskArn=ARN, StartReplicationTaskType="start-replication")
    app.journey.update_task(arn=ARN)

    async def open_screen(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await pilot.app.workers.wait_for_complete()
        screen = MigrateScreen(app.journey)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_screen)


@pytest.mark.parametrize("tab", ["tab-task", "tab-mappings"])
def test_snapshot_the_form_with_a_mapping_problem(snap_compare, monkeypatch: pytest.MonkeyPatch, tab: str) -> None:  # type: ignore[no-untyped-def]
    app = _snapshot_app(monkeypatch, ScriptedDms([]))

    async def open_screen(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await pilot.app.workers.wait_for_complete()
        screen = MigrateScreen(app.journey)
        await app.push_screen(screen)
        await pilot.pause()
        broken = json.loads(json.dumps(SALES_MAPPINGS))
        del broken["rules"][2]["value"]
        screen.query_one("#mappings-json", TextArea).text = json.dumps(broken, indent=1)
        screen.query_one("#migrate-tabs").active = tab  # type: ignore[attr-defined]
        await pilot.pause()
        for area in screen.query(TextArea):
            area.cursor_blink = False
        for field in screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_screen)


# -- against the sandbox: the real control plane and the real data plane engine ----------------------------------------


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Environment, EnvironmentOutputs]]:
    """A sandbox of this test's own, in its DMS_TUI_HOME, brought down (data removed) at the end."""
    from running_sandbox import provisioned_sandbox  # type: ignore[import-not-found]

    from dms_tui.sandbox.environment import sandbox_environment

    with provisioned_sandbox(tmp_path / "sandbox-home") as info:
        yield sandbox_environment(info), info.outputs


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_multi_table_run_on_the_sandbox_is_watched_until_every_table_completes(
    sandbox: tuple[Environment, EnvironmentOutputs],
) -> None:
    from dms_tui.data.demo_databases import DemoDatabases, PrepareChoice

    target, outputs = sandbox
    databases = DemoDatabases.from_environment(target, outputs)
    databases.prepare(PrepareChoice(rows=500, if_exists="recreate", primary_key=True))  # the seed's table, 500 rows
    with databases.connector("source")(outputs.source.database_name) as src:
        src.execute("CREATE SCHEMA sales")
        src.execute("CREATE TABLE sales.customers (id int PRIMARY KEY, name text)")
        src.execute("CREATE TABLE sales.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2))")
        src.execute("CREATE TABLE sales.audit_log (id int, note text)")
        src.execute("INSERT INTO sales.customers SELECT g, 'customer ' || g FROM generate_series(1, 20) g")
        src.execute("INSERT INTO sales.orders SELECT g, g % 20 + 1, g * 1.5 FROM generate_series(1, 300) g")
        src.execute("INSERT INTO sales.audit_log VALUES (1, 'must not be copied')")
        src.execute("ANALYZE")
    mappings = json.loads(json.dumps(SALES_MAPPINGS))
    mappings["rules"].append(
        {
            "rule-type": "selection",
            "rule-id": "4",
            "rule-name": "seed",
            "rule-action": "include",
            "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
        }
    )

    sandbox_pace = PollSchedule(active_s=0.2, idle_s=0.2, idle_max_s=1.0, failing_max_s=2.0)
    app = migrate_app(target=target, catalog=None, **{POLL_SCHEDULE: sandbox_pace, READY_INTERVAL: 0.2})
    async with app.run_test(size=(120, 36)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, outputs)
        await until(pilot, lambda: screen.source_tables is not None, timeout=30)
        screen.query_one("#mappings-json", TextArea).text = json.dumps(mappings, indent=2)
        screen.query_one("#prep-DROP_AND_CREATE").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        assert "3 of 4 source tables selected; 1 renamed" in text_of(screen, "#preview-status")

        await pilot.click("#create-task")
        await until(pilot, lambda: screen.last is not None and screen.last.ended, timeout=120)
        await settle(app, pilot)
        assert screen.last is not None and screen.last.succeeded, header_of(screen)
        tables = screen.query_one("#task-tables", DataTable)
        rows = {str(tables.get_row_at(i)[0]): str(tables.get_row_at(i)[2]) for i in range(tables.row_count)}
        assert rows == {"demo_schema.demo_accounts": "500", "sales.customers": "20", "sales.orders": "300"}
        events = events_of(screen)
        assert "sales.orders completed (300 rows)" in events and "task stopped" in events
        assert app.journey.state.task_arn == screen.last.task_arn

        with databases.connector("target")(outputs.target.database_name) as tgt:
            copied = tgt.execute(
                "SELECT (SELECT count(*) FROM sales.customer_orders), (SELECT count(*) FROM sales.customers), "
                "to_regclass('sales.audit_log') IS NULL, to_regclass('sales.orders') IS NULL, "
                "(SELECT count(*) FROM demo_schema.demo_accounts)"
            ).fetchone()
        assert copied == (300, 20, True, True, 500)

        moved_to: list[Step] = []
        app.goto = moved_to.append  # type: ignore[method-assign]
        await pilot.press("f5")
        assert moved_to == [Step.DIFF] and app.journey.state.is_done(Step.MIGRATE)


def header_of(screen: MigrateScreen) -> str:
    return text_of(screen, "#task-header") + " | " + events_of(screen)


async def test_the_screen_benchmark_runs_at_a_small_size() -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "bench" / "migrate_screen.py"
    spec = importlib.util.spec_from_file_location("migrate_screen_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.core_cost(20, 2) >= 0
    first, update, idle = await bench.screen_cost(5, 1)
    assert first > 0 and update > 0 and idle >= 0


# -- the same step, two faces ------------------------------------------------------------------------------------------


async def test_the_command_and_the_screen_show_the_same_outcome_for_the_same_inputs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Given the same mappings and the same control plane, `dms-tui migrate --json` and the Migrate screen end with
    the same status, the same tables and rows, and the same task record in the journey."""
    from dms_tui.cli import build_parser
    from dms_tui.commands import migrate as migrate_command
    from dms_tui.environment import OpenedEnvironment
    from dms_tui.steps.services import StepServices

    outputs = fake_outputs()
    mappings = tmp_path / "mappings.json"
    mappings.write_text(json.dumps(SALES_MAPPINGS))
    environment = Environment(mode="sandbox", region=REGION, env="dev", outputs=outputs)
    monkeypatch.setattr(migrate_command, "open_environment", lambda *_, **__: OpenedEnvironment(environment, "test"))

    headless = ScriptedDms(loading_script())
    args = build_parser().parse_args(["migrate", "--sandbox", "--mappings", str(mappings), "--json"])
    services = StepServices(dms_client=lambda _: headless, options={POLL_SCHEDULE: FAST, READY_INTERVAL: 0.01})
    code = migrate_command.run(args, services)
    document = json.loads(capsys.readouterr().out)
    by_command = Journey.resume_or_start("dev", "sandbox").state.task
    command_tables = {
        f"{t['schema_name']}.{t['table_name']}": t["full_load_rows"] for t in document["snapshot"]["tables"]
    }

    Journey("dev", "sandbox").reset()
    screen_client = ScriptedDms(loading_script())
    app = migrate_app(screen_client)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, outputs)
        screen.query_one("#mappings-json", TextArea).text = json.dumps(SALES_MAPPINGS)
        await pilot.pause()
        await pilot.click("#create-task")
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        await settle(app, pilot)
        assert screen.last is not None
        screen_tables = {f"{t.schema_name}.{t.table_name}": t.full_load_rows for t in screen.last.tables}
        by_screen = app.journey.state.task

    assert code == 0 and document["ok"] and screen.last.succeeded
    assert document["snapshot"]["status"] == screen.last.status == "stopped"
    assert command_tables == screen_tables == {"sales.customers": 20, "sales.orders": 300}
    assert by_command is not None and by_screen is not None
    assert (by_command.identifier, by_command.arn, by_command.status, by_command.rows) == (
        by_screen.identifier,
        by_screen.arn,
        by_screen.status,
        by_screen.rows,
    )
    assert json.loads(by_command.table_mappings or "") == json.loads(by_screen.table_mappings or "") == SALES_MAPPINGS
    sent = [dict(c)["CreateReplicationTask"] for c in (headless.calls, screen_client.calls)]
    assert sent[0] == sent[1]  # the very same CreateReplicationTask parameters from both faces
