"""Running the DMS replication task through the API: create, wait until ready, start, stop, resume, reload, delete.

ARNs come from the terraform outputs (:class:`~dms_tui.provision.outputs.EnvironmentOutputs`), never typed by a
person. Every call is also rendered as the `aws dms ...` command a person could run by hand
(:mod:`dms_tui.aws.cli_command`); each method returns it next to the task's state, and ``on_command`` hears each one
as it is issued so a screen can show it. The same code serves AWS and the sandbox: the sandbox's control plane answers
the same API (its DMS data plane overlays real engine state on moto's objects).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from dms_tui.aws.cli_command import AwsCliCommand, render_aws_cli
from dms_tui.aws.task_poller import PollEvent, PollSchedule, TaskPoller
from dms_tui.provision.outputs import EnvironmentOutputs

MigrationType = Literal["full-load", "full-load-and-cdc", "cdc"]
StartType = Literal["start-replication", "resume-processing", "reload-target"]
ReloadOption = Literal["data-reload", "validate-only"]

MIGRATION_TYPES: tuple[str, ...] = ("full-load", "full-load-and-cdc", "cdc")

# DMS's rule for ReplicationTaskIdentifier: 1-255 letters, digits or hyphens; starts with a letter; no trailing
# hyphen and no two consecutive hyphens.
_IDENTIFIER = re.compile(r"^[A-Za-z](?:-?[A-Za-z0-9])*$")

# Statuses from which a task will not move on by itself (DMS's waiters use the same sets).
_ENDED = frozenset({"stopped", "failed"})
# Statuses a task only reaches after it has been ready (or on its way out).
_PAST_READY = frozenset({"starting", "running", "stopping", "stopped", "deleting"})


class DmsTaskError(RuntimeError):
    """A DMS task operation failed; the message says what happened and what to do."""


class TaskNotFoundError(DmsTaskError):
    """No replication task has that ARN or identifier (any more)."""


class TaskFailedError(DmsTaskError):
    """The task reached ``failed`` (the message carries DMS's LastFailureMessage)."""


class TaskWaitTimeout(DmsTaskError):
    """The task did not reach the awaited status in time."""


@dataclass(frozen=True)
class TaskDefinition:
    """What a person decides about the task: its name, migration type and the two JSON documents."""

    identifier: str
    migration_type: MigrationType
    table_mappings: str  # JSON text, as DMS takes it
    task_settings: str  # JSON text, as DMS takes it

    def problems(self) -> list[str]:
        """What is wrong with this definition, as sentences a person can act on (empty when fine)."""
        found: list[str] = []
        if not (1 <= len(self.identifier) <= 255) or not _IDENTIFIER.match(self.identifier):
            found.append(
                f"task identifier {self.identifier!r} is not valid: use 1-255 letters, digits and single hyphens, "
                "starting with a letter and not ending with a hyphen"
            )
        if self.migration_type not in MIGRATION_TYPES:
            found.append(f"migration type {self.migration_type!r} is not one of {', '.join(MIGRATION_TYPES)}")
        return found


@dataclass(frozen=True)
class ReplicationTaskState:
    """The control plane's view of one task (the fields the run steps decide on)."""

    arn: str
    identifier: str
    status: str
    migration_type: str
    stop_reason: str | None = None
    last_failure_message: str | None = None

    @classmethod
    def from_api(cls, task: Mapping[str, Any]) -> ReplicationTaskState:
        return cls(
            arn=str(task["ReplicationTaskArn"]),
            identifier=str(task.get("ReplicationTaskIdentifier", "")),
            status=str(task.get("Status", "")),
            migration_type=str(task.get("MigrationType", "")),
            stop_reason=task.get("StopReason") or None,
            last_failure_message=task.get("LastFailureMessage") or None,
        )


@dataclass(frozen=True)
class DmsResult:
    """The outcome of one operation: the task as the API answered (None once deleted) and its CLI equivalent."""

    task: ReplicationTaskState | None
    command: AwsCliCommand


@dataclass(frozen=True)
class TaskStatusSeen:
    """Progress event while waiting: the status the API reported, and seconds waited so far."""

    arn: str
    status: str
    waited_s: float


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """Whether ``endpoint_url`` is one of AWS's own API hosts (rather than an emulator such as moto's server)."""
    host = urlparse(endpoint_url or "").hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


@dataclass
class ReplicationTaskRunner:
    """Drives one environment's DMS tasks through a boto3 ``dms`` client (from ``Environment.client``).

    ``creating_is_terminal``: whether the control plane never moves a new task past ``creating``. moto 5.2.5 creates
    every task as ``creating`` and has no transition to ``ready`` (its ``FakeReplicationTask.ready()`` is never
    called, unlike replication instances, whose ManagedState goes creating -> available), yet it accepts
    StartReplicationTask from that state. On such a control plane ``creating`` is the documented terminal state of
    creation and is treated as ready-equivalent; against AWS it is not, and waiting goes on until ``ready``
    (``failed`` raises). ``None`` infers it: True only when the client talks to a non-AWS endpoint (an emulator).
    An emulator that does report ``ready`` (the sandbox's data plane may overlay it) is handled the ordinary way.
    """

    client: Any
    creating_is_terminal: bool | None = None
    on_command: Callable[[AwsCliCommand], None] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    file_threshold: int | None = 400  # JSON documents longer than this are printed as file:// references
    commands: list[AwsCliCommand] = field(default_factory=list)

    def __post_init__(self) -> None:
        endpoint = getattr(self.client.meta, "endpoint_url", None)
        self._region: str | None = getattr(self.client.meta, "region_name", None)
        self._endpoint_url = None if is_aws_endpoint(endpoint) else endpoint
        if self.creating_is_terminal is None:
            self.creating_is_terminal = self._endpoint_url is not None

    # -- rendering -------------------------------------------------------------------------------------------------

    def command_for(self, operation: str, params: Mapping[str, Any]) -> AwsCliCommand:
        """The `aws dms ...` line for ``operation`` (boto3's name) with ``params``, for this client's region."""
        return render_aws_cli(
            "dms",
            operation,
            params,
            region=self._region,
            endpoint_url=self._endpoint_url,
            file_threshold=self.file_threshold,
        )

    @staticmethod
    def create_params(outputs: EnvironmentOutputs, definition: TaskDefinition) -> dict[str, Any]:
        """CreateReplicationTask's parameters: ARNs from terraform outputs, the rest from the definition."""
        return {
            "ReplicationTaskIdentifier": definition.identifier,
            "SourceEndpointArn": outputs.source.dms_endpoint_arn,
            "TargetEndpointArn": outputs.target.dms_endpoint_arn,
            "ReplicationInstanceArn": outputs.dms_replication_instance_arn,
            "MigrationType": definition.migration_type,
            "TableMappings": definition.table_mappings,
            "ReplicationTaskSettings": definition.task_settings,
        }

    # -- operations ------------------------------------------------------------------------------------------------

    def create(self, outputs: EnvironmentOutputs, definition: TaskDefinition) -> DmsResult:
        """Create the task (it then needs :meth:`wait_until_ready` before it can start)."""
        problems = definition.problems()
        if problems:
            raise DmsTaskError("; ".join(problems) + ".")
        params = self.create_params(outputs, definition)
        response, command = self._call("create_replication_task", params, subject=definition.identifier)
        return DmsResult(ReplicationTaskState.from_api(response["ReplicationTask"]), command)

    def describe(self, arn: str) -> ReplicationTaskState:
        """The task's current state; raises :class:`TaskNotFoundError` when it does not exist."""
        task = self._describe_one({"Name": "replication-task-arn", "Values": [arn]})
        if task is None:
            raise TaskNotFoundError(f"replication task {arn} does not exist (deleted?); create it again")
        return task

    def find(self, identifier: str) -> ReplicationTaskState | None:
        """The task named ``identifier`` in this region, or None (so a rerun can reuse or replace it)."""
        return self._describe_one({"Name": "replication-task-id", "Values": [identifier]})

    def wait_until_ready(
        self,
        arn: str,
        *,
        timeout_s: float = 900.0,
        interval_s: float = 5.0,
        on_status: Callable[[TaskStatusSeen], None] | None = None,
    ) -> ReplicationTaskState:
        """Poll until the task can be started (``ready``; see the class docstring for ``creating``)."""

        def settled(state: ReplicationTaskState) -> bool:
            if state.status == "failed":
                raise TaskFailedError(
                    f"task {state.identifier} failed while being created: "
                    f"{state.last_failure_message or 'DMS gave no reason'}. Check the endpoints and the JSON "
                    "documents, delete the task and create it again."
                )
            if state.status in _PAST_READY:
                # The ReplicationTaskReady waiter fails on these too: the task will not come back to "ready".
                raise DmsTaskError(
                    f"task {state.identifier} is already {state.status}, so it will not become ready; someone "
                    "started it elsewhere. Watch it as it is, or stop and delete it and create it again."
                )
            return state.status == "ready" or (state.status == "creating" and bool(self.creating_is_terminal))

        return self._wait(arn, settled, "ready", timeout_s, interval_s, on_status)

    def start(self, arn: str, start_type: StartType = "start-replication") -> DmsResult:
        """Start the task (``reload-target`` reruns a finished full load from scratch)."""
        params = {"ReplicationTaskArn": arn, "StartReplicationTaskType": start_type}
        response, command = self._call("start_replication_task", params, subject=arn)
        return DmsResult(ReplicationTaskState.from_api(response["ReplicationTask"]), command)

    def resume(self, arn: str) -> DmsResult:
        """Resume a stopped task where it left off (StartReplicationTask with ``resume-processing``)."""
        return self.start(arn, "resume-processing")

    def stop(
        self,
        arn: str,
        *,
        wait: bool = True,
        timeout_s: float = 600.0,
        interval_s: float = 5.0,
        on_status: Callable[[TaskStatusSeen], None] | None = None,
    ) -> DmsResult:
        """Stop a running task; with ``wait``, returns once it is ``stopped`` (or ``failed``)."""
        response, command = self._call("stop_replication_task", {"ReplicationTaskArn": arn}, subject=arn)
        state = ReplicationTaskState.from_api(response["ReplicationTask"])
        if wait and state.status not in _ENDED:
            state = self._wait(arn, lambda s: s.status in _ENDED, "stopped", timeout_s, interval_s, on_status)
        return DmsResult(state, command)

    def reload_tables(
        self, arn: str, tables: Iterable[tuple[str, str]], option: ReloadOption = "data-reload"
    ) -> DmsResult:
        """Reload (or only re-validate) the given (schema, table) pairs of a running task."""
        to_reload = [{"SchemaName": schema, "TableName": table} for schema, table in tables]
        if not to_reload:
            raise DmsTaskError("no table was chosen to reload; pick at least one table")
        params = {"ReplicationTaskArn": arn, "TablesToReload": to_reload, "ReloadOption": option}
        _, command = self._call("reload_tables", params, subject=arn)
        return DmsResult(self.describe(arn), command)

    def delete(
        self,
        arn: str,
        *,
        wait: bool = True,
        timeout_s: float = 600.0,
        interval_s: float = 5.0,
        on_status: Callable[[TaskStatusSeen], None] | None = None,
    ) -> DmsResult:
        """Delete the task; with ``wait``, returns once DescribeReplicationTasks no longer lists it."""
        _, command = self._call("delete_replication_task", {"ReplicationTaskArn": arn}, subject=arn)
        if wait:
            started = self.clock()
            while True:
                remaining = self._describe_one({"Name": "replication-task-arn", "Values": [arn]})
                if remaining is None:
                    break
                waited = self.clock() - started
                if on_status is not None:
                    on_status(TaskStatusSeen(arn, remaining.status, waited))
                if waited >= timeout_s:
                    raise TaskWaitTimeout(
                        f"task {remaining.identifier} is still {remaining.status} after {waited:.0f} s of deleting; "
                        "check the DMS console, then run the delete again"
                    )
                self.sleep(interval_s)
        return DmsResult(None, command)

    # -- plumbing --------------------------------------------------------------------------------------------------

    def _call(self, operation: str, params: Mapping[str, Any], *, subject: str) -> tuple[dict[str, Any], AwsCliCommand]:
        command = self.command_for(operation, params)
        self.commands.append(command)
        if self.on_command is not None:
            self.on_command(command)
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**params)
        except ClientError as exc:
            raise _explain(exc, operation, subject) from exc
        return response, command

    def _describe_one(self, filter_: Mapping[str, Any]) -> ReplicationTaskState | None:
        try:
            response = self.client.describe_replication_tasks(Filters=[dict(filter_)], WithoutSettings=True)
        except ClientError as exc:
            # AWS answers a filter that matches nothing with ResourceNotFoundFault; moto with an empty list.
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundFault":
                return None
            raise _explain(exc, "describe_replication_tasks", str(filter_["Values"][0])) from exc
        tasks: Sequence[Mapping[str, Any]] = response.get("ReplicationTasks", [])
        return ReplicationTaskState.from_api(tasks[0]) if tasks else None

    def _wait(
        self,
        arn: str,
        settled: Callable[[ReplicationTaskState], bool],
        goal: str,
        timeout_s: float,
        interval_s: float,
        on_status: Callable[[TaskStatusSeen], None] | None,
    ) -> ReplicationTaskState:
        started = self.clock()
        while True:
            state = self.describe(arn)
            waited = self.clock() - started
            if on_status is not None:
                on_status(TaskStatusSeen(arn, state.status, waited))
            if settled(state):
                return state
            if state.status == "failed":
                raise TaskFailedError(
                    f"task {state.identifier} failed: {state.last_failure_message or 'DMS gave no reason'}"
                )
            if waited >= timeout_s:
                raise TaskWaitTimeout(
                    f"task {state.identifier} is still {state.status} after {waited:.0f} s (waiting for {goal}); "
                    "check the task in the DMS console or `aws dms describe-replication-tasks`, then retry"
                )
            self.sleep(interval_s)


