"""The Cutover step refuses, with what to do, before it touches anything: no task in the journey; on AWS (where
applications the tool cannot see write to the source) nobody confirmed that the writes stopped. moto (in-process)
holds the task and the secrets; no database is reached. (A full-load task is refused in test_cutover.py, against a
real sandbox.) And `dms-tui workload` refuses a rate or a duration that means nothing before it looks for a source."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dms_tui import exit_codes
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.steps.cutover import CutoverPlanned, ItemProgress, ItemStarted, run_cutover
from tests.checks.moto_environment import paper_side

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Environment]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=REGION)
        arns = {}
        for side in ("source", "target"):
            secret = {"username": "dbadmin", "password": "not-a-real-one", "host": f"{side}.example", "port": 5432}
            arns[side] = secrets.create_secret(
                Name=f"dev-{side}", SecretString=json.dumps({**secret, "dbname": "demo_db"})
            )["ARN"]
        source = paper_side("source", "arn:aws:dms:us-east-1:123456789012:endpoint:SOURCE")
        target = paper_side("target", "arn:aws:dms:us-east-1:123456789012:endpoint:TARGET")
        outputs = EnvironmentOutputs(
            source=dataclasses.replace(source, secret_arn=arns["source"]),
            target=dataclasses.replace(target, secret_arn=arns["target"]),
            dms_vpc_id="vpc-dms",
            dms_vpc_cidr="10.0.0.0/16",
            dms_replication_instance_arn="arn:aws:dms:us-east-1:123456789012:rep:INSTANCE",
            dms_access_role_arn="arn:aws:iam::123456789012:role/dms-access",
            bastion_instance_id="i-0bastion",
            region=REGION,
        )
        yield Environment(mode="aws", region=REGION, outputs=outputs)


def _cdc_task(environment: Environment, journey: Journey) -> str:
    outputs = environment.require_outputs()
    task = environment.client("dms").create_replication_task(
        ReplicationTaskIdentifier="live-task",
        SourceEndpointArn=outputs.source.dms_endpoint_arn,
        TargetEndpointArn=outputs.target.dms_endpoint_arn,
        ReplicationInstanceArn=outputs.dms_replication_instance_arn,
        MigrationType="full-load-and-cdc",
        TableMappings=json.dumps({"rules": []}),
    )["ReplicationTask"]
    journey.update_task(identifier="live-task", arn=task["ReplicationTaskArn"])
    return str(task["ReplicationTaskArn"])


def test_no_task_in_the_journey_is_refused_with_the_migrate_command(aws: Environment) -> None:
    journey = Journey.resume_or_start("dev", "aws")
    with pytest.raises(StepError) as caught:
        list(run_cutover(aws, journey))
    assert caught.value.exit_code == exit_codes.NOT_RUN
    assert caught.value.what == "There is no DMS task to cut over from."
    assert "dms-tui migrate --migration-type full-load-and-cdc" in caught.value.next_step


def test_a_deleted_task_is_refused(aws: Environment) -> None:
    journey = Journey.resume_or_start("dev", "aws")
    journey.update_task(identifier="gone", arn="arn:aws:dms:us-east-1:123456789012:task:GONE")
    with pytest.raises(StepError) as caught:
        list(run_cutover(aws, journey))
    assert caught.value.exit_code == exit_codes.NOT_RUN and "no longer exists" in caught.value.what


@pytest.mark.parametrize("answer", [None, False], ids=["headless-without-yes", "person-said-not-yet"])
def test_on_aws_the_cutover_waits_for_a_person_to_confirm_writes_stopped(aws: Environment, answer: Any) -> None:
    journey = Journey.resume_or_start("dev", "aws")
    _cdc_task(aws, journey)
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return bool(answer)

    events: list[Any] = []
    with pytest.raises(StepError) as caught:
        for event in run_cutover(aws, journey, confirm=None if answer is None else confirm):
            events.append(event)
    assert caught.value.exit_code == exit_codes.NOT_RUN
    assert "nobody confirmed that writes to the source stopped" in caught.value.what
    assert "--yes" in caught.value.next_step
    assert isinstance(events[0], CutoverPlanned) and events[0].migration_type == "full-load-and-cdc"
    assert isinstance(events[1], ItemStarted) and events[1].key == "writes"
    assert "pg_stat_activity" in events[1].commands[0]  # who is still connected, as psql shows it
    assert "not-a-real-one" not in events[1].commands[0]
    assert isinstance(events[-1], ItemProgress) and "confirm" in events[-1].text
    assert asked == ([] if answer is None else [asked[0]])
    assert answer is None or "Stop every application that writes" in asked[0]
    assert journey.state.cutover is None  # nothing was recorded: nothing happened


@pytest.mark.parametrize(("flag", "value"), [("--rate", "0"), ("--duration", "-5")])
def test_the_workload_command_refuses_a_meaningless_rate_or_duration(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from dms_tui.cli import main as cli_main

    code = cli_main(["workload", "--sandbox", flag, value])  # no sandbox runs: the check comes first
    err = capsys.readouterr().err
    assert code == exit_codes.NOT_RUN
    assert f"{flag} {value}" in err and "→" in err


def test_a_differing_diff_names_the_table_whose_updates_and_deletes_dms_did_not_apply() -> None:
    """The cause said beside a non-identical final diff comes from the task's own table statistics (captured vs
    applied). Stubber, not moto: moto's DescribeTableStatistics has no CDC counters to set."""
    import types

    from botocore.stub import Stubber

    from dms_tui.steps.cutover import _unapplied_changes

    client = boto3.client("dms", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    arn = "arn:aws:dms:us-east-1:123456789012:task:LIVE"
    stats = [
        {
            "SchemaName": "demo",
            "TableName": "keyless",
            "TableState": "Table completed",
            "Updates": 12,
            "Deletes": 3,
            "AppliedUpdates": 0,
            "AppliedDeletes": 0,
            "Inserts": 40,
            "AppliedInserts": 40,
        },
        {
            "SchemaName": "demo",
            "TableName": "keyed",
            "TableState": "Table completed",
            "Updates": 5,
            "Deletes": 1,
            "AppliedUpdates": 5,
            "AppliedDeletes": 1,
        },
    ]
    with Stubber(client) as stub:
        stub.add_response(
            "describe_replication_tasks",
            {
                "ReplicationTasks": [
                    {
                        "ReplicationTaskIdentifier": "live",
                        "ReplicationTaskArn": arn,
                        "Status": "running",
                        "MigrationType": "full-load-and-cdc",
                    }
                ]
            },
        )
        stub.add_response("describe_table_statistics", {"TableStatistics": stats})
        causes = _unapplied_changes(
            types.SimpleNamespace(client=client),  # type: ignore[arg-type]
            types.SimpleNamespace(arn=arn),  # type: ignore[arg-type]
        )
    assert len(causes) == 1
    assert causes[0].startswith("demo.keyless: DMS captured 12 updates and 3 deletes but applied 0 and 0")
    assert "primary key" in causes[0]
