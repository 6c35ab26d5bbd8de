"""The DMS API as the Migrate step calls it: one :class:`DmsCall` at a time, each rendered as its `aws dms ...` line.

This module decides nothing about the task's life (create or replace, when it is ready, how to start it): that is
:mod:`dms_tui.steps.migrate`. It only executes the calls the step builds, renders each one from the very parameters
sent (:mod:`dms_tui.aws.cli_command`, with the environment's flags), turns AWS's errors into sentences a person can
act on, and waits on a task's status. The same code serves AWS and the sandbox, whose control plane answers the same
API (its DMS data plane overlays the real engine's state on moto's objects).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui import exit_codes
from dms_tui.aws.cli_command import AwsCliCommand, render_aws_cli
from dms_tui.domain.dms import TaskStatus
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from dms_tui.environment import Environment


class DmsTaskError(StepError):
    """A DMS task operation failed: what happened, why (AWS's code and message), what to do."""


class TaskNotFoundError(DmsTaskError):
    """No replication task has that ARN or identifier (any more)."""


class TaskFailedError(DmsTaskError):
    """The task reached ``failed`` (``why`` carries DMS's LastFailureMessage)."""


class TaskWaitTimeout(DmsTaskError):
    """The task did not reach the awaited status in time."""


@dataclass(frozen=True)
class DmsCall:
    """One DMS API call: boto3's operation name and the exact parameters sent (and rendered)."""

    operation: str  # e.g. "create_replication_task"
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ReplicationTaskState:
    """The control plane's view of one task (the fields the step decides on)."""

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


def describe_call(*, arn: str | None = None, identifier: str | None = None) -> DmsCall:
    """DescribeReplicationTasks for one task, by ARN or by identifier (the one read every wait and poll makes)."""
    name, value = ("replication-task-arn", arn) if arn is not None else ("replication-task-id", identifier)
    return DmsCall(
        "describe_replication_tasks", {"Filters": [{"Name": name, "Values": [str(value)]}], "WithoutSettings": True}
    )


@dataclass
class ReplicationTaskRunner:
    """Executes DMS calls through a boto3 ``dms`` client; renders each for the environment it reaches.

    ``cli_flags`` / ``cli_environment``: what makes a printed command reach the same environment
    (``Environment.aws_cli_flags()`` / ``aws_cli_environment()``; :meth:`for_environment` fills them in).
    """

    client: Any
    cli_flags: Sequence[str] = ()
    cli_environment: Mapping[str, str] = field(default_factory=dict)
    on_command: Callable[[AwsCliCommand], None] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    file_threshold: int | None = 400  # JSON documents longer than this are printed as file:// references
    commands: list[AwsCliCommand] = field(default_factory=list)

    @classmethod
    def for_environment(cls, environment: Environment, client: Any, **kwargs: Any) -> ReplicationTaskRunner:
        return cls(
            client,
            cli_flags=tuple(environment.aws_cli_flags()),
            cli_environment=environment.aws_cli_environment(),
            **kwargs,
        )

    # -- rendering -------------------------------------------------------------------------------------------------

    def render(self, call: DmsCall) -> AwsCliCommand:
        """The `aws dms ...` line for ``call``, from the same parameters the API gets."""
        return render_aws_cli(
            "dms",
            call.operation,
            call.params,
            global_flags=self.cli_flags,
            environment=self.cli_environment,
            file_threshold=self.file_threshold,
        )

    def command_for(self, operation: str, params: Mapping[str, Any]) -> AwsCliCommand:
        return self.render(DmsCall(operation, params))

    # -- calls -------------------------------------------------------------------------------------------------------

    def call(self, call: DmsCall, *, subject: str) -> tuple[dict[str, Any], AwsCliCommand]:
        """Make ``call`` (reporting its command first); AWS's refusal becomes a :class:`DmsTaskError`."""
        command = self.render(call)
        self.commands.append(command)
        if self.on_command is not None:
            self.on_command(command)
        try:
            response: dict[str, Any] = getattr(self.client, call.operation)(**call.params)
        except ClientError as exc:
            raise explain(exc, call.operation, subject) from exc
        except BotoCoreError as exc:
            raise DmsTaskError(
                f"{_spoken(call.operation)} for {subject} got no answer.",
                str(exc),
                "Check the network path to the DMS API (or `dms-tui sandbox status`), then retry.",
            ) from exc
        return response, command

    def task_call(self, call: DmsCall, *, subject: str) -> DmsResult:
        """A call that answers with the task (create, start, stop, delete)."""
        response, command = self.call(call, subject=subject)
        task = response.get("ReplicationTask")
        return DmsResult(ReplicationTaskState.from_api(task) if task else None, command)

    def describe(self, arn: str) -> ReplicationTaskState:
        """The task's current state; raises :class:`TaskNotFoundError` when it does not exist."""
        state = self._describe_one(describe_call(arn=arn))
        if state is None:
            raise TaskNotFoundError(
                f"Replication task {arn} does not exist.", "It was deleted, or never created.", "Create it again."
            )
        return state

    def find(self, identifier: str) -> ReplicationTaskState | None:
        """The task named ``identifier`` in this region, or None."""
        return self._describe_one(describe_call(identifier=identifier))

    def _describe_one(self, call: DmsCall) -> ReplicationTaskState | None:
        try:
            response = getattr(self.client, call.operation)(**call.params)
        except ClientError as exc:
            # AWS answers a filter that matches nothing with ResourceNotFoundFault; moto with an empty list.
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundFault":
                return None
            raise explain(exc, call.operation, str(call.params["Filters"][0]["Values"][0])) from exc
        tasks: Sequence[Mapping[str, Any]] = response.get("ReplicationTasks", [])
        return ReplicationTaskState.from_api(tasks[0]) if tasks else None

    # -- waiting -----------------------------------------------------------------------------------------------------

    def wait(
        self,
        arn: str,
        settled: Callable[[ReplicationTaskState], bool],
        goal: str,
        *,
        timeout_s: float,
        interval_s: float,
    ) -> Generator[TaskStatusSeen, None, ReplicationTaskState]:
        """Describe the task every ``interval_s``, yielding each status, until ``settled`` says so (its state is the
        generator's return value); ``failed`` or the timeout raise."""
        started = self.clock()
        while True:
            state = self.describe(arn)
            waited = self.clock() - started
            yield TaskStatusSeen(arn, state.status, waited)
            if settled(state):
                return state
            if state.status == TaskStatus.FAILED:
                raise TaskFailedError(
                    f"Task {state.identifier} failed.",
                    state.last_failure_message or "DMS gave no reason.",
                    "Check the endpoints and the JSON documents, delete the task and create it again.",
                )
            if waited >= timeout_s:
                raise TaskWaitTimeout(
                    f"Task {state.identifier} is still {state.status} after {waited:.0f} s (waiting for {goal}).",
                    "DMS has not finished with it yet.",
                    "Check the task in the DMS console or `aws dms describe-replication-tasks`, then retry.",
                )
            self.sleep(interval_s)

    def wait_gone(self, arn: str, *, timeout_s: float, interval_s: float) -> Iterator[TaskStatusSeen]:
        """Yield the task's status until DescribeReplicationTasks no longer lists it."""
        started = self.clock()
        while (remaining := self._describe_one(describe_call(arn=arn))) is not None:
            waited = self.clock() - started
            yield TaskStatusSeen(arn, remaining.status, waited)
            if waited >= timeout_s:
                raise TaskWaitTimeout(
                    f"Task {remaining.identifier} is still {remaining.status} after {waited:.0f} s of deleting.",
                    "DMS has not removed it yet.",
                    "Check the DMS console, then run the delete again.",
                )
            self.sleep(interval_s)

    def delete(self, arn: str, *, wait: bool = True, interval_s: float = 5.0, timeout_s: float = 600.0) -> DmsResult:
        """DeleteReplicationTask and (``wait``) until it is gone: for dms_tui.cleanup, which deletes a stopped task
        (the Migrate step's own delete, which stops a moving task first, is :meth:`MigrateStep.delete`)."""
        result = self.task_call(DmsCall("delete_replication_task", {"ReplicationTaskArn": arn}), subject=arn)
        if wait:
            for _ in self.wait_gone(arn, timeout_s=timeout_s, interval_s=interval_s):
                pass
        return DmsResult(None, result.command)


_ADVICE = {
    "InvalidResourceStateFault": "The task is not in a state that allows this (stop a running task before deleting "
    "it; start only a ready or stopped task): refresh its status and retry.",
    "ResourceAlreadyExistsFault": "A task with this identifier already exists: choose another identifier or delete "
    "the old task first.",
    "ResourceNotFoundFault": "It does not exist (any more): check the ARNs from `terraform output` and create the "
    "task again.",
    "AccessDeniedFault": "The caller's IAM policy does not allow it: ask for dms:* on this task.",
    "AccessDeniedException": "The caller's IAM policy does not allow it: ask for dms:* on this task.",
    "InvalidParameterValueException": "A parameter was rejected: check the table mappings and task settings JSON.",
}


def _spoken(operation: str) -> str:
    return operation.replace("_", " ").capitalize()


def explain(exc: ClientError, operation: str, subject: str) -> DmsTaskError:
    """AWS's refusal of ``operation`` as what / why / what to do (AWS's text is shown as text, never markup)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip()
    advice = _ADVICE.get(code, "See the message, and the task in the DMS console.")
    kind = TaskNotFoundError if code == "ResourceNotFoundFault" else DmsTaskError
    return kind(
        f"{_spoken(operation)} for {subject} failed.", f"{code}: {message}", advice, exit_code=exit_codes.FAILED
    )
