"""Cleanup: what will be removed (and what keeping it costs), then remove it in the safe order.

Order matters: the DMS tasks first (terraform cannot delete a replication instance that still has tasks), then
`terraform destroy` (the provision step's, with the same events as apply), then what the environment runs on this
machine (the sandbox). A removal that fails does not hide the others: its outcome carries the command that finishes
it by hand. When everything is gone the journey starts over (the configuration is kept).
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.checks.commands import aws_command
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey

if TYPE_CHECKING:
    from dms_tui.config import WizardConfig

# Rough on-demand list prices in us-east-1, USD per hour (AWS pricing pages, 2025). Shown marked as rough: prices
# differ by region and change; data processing, storage and I/O are extra.
ROUGH_HOURLY_USD: dict[str, float] = {
    "db.t3.medium": 0.082,
    "db.t4g.medium": 0.073,
    "db.r5.large": 0.29,
    "db.r6g.large": 0.26,
    "db.r6i.large": 0.29,
    "db.r7g.large": 0.277,
    "dms.t3.micro": 0.018,
    "dms.t3.small": 0.036,
    "dms.t3.medium": 0.073,
    "dms.t3.large": 0.146,
    "dms.c5.large": 0.154,
    "dms.r5.large": 0.21,
    "t3.micro": 0.0104,
    "t3.small": 0.0208,
    "t4g.micro": 0.0084,
    "nlb": 0.0225,
    "interface-endpoint-az": 0.01,
}

TASK, TERRAFORM, LOCAL = "task", "terraform", "local"


@dataclass(frozen=True)
class CleanupItem:
    """One thing that will be removed, with a rough hourly cost of keeping it (None when unknown or free), and the
    command that removes it by hand."""

    key: str
    what: str
    hourly_usd: float | None
    command: str
    task_arns: tuple[str, ...] = ()  # for the DMS task item


@dataclass(frozen=True)
class CleanupPlan:
    items: tuple[CleanupItem, ...]
    command: str  # the headless equivalent of removing all of it

    @property
    def rough_hourly_usd(self) -> float:
        return sum(item.hourly_usd or 0.0 for item in self.items)

    def item(self, key: str) -> CleanupItem | None:
        return next((item for item in self.items if item.key == key), None)


@dataclass(frozen=True)
class CleanupStepStarted:
    key: str
    what: str


@dataclass(frozen=True)
class CleanupStepFinished:
    key: str
    ok: bool
    message: str
    manual_command: str = ""  # what to run by hand when it failed

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "ok": self.ok, "message": self.message, "manual_command": self.manual_command}


@dataclass(frozen=True)
class CleanupTerraformEvent:
    """terraform destroy's own events (and the provision step's), for the same progress view as apply."""

    event: object


@dataclass(frozen=True)
class CleanupDone:
    """The last event: every removal's outcome; ``reset`` when everything is gone and the journey starts over."""

    results: tuple[CleanupStepFinished, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "steps": [result.to_json() for result in self.results]}


CleanupEvent = CleanupStepStarted | CleanupStepFinished | CleanupTerraformEvent | CleanupDone


def cleanup_command_line(environment: Environment) -> str:
    return shlex.join(["dms-tui", "cleanup", *environment.cli_flags(), "--yes"])


# -- the plan -------------------------------------------------------------------------------------------------------


def plan_cleanup(environment: Environment, journey: Journey, dms: Any = None) -> CleanupPlan:
    """What will be removed. Lists the DMS tasks on the environment's replication instance (``dms``: a boto3 DMS
    client, made from the environment when not given) besides the journey's own; raises StepError when it cannot."""
    items: list[CleanupItem] = []
    arns = _task_arns(environment, journey, dms)
    if arns:
        names = ", ".join(arn.rsplit(":", 1)[-1] for arn in arns)
        items.append(
            CleanupItem(
                TASK,
                f"DMS replication task{'s' if len(arns) > 1 else ''} {names}",
                None,
                " && ".join(_delete_task_command(environment, arn) for arn in arns),
                task_arns=arns,
            )
        )
    items.append(_terraform_item(environment, journey))
    local = environment.local_pieces
    if local is not None:
        items.append(CleanupItem(LOCAL, local.what, 0.0, shlex.join(local.command)))
    return CleanupPlan(tuple(items), cleanup_command_line(environment))


