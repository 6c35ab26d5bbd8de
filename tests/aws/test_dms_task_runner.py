"""Running the DMS task through the API: against moto where it has the operation, botocore's Stubber where not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dms_fixtures import REGION, SEED_MAPPINGS, SEED_SETTINGS, FakeClock

from dms_tui.aws.dms import (
    DmsTaskError,
    ReplicationTaskRunner,
    TaskDefinition,
    TaskFailedError,
    TaskNotFoundError,
    TaskStatusSeen,
    TaskWaitTimeout,
    is_aws_endpoint,
)
from dms_tui.provision.outputs import EnvironmentOutputs

TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:demo-task"


def seed_definition(identifier: str = "demo-task") -> TaskDefinition:
    return TaskDefinition(identifier, "full-load", SEED_MAPPINGS, SEED_SETTINGS)


def describe_answer(status: str, **extra: Any) -> dict[str, Any]:
    task = {
        "ReplicationTaskIdentifier": "demo-task",
        "ReplicationTaskArn": TASK_ARN,
        "MigrationType": "full-load",
        "Status": status,
        **extra,
    }
    return {"ReplicationTasks": [task]}


DESCRIBE_BY_ARN = {"Filters": [{"Name": "replication-task-arn", "Values": [TASK_ARN]}], "WithoutSettings": True}


def test_the_seed_task_goes_create_ready_start_stop_delete_against_moto(
    dms_client: Any, outputs: EnvironmentOutputs, clock: FakeClock
) -> None:
    seen: list[TaskStatusSeen] = []
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True, clock=clock, sleep=clock.sleep)

    created = runner.create(outputs, seed_definition())
    assert created.task is not None and created.task.status == "creating"
    # moto keeps the task in "creating" for ever; on such a control plane that is the end of creation.
    ready = runner.wait_until_ready(created.task.arn, on_status=seen.append)
    assert ready.status == "creating" and [s.status for s in seen] == ["creating"]
    assert runner.find("demo-task") == ready

    started = runner.start(ready.arn)
    assert started.task is not None and started.task.status == "running"
    assert runner.describe(ready.arn).status == "running"

    stopped = runner.stop(ready.arn)
    assert stopped.task is not None and stopped.task.status == "stopped"

    resumed = runner.resume(ready.arn)
    assert resumed.task is not None and resumed.task.status == "running"
    runner.stop(ready.arn)

    deleted = runner.delete(ready.arn)
    assert deleted.task is None
    assert runner.find("demo-task") is None
    with pytest.raises(TaskNotFoundError):
        runner.describe(ready.arn)
    assert [c.operation for c in runner.commands] == [
        "CreateReplicationTask",
        "StartReplicationTask",
        "StopReplicationTask",
        "StartReplicationTask",
        "StopReplicationTask",
        "DeleteReplicationTask",
    ]
    assert clock.now == 0.0  # nothing slept: every state was already reached


def test_the_task_uses_the_arns_terraform_output(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True)
    arn = runner.create(outputs, seed_definition()).task.arn  # type: ignore[union-attr]
    task = dms_client.describe_replication_tasks()["ReplicationTasks"][0]
    assert task["ReplicationTaskArn"] == arn
    assert task["SourceEndpointArn"] == outputs.source.dms_endpoint_arn
    assert task["TargetEndpointArn"] == outputs.target.dms_endpoint_arn
    assert task["ReplicationInstanceArn"] == outputs.dms_replication_instance_arn
    assert task["TableMappings"] == SEED_MAPPINGS and task["ReplicationTaskSettings"] == SEED_SETTINGS


def test_against_aws_rules_creating_is_not_ready_and_the_wait_gives_up_with_advice(
    dms_client: Any, outputs: EnvironmentOutputs, clock: FakeClock
) -> None:
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=False, clock=clock, sleep=clock.sleep)
    arn = runner.create(outputs, seed_definition()).task.arn  # type: ignore[union-attr]
    with pytest.raises(TaskWaitTimeout, match="still creating after 60 s"):
        runner.wait_until_ready(arn, timeout_s=60, interval_s=15)
    assert clock.sleeps == [15, 15, 15, 15]


def test_waiting_for_ready_polls_until_dms_says_ready(clock: FakeClock) -> None:
    client = boto3.client("dms", region_name=REGION)
    runner = ReplicationTaskRunner(client, clock=clock, sleep=clock.sleep)
    assert runner.creating_is_terminal is False  # a real AWS endpoint: wait for "ready"
    with Stubber(client) as stub:
        for status in ("creating", "creating", "ready"):
            stub.add_response("describe_replication_tasks", describe_answer(status), DESCRIBE_BY_ARN)
        state = runner.wait_until_ready(TASK_ARN, interval_s=5)
        stub.assert_no_pending_responses()
    assert state.status == "ready" and clock.sleeps == [5, 5]


def test_a_task_that_fails_while_creating_reports_dms_reason(clock: FakeClock) -> None:
    client = boto3.client("dms", region_name=REGION)
    runner = ReplicationTaskRunner(client, clock=clock, sleep=clock.sleep)
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", describe_answer("creating"), DESCRIBE_BY_ARN)
        stub.add_response(
            "describe_replication_tasks",
            describe_answer("failed", LastFailureMessage="Invalid table mappings: no selection rule"),
            DESCRIBE_BY_ARN,
        )
        with pytest.raises(TaskFailedError, match="Invalid table mappings: no selection rule"):
            runner.wait_until_ready(TASK_ARN, interval_s=1)


def test_reload_tables_sends_each_table_and_shows_the_command() -> None:
    # moto 5.2.5 has no ReloadTables (moto/dms/responses.py lists no reload_tables), hence the Stubber.
    client = boto3.client("dms", region_name=REGION)
    runner = ReplicationTaskRunner(client)
    with Stubber(client) as stub:
        stub.add_response(
            "reload_tables",
            {"ReplicationTaskArn": TASK_ARN},
            {
                "ReplicationTaskArn": TASK_ARN,
                "TablesToReload": [
                    {"SchemaName": "demo_schema", "TableName": "demo_accounts"},
                    {"SchemaName": "sales", "TableName": "orders"},
                ],
                "ReloadOption": "data-reload",
            },
        )
        stub.add_response("describe_replication_tasks", describe_answer("running"), DESCRIBE_BY_ARN)
        result = runner.reload_tables(TASK_ARN, [("demo_schema", "demo_accounts"), ("sales", "orders")])
        stub.assert_no_pending_responses()
    assert result.task is not None and result.task.status == "running"
    assert result.command.text.startswith("aws dms reload-tables --replication-task-arn ")
    assert "--reload-option data-reload --region eu-west-1" in result.command.text


def test_reloading_nothing_is_refused_before_calling_aws() -> None:
    runner = ReplicationTaskRunner(boto3.client("dms", region_name=REGION))
    with pytest.raises(DmsTaskError, match="pick at least one table"):
        runner.reload_tables(TASK_ARN, [])


def test_stopping_a_task_that_is_not_running_says_what_to_do(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True)
    arn = runner.create(outputs, seed_definition()).task.arn  # type: ignore[union-attr]
    with pytest.raises(DmsTaskError, match=r"InvalidResourceStateFault.*refresh its status and retry"):
        runner.stop(arn)


def test_a_second_task_with_the_same_identifier_is_explained(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True)
    runner.create(outputs, seed_definition())
    with pytest.raises(DmsTaskError, match="choose another identifier or delete the old task"):
        runner.create(outputs, seed_definition())


@pytest.mark.parametrize("identifier", ["1task", "task--one", "task-", "", "x" * 256, "task_one"])
def test_an_invalid_identifier_is_refused_before_any_call(identifier: str, outputs: EnvironmentOutputs) -> None:
    client = boto3.client("dms", region_name=REGION)
    with Stubber(client):  # no response queued: any API call would fail the test
        with pytest.raises(DmsTaskError, match="task identifier"):
            ReplicationTaskRunner(client).create(outputs, seed_definition(identifier))


def test_delete_waits_until_the_task_is_gone(clock: FakeClock) -> None:
    client = boto3.client("dms", region_name=REGION)
    runner = ReplicationTaskRunner(client, clock=clock, sleep=clock.sleep)
    seen: list[str] = []
    with Stubber(client) as stub:
        stub.add_response(
            "delete_replication_task",
            {"ReplicationTask": describe_answer("deleting")["ReplicationTasks"][0]},
            {"ReplicationTaskArn": TASK_ARN},
        )
        stub.add_response("describe_replication_tasks", describe_answer("deleting"), DESCRIBE_BY_ARN)
        stub.add_client_error(
            "describe_replication_tasks", "ResourceNotFoundFault", "No Tasks found", expected_params=DESCRIBE_BY_ARN
        )
        result = runner.delete(TASK_ARN, interval_s=3, on_status=lambda s: seen.append(s.status))
        stub.assert_no_pending_responses()
    assert result.task is None and seen == ["deleting"] and clock.sleeps == [3]


def test_every_operation_reports_its_command_as_it_is_issued(dms_client: Any, outputs: EnvironmentOutputs) -> None:
    heard: list[str] = []
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True, on_command=lambda c: heard.append(c.text))
    result = runner.create(outputs, seed_definition())
    assert heard == [result.command.text]
    assert heard[0].startswith("aws dms create-replication-task --replication-task-identifier demo-task ")
    assert heard[0].count("--region") == 1


def test_the_endpoint_url_of_an_emulator_is_part_of_the_command() -> None:
    client = boto3.client("dms", region_name=REGION, endpoint_url="http://127.0.0.1:4566")
    runner = ReplicationTaskRunner(client)
    assert runner.creating_is_terminal is True
    text = runner.command_for("start_replication_task", {"ReplicationTaskArn": TASK_ARN}).text
    assert text.endswith("--endpoint-url http://127.0.0.1:4566 --region eu-west-1")


@pytest.mark.parametrize(
    ("url", "aws"),
    [
        ("https://dms.eu-west-1.amazonaws.com", True),
        ("https://dms.cn-north-1.amazonaws.com.cn", True),
        ("http://127.0.0.1:5000", False),
        ("http://localhost.amazonaws.com.evil:80", False),
        (None, False),
    ],
)
def test_aws_endpoints_are_told_from_emulators(url: str | None, aws: bool) -> None:
    assert is_aws_endpoint(url) is aws


def test_timestamps_in_answers_do_not_break_state_parsing() -> None:
    client = boto3.client("dms", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response(
            "describe_replication_tasks",
            describe_answer(
                "stopped",
                StopReason="Stop Reason FULL_LOAD_ONLY_FINISHED",
                ReplicationTaskStartDate=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            ),
            DESCRIBE_BY_ARN,
        )
        state = ReplicationTaskRunner(client).describe(TASK_ARN)
    assert state.stop_reason == "Stop Reason FULL_LOAD_ONLY_FINISHED"


@pytest.mark.parametrize("status", ["running", "stopped", "deleting"])
def test_waiting_for_ready_on_a_task_already_past_ready_fails_at_once(status: str, clock: FakeClock) -> None:
    client = boto3.client("dms", region_name=REGION)
    runner = ReplicationTaskRunner(client, clock=clock, sleep=clock.sleep)
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", describe_answer(status), DESCRIBE_BY_ARN)
        with pytest.raises(DmsTaskError, match=f"already {status}, so it will not become ready"):
            runner.wait_until_ready(TASK_ARN)
    assert clock.sleeps == []
