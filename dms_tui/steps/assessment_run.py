"""The premigration assessment, as `dms-tui task assess` and the Migrate preview run it.

Both modes run our own checks of the two catalogs first (:func:`dms_tui.steps.task_check.assess_definition`, the
same findings `task check --assess` prints). On AWS the step then runs DMS's own premigration assessment on the task:
the task must exist and not be running (DMS assesses a created task, never a moving one), so a task missing under the
draft's identifier is created from the draft (and left ready, not started); the run writes its results to the bucket
terraform's modules/assessment made, through the role DMS assumes there (both from the environment's outputs); the
step polls the run, yielding its progress, and ends with each individual assessment's status, consequence and fix.

The sandbox's emulator (moto) implements none of StartReplicationTaskAssessmentRun,
DescribeReplicationTaskAssessmentRuns or DescribeReplicationTaskIndividualAssessments: there the step says so
(:class:`DmsRunUnavailable`, from the environment's ``emulator_gap``) and stops after our own checks. Tests drive the
AWS path with botocore's Stubber (tests/aws/test_assessment_run_step.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.aws.assessment_runs import (
    AssessmentRun,
    IndividualAssessment,
    describe_run,
    individual_assessments,
    start_call,
)
from dms_tui.aws.cli_command import AwsCliCommand
from dms_tui.aws.dms import DmsCall, DmsTaskError, ReplicationTaskState, TaskStatusSeen
from dms_tui.domain.dms import MOVING_STATUSES, TaskStatus
from dms_tui.errors import StepError
from dms_tui.steps.migrate import CommandIssued, MigrateStep, TaskAction, TaskCreated, api_call, definition_of
from dms_tui.steps.services import StepServices

if TYPE_CHECKING:
    from dms_tui.dmstask.assessment import Finding
    from dms_tui.dmstask.migration import TaskDraft
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey

__all__ = [
    "START_OPERATION",
    "AssessmentResult",
    "AssessmentRunFinished",
    "AssessmentRunProgress",
    "AssessmentRunStarted",
    "AssessmentRunStep",
    "DmsRunUnavailable",
    "OwnAssessment",
    "TaskReady",
    "dms_run_gap",
    "explain",
]

START_OPERATION = "dms:StartReplicationTaskAssessmentRun"

# StepServices.options keys (tests set them).
POLL_INTERVAL = "assessment_poll_interval_s"  # seconds between reads of the run (default 15: runs take minutes)
TIMEOUT = "assessment_timeout_s"  # how long to wait for the run to finish (default 3600)
CLOCK = "assessment_clock"  # () -> datetime: names the run (a fixed clock makes tests reproducible)


# -- events -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnAssessment:
    """Our own checks of both catalogs (both modes)."""

    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class DmsRunUnavailable:
    """This environment cannot run DMS's premigration assessment (the sandbox): why, in words."""

    reason: str


@dataclass(frozen=True)
class TaskReady:
    """The task the run assesses: created by this step (``created``) or found, and not running."""

    arn: str
    identifier: str
    status: str
    created: bool


@dataclass(frozen=True)
class AssessmentRunStarted:
    run: AssessmentRun
    command: AwsCliCommand


@dataclass(frozen=True)
class AssessmentRunProgress:
    run: AssessmentRun


@dataclass(frozen=True)
class AssessmentResult:
    """One individual assessment of the run, with what its status means and what to do."""

    name: str
    status: str
    consequence: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "consequence": self.consequence, "fix": self.fix}


@dataclass(frozen=True)
class AssessmentRunFinished:
    run: AssessmentRun
    results: tuple[AssessmentResult, ...]

    @property
    def ok(self) -> bool:
        """The run ended and no assessment failed or erred (warnings pass, as DMS counts them)."""
        return self.run.status in ("passed", "warning") and not any(
            r.status in ("failed", "error") for r in self.results
        )


AssessmentEvent = (
    OwnAssessment
    | DmsRunUnavailable
    | CommandIssued
    | TaskCreated
    | TaskReady
    | AssessmentRunStarted
    | AssessmentRunProgress
    | AssessmentRunFinished
    | TaskStatusSeen
)


# -- what an individual assessment's status means -----------------------------------------------------------------------

