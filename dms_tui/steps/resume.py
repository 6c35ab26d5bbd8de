"""Resume, checked against reality: what a saved journey relies on is looked up before the person continues.

A checkpoint says which steps are done; the world may have moved since. ``check_resume`` asks the environment's
own clients (moto's in the sandbox, AWS's otherwise) whether what the done steps left still exists:

- Provision's outputs: the three VPCs and the two interface endpoints (``ec2``). Gone (the sandbox was removed or
  restarted empty, someone destroyed the stack by hand) → back to Configure, to plan again.
- Migrate's task: its ARN (``dms``). Gone → back to Migrate (the identifier and mappings are kept).

The journey falls back to the last step whose results still hold and records why (a ``Setback``), which the Welcome
screen shows; ``what_still_runs`` lists what of an environment still exists or runs, for "start over" and
``dms-tui reset``. Textual-free; the headless commands may use it as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dms_tui.journey import Journey, Setback, Step

if TYPE_CHECKING:
    from dms_tui.environment import Environment
    from dms_tui.provision.outputs import EnvironmentOutputs

#: AWS's error codes for an identifier that does not (or no longer) exist.
_GONE_CODES = {
    "InvalidVpcID.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "InvalidVpcEndpoint.NotFound",
    "ResourceNotFoundFault",
}


@dataclass(frozen=True)
class ResumeCheck:
    """What the check found: where the journey was, where it is now, and why it moved (empty when nothing did)."""

    was_at: Step
    now_at: Step
    reasons: tuple[str, ...] = ()
    unchecked: str = ""  # why some of it could not be checked (the journey is then left as it was)

    @property
    def fell_back(self) -> bool:
        return bool(self.reasons)

    @property
    def summary(self) -> str:
        if self.fell_back:
            return f"back to {self.now_at.title}: " + "; ".join(self.reasons)
        if self.unchecked:
            return f"resuming at {self.now_at.title} (not checked: {self.unchecked})"
        return f"resuming at {self.now_at.title}"


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def missing_outputs(environment: Environment, outputs: EnvironmentOutputs, ec2: Any = None) -> list[str]:
    """What of ``outputs`` no longer exists (VPCs, interface endpoints), as short phrases; [] when all is there.
    Raises botocore's errors when the API cannot be asked (the caller says the check could not run)."""
    client = ec2 if ec2 is not None else environment.client("ec2")
    missing: list[str] = []
    vpcs = {"source": outputs.source.vpc_id, "DMS": outputs.dms_vpc_id, "target": outputs.target.vpc_id}
    for label, vpc_id in vpcs.items():
        if not vpc_id:
            continue
        try:
            found = client.describe_vpcs(VpcIds=[vpc_id]).get("Vpcs", [])
        except Exception as exc:
            if _error_code(exc) not in _GONE_CODES:
                raise
            found = []
        if not found:
            missing.append(f"the {label} VPC {vpc_id}")
    for label, side in (("source", outputs.source), ("target", outputs.target)):
        endpoint_id = side.vpc_endpoint_id
        if not endpoint_id:
            continue
        try:
            endpoints = client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id]).get("VpcEndpoints", [])
        except Exception as exc:
            if _error_code(exc) not in _GONE_CODES:
                raise
            endpoints = []
        alive = [e for e in endpoints if str(e.get("State", "available")).lower() not in ("deleted", "deleting")]
        if not alive:
            missing.append(f"the {label} interface endpoint {endpoint_id}")
    return missing


def task_exists(environment: Environment, arn: str, dms: Any = None) -> bool:
    """Whether DMS still knows the task ``arn`` (raises botocore's errors when DMS cannot be asked)."""
    client = dms if dms is not None else environment.client("dms")
    try:
        tasks = client.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
        ).get("ReplicationTasks", [])
    except Exception as exc:
        if _error_code(exc) != "ResourceNotFoundFault":
            raise
        return False
    return any(task.get("ReplicationTaskArn") == arn for task in tasks)


def _recorded_outputs(environment: Environment, journey: Journey) -> EnvironmentOutputs | None:
    from dms_tui.provision.outputs import EnvironmentOutputs

    if journey.state.outputs:
        try:
            return EnvironmentOutputs.from_json(journey.state.outputs)
        except (KeyError, TypeError):
            return None
    return environment.outputs


