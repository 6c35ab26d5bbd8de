"""The Migrate step's core: the draft checked field by field, and the task's life against moto (botocore's Stubber
where moto has no such operation, or where AWS's own answers matter); every printed command is the call made."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dms_fixtures import REGION, FakeClock, emulator, parse_back

from dms_tui import exit_codes
from dms_tui.aws.dms import DmsTaskError, TaskFailedError, TaskNotFoundError, TaskWaitTimeout
from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics, TaskStats
from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.migration import DEFAULT_TASK_ID, TaskDraft
from dms_tui.dmstask.settings import TaskSettings, default_settings
from dms_tui.domain.dms import StartTaskType, TaskStatus
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.steps import migrate
from dms_tui.steps.migrate import (
    CommandIssued,
    ExistingTask,
    ExistingTaskKept,
    MigrateStep,
    OldTaskRemoved,
    TaskAction,
    TaskCreated,
    TaskLaunched,
    TaskStatusSeen,
    all_tables_completed,
    start_type_for,
)
from dms_tui.steps.services import StepServices

TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:demo-task"
DESCRIBE_BY_ARN = {"Filters": [{"Name": "replication-task-arn", "Values": [TASK_ARN]}], "WithoutSettings": True}
INCLUDE = {
    "rule-type": "selection",
    "rule-id": "1",
    "rule-name": "all",
    "rule-action": "include",
    "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
}


def mappings_with(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def step_for(
    client: Any,
    environment: Environment | None = None,
    *,
    clock: FakeClock | None = None,
    journey: Journey | None = None,
    outputs: EnvironmentOutputs | None = None,
) -> MigrateStep:
    environment = (environment or emulator()).with_outputs(outputs)
    services = StepServices(dms_client=lambda _: client, options={migrate.READY_INTERVAL: 5.0})
    step = MigrateStep(environment, services, journey)
    if clock is not None:
        step.runner.clock, step.runner.sleep = clock, clock.sleep
    return step


def describe_answer(status: str, **extra: Any) -> dict[str, Any]:
    task = {
        "ReplicationTaskIdentifier": "demo-task",
        "ReplicationTaskArn": TASK_ARN,
        "MigrationType": "full-load",
        "Status": status,
        **extra,
    }
    return {"ReplicationTasks": [task]}


class Recording:
    """A dms client that remembers every call that changes something (what the step sent, exactly)."""

    READS = frozenset({"describe_replication_tasks", "get_paginator", "meta"})

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name in self.READS:
            return attribute

        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            return attribute(**params)

        return call


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
    assert "rules[0].rule-id: used by 2 rules; rule ids must be unique. (rule-id 1)" in problems
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
        "rules[1].value: missing value; rename needs a value. (rule-id 2)",
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


def test_a_draft_from_whole_documents_keeps_the_file_s_values_unless_a_flag_overrides() -> None:
    settings = TaskSettings.from_json(json.dumps({"FullLoadSettings": {"MaxFullLoadSubTasks": 3}}))
    draft = TaskDraft.from_documents("demo", "cdc", settings, mappings_with(INCLUDE), prep_mode="DO_NOTHING")
    definition = migrate.definition_of(draft)
    sent = json.loads(definition.task_settings)["FullLoadSettings"]
    assert (sent["MaxFullLoadSubTasks"], sent["TargetTablePrepMode"]) == (3, "DO_NOTHING")
    assert definition.migration_type == "cdc"


@pytest.mark.parametrize("identifier", ["1task", "task--one", "task-", "", "x" * 256, "task_one"])
def test_an_invalid_definition_is_refused_before_any_call(identifier: str, outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    with Stubber(client):  # no response queued: any API call would fail the test
        with pytest.raises(StepError, match="nothing was created") as raised:
            list(step_for(client, outputs=outputs).launch(TaskDraft(identifier=identifier)))
    assert raised.value.exit_code == exit_codes.NOT_RUN and "task identifier" in raised.value.why


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


# -- the task's life against moto --------------------------------------------------------------------------------------


def test_launch_reports_each_step_records_the_journey_and_replaces_a_task_left_running(
    dms_client: Any, outputs: EnvironmentOutputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_TUI_HOME", str(tmp_path))
    journey = Journey("dev", "sandbox")
    step = step_for(dms_client, outputs=outputs, journey=journey, clock=FakeClock())
    draft = TaskDraft(identifier="demo-task", mappings_text=mappings_with(INCLUDE))
    events = list(step.launch(draft))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CommandIssued", "TaskCreated", "TaskStatusSeen", "CommandIssued", "TaskLaunched"]
    created, launched = events[1], events[-1]
    assert isinstance(created, TaskCreated) and isinstance(launched, TaskLaunched)
    assert created.arn == launched.task.arn and launched.task.status == TaskStatus.RUNNING
    task = journey.state.task
    assert task is not None and (task.identifier, task.arn, task.status) == ("demo-task", created.arn, "running")
    assert task.table_mappings == draft.mappings_text  # as written, byte for byte

    # a second launch under the same name replaces the running task: stop, delete, then create again
    again = list(step.launch(draft))
    operations = [e.command.operation for e in again if isinstance(e, CommandIssued)]
    assert operations == [
        "StopReplicationTask",
        "DeleteReplicationTask",
        "CreateReplicationTask",
        "StartReplicationTask",
    ]
    assert OldTaskRemoved("demo-task", "running") in again
    [remaining] = dms_client.describe_replication_tasks()["ReplicationTasks"]  # the old one is gone
    assert remaining["Status"] == "running" and remaining["ReplicationTaskArn"] == journey.state.task_arn
    assert remaining["SourceEndpointArn"] == outputs.source.dms_endpoint_arn
    assert remaining["ReplicationInstanceArn"] == outputs.dms_replication_instance_arn


def test_a_task_left_by_an_earlier_run_can_be_reused_or_restarted_instead_of_replaced(
    dms_client: Any, outputs: EnvironmentOutputs
) -> None:
    recording = Recording(dms_client)
    step = step_for(recording, outputs=outputs, clock=FakeClock())
    draft = TaskDraft(identifier="demo-task", mappings_text=mappings_with(INCLUDE))
    first = [e for e in step.launch(draft) if isinstance(e, TaskLaunched)][0].task

    def calls_of(events: list[Any]) -> list[tuple[str, str | None]]:
        del events
        made = [(name, params.get("StartReplicationTaskType")) for name, params in recording.calls]
        recording.calls.clear()
        return made

    recording.calls.clear()
    # reuse, running: nothing is sent; the same task is watched
    events = list(step.launch(draft, existing_task=ExistingTask.REUSE))
    assert calls_of(events) == []
    assert ExistingTaskKept("demo-task", "running", None) in events
    assert isinstance(events[-1], TaskLaunched) and events[-1].task.arn == first.arn

    # restart, running: stopped, then everything loaded again, under the same ARN
    events = list(step.launch(draft, existing_task=ExistingTask.RESTART))
    assert calls_of(events) == [("stop_replication_task", None), ("start_replication_task", "reload-target")]
    assert ExistingTaskKept("demo-task", "stopped", StartTaskType.RELOAD_TARGET) in events
    assert isinstance(events[-1], TaskLaunched) and events[-1].task.arn == first.arn

    # reuse, stopped by a person: resumed where it stopped
    step.stop(first.arn)
    recording.calls.clear()
    events = list(step.launch(draft, existing_task=ExistingTask.REUSE))
    assert calls_of(events) == [("start_replication_task", "resume-processing")]
    [only] = dms_client.describe_replication_tasks()["ReplicationTasks"]
    assert only["ReplicationTaskArn"] == first.arn  # never deleted, never created again


def test_reusing_a_finished_full_load_loads_it_again(outputs: EnvironmentOutputs) -> None:
    # A full load that finished has nothing to resume: DMS would stop at once. moto never reports this StopReason.
    client = boto3.client("dms", region_name=REGION)
    step = step_for(client, outputs=outputs, clock=FakeClock())
    finished = describe_answer("stopped", StopReason="Stop Reason FULL_LOAD_ONLY_FINISHED")
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", finished)
        stub.add_response(
            "start_replication_task",
            {"ReplicationTask": describe_answer("starting")["ReplicationTasks"][0]},
            {"ReplicationTaskArn": TASK_ARN, "StartReplicationTaskType": "reload-target"},
        )
        events = list(step.launch(TaskDraft(identifier="demo-task"), existing_task=ExistingTask.REUSE))
        stub.assert_no_pending_responses()
    assert ExistingTaskKept("demo-task", "stopped", StartTaskType.RELOAD_TARGET) in events


def test_stop_start_and_delete_act_on_the_task(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    step = step_for(dms_client, outputs=outputs, clock=FakeClock())
    launched = [e for e in step.launch(TaskDraft(identifier="demo-task")) if isinstance(e, TaskLaunched)]
    arn = launched[0].task.arn
    stopped = step.stop(arn)
    assert stopped.task is not None and stopped.task.status == "stopped"
    assert stopped.command.text == step.command(TaskAction.STOP, arn=arn).text
    resumed = step.start(arn, StartTaskType.RESUME_PROCESSING)
    assert resumed.task is not None and resumed.task.status == "running"
    deleted = step.delete(arn)  # running: stopped first, then deleted
    assert deleted.task is None and step.find("demo-task") is None
    assert deleted.command.operation == "DeleteReplicationTask"
    with pytest.raises(TaskNotFoundError):
        step.delete(arn)


def test_on_aws_creating_is_not_ready_and_the_wait_gives_up_with_advice(
    dms_client: Any, outputs: EnvironmentOutputs
) -> None:
    clock = FakeClock()
    step = step_for(dms_client, Environment(mode="aws", region=REGION), outputs=outputs, clock=clock)
    step.ready_timeout_s = 60
    step.interval_s = 15
    with pytest.raises(TaskWaitTimeout, match="still creating after 60 s"):
        list(step.launch(TaskDraft(identifier="demo-task")))
    assert clock.sleeps == [15, 15, 15, 15]


def test_on_aws_the_wait_goes_on_until_dms_says_ready(outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    clock = FakeClock()
    step = step_for(client, Environment(mode="aws", region=REGION), outputs=outputs, clock=clock)
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": []})
        stub.add_response(
            "create_replication_task", {"ReplicationTask": describe_answer("creating")["ReplicationTasks"][0]}
        )
        for status in ("creating", "creating", "ready"):
            stub.add_response("describe_replication_tasks", describe_answer(status), DESCRIBE_BY_ARN)
        stub.add_response(
            "start_replication_task", {"ReplicationTask": describe_answer("starting")["ReplicationTasks"][0]}
        )
        events = list(step.launch(TaskDraft(identifier="demo-task")))
        stub.assert_no_pending_responses()
    assert [e.status for e in events if isinstance(e, TaskStatusSeen)] == ["creating", "creating", "ready"]
    assert clock.sleeps == [5, 5]


def test_a_task_that_fails_while_creating_reports_dms_reason(outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    step = step_for(client, Environment(mode="aws", region=REGION), outputs=outputs, clock=FakeClock())
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": []})
        stub.add_response(
            "create_replication_task", {"ReplicationTask": describe_answer("creating")["ReplicationTasks"][0]}
        )
        stub.add_response(
            "describe_replication_tasks",
            describe_answer("failed", LastFailureMessage="Invalid table mappings: no selection rule"),
            DESCRIBE_BY_ARN,
        )
        with pytest.raises(TaskFailedError, match="failed while being created") as raised:
            list(step.launch(TaskDraft(identifier="demo-task")))
    assert raised.value.why == "Invalid table mappings: no selection rule"


@pytest.mark.parametrize("status", ["running", "stopped", "deleting"])
def test_a_task_already_past_ready_fails_the_wait_at_once(status: str, outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    clock = FakeClock()
    step = step_for(client, Environment(mode="aws", region=REGION), outputs=outputs, clock=clock)
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": []})
        stub.add_response(
            "create_replication_task", {"ReplicationTask": describe_answer("creating")["ReplicationTasks"][0]}
        )
        stub.add_response("describe_replication_tasks", describe_answer(status), DESCRIBE_BY_ARN)
        with pytest.raises(DmsTaskError, match=f"already {status}, so it will not become ready"):
            list(step.launch(TaskDraft(identifier="demo-task")))
    assert clock.sleeps == []


def test_stopping_a_task_that_is_not_running_says_what_to_do(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    step = step_for(dms_client, outputs=outputs)
    created = next(e for e in step.launch(TaskDraft(identifier="demo-task")) if isinstance(e, TaskCreated))
    with pytest.raises(DmsTaskError) as raised:
        step.stop(created.arn)
    assert raised.value.why.startswith("InvalidResourceStateFault") and "retry" in raised.value.next_step


def test_without_outputs_the_step_says_how_to_provision(dms_client: Any) -> None:
    with pytest.raises(StepError, match="has not been provisioned") as raised:
        list(step_for(dms_client).launch(TaskDraft()))
    assert raised.value.exit_code == exit_codes.NOT_RUN


def test_watch_stops_when_asked(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    step = step_for(dms_client, outputs=outputs)
    launched = [e for e in step.launch(TaskDraft(identifier="demo-task")) if isinstance(e, TaskLaunched)]
    stop = threading.Event()
    stop.set()
    assert list(step.watch(launched[0].task.arn, stop)) == []


def test_reload_sends_the_selected_table_and_refuses_none() -> None:
    # moto 5.2.5 has no ReloadTables, hence the Stubber.
    client = boto3.client("dms", region_name=REGION)
    step = step_for(client)
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
        stub.add_response("describe_replication_tasks", describe_answer("running"), DESCRIBE_BY_ARN)
        result = step.reload(TASK_ARN, [("sales", "orders")])
        stub.assert_no_pending_responses()
        with pytest.raises(DmsTaskError, match="No table was chosen"):
            step.reload(TASK_ARN, [])
    assert result.task is not None and result.task.status == "running"
    assert result.command.text == step.command(TaskAction.RELOAD, arn=TASK_ARN, tables=[("sales", "orders")]).text


# -- what is printed is what is sent -----------------------------------------------------------------------------------


def test_every_printed_command_s_arguments_are_the_parameters_of_the_call_made(
    dms_client: Any, outputs: EnvironmentOutputs
) -> None:
    recording = Recording(dms_client)
    step = step_for(recording, outputs=outputs)
    padded = json.dumps(json.loads(mappings_with(INCLUDE)) | {"padding": "x" * 500})  # long: goes to a file
    printed = [e.command for e in step.launch(TaskDraft(identifier="demo-task")) if isinstance(e, CommandIssued)]
    printed += [
        e.command
        for e in step.launch(TaskDraft(identifier="demo-task", mappings_text=padded))
        if isinstance(e, CommandIssued)
    ]
    arn = str(step.find("demo-task").arn)  # type: ignore[union-attr]
    printed.append(step.stop(arn).command)
    printed.append(step.start(arn, StartTaskType.RESUME_PROCESSING).command)
    printed.append(step.delete(arn).command)  # running: a stop, then the delete
    assert {c.text for c in printed} <= {c.text for c in step.runner.commands}
    assert any("file://" in c.text for c in printed)  # the padded mappings went through a file:// document
    issued = step.runner.commands  # every command the step showed, one per call it made
    assert len(issued) == len(recording.calls) == 10
    for command, (operation, sent) in zip(issued, recording.calls, strict=True):
        region, parsed = parse_back(command)
        assert region == REGION and command.operation == step.runner.client.client.meta.method_to_api_mapping[operation]
        assert as_data(parsed) == as_data(sent), command.text


def as_data(params: dict[str, Any]) -> dict[str, Any]:
    """JSON documents compared as data (a file:// document is pretty-printed; the API gets the same JSON)."""

    def value(v: Any) -> Any:
        if isinstance(v, str) and v.lstrip().startswith(("{", "[")):
            return json.loads(v)
        return v

    return {k: value(v) for k, v in params.items()}


def test_a_sandbox_command_carries_the_endpoint_and_the_dummy_keys_an_aws_one_neither() -> None:
    sandbox = Environment(mode="sandbox", region=REGION, aws_endpoint_url="http://127.0.0.1:4566")
    aws = Environment(mode="aws", region=REGION, profile="ops")
    client = boto3.client("dms", region_name=REGION)
    in_sandbox = step_for(client, sandbox).command(TaskAction.STOP, arn=TASK_ARN).text
    on_aws = step_for(client, aws).command(TaskAction.STOP, arn=TASK_ARN).text
    assert in_sandbox.startswith(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws dms stop-replication-task"
    )
    assert in_sandbox.endswith(f"--region {REGION} --endpoint-url http://127.0.0.1:4566")
    assert on_aws == f"aws dms stop-replication-task --replication-task-arn {TASK_ARN} --region {REGION} --profile ops"