#: Interface endpoints the bundle puts in the DMS VPC: one per PrivateLink side (module privatelink, twice),
#: Secrets Manager (module dms), and ssm, ssmmessages, ec2messages for Session Manager (module bastion).
INTERFACE_ENDPOINTS_IN_DMS_VPC = 6


def rough_hourly_usd(config: WizardConfig) -> float:
    """What everything terraform creates for ``config`` costs per hour on AWS, roughly (list prices, us-east-1);
    the preflight shows it before the apply, cleanup before the destroy."""
    azs = len(config.vpcs.dms.azs)
    aurora = [ROUGH_HOURLY_USD.get(db.instance_class) for db in (config.source_db, config.target_db)]
    cost = sum(x for x in aurora if x) + ROUGH_HOURLY_USD.get(config.dms_replication_instance_class, 0.0)
    cost += ROUGH_HOURLY_USD.get(config.bastion_instance_type, 0.0) + 2 * ROUGH_HOURLY_USD["nlb"]
    cost += INTERFACE_ENDPOINTS_IN_DMS_VPC * azs * ROUGH_HOURLY_USD["interface-endpoint-az"]
    return cost


def _terraform_item(environment: Environment, journey: Journey) -> CleanupItem:
    config = journey.config
    cost = rough_hourly_usd(config)
    what = (
        f"everything terraform created: 3 VPCs, 2 Aurora clusters ({config.source_db.instance_class}, "
        f"{config.target_db.instance_class}), DMS {config.dms_replication_instance_class}, 2 NLBs, endpoint services "
        f"and endpoints, 2 secrets, bastion {config.bastion_instance_type}"
    )
    hourly = cost if environment.bills_by_the_hour else 0.0
    return CleanupItem(TERRAFORM, what, hourly, _destroy_command_line(journey))


def _task_arns(environment: Environment, journey: Journey, dms: Any) -> tuple[str, ...]:
    """The journey's task, and every task on the environment's replication instance (they would block destroy)."""
    record = journey.state.task
    arns: list[str] = [record.arn] if record and record.arn else []
    lookups: list[dict[str, Any]] = []
    if record and record.identifier and not record.arn:
        lookups.append({"Name": "replication-task-id", "Values": [record.identifier]})
    if environment.outputs is not None:
        lookups.append(
            {"Name": "replication-instance-arn", "Values": [environment.outputs.dms_replication_instance_arn]}
        )
    if lookups:
        client = dms if dms is not None else environment.client("dms")
        for lookup in lookups:
            for task in _describe_tasks(client, lookup):
                if task["ReplicationTaskArn"] not in arns:
                    arns.append(task["ReplicationTaskArn"])
    return tuple(arns)


