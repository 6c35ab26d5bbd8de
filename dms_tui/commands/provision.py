"""`dms-tui provision plan|apply|destroy|attach|cancel`: the provision step, headless, rendered with rich or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, report_error, stderr_console
from dms_tui.environment import Environment, add_environment_options, open_environment, request_from_args
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text

    from dms_tui.journey import Journey
    from dms_tui.provision.detached import RunRecord
    from dms_tui.provision.events import Diagnostic
    from dms_tui.provision.progress import ProvisionProgress
    from dms_tui.steps.provision import PlanReview, ProvisionEvent, ProvisionJob

DESCRIPTION = """\
  plan      terraform init + plan, saved as tfplan in the environment's working copy; prints what it would do
  apply     plan, confirm (or --yes), then apply exactly that plan; reads and records the outputs
  destroy   confirm (or --yes), then terraform destroy
  attach    follow the environment's running (or last) apply/destroy from the start of its log, to its end
  cancel    stop that run gracefully (SIGINT to terraform, as Ctrl+C in its own terminal), following it to its end

apply and destroy run terraform detached: under a supervisor in its own session, so a dropped Session Manager
connection (or this command being killed) does not stop it; this command follows its log. Ctrl+C stops FOLLOWING,
not terraform: it prints how to re-attach (`dms-tui provision attach`) and exits 130 while terraform goes on;
`dms-tui provision cancel` stops terraform itself. plan runs in the foreground, where Ctrl+C stops it gracefully.
A saved plan terraform calls stale (the state changed after it was made) is planned again and applied once.

Exit codes: 0 done; 1 terraform failed or was cancelled (its diagnostics are printed); 2 nothing ran (not
confirmed, no terraform, no sandbox, nothing to attach to); 130 Ctrl+C (an apply/destroy goes on).
"""

ACTIONS = {
    "plan": "show what terraform would create, change or destroy (saved as tfplan)",
    "apply": "create or update the architecture, detached (15-20 minutes on AWS)",
    "destroy": "delete everything the bundle created, detached",
    "attach": "follow the environment's running (or last) terraform apply/destroy",
    "cancel": "stop the environment's running terraform apply/destroy gracefully",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "provision",
        help="plan, apply or destroy the bundled Terraform; attach to or cancel a detached run",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="provision_action", metavar="ACTION", required=True)
    for name, help_text in ACTIONS.items():
        action = actions.add_parser(
            name, help=help_text, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        add_environment_options(action)
        add_common_options(action)
        if name in ("apply", "destroy"):
            action.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        action.add_argument(
            "--workdir",
            type=Path,
            help="run in this terraform root module instead of the environment's working copy of the bundle",
        )
        action.add_argument("--terraform", help="terraform executable (default: $DMS_TUI_TERRAFORM, then PATH)")
        action.set_defaults(func=run_provision, provision_action=name)


class Following:
    """What the command has watched so far: the jobs (for --json and the summary) and the detached run, if any."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.jobs: list[ProvisionJob] = []
        self.record: RunRecord | None = None  # the detached run being followed
        self.not_confirmed = False

    @property
    def last(self) -> ProvisionJob | None:
        return self.jobs[-1] if self.jobs else None

    def document(self, exit_code: int, error: str | None = None, interrupted: bool = False) -> dict[str, Any]:
        from dms_tui.provision.progress import ProvisionProgress

        last = self.last
        p = last.progress if last is not None else ProvisionProgress()
        summary = p.final_summary or p.plan_summary
        document: dict[str, Any] = {
            "action": self.action,
            "exit_code": exit_code,
            "ok": exit_code == exit_codes.OK,
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
            "commands": [
                {"command": c.command, "exit_code": c.exit_code, "log": c.log}
                for job in self.jobs
                for c in job.commands
            ],
            # Only non-sensitive values: terraform's sensitive outputs are dropped before they get here.
            "outputs": last.public_outputs if last is not None else None,
        }
        if self.record is not None:
            document["run"] = {
                "label": self.record.label,
                "pid": self.record.pid,
                "log": self.record.log_path,
                "running": interrupted and self.record.finished() is None and self.record.alive(),
            }
        if interrupted:
            document["interrupted"] = True
        if error:
            document["error"] = error
        return document


def _diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity,
        "summary": d.summary,
        "detail": d.detail,
        "address": d.address,
        "location": d.location,
        "code": d.snippet.code if d.snippet else "",
    }


# -- rendering with rich -------------------------------------------------------------------------------------------------

_LINE_STYLE = {"error": "bold red", "warning": "bold yellow", "where": "dim", "code": "cyan", "detail": ""}


def diagnostic_text(diagnostic: Diagnostic) -> Text:
    """The step's diagnostic lines as rich Text (terraform's text is never parsed as markup)."""
    from rich.text import Text

    from dms_tui.steps.provision import diagnostic_lines

    return Text("\n").join(Text(line.text, style=_LINE_STYLE[line.kind]) for line in diagnostic_lines(diagnostic))