_ADVICE = {
    "InvalidResourceStateFault": "the task is not in a state that allows this (stop a running task before deleting "
    "it; start only a ready or stopped task); refresh its status and retry",
    "ResourceAlreadyExistsFault": "a task with this identifier already exists; choose another identifier or delete "
    "the old task first",
    "ResourceNotFoundFault": "it does not exist (any more); check the ARNs from `terraform output` and create the "
    "task again",
    "AccessDeniedFault": "the caller's IAM policy does not allow it; ask for dms:* on this task",
    "AccessDeniedException": "the caller's IAM policy does not allow it; ask for dms:* on this task",
    "InvalidParameterValueException": "a parameter was rejected; check the table mappings and task settings JSON",
}


def _explain(exc: ClientError, operation: str, subject: str) -> DmsTaskError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    # AWS's message is shown as text, never as markup, by whoever renders this exception.
    message = str(error.get("Message", "")).strip()
    advice = _ADVICE.get(code, "see the message above and the task in the DMS console")
    kind = TaskNotFoundError if code == "ResourceNotFoundFault" else DmsTaskError
    return kind(f"{operation.replace('_', ' ')} for {subject} failed ({code}: {message}): {advice}.")


# -- the whole run, as one stream of events (used by `dms-tui migrate` and the Migrate screen) -------------------------


