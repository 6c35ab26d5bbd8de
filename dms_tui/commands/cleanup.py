"""`dms-tui cleanup [--yes]`: delete the DMS tasks, terraform destroy, and stop what runs locally (the sandbox).

Exit codes: 0 everything removed; 1 something could not be removed (its line says how to finish by hand); 2 nothing
was run (not confirmed, or the environment cannot be reached).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, report_error, stderr_console, stdout_console
from dms_tui.environment import add_environment_options, open_environment, request_from_args
from dms_tui.errors import StepError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("cleanup", help="remove everything this environment created")
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def render_plan(plan: Any) -> Any:
    """The plan (a CleanupPlan) as a rich table; outside values are plain text."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Will be removed", show_lines=False)
    table.add_column("what")
    table.add_column("≈ USD/h", justify="right")
    for item in plan.items:
        cost = "—" if item.hourly_usd is None else f"{item.hourly_usd:.2f}"
        table.add_row(Text(item.what), cost)
    table.caption = f"keeping it all costs roughly ${plan.rough_hourly_usd:.2f}/h (rough on-demand list prices)"
    return table


def run(args: argparse.Namespace) -> int:
    if not args.yes and not sys.stdin.isatty():
        # Asked before anything is looked up: without a terminal nobody can answer.
        return report_error(
            StepError(
                "Nothing was removed.",
                "Cleanup removes everything and cannot be undone, so it asks first, and there is no terminal to ask.",
                "Pass --yes to confirm.",
                exit_code=exit_codes.NOT_RUN,
            )
        )
    from rich.text import Text

    from dms_tui.commands.provision import gone_resources_text, service_roles_kept_text
    from dms_tui.journey import Journey
    from dms_tui.provision.events import ApplyComplete
    from dms_tui.steps.cleanup import (
        CleanupDone,
        CleanupStepFinished,
        CleanupStepStarted,
        CleanupTerraformEvent,
        plan_cleanup,
        run_cleanup,
    )
    from dms_tui.steps.provision import GoneResourcesForgotten, ServiceRolesKept

    out, err = stdout_console(), stderr_console()
    progress = err if args.json else out
    try:
        environment = open_environment(request_from_args(args)).environment
        journey = Journey.resume_or_start(environment.env, environment.mode)
        plan = plan_cleanup(environment, journey)
        progress.print(render_plan(plan))
        if not args.yes and input("Remove all of this? [y/N] ").strip().lower() not in ("y", "yes"):
            err.print("Nothing removed.")
            return exit_codes.NOT_RUN
        done: CleanupDone | None = None
        for event in run_cleanup(environment, journey, plan):
            if isinstance(event, CleanupStepStarted):
                progress.print(Text(f"… {event.what}", style="bold"))
            elif isinstance(event, CleanupTerraformEvent) and isinstance(event.event, ApplyComplete):
                progress.print(Text(f"  ✓ {event.event.address}", style="green"))
            elif isinstance(event, CleanupTerraformEvent) and isinstance(event.event, ServiceRolesKept):
                progress.print(Text("  " + service_roles_kept_text(event.event), style="yellow"))
            elif isinstance(event, CleanupTerraformEvent) and isinstance(event.event, GoneResourcesForgotten):
                progress.print(Text("  " + gone_resources_text(event.event), style="yellow"))
            elif isinstance(event, CleanupStepFinished):
                mark, style = ("✓", "green") if event.ok else ("✗", "red")
                progress.print(Text(f"{mark} {event.key}: {event.message}", style=style))
                if event.manual_command:
                    progress.print(Text(f"  finish by hand: {event.manual_command}"))
            elif isinstance(event, CleanupDone):
                done = event
    except StepError as error:
        return report_error(error)
    assert done is not None
    if args.json:
        print_json(done.to_json())
    return exit_codes.OK if done.ok else exit_codes.FAILED
