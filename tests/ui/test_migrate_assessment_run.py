"""The Migrate preview's premigration assessment section: in the sandbox it says the DMS assessment run exists only
on AWS; on AWS, `a` runs DMS's assessment on the draft's task (created when missing, not started) and shows each
individual assessment with its consequence and fix. Moto lacks the assessment-run API: its three operations are
answered by botocore's Stubber, the task by the scripted control plane the other Migrate screen tests use."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import boto3
from botocore.stub import Stubber
from textual.widgets import Static

from dms_tui.dmstask.assessment import Finding
from dms_tui.environment import Environment
from dms_tui.screens.migrate import MigrateScreen
from dms_tui.steps import assessment_run
from dms_tui.steps.migrate import ASSESSMENT
from tests.ui.scripted_dms import ScriptedDms
from tests.ui.test_migrate_screen import REGION, fake_outputs, migrate_app, open_migrate, until

OPERATIONS = {
    "start_replication_task_assessment_run",
    "describe_replication_task_assessment_runs",
    "describe_replication_task_individual_assessments",
}
TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:SCRIPTED"
RUN_ARN = f"arn:aws:dms:{REGION}:123456789012:assessment-run:RUN1"
BUCKET, ROLE = "dev-dms-assessments-123456789012-us-east-1", "arn:aws:iam::123456789012:role/dev-dms-assess-1"


class Routed:
    """The scripted control plane, with the assessment-run operations sent to a stubbed boto3 client."""

    def __init__(self, scripted: ScriptedDms, stubbed: Any) -> None:
        self.scripted, self.stubbed = scripted, stubbed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stubbed if name in OPERATIONS else self.scripted, name)


def _assess(*_args: Any) -> list[Finding]:
    return [Finding("warning", "table-without-key", "sales.audit", "no key", "not validated.", "add a key.")]


def _shown(screen: MigrateScreen) -> str:
    return " ".join(str(screen.query_one("#assessment", Static).render()).split())


def _run(status: str, completed: int) -> dict[str, Any]:
    return {
        "ReplicationTaskAssessmentRunArn": RUN_ARN,
        "ReplicationTaskArn": TASK_ARN,
        "Status": status,
        "AssessmentProgress": {"IndividualAssessmentCount": 2, "IndividualAssessmentCompletedCount": completed},
        "AssessmentRunName": "dms-tui-20261208-003000",
        "ResultLocationBucket": BUCKET,
        "ResultLocationFolder": "dms-tui",
    }


async def test_in_the_sandbox_the_preview_says_the_dms_run_exists_only_on_aws() -> None:
    app = migrate_app(ScriptedDms([]), **{ASSESSMENT: _assess})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = MigrateScreen(app.journey)
        await open_migrate(app, pilot, screen, fake_outputs())
        screen.query_one("#migrate-tabs").active = "tab-preview"  # type: ignore[attr-defined]
        await until(pilot, lambda: "finding" in _shown(screen))
        assert "exists only on AWS" in _shown(screen) and "press a" not in _shown(screen)
        screen.query_one("#preview-table").focus()
        await pilot.press("a")  # nothing to run here
        await pilot.pause()
        assert "exists only on AWS" in _shown(screen)


async def test_on_aws_a_runs_the_dms_assessment_and_shows_each_result() -> None:
    scripted = ScriptedDms([])
    stubbed = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    options = {
        ASSESSMENT: _assess,
        assessment_run.POLL_INTERVAL: 0.0,
        assessment_run.CLOCK: lambda: dt.datetime(2026, 12, 8, 0, 30, tzinfo=dt.UTC),
    }
    app = migrate_app(Routed(scripted, stubbed), target=Environment(mode="aws", region=REGION, env="dev"), **options)
    outputs = dataclasses.replace(fake_outputs(), assessment_bucket=BUCKET, assessment_role_arn=ROLE)
    by_run = {"Filters": [{"Name": "replication-task-assessment-run-arn", "Values": [RUN_ARN]}]}
    with Stubber(stubbed) as stub:
        stub.add_response(
            "start_replication_task_assessment_run",
            {"ReplicationTaskAssessmentRun": _run("starting", 0)},
            {
                "ReplicationTaskArn": TASK_ARN,
                "ServiceAccessRoleArn": ROLE,
                "ResultLocationBucket": BUCKET,
                "ResultLocationFolder": "dms-tui",
                "AssessmentRunName": "dms-tui-20261208-003000",
            },
        )
        stub.add_response(
            "describe_replication_task_assessment_runs", {"ReplicationTaskAssessmentRuns": [_run("failed", 2)]}, by_run
        )
        stub.add_response(
            "describe_replication_task_individual_assessments",
            {
                "ReplicationTaskIndividualAssessments": [
                    {"IndividualAssessmentName": "postgres-check-dbversion", "Status": "passed"},
                    {"IndividualAssessmentName": "postgres-check-maxwalsenders", "Status": "failed"},
                ]
            },
            by_run,
        )
        async with app.run_test(size=(100, 30)) as pilot:
            screen = MigrateScreen(app.journey)
            await open_migrate(app, pilot, screen, outputs)
            screen.query_one("#migrate-tabs").active = "tab-preview"  # type: ignore[attr-defined]
            await until(pilot, lambda: "press a" in _shown(screen))
            screen.query_one("#preview-table").focus()
            await pilot.press("a")
            await until(pilot, lambda: "assessments passed" in _shown(screen))
            shown = _shown(screen)
        stub.assert_no_pending_responses()
    assert "premigration assessment: 1 finding" in shown  # ours stay above DMS's
    assert "DMS premigration assessment run dms-tui-20261208-003000: failed" in shown
    assert "✗ postgres-check-maxwalsenders: too few WAL senders" in shown and "Fix: Raise max_wal_senders" in shown
    assert "1 of 2 assessments passed" in shown
    operations = [op for op, _ in scripted.calls]
    assert "CreateReplicationTask" in operations and "StartReplicationTask" not in operations  # created, not started
