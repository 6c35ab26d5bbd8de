"""The premigration assessment step and `dms-tui task assess`.

Moto implements none of StartReplicationTaskAssessmentRun, DescribeReplicationTaskAssessmentRuns or
DescribeReplicationTaskIndividualAssessments (tests/aws/test_assessment_runs.py asserts it still does not), so those
three go to a client botocore's Stubber answers (checked against the DMS service model); everything else (the task,
its status, the secrets) is moto's. The sandbox path runs for real: moto plus two real PostgreSQL servers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from botocore.stub import Stubber
from dms_fixtures import REGION

from dms_tui import exit_codes
from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.migration import TaskDraft
from dms_tui.dmstask.settings import default_settings
from dms_tui.errors import StepError
from dms_tui.steps import assessment_run
from dms_tui.steps.assessment_run import (
    AssessmentRunFinished,
    AssessmentRunProgress,
    AssessmentRunStarted,
    AssessmentRunStep,
    DmsRunUnavailable,
    OwnAssessment,
    TaskReady,
)
from dms_tui.steps.migrate import CommandIssued, TaskCreated
from dms_tui.steps.services import StepServices

ASSESSMENT_OPERATIONS = frozenset(
    {
        "start_replication_task_assessment_run",
        "describe_replication_task_assessment_runs",
        "describe_replication_task_individual_assessments",
    }
)
BUCKET = "dev-dms-assessments-123456789012-eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/dev-dms-assess-1"
RUN_ARN = f"arn:aws:dms:{REGION}:123456789012:assessment-run:RUN1"
NOW = dt.datetime(2026, 12, 8, 0, 30, tzinfo=dt.UTC)


class MotoAndStubber:
    """A dms client: the three assessment-run operations go to the stubbed client (moto lacks them), the rest to
    moto's."""

    def __init__(self, moto: Any, stubbed: Any) -> None:
        self.moto, self.stubbed = moto, stubbed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stubbed if name in ASSESSMENT_OPERATIONS else self.moto, name)


def _run(status: str, completed: int, task_arn: str, **more: Any) -> dict[str, Any]:
    return {
        "ReplicationTaskAssessmentRunArn": RUN_ARN,
        "ReplicationTaskArn": task_arn,
        "Status": status,
        "AssessmentProgress": {"IndividualAssessmentCount": 3, "IndividualAssessmentCompletedCount": completed},
        "AssessmentRunName": "dms-tui-20261208-003000",
        "ResultLocationBucket": BUCKET,
        "ResultLocationFolder": "dms-tui",
        "ServiceAccessRoleArn": ROLE,
        **more,
    }


