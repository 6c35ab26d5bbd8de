"""`dms-tui migrate` headless: exit codes, the JSON document, and the commands it prints."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from dms_fixtures import REGION

from dms_tui.aws import session_info
from dms_tui.aws.session_info import SessionInfo
from dms_tui.cli import main as cli_main
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from dms_tui.provision.outputs import OUTPUT_NAMES

TASK_ID = "dms-tui-demo-task"
TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:{TASK_ID}"
BY_ID = {"Filters": [{"Name": "replication-task-id", "Values": [TASK_ID]}], "WithoutSettings": True}
BY_ARN = {"Filters": [{"Name": "replication-task-arn", "Values": [TASK_ARN]}], "WithoutSettings": True}
NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _task(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "ReplicationTaskIdentifier": TASK_ID,
        "ReplicationTaskArn": TASK_ARN,
        "MigrationType": "full-load",
        "Status": status,
        **extra,
    }


@pytest.fixture
def terraform_outputs(tmp_path: Path) -> Path:
    """A `terraform output -json` document with every name the app reads."""
    values: dict[str, Any] = {name: {"value": f"value-of-{name}", "type": "string"} for name in OUTPUT_NAMES}
    values["source_port"] = values["target_port"] = {"value": 5432, "type": "number"}
    values["region"] = {"value": REGION, "type": "string"}
    values["source_dms_endpoint_arn"] = {"value": f"arn:aws:dms:{REGION}:123456789012:endpoint:SRC"}
    values["target_dms_endpoint_arn"] = {"value": f"arn:aws:dms:{REGION}:123456789012:endpoint:TGT"}
    values["dms_replication_instance_arn"] = {"value": f"arn:aws:dms:{REGION}:123456789012:rep:RI"}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    return path


@pytest.fixture
def stubbed_dms(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    """AWS mode's dms client, stubbed (the full run includes DescribeTableStatistics, which moto lacks); the
    identity lookup answers as STS would for a person with keys in the environment."""
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x")
    monkeypatch.setattr(Environment, "client", lambda self, service, **_: client)
    identity = SessionInfo(
        region=REGION, account="123456789012", arn="arn:aws:iam::123456789012:user/ops", credential_source="env"
    )
    monkeypatch.setattr(session_info, "discover_session_info", lambda *_, **__: identity)
    stubber = Stubber(client)
    stubber.activate()
    return stubber


def _queue_a_full_load(stub: Stubber, final_state: str) -> None:
    stub.add_response("describe_replication_tasks", {"ReplicationTasks": [_task("stopped")]}, BY_ID)
    stub.add_response(
        "delete_replication_task", {"ReplicationTask": _task("deleting")}, {"ReplicationTaskArn": TASK_ARN}
    )
    stub.add_client_error("describe_replication_tasks", "ResourceNotFoundFault", "gone", expected_params=BY_ARN)
    stub.add_response(
        "create_replication_task",
        {"ReplicationTask": _task("creating")},
        {
            "ReplicationTaskIdentifier": TASK_ID,
            "SourceEndpointArn": f"arn:aws:dms:{REGION}:123456789012:endpoint:SRC",
            "TargetEndpointArn": f"arn:aws:dms:{REGION}:123456789012:endpoint:TGT",
            "ReplicationInstanceArn": f"arn:aws:dms:{REGION}:123456789012:rep:RI",
            "MigrationType": "full-load",
            "TableMappings": ANY,
            "ReplicationTaskSettings": ANY,
        },
    )
    stub.add_response("describe_replication_tasks", {"ReplicationTasks": [_task("ready")]}, BY_ARN)
    stub.add_response(
        "start_replication_task",
        {"ReplicationTask": _task("starting")},
        {"ReplicationTaskArn": TASK_ARN, "StartReplicationTaskType": "start-replication"},
    )
    stats = {"TablesLoaded": 1, "FullLoadProgressPercent": 100}
    stub.add_response(
        "describe_replication_tasks",
        {
            "ReplicationTasks": [
                _task("stopped", StopReason="Stop Reason FULL_LOAD_ONLY_FINISHED", ReplicationTaskStats=stats)
            ]
        },
        BY_ARN,
    )
    stub.add_response(
        "describe_table_statistics",
        {
            "ReplicationTaskArn": TASK_ARN,
            "TableStatistics": [
                {
                    "SchemaName": "demo_schema",
                    "TableName": "demo_accounts",
                    "TableState": final_state,
                    "FullLoadRows": 4,
                    "LastUpdateTime": NOW,
                }
            ],
        },
        {"ReplicationTaskArn": TASK_ARN, "MaxRecords": 500},
    )


def test_a_finished_full_load_exits_0_with_the_final_snapshot_and_commands(
    terraform_outputs: Path, stubbed_dms: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    _queue_a_full_load(stubbed_dms, "Table completed")
    code = cli_main(["migrate", "--outputs", str(terraform_outputs), "--prep-mode", "DROP_AND_CREATE", "--json"])
    stubbed_dms.assert_no_pending_responses()
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["ok"] is True
    journey = Journey.resume_or_start("dev", "aws")  # the wizard finds the task, and Migrate done
    assert journey.state.task is not None and journey.state.task.arn == TASK_ARN
    assert (journey.state.task.status, journey.state.task.rows) == ("stopped", 4)
    assert journey.state.is_done(Step.MIGRATE)
    assert document["snapshot"]["status"] == "stopped"
    assert document["snapshot"]["tables"][0]["full_load_rows"] == 4
    ops = [shlex.split(c)[2] for c in document["commands"]]
    assert ops == ["delete-replication-task", "create-replication-task", "start-replication-task"]
    create = shlex.split(document["commands"][1])
    settings = json.loads(create[create.index("--replication-task-settings") + 1])
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"


def test_a_table_that_did_not_complete_exits_1(
    terraform_outputs: Path, stubbed_dms: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    _queue_a_full_load(stubbed_dms, "Table error")
    code = cli_main(["migrate", "--outputs", str(terraform_outputs)])
    out = capsys.readouterr().out
    assert code == 1 and "not every table completed" in out
    assert "demo_schema.demo_accounts: Table error, 4 rows" in out
    # commands are printed unwrapped, so each one runs as printed
    command_lines = [line for line in out.splitlines() if line.startswith("$ aws dms ")]
    assert len(command_lines) == 3 and all(line.endswith(f"--region {REGION}") for line in command_lines)


def test_invalid_mappings_exit_2_before_any_call(
    tmp_path: Path, terraform_outputs: Path, stubbed_dms: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = tmp_path / "mappings.json"
    mappings.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "1",
                        "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
                        "rule-action": "exclude",
                    }
                ]
            }
        )
    )
    code = cli_main(["migrate", "--outputs", str(terraform_outputs), "--mappings", str(mappings)])
    err = capsys.readouterr().err
    assert code == 2 and "table mappings:" in err and "nothing was created" in err
    stubbed_dms.assert_no_pending_responses()  # and no DMS call was made: the Stubber had none queued


def test_without_recorded_outputs_it_says_how_to_get_them(
    stubbed_dms: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(["migrate", "--env", "nowhere"])
    err = capsys.readouterr().err
    assert code == 2 and "has not been provisioned" in err and "--outputs" in err


def test_without_a_running_sandbox_it_says_what_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["migrate", "--sandbox"])
    assert code == 2 and "dms-tui sandbox up" in capsys.readouterr().err


def test_a_control_plane_that_stops_answering_ends_the_run_with_advice(
    terraform_outputs: Path, stubbed_dms: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stubbed_dms.add_response("describe_replication_tasks", {"ReplicationTasks": []}, BY_ID)
    stubbed_dms.add_response("create_replication_task", {"ReplicationTask": _task("creating")})
    stubbed_dms.add_response("describe_replication_tasks", {"ReplicationTasks": [_task("ready")]}, BY_ARN)
    stubbed_dms.add_response("start_replication_task", {"ReplicationTask": _task("starting")})
    for _ in range(3):
        stubbed_dms.add_client_error("describe_replication_tasks", "ThrottlingException", "Rate exceeded")
    code = cli_main(
        ["migrate", "--outputs", str(terraform_outputs), "--interval", "0.001", "--max-poll-failures", "3", "--json"]
    )
    captured = capsys.readouterr()
    stubbed_dms.assert_no_pending_responses()
    assert code == 1 and "did not answer 3 polls in a row" in captured.err
    document = json.loads(captured.out)
    assert document["ok"] is False and len(document["commands"]) == 2
    assert document["error"]["what"] == "The DMS API did not answer 3 polls in a row."
