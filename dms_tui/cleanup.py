"""Cleanup, Textual-free: what will be removed (and what keeping it costs), then remove it in the safe order.

Order matters: the DMS task first (terraform cannot delete a replication instance that still has tasks), then
`terraform destroy` with the same events as apply, then — in the sandbox — the local pieces. A step that fails does
not hide the others: each outcome carries the command that finishes it by hand.
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass

from dms_tui.environment import Environment
from dms_tui.journey import Journey
from dms_tui.provision import flow
from dms_tui.provision.events import CommandFinished, TerraformEvent

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


@dataclass(frozen=True)
class CleanupItem:
    """One thing that will be removed, with a rough hourly cost of keeping it (None when unknown or free)."""

    key: str
    what: str
    hourly_usd: float | None
    command: str


@dataclass(frozen=True)
class CleanupPlan:
    items: tuple[CleanupItem, ...]

    @property
    def rough_hourly_usd(self) -> float:
        return sum(item.hourly_usd or 0.0 for item in self.items)


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


@dataclass(frozen=True)
class CleanupTerraformEvent:
    """terraform destroy's own events, for the same progress view as apply."""

    event: TerraformEvent


CleanupEvent = CleanupStepStarted | CleanupStepFinished | CleanupTerraformEvent


def plan_cleanup(journey: Journey) -> CleanupPlan:
    config = journey.config
    items: list[CleanupItem] = []
    region = f"--region {shlex.quote(config.aws_region)}"
    if journey.state.task_arn:
        items.append(
            CleanupItem(
                "task",
                f"DMS replication task {journey.state.task_arn.rsplit(':', 1)[-1]}",
                None,
                f"aws dms delete-replication-task --replication-task-arn {shlex.quote(journey.state.task_arn)} {region}",
            )
        )
    azs = len(config.vpcs.dms.azs)
    aurora = [ROUGH_HOURLY_USD.get(db.instance_class) for db in (config.source_db, config.target_db)]
    infra_cost = sum(x for x in aurora if x) + ROUGH_HOURLY_USD.get(config.dms_replication_instance_class, 0.0)
    infra_cost += ROUGH_HOURLY_USD.get(config.bastion_instance_type, 0.0) + 2 * ROUGH_HOURLY_USD["nlb"]
    infra_cost += (2 + 3) * azs * ROUGH_HOURLY_USD["interface-endpoint-az"]  # 2 PrivateLink + 3 AWS service endpoints
    what = (
        f"everything terraform created: 3 VPCs, 2 Aurora clusters ({config.source_db.instance_class}, "
        f"{config.target_db.instance_class}), DMS {config.dms_replication_instance_class}, 2 NLBs, endpoint services "
        f"and endpoints, 2 secrets, bastion {config.bastion_instance_type}"
    )
    items.append(
        CleanupItem("terraform", what, infra_cost if journey.mode == "aws" else 0.0, flow.destroy_command_line(journey))
    )
    if journey.mode == "sandbox":
        items.append(
            CleanupItem(
                "sandbox",
                "the local sandbox: moto daemon, two PostgreSQL clusters, forwarders, data",
                0.0,
                "dms-tui sandbox down",
            )
        )
    return CleanupPlan(tuple(items))


def _delete_task(journey: Journey, target: Environment) -> CleanupStepFinished:
    from dms_tui.aws.dms import DmsTaskError, ReplicationTaskRunner, TaskNotFoundError

    arn = journey.state.task_arn
    assert arn is not None
    runner = ReplicationTaskRunner(target.client("dms"))
    try:
        runner.delete(arn, wait=True, interval_s=2.0)
    except TaskNotFoundError:
        return CleanupStepFinished("task", True, "the task was already gone")
    except DmsTaskError as exc:
        return CleanupStepFinished(
            "task", False, str(exc), runner.command_for("delete_replication_task", {"ReplicationTaskArn": arn}).text
        )
    journey.update_task(arn=None)
    return CleanupStepFinished("task", True, "deleted (DescribeReplicationTasks no longer lists it)")


async def run_cleanup(journey: Journey, target: Environment, plan: CleanupPlan) -> AsyncIterator[CleanupEvent]:
    """Remove each planned item in order, yielding progress; never stops at the first failure."""
    import asyncio

    by_key = {item.key: item for item in plan.items}
    if "task" in by_key:
        yield CleanupStepStarted("task", by_key["task"].what)
        yield await asyncio.to_thread(_delete_task, journey, target)
    if "terraform" in by_key:
        item = by_key["terraform"]
        yield CleanupStepStarted("terraform", "terraform destroy")
        finished: CommandFinished | None = None
        from dms_tui.modes import terraform_available

        reason = terraform_available()
        if reason is not None or not (journey.workdir / "provisioning" / "terraform.tfstate").exists():
            # Nothing was applied with terraform here (the sandbox's boto3 path, or never provisioned).
            yield CleanupStepFinished("terraform", True, "no terraform state: nothing to destroy")
        else:
            try:
                async for event in flow.destroy_process(journey, target):
                    yield CleanupTerraformEvent(event)
                    if isinstance(event, CommandFinished):
                        finished = event
            except Exception as exc:  # reported with the command to finish by hand
                yield CleanupStepFinished("terraform", False, str(exc), item.command)
            else:
                ok = finished is not None and finished.ok
                yield CleanupStepFinished(
                    "terraform",
                    ok,
                    "destroyed" if ok else f"terraform destroy failed; log: {finished.log_path if finished else '?'}",
                    "" if ok else item.command,
                )
    if "sandbox" in by_key:
        yield CleanupStepStarted("sandbox", by_key["sandbox"].what)
        from dms_tui.sandbox.lifecycle import Sandbox, SandboxError

        try:
            report = await asyncio.to_thread(Sandbox(region=target.region, env=journey.env).down, keep_data=False)
        except SandboxError as exc:
            yield CleanupStepFinished("sandbox", False, str(exc), "dms-tui sandbox down")
        else:
            if report.leftover_pids:
                yield CleanupStepFinished(
                    "sandbox",
                    False,
                    f"processes still running: {report.leftover_pids}",
                    "kill " + " ".join(str(p) for p in report.leftover_pids),
                )
            else:
                yield CleanupStepFinished("sandbox", True, f"stopped {len(report.stopped)} piece(s); data removed")
