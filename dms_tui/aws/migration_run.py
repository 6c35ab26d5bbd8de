"""The Migrate step's core: a task draft checked as a person types, and one object that runs and watches the task.

The Migrate screen and `dms-tui migrate` share these pieces: :func:`check_definition` turns settings and mappings into
a :class:`~dms_tui.aws.dms.TaskDefinition` with every problem found, :class:`TaskDraft` does the same for the screen's
form (raw field text included), and :class:`TaskControl` wraps :class:`~dms_tui.aws.dms.ReplicationTaskRunner` and
:class:`~dms_tui.aws.task_poller.TaskPoller` behind the calls a screen makes from its workers (launch, watch, stop,
resume, reload a table, delete), each reporting the `aws dms ...` command it issued.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.aws.cli_command import AwsCliCommand
from dms_tui.aws.dms import (
    CommandIssued,
    DmsResult,
    DmsTaskError,
    OldTaskRemoved,
    ReplicationTaskRunner,
    ReplicationTaskState,
    StartType,
    TaskDefinition,
    TaskStatusSeen,
)
from dms_tui.aws.task_poller import PollEvent, PollSchedule, ReplicationTaskSnapshot, TaskPoller
from dms_tui.data.connect import SecretFormatError, connect, read_credentials
from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings, default_mappings
from dms_tui.dmstask.migration import MigrationType
from dms_tui.dmstask.preview import SourceTable, read_source_catalog
from dms_tui.dmstask.settings import (
    MAX_FULL_LOAD_SUBTASKS,
    TargetTablePrepMode,
    TaskSettings,
    default_settings,
)
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs

DEFAULT_TASK_ID = "dms-tui-demo-task"

# Shorter reads than the default client's: a control plane that stops answering shows up as a failed poll within
# seconds instead of minutes (adaptive retries stay on for throttling).
_WATCH_CLIENT_CONFIG = Config(read_timeout=10, retries={"mode": "adaptive", "max_attempts": 3})


# -- the definition ----------------------------------------------------------------------------------------------------


def check_definition(
    identifier: str, migration_type: str, settings: TaskSettings, mappings: TableMappings
) -> tuple[TaskDefinition, list[str]]:
    """The task definition, with every problem found as a sentence naming its field (empty when valid)."""
    problems = [f"task settings: {p}" for p in settings.validate()]
    problems += [f"table mappings: {p}" for p in mappings.validate()]
    definition = TaskDefinition(
        identifier,
        migration_type,  # type: ignore[arg-type]  # checked by definition.problems()
        mappings.to_json(indent=None),
        settings.to_json(indent=None),
    )
    problems += definition.problems()
    return definition, problems


@dataclass(frozen=True)
class DraftCheck:
    """The outcome of checking a draft: the parsed documents (when they parse), problems, and the definition."""

    settings: TaskSettings
    mappings: TableMappings | None
    settings_problems: tuple[str, ...]
    mappings_problems: tuple[str, ...]
    task_problems: tuple[str, ...]
    definition: TaskDefinition | None  # None while any problem remains

    @property
    def problems(self) -> tuple[str, ...]:
        return self.task_problems + self.settings_problems + self.mappings_problems

    @property
    def ok(self) -> bool:
        return self.definition is not None


@dataclass(frozen=True)
class TaskDraft:
    """What the Migrate screen's form holds before the task exists, as typed (field text is checked, not trusted)."""

    identifier: str = DEFAULT_TASK_ID
    migration_type: str = MigrationType.FULL_LOAD.value
    prep_mode: str = TargetTablePrepMode.TRUNCATE_BEFORE_LOAD.value
    max_subtasks: str = str(default_settings().full_load.max_full_load_sub_tasks)
    mappings_text: str = field(default_factory=lambda: default_mappings().to_json())
    base_settings: TaskSettings = field(default_factory=default_settings)  # keys the form does not edit, kept

    def check(self) -> DraftCheck:
        """Parse and validate every field; each problem names the rule id or settings field it is about."""
        settings_problems: list[str] = []
        settings = self.base_settings.with_prep_mode(self.prep_mode)
        raw = self.max_subtasks.strip()
        if raw.isdigit():
            settings = replace(settings, full_load=replace(settings.full_load, max_full_load_sub_tasks=int(raw)))
        else:
            settings_problems.append(
                f"FullLoadSettings.MaxFullLoadSubTasks: {raw!r} is not a whole number; type 1 to "
                f"{MAX_FULL_LOAD_SUBTASKS} (how many tables load in parallel)."
            )
        settings_problems += [str(p) for p in settings.validate()]
        mappings: TableMappings | None = None
        mappings_problems: list[str] = []
        try:
            mappings = TableMappings.from_json(self.mappings_text)
        except MappingsFormatError as exc:
            mappings_problems.append(str(exc))
        if mappings is not None:
            mappings_problems += [str(p) for p in mappings.validate()]
        task_problems: list[str] = []
        if self.migration_type not in {t.value for t in MigrationType}:
            task_problems.append(
                f"migration type {self.migration_type!r} is not one of {', '.join(t.value for t in MigrationType)}."
            )
        definition: TaskDefinition | None = None
        if mappings is not None:
            candidate = TaskDefinition(
                self.identifier.strip(),
                self.migration_type,  # type: ignore[arg-type]  # checked above and by problems()
                mappings.to_json(indent=None),
                settings.to_json(indent=None),
            )
            task_problems += [p for p in candidate.problems() if not p.startswith("migration type")]
            if not (task_problems or settings_problems or mappings_problems):
                definition = candidate
        return DraftCheck(
            settings,
            mappings,
            tuple(settings_problems),
            tuple(mappings_problems),
            tuple(task_problems),
            definition,
        )


