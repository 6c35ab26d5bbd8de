"""The Migrate step's core: the form's draft checked field by field, and TaskControl against moto (Stubber where moto
has no such operation)."""

from __future__ import annotations

import json
import shlex
import threading
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.stub import Stubber
from dms_fixtures import REGION

from dms_tui.aws.dms import CommandIssued, OldTaskRemoved, TaskStatusSeen
from dms_tui.aws.migration_run import (
    DEFAULT_TASK_ID,
    LaunchEvent,
    TaskControl,
    TaskCreated,
    TaskDraft,
    TaskLaunched,
    all_tables_completed,
    check_definition,
    start_type_for,
)
from dms_tui.aws.task_poller import PollSchedule, ReplicationTaskSnapshot, TableStatistics, TaskStats
from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.settings import TaskSettings, default_settings
from dms_tui.provision.outputs import EnvironmentOutputs

TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:ABCDEF"


def mappings_with(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


INCLUDE = {
    "rule-type": "selection",
    "rule-id": "1",
    "rule-name": "all",
    "rule-action": "include",
    "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
}


# -- the draft ---------------------------------------------------------------------------------------------------------


def test_the_seed_s_draft_is_valid_and_becomes_the_seed_s_documents() -> None:
    check = TaskDraft().check()
    assert check.ok and check.problems == ()
    assert check.definition is not None and check.definition.identifier == DEFAULT_TASK_ID
    assert json.loads(check.definition.task_settings) == default_settings().to_dict()
    assert json.loads(check.definition.table_mappings) == default_mappings().to_dict()


def test_every_form_problem_names_its_field_or_rule() -> None:
    check = TaskDraft(
        identifier="1-starts-with-a-digit",
        migration_type="full-load-and-magic",
        prep_mode="TRUNCATE_EVERYTHING",
        max_subtasks="50",
        mappings_text=mappings_with(INCLUDE, {**INCLUDE, "rule-action": "exclude"}),
    ).check()
    assert not check.ok and check.definition is None
    problems = "\n".join(check.problems)
    assert "task identifier '1-starts-with-a-digit' is not valid" in problems
    assert "migration type 'full-load-and-magic' is not one of full-load, full-load-and-cdc, cdc" in problems
    assert "FullLoadSettings.TargetTablePrepMode: 'TRUNCATE_EVERYTHING' is not a prep mode" in problems
    assert "FullLoadSettings.MaxFullLoadSubTasks: 50 is out of range" in problems
    assert "rule 1: rule-id: used by 2 rules" in problems
    assert check.mappings_problems and check.settings_problems and check.task_problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "'' is not a whole number"),
        ("eight", "'eight' is not a whole number"),
        ("-3", "'-3' is not a whole number"),
        ("0", "0 is out of range"),
    ],
)
def test_max_full_load_subtasks_must_be_a_whole_number_in_range(text: str, expected: str) -> None:
    assert any(expected in p for p in TaskDraft(max_subtasks=text).check().settings_problems)


def test_mappings_that_are_not_json_or_miss_a_value_are_explained() -> None:
    assert "not valid JSON" in TaskDraft(mappings_text="{").check().mappings_problems[0]
    rename = {
        "rule-type": "transformation",
        "rule-id": "2",
        "rule-name": "rename",
        "rule-action": "rename",
        "rule-target": "table",
        "object-locator": {"schema-name": "demo_schema", "table-name": "demo_accounts"},
    }
    assert TaskDraft(mappings_text=mappings_with(INCLUDE, rename)).check().mappings_problems == (
        "rule 2: value: missing value; rename needs a value.",
    )
    assert "no selection rule includes any table" in TaskDraft(mappings_text=mappings_with()).check().problems[0]


