"""DMS premigration assessment runs on AWS: start one for a created (not yet started) task and read its results.

StartReplicationTaskAssessmentRun writes each individual assessment's JSON to an S3 bucket (through a role DMS
assumes); DescribeReplicationTaskAssessmentRuns says how far the run is and how many assessments passed, failed or
warned; DescribeReplicationTaskIndividualAssessments names each assessment and its status. Moto implements none of
the three (moto 5 raises NotImplementedError for them), so tests/aws/test_assessment_runs.py drives this module with
botocore's Stubber, which checks every request and response against the DMS service model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dms_tui.aws.dms import DmsCall

#: Statuses after which a run changes no more (the API's documented end states).
FINISHED_STATUSES = frozenset({"passed", "failed", "error", "warning", "cancelled"})


@dataclass(frozen=True)
class AssessmentRun:
    arn: str
    task_arn: str
    name: str
    status: str
    assessments: int
    completed: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    warnings: int = 0
    failure_message: str | None = None
    result_location: str | None = None  # s3://bucket/folder
    created: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_api(cls, run: Mapping[str, Any]) -> AssessmentRun:
        progress = run.get("AssessmentProgress") or {}
        stats = run.get("ResultStatistic") or {}
        bucket, folder = run.get("ResultLocationBucket"), run.get("ResultLocationFolder")
        return cls(
            arn=str(run.get("ReplicationTaskAssessmentRunArn", "")),
            task_arn=str(run.get("ReplicationTaskArn", "")),
            name=str(run.get("AssessmentRunName", "")),
            status=str(run.get("Status", "")),
            assessments=int(progress.get("IndividualAssessmentCount", 0)),
            completed=int(progress.get("IndividualAssessmentCompletedCount", 0)),
            passed=int(stats.get("Passed", 0)),
            failed=int(stats.get("Failed", 0)),
            errors=int(stats.get("Error", 0)),
            warnings=int(stats.get("Warning", 0)),
            failure_message=run.get("LastFailureMessage") or None,
            result_location=f"s3://{bucket}/{folder or ''}".rstrip("/") if bucket else None,
            created=run.get("ReplicationTaskAssessmentRunCreationDate"),
        )


@dataclass(frozen=True)
class IndividualAssessment:
    name: str
    status: str
    arn: str


def start_call(
    task_arn: str,
    *,
    role_arn: str,
    bucket: str,
    name: str,
    folder: str | None = None,
    include_only: Sequence[str] | None = None,
) -> DmsCall:
    """StartReplicationTaskAssessmentRun's parameters: the one place they are built (what is sent is what the
    `aws dms start-replication-task-assessment-run` line a person sees says)."""
    params: dict[str, Any] = {
        "ReplicationTaskArn": task_arn,
        "ServiceAccessRoleArn": role_arn,
        "ResultLocationBucket": bucket,
        "AssessmentRunName": name,
    }
    if folder:
        params["ResultLocationFolder"] = folder
    if include_only:
        params["IncludeOnly"] = list(include_only)
    return DmsCall("start_replication_task_assessment_run", params)


def start_assessment_run(
    client: Any,
    task_arn: str,
    *,
    role_arn: str,
    bucket: str,
    name: str,
    folder: str | None = None,
    include_only: Sequence[str] | None = None,
) -> AssessmentRun:
    """Start a premigration assessment run of the task (it must exist and not be running)."""
    call = start_call(task_arn, role_arn=role_arn, bucket=bucket, name=name, folder=folder, include_only=include_only)
    return AssessmentRun.from_api(
        client.start_replication_task_assessment_run(**call.params)["ReplicationTaskAssessmentRun"]
    )


def describe_run(client: Any, run_arn: str) -> AssessmentRun | None:
    """One run by its ARN (None when DMS no longer lists it)."""
    page = client.describe_replication_task_assessment_runs(
        Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [run_arn]}]
    )
    runs = page.get("ReplicationTaskAssessmentRuns", [])
    return AssessmentRun.from_api(runs[0]) if runs else None


def assessment_runs(client: Any, task_arn: str) -> list[AssessmentRun]:
    """The task's assessment runs, newest first."""
    runs: list[AssessmentRun] = []
    params: dict[str, Any] = {"Filters": [{"Name": "replication-task-arn", "Values": [task_arn]}]}
    while True:
        page = client.describe_replication_task_assessment_runs(**params)
        runs += [AssessmentRun.from_api(r) for r in page.get("ReplicationTaskAssessmentRuns", [])]
        if not page.get("Marker"):
            break
        params["Marker"] = page["Marker"]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(runs, key=lambda r: r.created or epoch, reverse=True)


def individual_assessments(client: Any, run_arn: str) -> list[IndividualAssessment]:
    """Each assessment of a run by name with its status (failed and warning first)."""
    found: list[IndividualAssessment] = []
    params: dict[str, Any] = {"Filters": [{"Name": "replication-task-assessment-run-arn", "Values": [run_arn]}]}
    while True:
        page = client.describe_replication_task_individual_assessments(**params)
        found += [
            IndividualAssessment(
                str(a.get("IndividualAssessmentName", "")),
                str(a.get("Status", "")),
                str(a.get("ReplicationTaskIndividualAssessmentArn", "")),
            )
            for a in page.get("ReplicationTaskIndividualAssessments", [])
        ]
        if not page.get("Marker"):
            break
        params["Marker"] = page["Marker"]
    order = {"failed": 0, "error": 1, "warning": 2}
    return sorted(found, key=lambda a: (order.get(a.status, 3), a.name))
