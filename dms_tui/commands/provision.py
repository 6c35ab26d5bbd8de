"""`dms-tui provision plan|apply|destroy`: the bundled Terraform, headless, with the same events the screen renders.

    dms-tui provision plan                 init + plan (saved to the working copy as tfplan)
    dms-tui provision apply [--yes]        init + plan, confirm, apply exactly that plan, read the outputs
    dms-tui provision destroy [--yes]      init, confirm, destroy

Exit codes: 0 done; 1 terraform failed or was interrupted (its diagnostics are printed); 2 nothing ran (not
confirmed, no terraform, no sandbox, unusable environment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from dms_tui.commands._common import add_common_options, print_json, stderr_console
from dms_tui.provision.events import (
    ApplyComplete,
    ApplyErrored,
    ApplyStart,
    CommandFinished,
    CommandStarted,
    Diagnostic,
    TerraformEvent,
)
from dms_tui.provision.progress import ProvisionProgress, format_elapsed, reduce_event
from dms_tui.provision.runner import TerraformError, TerraformProcess, TerraformRunner

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUN = 2
PLAN_FILE = "tfplan"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("provision", help="plan, apply or destroy the bundled Terraform")
    actions = parser.add_subparsers(dest="provision_action", metavar="ACTION", required=True)
    for name, help_text in (
        ("plan", "show what terraform would create, change or destroy"),
        ("apply", "create or update the architecture (15-20 minutes on AWS)"),
        ("destroy", "delete everything the bundle created"),
    ):
        action = actions.add_parser(name, help=help_text)
        add_common_options(action)
        if name != "plan":
            action.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        action.add_argument(
            "--workdir",
            type=Path,
            help="run in this terraform root module instead of the environment's working copy of the bundle",
        )
        action.add_argument("--terraform", help="terraform executable (default: $DMS_TUI_TERRAFORM, then PATH)")
        action.set_defaults(func=run_provision, provision_action=name)


@dataclass
class RunRecord:
    """What one `provision` invocation did, for the summary and --json."""

    action: str
    commands: list[dict[str, Any]] = field(default_factory=list)
    progress: ProvisionProgress = field(default_factory=ProvisionProgress)
    outputs: dict[str, Any] | None = None
    raw_outputs: dict[str, Any] = field(default_factory=dict, repr=False)  # in memory only, for the sandbox

    def to_json(self, exit_code: int) -> dict[str, Any]:
        p = self.progress
        summary = p.final_summary or p.plan_summary
        return {
            "action": self.action,
            "exit_code": exit_code,
            "ok": exit_code == EXIT_OK,
            "planned": p.planned,
            "done": p.done,
            "failed": p.failed,
            "summary": None
            if summary is None
            else {
                "add": summary.add,
                "change": summary.change,
                "remove": summary.remove,
                "operation": summary.operation,
            },
            "resources": [
                {"address": r.address, "module": r.module, "action": r.planned_action, "state": r.state}
                for r in p.resources.values()
            ],
            "diagnostics": [_diagnostic_json(d) for d in p.diagnostics],
            "commands": self.commands,
            # Only non-sensitive values: terraform's sensitive outputs are dropped before they get here.
            "outputs": self.outputs,
        }


def _diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity,
        "summary": d.summary,
        "detail": d.detail,
        "address": d.address,
        "location": d.location,
        "code": d.snippet.code if d.snippet else "",
    }


class ProgressRenderer:
    """Renders events with rich: a bar over resources and one line per finished resource (stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressRenderer:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def render(self, event: TerraformEvent, progress: ProvisionProgress) -> None:
        if isinstance(event, CommandStarted):
            self.console.print(Text("$ " + event.command_line, style="dim"))
        elif isinstance(event, ApplyStart):
            self._ensure_task(progress)
        elif isinstance(event, ApplyComplete):
            resource = progress.resources.get(event.address)
            took = format_elapsed(resource.elapsed() if resource else event.elapsed)
            self.console.print(
                Text.assemble(("✓ ", "green"), event.address, (f"  {_past(event.action)} in {took}", "dim"))
            )
        elif isinstance(event, ApplyErrored):
            self.console.print(Text.assemble(("✗ ", "red"), event.address, ("  failed", "red")))
        elif isinstance(event, Diagnostic):
            self.console.print(diagnostic_text(event))
        if self._task is not None:
            running = progress.running
            description = f"{running[0].address} {running[0].describe(time.time())}" if running else "resources"
            self._bar.update(
                self._task, total=max(progress.planned, 1), completed=progress.done, description=description
            )

    def _ensure_task(self, progress: ProvisionProgress) -> None:
        if self._task is None:
            self._task = self._bar.add_task("resources", total=max(progress.planned, 1))


def _past(action: str) -> str:
    return {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}.get(action, action)


def diagnostic_text(d: Diagnostic) -> Text:
    """A terraform diagnostic as plain rich Text (terraform's text is never parsed as markup)."""
    style = "bold red" if d.is_error else "bold yellow"
    text = Text.assemble((f"{d.severity.capitalize()}: ", style), d.summary)
    if d.address:
        text.append(f"\n  resource: {d.address}", style="dim")
    if d.location:
        text.append(f"\n  at {d.location}", style="dim")
    if d.snippet is not None:
        text.append(f"\n  {d.snippet.start_line} | {d.snippet.code}")
    if d.detail and d.is_error:  # warnings (e.g. init's lock-file note) stay one line; the log has the rest
        text.append("\n  " + d.detail.replace("\n", "\n  "))
    return text


async def _drive(
    process: TerraformProcess, record: RunRecord, on_event: Callable[[TerraformEvent, ProvisionProgress], None]
) -> int:
    async for event in process:
        record.progress = reduce_event(record.progress, event)
        on_event(event, record.progress)
        if isinstance(event, CommandFinished):
            record.commands.append(
                {"command": " ".join(event.argv), "exit_code": event.returncode, "log": event.log_path}
            )
    return process.returncode if process.returncode is not None else EXIT_FAILED


async def _provision(
    action: str,
    runner: TerraformRunner,
    record: RunRecord,
    on_event: Callable[[TerraformEvent, ProvisionProgress], None],
    confirm: Callable[[ProvisionProgress], bool],
) -> int:
    if await _drive(runner.init(), record, on_event) != 0:
        return EXIT_FAILED
    # Each phase starts from a fresh progress so counts are those of the phase the person is watching.
    record.progress = ProvisionProgress()
    if action == "destroy":
        if not confirm(record.progress):
            return EXIT_NOT_RUN
        return EXIT_OK if await _drive(runner.destroy(), record, on_event) == 0 else EXIT_FAILED
    if await _drive(runner.plan(PLAN_FILE), record, on_event) != 0:
        return EXIT_FAILED
    if action == "plan":
        return EXIT_OK
    if not confirm(record.progress):
        return EXIT_NOT_RUN
    record.progress = ProvisionProgress()
    if await _drive(runner.apply(PLAN_FILE), record, on_event) != 0:
        return EXIT_FAILED
    record.raw_outputs = await runner.output()
    record.outputs = _public_outputs(record.raw_outputs)
    return EXIT_OK


def _public_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` minus sensitive values (the bundle has none; this keeps it that way on screen)."""
    result: dict[str, Any] = {}
    for name, entry in raw.items():
        if isinstance(entry, dict):
            result[name] = "(sensitive)" if entry.get("sensitive") else entry.get("value")
    return result


def _build_runner(args: argparse.Namespace) -> TerraformRunner:
    """The runner for the environment's working copy (or --workdir); raises TerraformError/WorkspaceError."""
    from dms_tui.provision import workspace as ws

    terraform = ws.find_terraform(args.terraform)
    env_name = getattr(args, "env", "dev")
    if args.workdir is not None:
        if not args.workdir.is_dir():
            raise TerraformError(f"--workdir {args.workdir} is not a directory; give the terraform root module.")
        return TerraformRunner(args.workdir, terraform=str(terraform.path), log_label=env_name)
    target = _target(env_name, sandbox=bool(getattr(args, "sandbox", False)))
    return TerraformRunner.for_workspace(ws.prepare_workspace(env_name, target), terraform)


def _target(env_name: str, *, sandbox: bool) -> Any:
    if sandbox:
        from dms_tui.sandbox.environment import sandbox_environment
        from dms_tui.sandbox.lifecycle import Sandbox

        return sandbox_environment(Sandbox().info())
    from dms_tui import paths
    from dms_tui.environment import aws_environment

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    var_file = paths.environment_dir(env_name) / "terraform" / "variables" / env_name / "common.tfvars.json"
    if region is None and var_file.is_file():
        try:
            region = json.loads(var_file.read_text(encoding="utf-8")).get("aws_region")
        except ValueError:
            region = None
    return aws_environment(region or "us-east-1", env=env_name, profile=os.environ.get("AWS_PROFILE"))


def _hand_outputs_to_sandbox(record: RunRecord) -> None:
    """After `apply --sandbox`: bind the sandbox's databases and forwarders to what terraform created."""
    from dms_tui.provision.outputs import EnvironmentOutputs
    from dms_tui.sandbox.environment import adopt_outputs, sandbox_environment
    from dms_tui.sandbox.lifecycle import Sandbox

    adopt_outputs(sandbox_environment(Sandbox().info()), EnvironmentOutputs.from_terraform(record.raw_outputs))


def _confirm_with(console: Console, action: str, assume_yes: bool) -> Callable[[ProvisionProgress], bool]:
    def confirm(progress: ProvisionProgress) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            console.print(Text(f"Not confirmed: run `dms-tui provision {action} --yes` to {action} without a prompt."))
            return False
        what = "destroy every resource of this environment" if action == "destroy" else "apply this plan"
        if progress.plan_summary is not None:
            s = progress.plan_summary
            what += f" ({s.add} to add, {s.change} to change, {s.remove} to destroy)"
        answer = console.input(f"{what.capitalize()}? Type 'yes' to continue: ")
        return answer.strip().lower() == "yes"

    return confirm


def run_provision(args: argparse.Namespace) -> int:
    action: str = args.provision_action
    console = stderr_console()
    record = RunRecord(action=action)
    as_json = bool(getattr(args, "json", False))
    try:
        runner = _build_runner(args)
    except (RuntimeError, ValueError) as exc:  # TerraformNotFound, WorkspaceError, SandboxError, TerraformError
        console.print(Text(f"Cannot {action}: {exc}", style="red"))
        if as_json:
            print_json({**record.to_json(EXIT_NOT_RUN), "error": str(exc)})
        return EXIT_NOT_RUN
    confirm = _confirm_with(console, action, assume_yes=bool(getattr(args, "yes", False)))
    adopt = action == "apply" and bool(getattr(args, "sandbox", False)) and args.workdir is None
    if as_json:
        code, error = _run(action, runner, record, lambda e, p: None, confirm, adopt)
        document = record.to_json(code)
        if error:
            document["error"] = error
        print_json(document)
        return code
    with ProgressRenderer(console) as renderer:
        code, error = _run(action, runner, record, renderer.render, confirm, adopt)
    _print_summary(console, record, code, error)
    return code


def _run(
    action: str,
    runner: TerraformRunner,
    record: RunRecord,
    on_event: Callable[[TerraformEvent, ProvisionProgress], None],
    confirm: Callable[[ProvisionProgress], bool],
    adopt_into_sandbox: bool,
) -> tuple[int, str | None]:
    try:
        code = asyncio.run(_provision(action, runner, record, on_event, confirm))
        if code == EXIT_OK and adopt_into_sandbox:
            _hand_outputs_to_sandbox(record)
    except (TerraformError, RuntimeError, ValueError) as exc:  # incl. OutputsError, SandboxError
        return EXIT_FAILED, str(exc)
    return code, None


def _print_summary(console: Console, record: RunRecord, code: int, error: str | None) -> None:
    p = record.progress
    summary = p.final_summary or p.plan_summary
    if error:
        console.print(Text(error, style="red"))
    if p.final_summary is not None:
        s = p.final_summary
        console.print(Text(f"{s.operation}: {s.add} added, {s.change} changed, {s.remove} destroyed"))
    elif summary is not None:
        label = "plan" if record.action == "plan" else "planned"
        console.print(Text(f"{label}: {summary.add} to add, {summary.change} to change, {summary.remove} to destroy"))
    if record.action == "plan" and p.resources:
        for module, resources in p.by_module().items():
            console.print(Text(module or "(root module)", style="bold"))
            for r in resources:
                console.print(Text(f"  {r.planned_action:<8} {r.address}"))
    if record.outputs:
        console.print(Text("Outputs (secret ARNs only, never values):", style="bold"))
        for name, value in record.outputs.items():
            console.print(Text(f"  {name} = {json.dumps(value)}"))
    if record.commands:
        console.print(Text(f"log: {record.commands[-1]['log']}", style="dim"))
    if code == EXIT_OK:
        console.print(Text(f"{record.action}: done", style="green"))
    elif code == EXIT_FAILED:
        console.print(Text(f"{record.action}: failed; the diagnostics above say why.", style="red"))