def test_keys_the_form_does_not_edit_are_kept_in_the_settings_sent() -> None:
    base = TaskSettings.from_json(json.dumps({"ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR"}}))
    check = TaskDraft(base_settings=base, prep_mode="DROP_AND_CREATE", max_subtasks=" 12 ").check()
    assert check.definition is not None
    sent = json.loads(check.definition.task_settings)
    assert sent["ErrorBehavior"] == {"DataErrorPolicy": "LOG_ERROR"}
    assert sent["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"
    assert sent["FullLoadSettings"]["MaxFullLoadSubTasks"] == 12


def test_check_definition_is_the_headless_command_s_check_too() -> None:
    definition, problems = check_definition("demo", "cdc", default_settings(), default_mappings())
    assert problems == [] and definition.migration_type == "cdc"
    _, problems = check_definition("demo", "cdc", default_settings().with_prep_mode("NOPE"), default_mappings())
    assert problems == [
        "task settings: FullLoadSettings.TargetTablePrepMode: 'NOPE' is not a prep mode; use one of DO_NOTHING, "
        "DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD."
    ]


@pytest.mark.parametrize(
    ("status", "completed", "expected"),
    [
        ("ready", False, "start-replication"),
        ("creating", False, "start-replication"),
        ("stopped", False, "resume-processing"),
        ("failed", False, "resume-processing"),
        ("stopped", True, "reload-target"),
    ],
)
def test_s_starts_resumes_or_reloads_depending_on_where_the_task_is(
    status: str, completed: bool, expected: str
) -> None:
    assert start_type_for(status, completed=completed) == expected


def _snapshot(*states: str, errored: int = 0) -> ReplicationTaskSnapshot:
    import datetime as dt

    return ReplicationTaskSnapshot(
        "arn",
        "demo",
        "full-load-and-cdc",
        "running",
        None,
        None,
        TaskStats(tables_errored=errored),
        tuple(TableStatistics("s", f"t{i}", state) for i, state in enumerate(states)),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def test_all_tables_completed_needs_tables_and_no_error_even_while_cdc_runs() -> None:
    assert all_tables_completed(_snapshot("Table completed", "Table completed"))
    assert not all_tables_completed(_snapshot("Table completed", "Full load"))
    assert not all_tables_completed(_snapshot())
    assert not all_tables_completed(_snapshot("Table completed", errored=1))
    assert not all_tables_completed(None)


# -- TaskControl against moto ------------------------------------------------------------------------------------------


def test_launch_reports_each_step_and_the_arn_as_soon_as_the_task_exists(
    dms_client: Any, outputs: EnvironmentOutputs
) -> None:
    control = TaskControl(dms_client, creating_is_terminal=True, ready_interval_s=0)
    definition = TaskDraft(identifier="demo-task").check().definition
    assert definition is not None
    events: list[LaunchEvent] = []
    state = control.launch(outputs, definition, events.append)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CommandIssued", "TaskCreated", "TaskStatusSeen", "CommandIssued", "TaskLaunched"]
    created = events[1]
    assert isinstance(created, TaskCreated) and created.arn == state.arn and state.status == "running"
    assert isinstance(events[0], CommandIssued) and events[0].command.operation == "CreateReplicationTask"

    # a second launch under the same name replaces the running task: stop, delete, then create again
    again: list[LaunchEvent] = []
    control.launch(outputs, definition, again.append)
    operations = [e.command.operation for e in again if isinstance(e, CommandIssued)]
    assert operations == [
        "StopReplicationTask",
        "DeleteReplicationTask",
        "CreateReplicationTask",
        "StartReplicationTask",
    ]
    assert OldTaskRemoved("demo-task", "running") in again
    assert isinstance(again[-1], TaskLaunched)
    [remaining] = dms_client.describe_replication_tasks()["ReplicationTasks"]  # the old one is gone
    assert remaining["Status"] == "running"


def test_stop_start_and_delete_act_on_the_task(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    control = TaskControl(dms_client, creating_is_terminal=True, ready_interval_s=0, schedule=PollSchedule(0, 0, 0, 0))
    definition = TaskDraft(identifier="demo-task").check().definition
    assert definition is not None
    arn = control.launch(outputs, definition, lambda _: None).arn
    stopped = control.stop(arn)
    assert stopped.task is not None and stopped.task.status == "stopped"
    assert stopped.command.text == control.stop_command(arn).text
    # (watching needs DescribeTableStatistics, which moto 5.2.5 lacks: tests/ui/test_migrate_screen.py watches a
    # scripted control plane and the sandbox's engine instead)
    resumed = control.start(arn, "resume-processing")
    assert resumed.task is not None and resumed.task.status == "running"
    seen: list[TaskStatusSeen] = []
    deleted = control.delete(arn, on_status=seen.append)  # running: stopped first, then deleted
    assert deleted.task is None and control.find("demo-task") is None
    assert deleted.command.operation == "DeleteReplicationTask"


def test_watch_stops_when_asked(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    control = TaskControl(dms_client, creating_is_terminal=True, ready_interval_s=0)
    definition = TaskDraft(identifier="demo-task").check().definition
    assert definition is not None
    arn = control.launch(outputs, definition, lambda _: None).arn
    stop = threading.Event()
    stop.set()
    assert list(control.watch(arn, stop)) == []


def test_reload_sends_the_selected_table() -> None:
    # moto 5.2.5 has no ReloadTables, hence the Stubber.
    client = boto3.client("dms", region_name=REGION)
    control = TaskControl(client)
    task = {
        "ReplicationTaskArn": TASK_ARN,
        "ReplicationTaskIdentifier": "demo-task",
        "Status": "running",
        "MigrationType": "full-load",
    }
    with Stubber(client) as stub:
        stub.add_response(
            "reload_tables",
            {"ReplicationTaskArn": TASK_ARN},
            {
                "ReplicationTaskArn": TASK_ARN,
                "TablesToReload": [{"SchemaName": "sales", "TableName": "orders"}],
                "ReloadOption": "data-reload",
            },
        )
        stub.add_response(
            "describe_replication_tasks",
            {"ReplicationTasks": [task]},
            {"Filters": [{"Name": "replication-task-arn", "Values": [TASK_ARN]}], "WithoutSettings": True},
        )
        result = control.reload(TASK_ARN, "sales", "orders")
        stub.assert_no_pending_responses()
    assert result.command.text == control.reload_command(TASK_ARN, "sales", "orders").text


def test_every_command_the_screen_shows_parses_with_the_cli_s_rules(outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    control = TaskControl(client)
    definition = TaskDraft().check().definition
    assert definition is not None
    model = botocore.session.get_session().get_service_model("dms")
    commands = [
        control.create_command(outputs, definition),
        control.describe_command(TASK_ARN),
        control.start_command(TASK_ARN, "resume-processing"),
        control.stop_command(TASK_ARN),
        control.delete_command(TASK_ARN),
        control.reload_command(TASK_ARN, "sales", "my orders"),
    ]
    for command in commands:
        words = shlex.split(command.text)
        assert words[:2] == ["aws", "dms"]
        operation = model.operation_model(command.operation)
        assert words[2] == xform_name(command.operation, "-")
        members = {xform_name(name, "-") for name in operation.input_shape.members}
        flags = [w[2:] for w in words[3:] if w.startswith("--")]
        assert set(flags) - {"region", "endpoint-url"} <= members, (command.operation, flags)
        assert flags.count("region") == 1