# -- running and watching ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskCreated:
    """CreateReplicationTask answered: the task exists under ``arn`` (record it at once, so a rerun finds it)."""

    arn: str
    identifier: str


@dataclass(frozen=True)
class TaskLaunched:
    """StartReplicationTask answered; watching can begin."""

    task: ReplicationTaskState


LaunchEvent = CommandIssued | OldTaskRemoved | TaskCreated | TaskStatusSeen | TaskLaunched


def start_type_for(status: str, *, completed: bool) -> StartType:
    """How `s` starts a task in ``status``: a fresh start, a resume, or a full reload of a finished full load."""
    if status in ("ready", "creating"):
        return "start-replication"
    if completed:
        return "reload-target"  # every table loaded: resuming would do nothing, so load again from scratch
    return "resume-processing"


class TaskControl:
    """The operations the Migrate screen performs on one environment's DMS task (blocking: call from a worker)."""

    def __init__(
        self,
        client: Any,
        *,
        schedule: PollSchedule | None = None,
        now: Callable[[], dt.datetime] | None = None,
        ready_interval_s: float = 5.0,
        creating_is_terminal: bool | None = None,
    ) -> None:
        """``creating_is_terminal``: see :class:`ReplicationTaskRunner` (None infers it from the client's endpoint)."""
        self.runner = ReplicationTaskRunner(client, creating_is_terminal=creating_is_terminal)
        self.schedule = schedule or PollSchedule()
        self.ready_interval_s = ready_interval_s
        self._now = now

    @classmethod
    def for_target(cls, target: Environment, **kwargs: Any) -> TaskControl:
        """A control whose client reaches ``target``'s DMS API (moto's endpoint in the sandbox)."""
        return cls(target.client("dms", config=_WATCH_CLIENT_CONFIG), **kwargs)

    # -- commands a person could type --------------------------------------------------------------------------------

    def create_command(self, outputs: EnvironmentOutputs, definition: TaskDefinition) -> AwsCliCommand:
        return self.runner.command_for("create_replication_task", self.runner.create_params(outputs, definition))

    def describe_command(self, arn: str) -> AwsCliCommand:
        return self.runner.command_for(
            "describe_replication_tasks", {"Filters": [{"Name": "replication-task-arn", "Values": [arn]}]}
        )

    def start_command(self, arn: str, start_type: StartType) -> AwsCliCommand:
        return self.runner.command_for(
            "start_replication_task", {"ReplicationTaskArn": arn, "StartReplicationTaskType": start_type}
        )

    def stop_command(self, arn: str) -> AwsCliCommand:
        return self.runner.command_for("stop_replication_task", {"ReplicationTaskArn": arn})

    def delete_command(self, arn: str) -> AwsCliCommand:
        return self.runner.command_for("delete_replication_task", {"ReplicationTaskArn": arn})

    def reload_command(self, arn: str, schema: str, table: str) -> AwsCliCommand:
        return self.runner.command_for(
            "reload_tables",
            {
                "ReplicationTaskArn": arn,
                "TablesToReload": [{"SchemaName": schema, "TableName": table}],
                "ReloadOption": "data-reload",
            },
        )

    # -- operations ----------------------------------------------------------------------------------------------------

    def find(self, identifier: str) -> ReplicationTaskState | None:
        return self.runner.find(identifier)

    def launch(
        self,
        outputs: EnvironmentOutputs,
        definition: TaskDefinition,
        on_event: Callable[[LaunchEvent], None],
        *,
        replace_existing: bool = True,
        ready_timeout_s: float = 900.0,
    ) -> ReplicationTaskState:
        """Replace a task left under the same identifier, create, wait until ready, start; events as they happen."""
        runner = self.runner
        existing = runner.find(definition.identifier)
        if existing is not None:
            if not replace_existing:
                raise DmsTaskError(
                    f"a task named {definition.identifier} already exists ({existing.status}); delete it or choose "
                    "another identifier"
                )
            if existing.status in ("running", "starting"):
                on_event(CommandIssued(runner.stop(existing.arn, interval_s=self.ready_interval_s).command))
            on_event(CommandIssued(runner.delete(existing.arn, interval_s=self.ready_interval_s).command))
            on_event(OldTaskRemoved(existing.identifier, existing.status))
        created = runner.create(outputs, definition)
        on_event(CommandIssued(created.command))
        assert created.task is not None
        on_event(TaskCreated(created.task.arn, created.task.identifier))
        runner.wait_until_ready(
            created.task.arn,
            timeout_s=ready_timeout_s,
            interval_s=self.ready_interval_s,
            on_status=on_event,  # type: ignore[arg-type]  # TaskStatusSeen is a LaunchEvent
        )
        started = runner.start(created.task.arn)
        on_event(CommandIssued(started.command))
        assert started.task is not None
        on_event(TaskLaunched(started.task))
        return started.task

    def watch(self, arn: str, stop: threading.Event) -> Iterator[PollEvent]:
        """Snapshots until the task ends, is deleted, or ``stop`` is set (one call in flight at a time)."""
        kwargs: dict[str, Any] = {} if self._now is None else {"now": self._now}
        yield from TaskPoller(self.runner.client, arn, self.schedule, **kwargs).events(stop)

    def start(self, arn: str, start_type: StartType) -> DmsResult:
        return self.runner.start(arn, start_type)

    def stop(self, arn: str) -> DmsResult:
        # No waiting here: the watcher sees "stopping" then "stopped" and shows both.
        return self.runner.stop(arn, wait=False)

    def reload(self, arn: str, schema: str, table: str) -> DmsResult:
        return self.runner.reload_tables(arn, [(schema, table)])

    def delete(self, arn: str, *, on_status: Callable[[TaskStatusSeen], None] | None = None) -> DmsResult:
        """Stop the task first when it is moving (DMS refuses to delete a running task), then delete and wait."""
        state = self._state(arn)
        if state is not None and state.status in ("running", "starting"):
            self.runner.stop(arn, interval_s=self.ready_interval_s, on_status=on_status)
        return self.runner.delete(arn, interval_s=self.ready_interval_s, on_status=on_status)

    def _state(self, arn: str) -> ReplicationTaskState | None:
        try:
            return self.runner.describe(arn)
        except DmsTaskError:
            return None