def _describe_tasks(client: Any, lookup: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        answer = client.describe_replication_tasks(Filters=[lookup], WithoutSettings=True)
        return list(answer.get("ReplicationTasks", []))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundFault":
            return []  # AWS's answer to a filter that matches nothing
        raise StepError.from_exception(
            "The DMS tasks to remove cannot be listed.",
            exc,
            "Check the identity's dms:DescribeReplicationTasks permission, then run cleanup again.",
        ) from exc
    except BotoCoreError as exc:
        raise StepError.from_exception(
            "The DMS tasks to remove cannot be listed.",
            exc,
            "Check that the environment is reachable (`dms-tui sandbox status` in the sandbox), then run cleanup again.",
        ) from exc


def _delete_task_command(environment: Environment, arn: str) -> str:
    return aws_command(environment, "dms", "delete-replication-task", "--replication-task-arn", arn)


# -- the removal ----------------------------------------------------------------------------------------------------


def run_cleanup(
    environment: Environment, journey: Journey, plan: CleanupPlan, dms: Any = None
) -> Iterator[CleanupEvent]:
    """Remove each planned item in order, yielding progress; never stops at the first failure. The last event is
    CleanupDone; when every removal succeeded the journey is reset (its configuration kept)."""
    results: list[CleanupStepFinished] = []
    for item in plan.items:
        yield CleanupStepStarted(item.key, item.what)
        if item.key == TASK:
            result = _delete_tasks(environment, journey, item, dms)
        elif item.key == TERRAFORM:
            outcome: list[CleanupStepFinished] = []
            yield from _destroy(environment, journey, item, outcome)
            result = outcome[0]
        else:
            # After a failed destroy the environment's terraform state is kept (it tracks what is left).
            terraform_failed = any(r.key == TERRAFORM and not r.ok for r in results)
            result = _remove_local(environment, item, keep_terraform_state=terraform_failed)
        results.append(result)
        yield result
    done = CleanupDone(tuple(results))
    if done.ok:
        journey.reset()
    yield done


def _delete_tasks(environment: Environment, journey: Journey, item: CleanupItem, dms: Any) -> CleanupStepFinished:
    from dms_tui.aws.dms import DmsTaskError, ReplicationTaskRunner, TaskNotFoundError

    runner = ReplicationTaskRunner(dms if dms is not None else environment.client("dms"))
    messages: list[str] = []
    for arn in item.task_arns:
        name = arn.rsplit(":", 1)[-1]
        try:
            runner.delete(arn, wait=True, interval_s=2.0)
        except TaskNotFoundError:
            messages.append(f"{name} was already gone")
        except DmsTaskError as exc:
            return CleanupStepFinished(TASK, False, str(exc), _delete_task_command(environment, arn))
        else:
            messages.append(f"{name} deleted (DescribeReplicationTasks no longer lists it)")
        if journey.state.task_arn == arn:
            journey.update_task(arn=None)
    return CleanupStepFinished(TASK, True, "; ".join(messages))


def _remove_local(
    environment: Environment, item: CleanupItem, *, keep_terraform_state: bool = False
) -> CleanupStepFinished:
    try:
        return CleanupStepFinished(
            item.key, True, environment.remove_local_pieces(keep_terraform_state=keep_terraform_state)
        )
    except StepError as err:
        return CleanupStepFinished(item.key, False, f"{err.what} {err.why}".strip(), err.next_step or item.command)


# -- terraform destroy: the one place cleanup calls the provision step --------------------------------------------------


def _destroy_command_line(journey: Journey) -> str:
    from dms_tui.steps.provision import terraform_command_line

    return terraform_command_line(journey, "destroy")


def _has_terraform_state(journey: Journey) -> bool:
    return (journey.workdir / "provisioning" / "terraform.tfstate").exists()


def _destroy(
    environment: Environment, journey: Journey, item: CleanupItem, outcome: list[CleanupStepFinished]
) -> Iterator[CleanupTerraformEvent]:
    """terraform destroy through the provision step, its events wrapped; the outcome is appended to ``outcome``."""
    from dms_tui.steps import provision

    if not _has_terraform_state(journey):
        # Nothing was applied with terraform here (the sandbox's boto3 path, or never provisioned).
        outcome.append(CleanupStepFinished(TERRAFORM, True, "no terraform state: nothing to destroy"))
        return
    notes: list[str] = []
    try:
        for event in _synchronously(provision.destroy(environment, journey)):
            yield CleanupTerraformEvent(event)
            if isinstance(event, provision.ServiceRolesKept):
                notes.append("the account-wide DMS roles were kept for the account's other environments")
            elif isinstance(event, provision.GoneResourcesForgotten):
                notes.append(f"{len(event.addresses)} object(s) already gone, taken out of the state")
            elif isinstance(event, provision.DestroyFinished):
                outcome.append(CleanupStepFinished(TERRAFORM, True, "; ".join(["destroyed", *notes])))
            elif isinstance(event, provision.RunFailed):
                message = f"{event.headline} Log: {event.log_path}"
                outcome.append(CleanupStepFinished(TERRAFORM, False, message, item.command))
    except StepError as err:
        outcome.append(CleanupStepFinished(TERRAFORM, False, str(err), item.command))
    if not outcome:
        outcome.append(CleanupStepFinished(TERRAFORM, False, "terraform destroy ended without a result", item.command))


_Event = TypeVar("_Event")


def _synchronously(events: AsyncIterable[_Event]) -> Iterator[_Event]:
    """Iterate an async event stream from synchronous code (a worker thread or a command) on a private loop."""
    loop = asyncio.new_event_loop()
    iterator = events.__aiter__()
    try:
        while True:
            try:
                yield loop.run_until_complete(iterator.__anext__())
            except StopAsyncIteration:
                return
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            loop.run_until_complete(close())
        loop.close()