def check_resume(environment: Environment, journey: Journey, *, ec2: Any = None, dms: Any = None) -> ResumeCheck:
    """Check what the journey's done steps left against the environment; fall the journey back (checkpointed, with
    a Setback saying why) to the last step whose results still hold. ``ec2``/``dms`` replace the environment's
    clients (tests). Never raises for an unreachable API: the journey is then left as it was, and ``unchecked``
    says why."""
    state = journey.state
    was_at = state.current
    if not state.done:
        return ResumeCheck(was_at, was_at)
    try:
        if state.is_done(Step.PROVISION) or state.outputs:
            outputs = _recorded_outputs(environment, journey)
            if outputs is None:
                reason = "no provisioning outputs are recorded for this environment"
                missing: list[str] = []
            else:
                missing = missing_outputs(environment, outputs, ec2)
                reason = f"{_join(missing)} no longer exist{'s' if len(missing) == 1 else ''} ({_where(environment)})"
            if outputs is None or missing:
                journey.fall_back(
                    Step.CONFIGURE,
                    Setback(
                        Step.PROVISION,
                        "What Provision created is gone.",
                        reason,
                        "Plan again on Review (Continue), then apply: it creates the environment anew.",
                    ),
                )
                return ResumeCheck(was_at, journey.state.current, (reason,))
        task = state.task
        if task is not None and task.arn and state.is_done(Step.MIGRATE):
            if not task_exists(environment, task.arn, dms):
                name = task.arn.rsplit(":", 1)[-1]
                reason = f"the DMS task {task.identifier or name} ({name}) no longer exists ({_where(environment)})"
                journey.fall_back(
                    Step.MIGRATE,
                    Setback(
                        Step.MIGRATE,
                        "The DMS task of this journey is gone.",
                        reason,
                        "Create and start it again on Migrate (its identifier and mappings are kept).",
                    ),
                )
                return ResumeCheck(was_at, journey.state.current, (reason,))
    except Exception as exc:  # botocore's errors, an unreachable endpoint: say so, change nothing
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return ResumeCheck(was_at, journey.state.current, unchecked=first_line[:200])
    return ResumeCheck(was_at, journey.state.current)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _where(environment: Environment) -> str:
    return f"in {environment.emulator_note}" if environment.emulated else f"in AWS, {environment.region}"


# -- what still runs ----------------------------------------------------------------------------------------------------


def what_still_runs(journey: Journey, environment: Environment | None = None) -> list[str]:
    """What of this environment still exists or runs, as phrases ([] after a complete cleanup): recorded outputs (the
    provisioned stack), terraform state with resources, a terraform run alive, a running sandbox (``environment``:
    the opened one, when it could be opened; its local pieces run)."""
    from dms_tui.provision.detached import load_record

    found: list[str] = []
    state = journey.state
    if state.outputs:
        found.append("provisioned outputs are recorded (the VPCs, Aurora clusters and DMS instance may still exist)")
    resources = _state_resources(journey)
    if resources:
        found.append(f"terraform state holds {resources} resource(s) in {journey.workdir / 'provisioning'}")
    record = load_record(journey.env)
    if record is not None and record.finished() is None and record.alive():
        found.append(f"a terraform {record.label} is running (pid {record.pid})")
    if environment is not None and environment.local_pieces is not None:
        found.append(f"{environment.local_pieces.what} (stop it: `{' '.join(environment.local_pieces.command)}`)")
    if state.task is not None and state.task.arn:
        found.append(f"the DMS task {state.task.arn.rsplit(':', 1)[-1]} is recorded")
    return found


def _state_resources(journey: Journey) -> int:
    import json

    path = journey.workdir / "provisioning" / "terraform.tfstate"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    resources = document.get("resources") if isinstance(document, dict) else None
    return len(resources) if isinstance(resources, list) else 0


def reset_command_line(environment_flags: list[str], *, force: bool = False) -> str:
    """`dms-tui reset` for the same environment."""
    import shlex

    return shlex.join(["dms-tui", "reset", *environment_flags, *(["--force"] if force else []), "--yes"])