@pytest.fixture(autouse=True)
def _no_schema_left_behind(pg_source: Any, pg_target: Any) -> Iterator[None]:
    """The test clusters are the session's: a schema left here would be one more table in later tests' diffs."""
    from tests.checks.moto_environment import VERIFY_DB

    yield
    for server in (pg_source, pg_target):
        with contextlib.suppress(psycopg.OperationalError):  # a test that failed before the database existed
            with psycopg.connect(server.url(VERIFY_DB), autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS assess_app CASCADE")


@pytest.fixture
def aws_world(pg_source: Any, pg_target: Any) -> Any:
    """moto (secrets, DMS tasks) + two real PostgreSQL servers, seen as an AWS environment with the assessment
    bucket and role terraform's modules/assessment outputs."""
    from tests.checks.moto_environment import VERIFY_DB, moto_environment

    with moto_environment({"source": pg_source, "target": pg_target}) as world:
        with psycopg.connect(pg_source.url(VERIFY_DB), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS assess_app CASCADE")
            conn.execute("CREATE SCHEMA assess_app; CREATE TABLE assess_app.log (line int, at inet)")
        outputs = dataclasses.replace(world.outputs, assessment_bucket=BUCKET, assessment_role_arn=ROLE)
        environment = dataclasses.replace(world.target, mode="aws").with_outputs(outputs)
        yield environment, outputs


def _step(environment: Any, client: Any) -> AssessmentRunStep:
    services = StepServices(
        dms_client=lambda _: client,
        options={
            assessment_run.POLL_INTERVAL: 0.0,
            assessment_run.CLOCK: lambda: NOW,
            "assessment_sleep": lambda _s: None,
        },
    )
    return AssessmentRunStep(environment, services)


def _draft() -> TaskDraft:
    return TaskDraft.from_documents(
        "assess-task", "full-load", default_settings(), default_mappings("assess_app").to_json()
    )


def _moto_task(moto_dms: Any, outputs: Any) -> str:
    """The draft's task, made in moto (stopped, as created); its ARN."""
    task = moto_dms.create_replication_task(
        ReplicationTaskIdentifier="assess-task",
        SourceEndpointArn=outputs.source.dms_endpoint_arn,
        TargetEndpointArn=outputs.target.dms_endpoint_arn,
        ReplicationInstanceArn=outputs.dms_replication_instance_arn,
        MigrationType="full-load",
        TableMappings=default_mappings("assess_app").to_json(),
    )["ReplicationTask"]
    return str(task["ReplicationTaskArn"])


def test_on_aws_a_stopped_task_is_assessed_with_the_terraform_bucket_and_role(aws_world: Any) -> None:
    environment, outputs = aws_world
    moto_dms = boto3.client("dms", region_name=REGION)
    arn = _moto_task(moto_dms, outputs)
    moto_dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    moto_dms.stop_replication_task(ReplicationTaskArn=arn)
    stubbed = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(stubbed) as stub:
        stub.add_response(
            "start_replication_task_assessment_run",
            {"ReplicationTaskAssessmentRun": _run("starting", 0, arn)},
            {
                "ReplicationTaskArn": arn,
                "ServiceAccessRoleArn": ROLE,
                "ResultLocationBucket": BUCKET,
                "ResultLocationFolder": "dms-tui",
                "AssessmentRunName": "dms-tui-20261208-003000",
            },
        )
        by_run = {"Filters": [{"Name": "replication-task-assessment-run-arn", "Values": [RUN_ARN]}]}
        stub.add_response(
            "describe_replication_task_assessment_runs",
            {"ReplicationTaskAssessmentRuns": [_run("running", 1, arn)]},
            by_run,
        )
        stub.add_response(
            "describe_replication_task_assessment_runs",
            {"ReplicationTaskAssessmentRuns": [_run("failed", 3, arn, ResultStatistic={"Passed": 1, "Failed": 1})]},
            by_run,
        )
        stub.add_response(
            "describe_replication_task_individual_assessments",
            {
                "ReplicationTaskIndividualAssessments": [
                    {"IndividualAssessmentName": "postgres-check-dbversion", "Status": "passed"},
                    {"IndividualAssessmentName": "postgres-check-maxwalsenders", "Status": "failed"},
                    {"IndividualAssessmentName": "some-new-assessment", "Status": "warning"},
                ]
            },
            by_run,
        )
        events = list(_step(environment, MotoAndStubber(moto_dms, stubbed)).run(_draft()))
        stub.assert_no_pending_responses()
    own = next(e for e in events if isinstance(e, OwnAssessment))
    # Our own checks ran on the real source: no key, and inet (DMS: doesn't migrate PostgreSQL to PostgreSQL).
    assert {(f.check, f.subject) for f in own.findings} >= {("table-without-key", "assess_app.log")}
    assert any(f.check == "unsupported-type" and "inet" in f.what for f in own.findings)
    assert not any(isinstance(e, DmsRunUnavailable | TaskCreated) for e in events)
    ready = next(e for e in events if isinstance(e, TaskReady))
    assert (ready.arn, ready.status, ready.created) == (arn, "stopped", False)
    started = next(e for e in events if isinstance(e, AssessmentRunStarted))
    assert started.command.text.startswith("aws dms start-replication-task-assessment-run")
    assert f"--result-location-bucket {BUCKET}" in started.command.text and ROLE in started.command.text
    progress = [e.run.completed for e in events if isinstance(e, AssessmentRunProgress)]
    assert progress == [1, 3]
    finished = events[-1]
    assert isinstance(finished, AssessmentRunFinished) and not finished.ok
    by_name = {r.name: r for r in finished.results}
    assert [r.status for r in finished.results] == ["failed", "warning", "passed"]
    assert "max_wal_senders" in by_name["postgres-check-maxwalsenders"].fix
    assert f"s3://{BUCKET}/dms-tui" in by_name["some-new-assessment"].fix  # generic: read the result it wrote
    assert by_name["postgres-check-dbversion"].consequence == "nothing found."


def test_on_aws_a_running_task_is_refused_with_the_stop_command(aws_world: Any) -> None:
    environment, outputs = aws_world
    moto_dms = boto3.client("dms", region_name=REGION)
    arn = _moto_task(moto_dms, outputs)
    moto_dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    stubbed = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(stubbed) as stub:  # nothing queued: an assessment call would fail the test
        with pytest.raises(StepError) as caught:
            list(_step(environment, MotoAndStubber(moto_dms, stubbed)).run(_draft()))
        stub.assert_no_pending_responses()
    assert caught.value.exit_code == exit_codes.NOT_RUN
    assert "running" in caught.value.what and "aws dms stop-replication-task" in caught.value.next_step


def test_on_aws_a_missing_task_is_created_and_waited_for_not_started(aws_world: Any) -> None:
    """DMS moves a new task from creating to ready (moto never does): the whole DMS conversation is stubbed."""
    environment, _outputs = aws_world
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    arn = f"arn:aws:dms:{REGION}:123456789012:task:NEW"
    task = {"ReplicationTaskIdentifier": "assess-task", "ReplicationTaskArn": arn, "MigrationType": "full-load"}
    by_arn = {"Filters": [{"Name": "replication-task-arn", "Values": [arn]}], "WithoutSettings": True}
    step = _step(environment, client)
    step.migrate.runner.sleep = lambda _s: None
    with Stubber(client) as stub:
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": []})
        stub.add_response("create_replication_task", {"ReplicationTask": {**task, "Status": "creating"}})
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": [{**task, "Status": "ready"}]}, by_arn)
        stub.add_response("describe_replication_tasks", {"ReplicationTasks": [{**task, "Status": "ready"}]}, by_arn)
        stub.add_response(
            "start_replication_task_assessment_run", {"ReplicationTaskAssessmentRun": _run("passed", 3, arn)}
        )
        stub.add_response(
            "describe_replication_task_individual_assessments",
            {"ReplicationTaskIndividualAssessments": [{"IndividualAssessmentName": "x", "Status": "passed"}]},
        )
        events = list(step.run(_draft()))
        stub.assert_no_pending_responses()
    assert [type(e) for e in events if isinstance(e, CommandIssued | TaskCreated)] == [CommandIssued, TaskCreated]
    assert next(e for e in events if isinstance(e, TaskReady)).created
    finished = events[-1]
    assert isinstance(finished, AssessmentRunFinished) and finished.ok  # passed at once: no poll


def test_on_aws_outputs_without_the_bucket_are_refused_before_any_dms_call(aws_world: Any) -> None:
    environment, outputs = aws_world
    environment = environment.with_outputs(dataclasses.replace(outputs, assessment_bucket=""))
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub, pytest.raises(StepError) as caught:
        list(_step(environment, client).run(_draft()))
    stub.assert_no_pending_responses()
    assert caught.value.exit_code == exit_codes.NOT_RUN and "provision apply" in caught.value.next_step


def test_in_the_sandbox_our_checks_run_and_the_dms_run_is_said_to_exist_only_on_aws(
    pg_source: Any, pg_target: Any
) -> None:
    from tests.checks.moto_environment import VERIFY_DB, moto_environment

    with moto_environment({"source": pg_source, "target": pg_target}) as world:
        with psycopg.connect(pg_source.url(VERIFY_DB), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS assess_app CASCADE")
            conn.execute("CREATE SCHEMA assess_app; CREATE TABLE assess_app.log (line int)")
        moto_dms = boto3.client("dms", region_name=REGION)
        events = list(_step(world.target, moto_dms).run(_draft()))
        tasks = moto_dms.describe_replication_tasks()["ReplicationTasks"]
    assert [type(e) for e in events] == [OwnAssessment, DmsRunUnavailable]
    own = events[0]
    assert isinstance(own, OwnAssessment)
    assert [(f.check, f.subject) for f in own.findings] == [("table-without-key", "assess_app.log")]
    reason = events[1]
    assert isinstance(reason, DmsRunUnavailable) and "exists only on AWS" in reason.reason
    assert not [t for t in tasks if t["ReplicationTaskIdentifier"] == "assess-task"]  # nothing created


def test_the_headless_command_prints_the_findings_and_says_so_in_the_sandbox(
    pg_source: Any, pg_target: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from dms_tui.cli import build_parser
    from dms_tui.commands import task as task_command
    from tests.checks.moto_environment import VERIFY_DB, moto_environment

    monkeypatch.setenv("DMS_TUI_HOME", str(tmp_path))
    mappings = tmp_path / "mappings.json"
    mappings.write_text(default_mappings("assess_app").to_json())
    with moto_environment({"source": pg_source, "target": pg_target}) as world:
        with psycopg.connect(pg_source.url(VERIFY_DB), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS assess_app CASCADE")
            conn.execute("CREATE SCHEMA assess_app; CREATE TABLE assess_app.log (line int PRIMARY KEY)")
        build_parser()  # import every command module first: one imported under the patch would keep the stand-in
        monkeypatch.setattr(
            "dms_tui.environment.open_environment",
            lambda *_a, **_k: type("Opened", (), {"environment": world.target})(),
        )
        args = build_parser().parse_args(["task", "assess", "--sandbox", "--mappings", str(mappings), "--json"])
        code = task_command.run_assess(args)
    document = json.loads(capsys.readouterr().out)
    assert code == exit_codes.OK
    assert document["findings"] == [] and document["dms_run"] is None
    assert "exists only on AWS" in document["dms_run_unavailable"]


def test_the_headless_command_on_aws_exits_1_when_an_assessment_fails(
    aws_world: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from dms_tui.cli import build_parser
    from dms_tui.commands import task as task_command

    environment, outputs = aws_world
    monkeypatch.setenv("DMS_TUI_HOME", str(tmp_path))
    build_parser()  # import every command module first: one imported under the patch would keep the stand-in
    monkeypatch.setattr(
        "dms_tui.environment.open_environment",
        lambda *_a, **_k: type("Opened", (), {"environment": environment})(),
    )
    mappings = tmp_path / "mappings.json"
    mappings.write_text(default_mappings("assess_app").to_json())
    moto_dms = boto3.client("dms", region_name=REGION)
    arn = _moto_task(moto_dms, outputs)
    moto_dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    moto_dms.stop_replication_task(ReplicationTaskArn=arn)
    stubbed = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    services = StepServices(
        dms_client=lambda _: MotoAndStubber(moto_dms, stubbed), options={"assessment_sleep": lambda _s: None}
    )
    args = build_parser().parse_args(
        ["task", "assess", "--mappings", str(mappings), "--task-id", "assess-task", "--interval", "0", "--json"]
    )
    with Stubber(stubbed) as stub:
        stub.add_response(
            "start_replication_task_assessment_run", {"ReplicationTaskAssessmentRun": _run("running", 1, arn)}
        )
        stub.add_response(
            "describe_replication_task_assessment_runs", {"ReplicationTaskAssessmentRuns": [_run("failed", 3, arn)]}
        )
        stub.add_response(
            "describe_replication_task_individual_assessments",
            {
                "ReplicationTaskIndividualAssessments": [
                    {"IndividualAssessmentName": "postgres-check-dbversion", "Status": "failed"}
                ]
            },
        )
        code = task_command.run_assess(args, services)
        stub.assert_no_pending_responses()
    document = json.loads(capsys.readouterr().out)
    assert code == exit_codes.FAILED and not document["ok"]
    assert document["dms_run"]["status"] == "failed"
    assert document["dms_run"]["assessments"][0]["name"] == "postgres-check-dbversion"
    assert "version" in document["dms_run"]["assessments"][0]["consequence"]
    assert document["commands"][0].startswith("aws dms start-replication-task-assessment-run")