def all_tables_completed(snapshot: ReplicationTaskSnapshot | None) -> bool:
    """Every table the task reports is completed and none errored (a full-load-and-cdc task may still be running)."""
    return (
        snapshot is not None
        and bool(snapshot.tables)
        and snapshot.stats.tables_errored == 0
        and all(t.completed for t in snapshot.tables)
    )


# -- the preview's catalog --------------------------------------------------------------------------------------------


class CatalogUnavailable(RuntimeError):
    """The source catalog could not be read for the preview; the message says why and what to do."""


def read_source_tables(target: Environment, outputs: EnvironmentOutputs) -> Sequence[SourceTable]:
    """The source database's tables, read through the environment's path with the source secret (kept in memory)."""
    try:
        credentials = read_credentials(target, outputs.source.secret_arn)
    except (ClientError, BotoCoreError, SecretFormatError) as exc:
        raise CatalogUnavailable(
            f"Could not read the source database secret ({exc}); the preview needs it. Go back to Verify to check "
            "the secret, or create the task without a preview."
        ) from None
    try:
        with connect(credentials, target, connect_timeout=5) as conn:
            return read_source_catalog(conn)
    except psycopg.Error as exc:
        # psycopg's message never carries the password; it names the host and what refused.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CatalogUnavailable(
            f"Could not read the source catalog ({first_line}). Go back to Verify to check the source "
            "database, or create the task without a preview."
        ) from None