# The individual assessments of a PostgreSQL source (AWS DMS User Guide, "PostgreSQL assessments") whose subject we can
# name: what a failure means for the task, and the fix. Any other name gets the generic meaning of its status.
_KNOWN: dict[str, tuple[str, str]] = {
    "postgres-check-dbversion": (
        "DMS does not support the source's PostgreSQL version: the task fails or behaves unpredictably.",
        "upgrade the source to a version DMS supports, or use a DMS engine version that supports it.",
    ),
    "postgres-check-maxwalsenders": (
        "too few WAL senders: a CDC task cannot open its replication connection.",
        "raise max_wal_senders on the source and restart it.",
    ),
    "postgres-check-for-logical-decoding-work-mem": (
        "large or many sub-transactions spill to disk during CDC: latency and ReplicationSlotDiskUsage grow.",
        "raise logical_decoding_work_mem on the source.",
    ),
    "unsupported-data-types-in-source": (
        "columns of types DMS cannot migrate are left out or migrate partially.",
        "remove or convert those columns (remove-column, change-data-type); `dms-tui task check --assess` names them.",
    ),
}

_BY_STATUS: dict[str, str] = {
    "failed": "DMS found what this assessment checks for: the task fails or loses data there if started as it is.",
    "error": "DMS could not complete this assessment: nothing is known about what it checks.",
    "warning": "the task runs, with a consequence on what this assessment checks.",
    "cancelled": "the run was cancelled before this assessment finished.",
    "skipped": "DMS did not run this assessment for this task (it does not apply to its endpoints or settings).",
}


def explain(assessment: IndividualAssessment, run: AssessmentRun) -> AssessmentResult:
    """The consequence and fix of one individual assessment's status."""
    where = run.result_location or "the run's result bucket"
    read = f"read {assessment.name}'s result in {where} (aws s3 ls --recursive {where}/)"
    status = assessment.status
    if status == "passed":
        return AssessmentResult(assessment.name, status, "nothing found.", "nothing to do.")
    known = _KNOWN.get(assessment.name)
    if known is not None and status in ("failed", "warning"):
        consequence, fix = known
        return AssessmentResult(assessment.name, status, consequence, f"{fix[0].upper()}{fix[1:]} ({read}).")
    consequence = _BY_STATUS.get(status, f"the assessment's status is {status}.")
    if status == "error":
        fix = f"Check the role's access to the bucket and the endpoints' connections, then run it again ({read})."
    else:
        fix = f"{read[0].upper()}{read[1:]}, fix what it lists, and run the assessment again."
    return AssessmentResult(assessment.name, status, consequence, fix)


# -- the step ------------------------------------------------------------------------------------------------------------


def dms_run_gap(environment: Environment) -> str | None:
    """Why ``environment`` cannot run DMS's premigration assessment (a sentence to show), or None (AWS)."""
    gap = environment.emulator_gap(START_OPERATION)
    if gap is None:
        return None
    return (
        f"The DMS premigration assessment run exists only on AWS ({gap.reason}): "
        "these are dms-tui's own checks of the same kind, from both databases' catalogs."
    )