class ProgressRenderer:
    """Renders the step's events on stderr: a bar over resources and one line per finished resource."""

    def __init__(self, console: Console, environment: Environment) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.environment = environment
        self._bar: Progress = Progress(
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

    def render(self, event: ProvisionEvent, progress: ProvisionProgress) -> None:
        import time

        from rich.text import Text

        from dms_tui.provision import events as tf
        from dms_tui.provision.progress import format_elapsed
        from dms_tui.steps import provision as step

        say = self.console.print
        if isinstance(event, tf.CommandStarted):
            say(Text("$ " + event.command_line, style="dim"))
            self._task = None
        elif isinstance(event, tf.ApplyStart) and self._task is None:
            self._task = self._bar.add_task("resources", total=max(progress.planned, 1))
        elif isinstance(event, tf.ApplyComplete):
            resource = progress.resources.get(event.address)
            took = format_elapsed(resource.elapsed() if resource else event.elapsed)
            say(Text.assemble(("✓ ", "green"), event.address, (f"  {_past(event.action)} in {took}", "dim")))
        elif isinstance(event, tf.ApplyErrored):
            say(Text.assemble(("✗ ", "red"), event.address, ("  failed", "red")))
        elif isinstance(event, tf.Diagnostic):
            say(diagnostic_text(event))
        elif isinstance(event, step.RunStarted):
            say(
                Text(
                    f"terraform {event.record.label} runs detached (pid {event.record.pid}); log {event.record.log_path}\n"
                    f"Ctrl+C stops following, not terraform. Re-attach: {event.attach_command}",
                    style="dim",
                )
            )
        elif isinstance(event, step.RunAttached):
            state = "running" if event.running else "ended"
            say(Text(f"Following terraform {event.record.label} ({state}), from the start of its log…", style="dim"))
        elif isinstance(event, step.PlanStale):
            say(Text(event.reason, style="yellow"))
        elif isinstance(event, step.ServiceRolesDecided):
            say(Text(f"DMS service roles: {event.reason} (create_dms_service_roles = {str(event.create).lower()})"))
        elif isinstance(event, step.ServiceRolesKept):
            say(Text(service_roles_kept_text(event), style="yellow"))
        elif isinstance(event, step.GoneResourcesForgotten):
            say(Text(gone_resources_text(event), style="yellow"))
        elif isinstance(event, step.ReadingOutputs):
            say(Text("Reading the outputs (terraform output -json)…", style="dim"))
        elif isinstance(event, step.ProvisionedWithoutTerraform):
            say(Text(f"{event.reason}\nThe sandbox created the objects later steps need itself.", style="yellow"))
        elif isinstance(event, step.RunFailed):
            say(Text(event.headline, style="red"))
            for address in event.failed_resources:
                say(Text(f"  failed: {address}", style="red"))
        if self._task is not None:
            running = progress.running
            description = f"{running[0].address} {running[0].describe(time.time())}" if running else "resources"
            self._bar.update(
                self._task, total=max(progress.planned, 1), completed=progress.done, description=description
            )


def service_roles_kept_text(event: Any) -> str:
    return (
        "Kept the account-wide DMS roles (out of this environment's state, so destroy leaves them for the other "
        f"environments of the account; they cost nothing). To delete them by hand: {event.manual_command}"
    )


def gone_resources_text(event: Any) -> str:
    where = ", ".join(event.addresses) or "(no address given)"
    return f"Already gone, removed from the state and counted as destroyed: {where}; destroying the rest again."


def _past(action: str) -> str:
    return {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}.get(action, action)


def _print_review(console: Console, review: PlanReview) -> None:
    from rich.text import Text

    console.print(Text(f"plan: {review.summary}"))
    for module, resources in review.by_module.items():
        console.print(Text(module, style="bold"))
        for address, action in resources:
            console.print(Text(f"  {action:<8} {address}"))


def _print_summary(console: Console, following: Following, code: int) -> None:
    from rich.text import Text

    last = following.last
    if last is None:
        return
    p = last.progress
    if p.final_summary is not None:
        s = p.final_summary
        console.print(Text(f"{s.operation}: {s.add} added, {s.change} changed, {s.remove} destroyed"))
    if following.action == "plan" and last.review is not None:
        _print_review(console, last.review)
    if last.public_outputs:
        console.print(Text("Outputs (secret ARNs only, never values):", style="bold"))
        for name, value in last.public_outputs.items():
            console.print(Text(f"  {name} = {json.dumps(value)}"))
    commands = [c for job in following.jobs for c in job.commands]
    if commands:
        console.print(Text(f"log: {commands[-1].log}", style="dim"))
    if code == exit_codes.OK:
        console.print(Text(f"{following.action}: done", style="green"))
    elif code == exit_codes.FAILED:
        console.print(Text(f"{following.action}: failed; the diagnostics above say why.", style="red"))


# -- running ---------------------------------------------------------------------------------------------------------------


def _confirm(console: Console, action: str, review: PlanReview | None, assume_yes: bool, flags: list[str]) -> bool:
    from rich.text import Text

    if assume_yes:
        return True
    if not sys.stdin.isatty():
        line = " ".join(["dms-tui", "provision", action, *flags, "--yes"])
        console.print(Text(f"Not confirmed: run `{line}` to {action} without a prompt."))
        return False
    what = "destroy every resource of this environment" if action == "destroy" else "apply this plan"
    if review is not None:
        what += f" ({review.summary})"
    answer = console.input(f"{what.capitalize()}? Type 'yes' to continue: ")
    return answer.strip().lower() == "yes"


async def _drive(job: ProvisionJob, following: Following, renderer: ProgressRenderer | None) -> bool:
    from dms_tui.steps.provision import RunAttached, RunStarted

    following.jobs.append(job)
    async for event in job:
        if isinstance(event, RunStarted | RunAttached):
            following.record = event.record
        if renderer is not None:
            renderer.render(event, job.progress)
    return job.ok


async def _run_action(
    args: argparse.Namespace,
    environment: Environment,
    journey: Journey,
    following: Following,
    renderer: ProgressRenderer | None,
    console: Console,
) -> int:
    from dms_tui.steps import provision as step

    action = following.action
    where: dict[str, Any] = {"root_module": args.workdir, "terraform": args.terraform}
    if action == "plan":
        return exit_codes.OK if await _drive(step.plan(environment, journey, **where), following, renderer) else 1
    if action == "apply":
        planned = step.plan(environment, journey, **where)
        if not await _drive(planned, following, renderer):
            return exit_codes.FAILED
        assert planned.review is not None
        if renderer is not None:
            _print_review(console, planned.review)
        if not _confirm(console, action, planned.review, bool(args.yes), environment.cli_flags()):
            following.not_confirmed = True
            return exit_codes.NOT_RUN
        job = step.apply(environment, journey, site=planned.site, plan_if_missing=False)
    elif action == "destroy":
        if not _confirm(console, action, None, bool(args.yes), environment.cli_flags()):
            following.not_confirmed = True
            return exit_codes.NOT_RUN
        job = step.destroy(environment, journey, **where)
    else:
        record = step.last_run(environment.env)
        if record is None:
            raise StepError(
                f"No terraform run is recorded for environment {environment.env}.",
                "Nothing was applied or destroyed detached here, or its end was already seen.",
                f"Start one with `{step.dms_tui_command_line(environment, 'apply')}`.",
                exit_code=exit_codes.NOT_RUN,
            )
        make = step.cancel if action == "cancel" else step.attach
        job = make(environment, journey, record, **where)
    return exit_codes.OK if await _drive(job, following, renderer) else exit_codes.FAILED


def run_provision(args: argparse.Namespace) -> int:
    import asyncio

    from dms_tui.journey import Journey

    following = Following(args.provision_action)
    as_json = bool(getattr(args, "json", False))
    console = stderr_console()
    request = request_from_args(args)
    try:
        environment = open_environment(request).environment
        journey = Journey.resume_or_start(request.env, request.mode)
        if as_json:
            code = asyncio.run(_run_action(args, environment, journey, following, None, console))
        else:
            with ProgressRenderer(console, environment) as renderer:
                code = asyncio.run(_run_action(args, environment, journey, following, renderer, console))
    except StepError as err:
        if as_json:
            print_json(following.document(err.exit_code, error=str(err)))
        return report_error(err)
    except KeyboardInterrupt:
        return _interrupted(console, following, as_json)
    if as_json:
        print_json(following.document(code))
    else:
        _print_summary(console, following, code)
    return code


def _interrupted(console: Console, following: Following, as_json: bool) -> int:
    """Ctrl+C: a detached run goes on (say how to re-attach or stop it); a foreground plan was stopped."""
    from rich.text import Text

    from dms_tui.steps.provision import dms_tui_command_line

    record = following.record
    last = following.last
    environment = last.environment if last is not None else None
    if as_json:
        print_json(following.document(exit_codes.INTERRUPTED, interrupted=True))
    if record is not None and environment is not None and record.finished() is None and record.alive():
        console.print(
            Text.assemble(
                (
                    f"Stopped following. terraform {record.label} goes on in the background (pid {record.pid}).\n",
                    "yellow",
                ),
                f"Re-attach: {dms_tui_command_line(environment, 'attach')}\n",
                f"Stop it gracefully: {dms_tui_command_line(environment, 'cancel')}\n",
                (f"log: {record.log_path}", "dim"),
            )
        )
    else:
        console.print(Text("Interrupted: terraform was stopped gracefully; its state is consistent.", style="yellow"))
    return exit_codes.INTERRUPTED
