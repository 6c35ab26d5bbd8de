"""The Migrate step: the DMS replication task's whole life, for the wizard's Migrate screen and `dms-tui migrate`.

Check the definition (once, :meth:`~dms_tui.dmstask.migration.TaskDraft.check`), replace a task left under the same
identifier, create the task, wait until it is ready, start it, watch it until it ends; stop, resume, reload a table,
delete. Every API call's parameters are built by :func:`api_call` alone, and the `aws dms ...` line a person sees is
rendered from those same parameters (with the environment's flags), so the two cannot drift. The journey's
:class:`~dms_tui.journey.TaskRecord` records the identifier, the mappings as written, the ARN as soon as the task
exists, its status, and the outcome.

The DMS client comes from ``StepServices.dms_client(environment)``; the knobs tests turn (poll schedule, clock, how
long to wait for ready, the source catalog for the preview) are ``StepServices.options`` named ``migrate_*``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.aws.cli_command import AwsCliCommand
from dms_tui.aws.dms import (
    DmsCall,
    DmsResult,
    DmsTaskError,
    ReplicationTaskRunner,
    ReplicationTaskState,
    TaskFailedError,
    TaskNotFoundError,
    TaskStatusSeen,
    describe_call,
)
from dms_tui.aws.task_poller import PollEvent, PollFailed, PollSchedule, ReplicationTaskSnapshot, TaskGone, TaskPoller
from dms_tui.dmstask.migration import TaskDefinition, TaskDraft
from dms_tui.domain.dms import (
    ENDED_STATUSES,
    MOVING_STATUSES,
    PAST_READY_STATUSES,
    MigrationType,
    ReloadOption,
    StartTaskType,
    StopReason,
    TaskStatus,
)
from dms_tui.errors import StepError
from dms_tui.report.evidence import record_task
from dms_tui.steps.cdc_prerequisites import (
    CdcPrerequisites,
    PrerequisitesChecked,
    check_cdc_prerequisites,
    needs_prerequisites,
)
from dms_tui.steps.services import StepServices

if TYPE_CHECKING:
    from dms_tui.data.validation_failures import ValidationFailure
    from dms_tui.dmstask.assessment import Finding
    from dms_tui.dmstask.preview import SourceTable
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey
    from dms_tui.provision.outputs import EnvironmentOutputs

__all__ = [
    "CommandIssued",
    "ExistingTask",
    "ExistingTaskKept",
    "MigrateStep",
    "MigrationFinished",
    "OldTaskRemoved",
    "PrerequisitesChecked",
    "TaskAction",
    "TaskCreated",
    "TaskLaunched",
    "TaskStatusSeen",
    "all_tables_completed",
    "api_call",
    "start_type_for",
]

# StepServices.options keys (tests set them; the defaults are the real thing).
POLL_SCHEDULE = "migrate_poll_schedule"  # PollSchedule between polls while watching
READY_INTERVAL = "migrate_ready_interval_s"  # seconds between looks while waiting for ready / stopped / gone
READY_TIMEOUT = "migrate_ready_timeout_s"
CLOCK = "migrate_clock"  # () -> datetime for the snapshots' taken_at (a fixed clock makes screens reproducible)
SOURCE_CATALOG = "migrate_source_catalog"  # (Environment, EnvironmentOutputs) -> Sequence[SourceTable]
# (Environment, EnvironmentOutputs, TableMappings, migration type) -> CdcPrerequisites (tests without databases)
PREREQUISITES = "migrate_prerequisites"
CLOUDWATCH_CLIENT = "migrate_cloudwatch_client"  # the CDC metrics' CloudWatch client (None: the environment's)
METRICS_INTERVAL = "migrate_metrics_interval_s"  # seconds between CDC metrics reads
METRICS_CLOCK = "migrate_metrics_clock"  # () -> datetime: the end of each metrics read's window (default: now)
VALIDATION_FAILURES = "migrate_validation_failures"  # (Environment, EnvironmentOutputs, names, limit) -> failures
ASSESSMENT = "migrate_assessment"  # (Environment, EnvironmentOutputs, mappings, settings, migration type) -> findings

#: A task found in one of these (an earlier run whose ARN was lost) is watched again rather than replaced.
WATCH_AGAIN_STATUSES = frozenset({TaskStatus.STARTING, TaskStatus.RUNNING, TaskStatus.STOPPING})


# -- events -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandIssued:
    """An API call was made; ``command`` is its `aws dms ...` equivalent, rendered from the parameters sent."""

    command: AwsCliCommand


@dataclass(frozen=True)
class OldTaskRemoved:
    """A task with the same identifier existed from an earlier run and was stopped (if moving) and deleted."""

    identifier: str
    status: str


@dataclass(frozen=True)
class ExistingTaskKept:
    """A task with the same identifier existed and was kept, as DMS defines it (not as the draft would):
    ``start_type`` is how it was started again, None when it was already moving and is only watched."""

    identifier: str
    status: str
    start_type: StartTaskType | None


@dataclass(frozen=True)
class TaskCreated:
    """CreateReplicationTask answered: the task exists under ``arn`` (recorded in the journey at once)."""

    arn: str
    identifier: str


@dataclass(frozen=True)
class TaskLaunched:
    """StartReplicationTask answered; watching can begin."""

    task: ReplicationTaskState


@dataclass(frozen=True)
class MigrationFinished:
    """The watched task ended: its last snapshot, and whether every table completed (exit 0 / Next)."""

    snapshot: ReplicationTaskSnapshot
    succeeded: bool


LaunchEvent = (
    CommandIssued
    | PrerequisitesChecked
    | OldTaskRemoved
    | ExistingTaskKept
    | TaskCreated
    | TaskStatusSeen
    | TaskLaunched
)
MigrateEvent = LaunchEvent | PollEvent | MigrationFinished


# -- the calls ----------------------------------------------------------------------------------------------------------


class TaskAction(StrEnum):
    CREATE = "create"
    DESCRIBE = "describe"
    START = "start"
    STOP = "stop"
    RELOAD = "reload"
    DELETE = "delete"


def api_call(
    action: TaskAction,
    *,
    arn: str = "",
    outputs: EnvironmentOutputs | None = None,
    definition: TaskDefinition | None = None,
    start_type: StartTaskType = StartTaskType.START_REPLICATION,
    tables: Iterable[tuple[str, str]] = (),
) -> DmsCall:
    """The DMS call for ``action``: the one place its parameters are built (what is sent is what is printed)."""
    match action:
        case TaskAction.CREATE:
            assert outputs is not None and definition is not None
            return DmsCall(
                "create_replication_task",
                {
                    "ReplicationTaskIdentifier": definition.identifier,
                    "SourceEndpointArn": outputs.source.dms_endpoint_arn,
                    "TargetEndpointArn": outputs.target.dms_endpoint_arn,
                    "ReplicationInstanceArn": outputs.dms_replication_instance_arn,
                    "MigrationType": definition.migration_type.value,
                    "TableMappings": definition.table_mappings,
                    "ReplicationTaskSettings": definition.task_settings,
                },
            )
        case TaskAction.DESCRIBE:
            return describe_call(arn=arn)
        case TaskAction.START:
            return DmsCall(
                "start_replication_task",
                {"ReplicationTaskArn": arn, "StartReplicationTaskType": StartTaskType(start_type).value},
            )
        case TaskAction.STOP:
            return DmsCall("stop_replication_task", {"ReplicationTaskArn": arn})
        case TaskAction.RELOAD:
            return DmsCall(
                "reload_tables",
                {
                    "ReplicationTaskArn": arn,
                    "TablesToReload": [{"SchemaName": schema, "TableName": table} for schema, table in tables],
                    "ReloadOption": ReloadOption.DATA_RELOAD.value,
                },
            )
        case TaskAction.DELETE:
            return DmsCall("delete_replication_task", {"ReplicationTaskArn": arn})
    raise ValueError(action)


class ExistingTask(StrEnum):
    """What the step does with a task left under the same identifier by an earlier run (DMS keeps it)."""

    REPLACE = "replace"  # stop it if it moves, delete it, create the task anew from the draft
    RESTART = "restart"  # keep it as DMS defines it; stop it if it moves; load everything again (reload-target)
    REUSE = "reuse"  # keep it as DMS defines it: watch it if it moves, else resume it (a finished load: reload)

    @property
    def meaning(self) -> str:
        return {
            ExistingTask.REPLACE: "delete it and create it again from these settings",
            ExistingTask.RESTART: "keep it as DMS has it and load every table again",
            ExistingTask.REUSE: "keep it as DMS has it: watch it if it runs, else resume it",
        }[self]


def start_type_for(status: str, *, completed: bool) -> StartTaskType:
    """How `s` starts a task in ``status``: a fresh start, a resume, or a full reload of a finished full load."""
    if status in (TaskStatus.READY, TaskStatus.CREATING):
        return StartTaskType.START_REPLICATION
    if completed:
        return StartTaskType.RELOAD_TARGET  # every table loaded: resuming would do nothing, so load again
    return StartTaskType.RESUME_PROCESSING


def all_tables_completed(snapshot: ReplicationTaskSnapshot | None) -> bool:
    """Every table the task reports is completed and none errored (a full-load-and-cdc task may still be running)."""
    return (
        snapshot is not None
        and bool(snapshot.tables)
        and snapshot.stats.tables_errored == 0
        and all(t.completed for t in snapshot.tables)
    )


def replicating(snapshot: ReplicationTaskSnapshot) -> bool:
    """A change-capturing task past its full load: running, and every table it reports loaded."""
    return snapshot.status == TaskStatus.RUNNING and all_tables_completed(snapshot)


def definition_of(draft: TaskDraft) -> TaskDefinition:
    """The checked definition (the same check the screen's form shows live); StepError, nothing created, if not."""
    check = draft.check()
    if check.definition is None:
        problems = [f"task: {p}" for p in check.task_problems]
        problems += [f"task settings: {p}" for p in check.settings_problems]
        problems += [f"table mappings: {p}" for p in check.mappings_problems]
        raise StepError(
            "The task definition is not valid; nothing was created.",
            "\n".join(problems),
            "Fix the settings or mappings named above and run the step again.",
            exit_code=exit_codes.NOT_RUN,
        )
    return check.definition


# -- the step -----------------------------------------------------------------------------------------------------------


class MigrateStep:
    """One environment's DMS task, driven from a worker thread or a headless command (every call blocks)."""

    def __init__(
        self,
        environment: Environment,
        services: StepServices | None = None,
        journey: Journey | None = None,
        *,
        file_threshold: int | None = 400,
    ) -> None:
        services = services or StepServices()
        options = services.options
        self.environment = environment
        self.journey = journey
        self.client = services.dms_client(environment)
        self.runner = ReplicationTaskRunner.for_environment(environment, self.client, file_threshold=file_threshold)
        self.schedule: PollSchedule = options.get(POLL_SCHEDULE) or PollSchedule()
        self.interval_s = float(options.get(READY_INTERVAL, 5.0))
        self.ready_timeout_s = float(options.get(READY_TIMEOUT, 900.0))
        self._clock: Callable[[], dt.datetime] | None = options.get(CLOCK)
        self._catalog: Callable[[Environment, EnvironmentOutputs], Sequence[SourceTable]] = options.get(
            SOURCE_CATALOG, read_source_tables
        )
        self._prerequisites: Callable[..., CdcPrerequisites] = options.get(PREREQUISITES, check_cdc_prerequisites)
        self._options = options
        self._failures: Callable[[Environment, EnvironmentOutputs, set[str], int], list[ValidationFailure]] = (
            options.get(VALIDATION_FAILURES, read_validation_failures)
        )

    # -- where ---------------------------------------------------------------------------------------------------------

    @property
    def outputs(self) -> EnvironmentOutputs | None:
        """What provisioning created: the environment's outputs, else the ones the journey recorded."""
        if self.environment.outputs is not None:
            return self.environment.outputs
        if self.journey is not None and self.journey.state.outputs:
            from dms_tui.provision.outputs import EnvironmentOutputs

            return EnvironmentOutputs.from_json(self.journey.state.outputs)
        return None

    def require_outputs(self) -> EnvironmentOutputs:
        outputs = self.outputs
        return outputs if outputs is not None else self.environment.require_outputs()

    # -- commands a person could type ----------------------------------------------------------------------------------

    def command(self, action: TaskAction, **values: Any) -> AwsCliCommand:
        """The `aws dms ...` line for ``action`` (the same parameters the step would send)."""
        return self.runner.render(api_call(action, **values))

    def create_command(self, definition: TaskDefinition) -> AwsCliCommand | None:
        outputs = self.outputs
        return None if outputs is None else self.command(TaskAction.CREATE, outputs=outputs, definition=definition)

    # -- the preview's catalog -----------------------------------------------------------------------------------------

    def source_tables(self) -> Sequence[SourceTable]:
        """The source database's tables (for the preview of what the mappings select)."""
        return self._catalog(self.environment, self.require_outputs())

    # -- CDC prerequisites ---------------------------------------------------------------------------------------------

    def prerequisites(self, draft: TaskDraft) -> CdcPrerequisites:
        """What a change-capturing task needs from both databases (an empty report for full-load)."""
        definition = definition_of(draft)
        if not needs_prerequisites(definition.migration_type.value):
            return CdcPrerequisites(definition.migration_type.value, ())
        from dms_tui.dmstask.mappings import TableMappings

        mappings = TableMappings.from_json(definition.table_mappings)
        return self._prerequisites(self.environment, self.require_outputs(), mappings, definition.migration_type.value)

    def assess(self, definition: TaskDefinition) -> list[Finding]:
        """Our premigration assessment of a checked definition, from both catalogs (before the task exists)."""
        from dms_tui.steps.task_check import assess_definition

        assess = self._options.get(ASSESSMENT, assess_definition)
        return list(
            assess(
                self.environment,
                self.require_outputs(),
                definition.table_mappings,
                definition.task_settings,
                str(definition.migration_type),
            )
        )

    def validation_failures(self, identifier: str, arn: str, limit: int = 20) -> list[ValidationFailure]:
        """The task's newest rows of the target's awsdms_validation_failures_v1 (DMS names the task by its identifier
        or by the last part of its ARN; both are accepted)."""
        names = {identifier, arn.rsplit(":", 1)[-1]}
        return self._failures(self.environment, self.require_outputs(), names, limit)

    # -- launching -----------------------------------------------------------------------------------------------------

    def find(self, identifier: str) -> ReplicationTaskState | None:
        return self.runner.find(identifier)

    def launch(
        self, draft: TaskDraft, *, replace_existing: bool = True, existing_task: ExistingTask = ExistingTask.REPLACE
    ) -> Iterator[LaunchEvent]:
        """Check the draft; for a task left under its identifier do what ``existing_task`` says (replace, restart
        or reuse it); else create it, wait until ready, start. A change-capturing task is preceded by its
        prerequisites (:class:`PrerequisitesChecked`); a failed blocker raises a StepError before anything exists."""
        definition = definition_of(draft)
        outputs = self.require_outputs()
        if needs_prerequisites(definition.migration_type.value):
            report = self.prerequisites(draft)
            yield PrerequisitesChecked(report)
            if not report.ok:
                raise report.error()
        self._record(identifier=definition.identifier, table_mappings=draft.mappings_text)
        runner = self.runner
        existing = runner.find(definition.identifier)
        if existing is not None:
            if not replace_existing:
                raise DmsTaskError(
                    f"A task named {definition.identifier} already exists ({existing.status}).",
                    "",
                    "Delete it, or choose another identifier.",
                )
            if existing_task is not ExistingTask.REPLACE:
                yield from self._start_again(existing, existing_task)
                return
            yield from self._remove(existing)
            yield OldTaskRemoved(existing.identifier, existing.status)
        created = runner.task_call(
            api_call(TaskAction.CREATE, outputs=outputs, definition=definition), subject=definition.identifier
        )
        yield CommandIssued(created.command)
        assert created.task is not None
        arn = created.task.arn
        self._record(arn=arn, status=created.task.status)
        yield TaskCreated(arn, created.task.identifier)
        yield from runner.wait(arn, self._ready, "ready", timeout_s=self.ready_timeout_s, interval_s=self.interval_s)
        started = runner.task_call(api_call(TaskAction.START, arn=arn), subject=arn)
        yield CommandIssued(started.command)
        assert started.task is not None
        self._record(status=started.task.status)
        yield TaskLaunched(started.task)

    def _start_again(self, task: ReplicationTaskState, how: ExistingTask) -> Iterator[LaunchEvent]:
        """Keep ``task``: watch it as it moves (reuse), or stop it first (restart), then start it the way ``how``
        and its status say. Its definition stays what DMS has; the draft's mappings are not applied to it."""
        self._record(arn=task.arn, status=task.status)
        if task.status in MOVING_STATUSES and how is ExistingTask.REUSE:
            yield ExistingTaskKept(task.identifier, task.status, None)
            yield TaskLaunched(task)
            return
        if task.status in MOVING_STATUSES or task.status == TaskStatus.STOPPING:
            yield from self.stop_and_wait(task)
            task = self.runner.describe(task.arn)
        if task.status in (TaskStatus.CREATING, TaskStatus.MODIFYING):
            yield from self.runner.wait(
                task.arn, self._ready, "ready", timeout_s=self.ready_timeout_s, interval_s=self.interval_s
            )
            task = self.runner.describe(task.arn)
        if how is ExistingTask.RESTART and task.status not in (TaskStatus.READY, TaskStatus.CREATING):
            start_type = StartTaskType.RELOAD_TARGET
        else:
            finished = task.stop_reason == StopReason.FULL_LOAD_ONLY_FINISHED
            start_type = start_type_for(task.status, completed=finished)
        yield ExistingTaskKept(task.identifier, task.status, start_type)
        started = self.start(task.arn, start_type)
        yield CommandIssued(started.command)
        assert started.task is not None
        self._record(status=started.task.status)
        yield TaskLaunched(started.task)

    def _ready(self, state: ReplicationTaskState) -> bool:
        if state.status == TaskStatus.FAILED:
            raise TaskFailedError(
                f"Task {state.identifier} failed while being created.",
                state.last_failure_message or "DMS gave no reason.",
                "Check the endpoints and the JSON documents, delete the task and create it again.",
            )
        if state.status in PAST_READY_STATUSES:
            # The ReplicationTaskReady waiter fails on these too: the task will not come back to "ready".
            raise DmsTaskError(
                f"Task {state.identifier} is already {state.status}, so it will not become ready.",
                "Someone started it elsewhere.",
                "Watch it as it is, or stop and delete it and create it again.",
            )
        creating_counts = not self.environment.reports_task_ready
        return state.status == TaskStatus.READY or (state.status == TaskStatus.CREATING and creating_counts)

    def stop_and_wait(self, task: ReplicationTaskState) -> Iterator[CommandIssued | TaskStatusSeen]:
        """Stop ``task`` if it moves (one already stopping is only waited for), until it has stopped or failed."""
        if task.status in MOVING_STATUSES:
            stopped = self.runner.task_call(api_call(TaskAction.STOP, arn=task.arn), subject=task.arn)
            yield CommandIssued(stopped.command)
        yield from self.runner.wait(
            task.arn,
            lambda s: s.status in ENDED_STATUSES,
            "stopped",
            timeout_s=self.ready_timeout_s,
            interval_s=self.interval_s,
        )

    def _remove(self, task: ReplicationTaskState) -> Iterator[CommandIssued | TaskStatusSeen]:
        """Stop ``task`` when it moves (DMS refuses to delete a running task), then delete it and wait until gone."""
        if task.status in MOVING_STATUSES:
            yield from self.stop_and_wait(task)
        deleted = self.runner.task_call(api_call(TaskAction.DELETE, arn=task.arn), subject=task.arn)
        yield CommandIssued(deleted.command)
        yield from self.runner.wait_gone(task.arn, timeout_s=self.ready_timeout_s, interval_s=self.interval_s)

    # -- watching ------------------------------------------------------------------------------------------------------

    def watch(
        self, arn: str, stop: threading.Event | None = None, *, max_poll_failures: int | None = None
    ) -> Iterator[PollEvent]:
        """Snapshots until the task ends, is deleted, or ``stop`` is set (one call in flight at a time); the
        journey's record follows the status. ``max_poll_failures`` polls in a row without an answer raise."""
        kwargs: dict[str, Any] = {} if self._clock is None else {"now": self._clock}
        failures = 0
        recorded: str | None = None
        for event in TaskPoller(self.client, arn, self.schedule, **kwargs).events(stop):
            yield event
            if isinstance(event, ReplicationTaskSnapshot):
                failures = 0
                if event.status != recorded or event.ended:
                    recorded = event.status
                    self.record_outcome(event)
            elif isinstance(event, TaskGone):
                self._record(arn=None, status=None)
            elif isinstance(event, PollFailed):
                failures += 1
                if max_poll_failures is not None and failures >= max_poll_failures:
                    raise DmsTaskError(
                        f"The DMS API did not answer {failures} polls in a row.",
                        f"Last: {event.message}",
                        "Check the network or the sandbox (`dms-tui sandbox status`) and look at the task in the "
                        "console; it may still be running.",
                    )

    def run(
        self,
        draft: TaskDraft,
        *,
        stop: threading.Event | None = None,
        max_poll_failures: int | None = 5,
        existing_task: ExistingTask = ExistingTask.REPLACE,
    ) -> Iterator[MigrateEvent]:
        """Launch, then watch until the task ends; the last event is :class:`MigrationFinished`.

        A task that captures changes (full-load-and-cdc, cdc) never ends by itself: the watch stops, with success,
        once it runs with every table loaded (its full load done and changes replicating); it keeps running."""
        # (an unknown type is not a ValueError here: launch's check names it)
        replicates = draft.migration_type in {t.value for t in MigrationType if t.captures_changes}
        launched: ReplicationTaskState | None = None
        for event in self.launch(draft, existing_task=existing_task):
            yield event
            if isinstance(event, TaskLaunched):
                launched = event.task
        assert launched is not None
        last: ReplicationTaskSnapshot | None = None
        for polled in self.watch(launched.arn, stop, max_poll_failures=max_poll_failures):
            yield polled
            if isinstance(polled, ReplicationTaskSnapshot):
                last = polled
                if replicates and replicating(polled):
                    break
            elif isinstance(polled, TaskGone):
                raise TaskNotFoundError(
                    f"Task {launched.identifier} was deleted while it ran.",
                    "Someone (or something) else deleted it.",
                    "Run the migration again.",
                )
        if last is not None:
            yield MigrationFinished(last, replicating(last) if replicates else last.succeeded)

    def record_outcome(self, snapshot: ReplicationTaskSnapshot) -> None:
        """The task's status, table count and rows, in the journey's task record."""
        self._record(
            identifier=snapshot.identifier,
            arn=snapshot.task_arn,
            status=snapshot.status,
            tables=len(snapshot.tables),
            rows=sum(t.full_load_rows for t in snapshot.tables),
        )
        if self.journey is not None:  # the table statistics and the calls made, for the hand-over report
            record_task(self.journey, snapshot, (c.text for c in self.runner.commands))

    # -- acting on the task --------------------------------------------------------------------------------------------

    def start(self, arn: str, start_type: StartTaskType) -> DmsResult:
        return self.runner.task_call(api_call(TaskAction.START, arn=arn, start_type=start_type), subject=arn)

    def stop(self, arn: str) -> DmsResult:
        """StopReplicationTask, without waiting: a watcher sees ``stopping`` then ``stopped``."""
        return self.runner.task_call(api_call(TaskAction.STOP, arn=arn), subject=arn)

    def reload(self, arn: str, tables: Iterable[tuple[str, str]]) -> DmsResult:
        """Reload the given (schema, table) pairs of a running task."""
        chosen = list(tables)
        if not chosen:
            raise DmsTaskError("No table was chosen to reload.", "", "Pick at least one table.")
        _, command = self.runner.call(api_call(TaskAction.RELOAD, arn=arn, tables=chosen), subject=arn)
        return DmsResult(self.runner.describe(arn), command)

    def delete(self, arn: str) -> DmsResult:
        """Stop the task first when it moves, delete it and wait until it is gone; the journey forgets its ARN."""
        try:
            state = self.runner.describe(arn)
        except TaskNotFoundError:
            self._record(arn=None, status=None)
            raise
        command: AwsCliCommand | None = None
        for event in self._remove(state):
            if isinstance(event, CommandIssued):
                command = event.command
        self._record(arn=None, status=None)
        assert command is not None
        return DmsResult(None, command)

    # -- the journey ---------------------------------------------------------------------------------------------------

    def _record(self, **changes: Any) -> None:
        if self.journey is not None:
            self.journey.update_task(**changes)


# -- the source catalog, for the preview --------------------------------------------------------------------------------


class CatalogUnavailable(StepError):
    """The source catalog could not be read for the preview."""


def read_source_tables(environment: Environment, outputs: EnvironmentOutputs) -> Sequence[SourceTable]:
    """The source database's tables, read through the environment's path with the source secret (kept in memory)."""
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError

    from dms_tui.data.connect import SecretFormatError, connect, read_credentials
    from dms_tui.dmstask.preview import read_source_catalog

    try:
        credentials = read_credentials(environment, outputs.source.secret_arn)
    except (ClientError, BotoCoreError, SecretFormatError) as exc:
        raise CatalogUnavailable(
            "Could not read the source database secret.",
            str(exc),
            "The preview needs it. Go back to Verify to check the secret, or create the task without a preview.",
        ) from None
    try:
        with connect(credentials, environment, connect_timeout=5) as conn:
            return read_source_catalog(conn)
    except psycopg.Error as exc:
        # psycopg's message never carries the password; it names the host and what refused.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CatalogUnavailable(
            "Could not read the source catalog.",
            first_line,
            "Go back to Verify to check the source database, or create the task without a preview.",
        ) from None


class ValidationFailuresUnavailable(StepError):
    """The target's validation failures table could not be read."""


def read_validation_failures(
    environment: Environment, outputs: EnvironmentOutputs, task_names: set[str], limit: int = 20
) -> list[ValidationFailure]:
    """The newest validation failures of the named task, read on the target with the target secret."""
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError

    from dms_tui.data.connect import SecretFormatError, connect, read_credentials
    from dms_tui.data.validation_failures import read_failures

    try:
        credentials = read_credentials(environment, outputs.target.secret_arn)
    except (ClientError, BotoCoreError, SecretFormatError) as exc:
        raise ValidationFailuresUnavailable(
            "Could not read the target database secret.", str(exc), "Go back to Verify to check the secret."
        ) from None
    try:
        with connect(credentials, environment, connect_timeout=5) as conn:
            found = read_failures(conn, limit=limit * 4)
    except (psycopg.Error, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationFailuresUnavailable(
            "Could not read the validation failures on the target.",
            first_line,
            "Query awsdms_control.awsdms_validation_failures_v1 on the target with psql.",
        ) from None
    return [f for f in found if f.task_name in task_names][:limit]
