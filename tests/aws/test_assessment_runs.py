"""Premigration assessment runs on AWS. Moto implements none of StartReplicationTaskAssessmentRun,
DescribeReplicationTaskAssessmentRuns or DescribeReplicationTaskIndividualAssessments (it raises NotImplementedError,
asserted below so this file notices when that changes), so botocore's Stubber answers: it checks every request's
parameters and every answer against the DMS service model."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dms_tui.aws.assessment_runs import assessment_runs, individual_assessments, start_assessment_run

TASK = "arn:aws:dms:us-east-1:123456789012:task:TASK1"
RUN = "arn:aws:dms:us-east-1:123456789012:assessment-run:RUN1"
ROLE = "arn:aws:iam::123456789012:role/dms-assessment"


def client():  # type: ignore[no-untyped-def]
    return boto3.client("dms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def run_answer(status: str, completed: int, created: dt.datetime, **more: object) -> dict[str, object]:
    return {
        "ReplicationTaskAssessmentRunArn": RUN,
        "ReplicationTaskArn": TASK,
        "Status": status,
        "ReplicationTaskAssessmentRunCreationDate": created,
        "AssessmentProgress": {"IndividualAssessmentCount": 3, "IndividualAssessmentCompletedCount": completed},
        "AssessmentRunName": "before-start",
        "ResultLocationBucket": "dms-assessments",
        "ResultLocationFolder": "dev",
        "ServiceAccessRoleArn": ROLE,
        **more,
    }


def test_moto_still_lacks_the_assessment_api() -> None:
    with mock_aws():
        with pytest.raises(NotImplementedError):
            client().describe_replication_task_assessment_runs()


def test_start_sends_the_task_role_bucket_and_name() -> None:
    dms = client()
    created = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    with Stubber(dms) as stub:
        stub.add_response(
            "start_replication_task_assessment_run",
            {"ReplicationTaskAssessmentRun": run_answer("starting", 0, created)},
            {
                "ReplicationTaskArn": TASK,
                "ServiceAccessRoleArn": ROLE,
                "ResultLocationBucket": "dms-assessments",
                "ResultLocationFolder": "dev",
                "AssessmentRunName": "before-start",
                "IncludeOnly": ["postgres-check-pk"],
            },
        )
        run = start_assessment_run(
            dms,
            TASK,
            role_arn=ROLE,
            bucket="dms-assessments",
            name="before-start",
            folder="dev",
            include_only=["postgres-check-pk"],
        )
        stub.assert_no_pending_responses()
    assert run.arn == RUN and run.status == "starting" and not run.finished
    assert run.result_location == "s3://dms-assessments/dev"


def test_runs_and_their_individual_assessments_are_read_page_by_page() -> None:
    dms = client()
    old = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    new = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    by_task = {"Filters": [{"Name": "replication-task-arn", "Values": [TASK]}]}
    by_run = {"Filters": [{"Name": "replication-task-assessment-run-arn", "Values": [RUN]}]}
    stats = {"ResultStatistic": {"Passed": 1, "Failed": 1, "Warning": 1}}
    with Stubber(dms) as stub:
        stub.add_response(
            "describe_replication_task_assessment_runs",
            {"ReplicationTaskAssessmentRuns": [run_answer("passed", 3, old)], "Marker": "m1"},
            by_task,
        )
        stub.add_response(
            "describe_replication_task_assessment_runs",
            {"ReplicationTaskAssessmentRuns": [run_answer("failed", 3, new, **stats)]},
            {**by_task, "Marker": "m1"},
        )
        stub.add_response(
            "describe_replication_task_individual_assessments",
            {
                "ReplicationTaskIndividualAssessments": [
                    {"IndividualAssessmentName": "postgres-check-pk", "Status": "passed"},
                    {"IndividualAssessmentName": "postgres-check-wal-level", "Status": "failed"},
                    {"IndividualAssessmentName": "unsupported-data-types-in-source", "Status": "warning"},
                ]
            },
            by_run,
        )
        runs = assessment_runs(dms, TASK)
        found = individual_assessments(dms, RUN)
        stub.assert_no_pending_responses()
    assert [r.status for r in runs] == ["failed", "passed"]  # newest first
    latest = runs[0]
    assert latest.finished and (latest.passed, latest.failed, latest.warnings) == (1, 1, 1)
    assert [(a.name, a.status) for a in found] == [
        ("postgres-check-wal-level", "failed"),
        ("unsupported-data-types-in-source", "warning"),
        ("postgres-check-pk", "passed"),
    ]
