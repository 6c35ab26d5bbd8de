"""The wizard's provisioning flow, Textual-free: init + plan into a saved plan file, apply exactly that plan, read
the outputs. The Review and Provision screens and `dms-tui provision` drive these; the events are the runner's.
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from dms_tui.environment import Environment
from dms_tui.journey import Journey
from dms_tui.provision.detached import DetachedRun, RunRecord, load_record, start_detached
from dms_tui.provision.events import ChangeSummary, CommandFinished, Diagnostic, PlannedChange, TerraformEvent
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.provision.runner import TerraformError, TerraformProcess, TerraformRunner
from dms_tui.provision.workspace import Workspace, find_terraform, prepare_workspace

PLAN_FILE = "tfplan"


@dataclass(frozen=True)
class PlanReview:
    """What `terraform plan` proposes: the counts and each resource grouped by module, or the errors."""

    add: int = 0
    change: int = 0
    remove: int = 0
    by_module: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    errors: tuple[Diagnostic, ...] = ()
    log_path: str = ""

    @property
    def planned(self) -> int:
        return self.add + self.change + self.remove


def workspace_for(journey: Journey, target: Environment) -> Workspace:
    return prepare_workspace(journey.env, target)


def runner_for(journey: Journey, target: Environment) -> TerraformRunner:
    """A runner in the environment's working copy (the sandbox's override file included)."""
    return TerraformRunner.for_workspace(workspace_for(journey, target), find_terraform())


def _command_line(journey: Journey, *args: str) -> str:
    root = journey.workdir / "provisioning"
    var_file = journey.config_path
    return shlex.join(["terraform", f"-chdir={root}", *args, f"-var-file={var_file}"])


def plan_command_line(journey: Journey) -> str:
    return _command_line(journey, "plan", f"-out={PLAN_FILE}")


def apply_command_line(journey: Journey) -> str:
    return shlex.join(["terraform", f"-chdir={journey.workdir / 'provisioning'}", "apply", PLAN_FILE])


def destroy_command_line(journey: Journey) -> str:
    return _command_line(journey, "destroy")


async def _drain(process: TerraformProcess, sink: list[TerraformEvent]) -> CommandFinished | None:
    finished = None
    async for event in process:
        sink.append(event)
        if isinstance(event, CommandFinished):
            finished = event
    return finished


async def run_plan(journey: Journey, target: Environment) -> PlanReview:
    """terraform init, then plan into the saved plan file; summarised for review."""
    runner = runner_for(journey, target)
    events: list[TerraformEvent] = []
    finished = await _drain(runner.init(), events)
    if finished is None or not finished.ok:
        errors = tuple(e for e in events if isinstance(e, Diagnostic) and e.is_error)
        if not errors:
            raise TerraformError(f"terraform init failed; see {finished.log_path if finished else 'the log'}")
        return PlanReview(errors=errors, log_path=finished.log_path if finished else "")
    events.clear()
    finished = await _drain(runner.plan(PLAN_FILE), events)
    by_module: dict[str, list[tuple[str, str]]] = {}
    summary: ChangeSummary | None = None
    for event in events:
        if isinstance(event, PlannedChange):
            by_module.setdefault(event.module or "root", []).append((event.address, event.action))
        elif isinstance(event, ChangeSummary):
            summary = event
    errors = tuple(e for e in events if isinstance(e, Diagnostic) and e.is_error)
    if not errors and (finished is None or not finished.ok):
        raise TerraformError(f"terraform plan failed; see {finished.log_path if finished else 'the log'}")
    return PlanReview(
        add=summary.add if summary else 0,
        change=summary.change if summary else 0,
        remove=summary.remove if summary else 0,
        by_module=by_module,
        errors=errors,
        log_path=finished.log_path if finished else "",
    )


def _detached(journey: Journey, label: str, process: TerraformProcess) -> DetachedRun:
    # The runner builds the exact argv and environment; the supervisor runs it out of the terminal's session.
    record = start_detached(journey.env, label, process.argv, cwd=process.cwd, process_env=process.env)
    return DetachedRun(record)


def apply_process(journey: Journey, target: Environment) -> DetachedRun:
    """The apply of the saved plan, detached from the terminal (iterate for events; ``interrupt()`` cancels)."""
    return _detached(journey, "apply", runner_for(journey, target).apply(PLAN_FILE))


def destroy_process(journey: Journey, target: Environment) -> DetachedRun:
    return _detached(journey, "destroy", runner_for(journey, target).destroy())


def attachable_run(journey: Journey) -> RunRecord | None:
    """The environment's last detached run, when there is one to re-attach to or to show the result of."""
    return load_record(journey.env)


async def read_outputs(journey: Journey, target: Environment) -> EnvironmentOutputs:
    raw: dict[str, Any] = await runner_for(journey, target).output()
    return EnvironmentOutputs.from_terraform(raw)


async def iterate(process: TerraformProcess) -> AsyncIterator[TerraformEvent]:
    async for event in process:
        yield event