class AssessmentRunStep:
    """Our checks, then (on AWS) DMS's premigration assessment run of the draft's task; every call blocks."""

    def __init__(
        self, environment: Environment, services: StepServices | None = None, journey: Journey | None = None
    ) -> None:
        services = services or StepServices()
        self.environment = environment
        self.migrate = MigrateStep(environment, services, journey)
        self.client = self.migrate.client
        options = services.options
        self.interval_s = float(options.get(POLL_INTERVAL, 15.0))
        self.timeout_s = float(options.get(TIMEOUT, 3600.0))
        self._clock: Callable[[], dt.datetime] = options.get(CLOCK) or (lambda: dt.datetime.now(dt.UTC))
        self._sleep: Callable[[float], None] = options.get("assessment_sleep", time.sleep)

    @property
    def dms_run_gap(self) -> str | None:
        return dms_run_gap(self.environment)

    def start_command(self, task_arn: str) -> AwsCliCommand | None:
        """The `aws dms start-replication-task-assessment-run` line for the task (None without the outputs)."""
        outputs = self.migrate.outputs
        if outputs is None or not outputs.assessment_bucket:
            return None
        return self.migrate.runner.render(self._start_call(task_arn, outputs.assessment_role_arn, outputs))

    def run(self, draft: TaskDraft) -> Iterator[AssessmentEvent]:
        definition = definition_of(draft)
        yield OwnAssessment(tuple(self.migrate.assess(definition)))
        reason = self.dms_run_gap
        if reason is not None:
            yield DmsRunUnavailable(reason)
            return
        outputs = self.migrate.require_outputs()
        if not outputs.assessment_bucket or not outputs.assessment_role_arn:
            raise StepError(
                "This environment has no bucket or role for DMS assessment results.",
                "terraform's outputs lack assessment_bucket / assessment_role_arn (provisioned before the bundle "
                "had modules/assessment).",
                "Run `dms-tui provision apply` again, then `dms-tui task assess`.",
                exit_code=exit_codes.NOT_RUN,
            )
        task = yield from self._task(draft)
        call = self._start_call(task.arn, outputs.assessment_role_arn, outputs)
        response, command = self.migrate.runner.call(call, subject=task.identifier)
        run = AssessmentRun.from_api(response["ReplicationTaskAssessmentRun"])
        yield AssessmentRunStarted(run, command)
        started = time.monotonic()
        while not run.finished:
            if time.monotonic() - started > self.timeout_s:
                raise StepError(
                    f"The assessment run {run.name} did not finish in {self.timeout_s:.0f} s.",
                    f"It is {run.status}, {run.completed} of {run.assessments} assessments done.",
                    "Look at it later: `aws dms describe-replication-task-assessment-runs`.",
                    exit_code=exit_codes.FAILED,
                )
            self._sleep(self.interval_s)
            seen = describe_run(self.client, run.arn)
            if seen is None:
                raise StepError(
                    f"The assessment run {run.name} disappeared.",
                    "DescribeReplicationTaskAssessmentRuns no longer lists it (deleted elsewhere).",
                    "Run `dms-tui task assess` again.",
                    exit_code=exit_codes.FAILED,
                )
            run = seen
            yield AssessmentRunProgress(run)
        results = tuple(explain(a, run) for a in individual_assessments(self.client, run.arn))
        yield AssessmentRunFinished(run, results)

    def _start_call(self, task_arn: str, role_arn: str, outputs: Any) -> DmsCall:
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        return start_call(
            task_arn,
            role_arn=role_arn,
            bucket=outputs.assessment_bucket,
            name=f"dms-tui-{stamp}",
            folder="dms-tui",
        )

    def _task(self, draft: TaskDraft) -> Generator[AssessmentEvent, None, ReplicationTaskState]:
        """The draft's task, created (not started) when missing; refused while it runs. Returns its state."""
        migrate = self.migrate
        definition = definition_of(draft)
        task = migrate.find(definition.identifier)
        created = False
        if task is None:
            result = migrate.runner.task_call(
                api_call(TaskAction.CREATE, outputs=migrate.require_outputs(), definition=definition),
                subject=definition.identifier,
            )
            yield CommandIssued(result.command)
            assert result.task is not None
            task = result.task
            created = True
            migrate._record(identifier=definition.identifier, table_mappings=draft.mappings_text, arn=task.arn)
            yield TaskCreated(task.arn, task.identifier)
        elif task.status in MOVING_STATUSES or task.status == TaskStatus.STOPPING:
            stop = migrate.command(TaskAction.STOP, arn=task.arn).text
            raise DmsTaskError(
                f"Task {task.identifier} is {task.status}: DMS assesses only a task that is not running.",
                "StartReplicationTaskAssessmentRun refuses a task that is starting, running or stopping.",
                f"Stop it (the Migrate screen's stop, or `{stop}`), then run `dms-tui task assess` again.",
                exit_code=exit_codes.NOT_RUN,
            )
        if task.status in (TaskStatus.CREATING, TaskStatus.MODIFYING):
            yield from migrate.runner.wait(
                task.arn, migrate._ready, "ready", timeout_s=migrate.ready_timeout_s, interval_s=migrate.interval_s
            )
            task = migrate.runner.describe(task.arn)
        yield TaskReady(task.arn, task.identifier, task.status, created)
        return task