@dataclass(frozen=True)
class CommandIssued:
    """An API call was made; ``command`` is its `aws dms ...` equivalent."""

    command: AwsCliCommand


@dataclass(frozen=True)
class OldTaskRemoved:
    """A task with the same identifier existed from an earlier run and was stopped (if running) and deleted."""

    identifier: str
    status: str


def run_task(
    runner: ReplicationTaskRunner,
    outputs: EnvironmentOutputs,
    definition: TaskDefinition,
    *,
    replace_existing: bool = True,
    stop: threading.Event | None = None,
    schedule: PollSchedule | None = None,
    ready_timeout_s: float = 900.0,
    interval_s: float = 5.0,
) -> Iterator[CommandIssued | OldTaskRemoved | TaskStatusSeen | PollEvent]:
    """Create the task, wait until ready, start it and watch it until it ends (or ``stop`` is set).

    The last event is the final ``ReplicationTaskSnapshot`` (or ``TaskGone``); a failure raises ``DmsTaskError``.
    """
    existing = runner.find(definition.identifier)
    if existing is not None:
        if not replace_existing:
            raise DmsTaskError(
                f"a task named {definition.identifier} already exists ({existing.status}); delete it or choose "
                "another identifier"
            )
        if existing.status in ("running", "starting"):
            yield CommandIssued(runner.stop(existing.arn, interval_s=interval_s).command)
        yield CommandIssued(runner.delete(existing.arn, interval_s=interval_s).command)
        yield OldTaskRemoved(existing.identifier, existing.status)
    created = runner.create(outputs, definition)
    yield CommandIssued(created.command)
    assert created.task is not None
    seen: list[TaskStatusSeen] = []
    runner.wait_until_ready(created.task.arn, timeout_s=ready_timeout_s, interval_s=interval_s, on_status=seen.append)
    yield from seen
    yield CommandIssued(runner.start(created.task.arn).command)
    yield from TaskPoller(runner.client, created.task.arn, schedule).events(stop)
