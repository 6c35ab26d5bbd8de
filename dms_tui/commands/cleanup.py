"""`dms-tui cleanup [--sandbox] [--yes]`: delete the DMS task, terraform destroy, and (sandbox) stop the local pieces."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.table import Table
from rich.text import Text

from dms_tui.cleanup import (
    CleanupPlan,
    CleanupStepFinished,
    CleanupStepStarted,
    CleanupTerraformEvent,
    plan_cleanup,
    run_cleanup,
)
from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.environment import Environment, aws_environment
from dms_tui.journey import Journey
from dms_tui.provision.events import ApplyComplete


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("cleanup", help="remove everything this environment created")
    add_common_options(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def render_plan(plan: CleanupPlan) -> Table:
    table = Table(title="Will be removed", show_lines=False)
    table.add_column("what")
    table.add_column("≈ USD/h", justify="right")
    for item in plan.items:
        cost = "—" if item.hourly_usd is None else f"{item.hourly_usd:.2f}"
        table.add_row(Text(item.what), cost)
    table.caption = f"keeping it all costs roughly ${plan.rough_hourly_usd:.2f}/h (rough on-demand list prices)"
    return table


def _target(journey: Journey) -> Environment:
    if journey.mode == "sandbox":
        from dms_tui.sandbox.environment import running_sandbox

        return running_sandbox()[0]
    return aws_environment(journey.config.aws_region, env=journey.env)


def run(args: argparse.Namespace) -> int:
    sandbox = bool(getattr(args, "sandbox", False))
    journey = Journey.resume_or_start(getattr(args, "env", "dev"), "sandbox" if sandbox else "aws")
    out, err = stdout_console(), stderr_console()
    plan = plan_cleanup(journey)
    if not args.json:
        out.print(render_plan(plan))
    if not args.yes:
        if not sys.stdin.isatty():
            err.print("Refusing to remove anything without confirmation: pass --yes.")
            return 2
        if input("Remove all of this? [y/N] ").strip().lower() not in ("y", "yes"):
            err.print("Nothing removed.")
            return 1
    try:
        target = _target(journey)
    except Exception as exc:  # no sandbox running: nothing to reach
        err.print(Text(f"Cannot reach the environment: {exc}"))
        return 2
    results: list[CleanupStepFinished] = []

    async def drive() -> None:
        async for event in run_cleanup(journey, target, plan):
            if isinstance(event, CleanupStepStarted) and not args.json:
                out.print(Text(f"… {event.what}", style="bold"))
            elif isinstance(event, CleanupTerraformEvent) and not args.json:
                if isinstance(event.event, ApplyComplete):
                    out.print(Text(f"  ✓ {event.event.address}", style="green"))
            elif isinstance(event, CleanupStepFinished):
                results.append(event)
                if not args.json:
                    mark, style = ("✓", "green") if event.ok else ("✗", "red")
                    out.print(Text(f"{mark} {event.key}: {event.message}", style=style))
                    if event.manual_command:
                        out.print(Text(f"  finish by hand: {event.manual_command}"))

    asyncio.run(drive())
    ok = all(r.ok for r in results)
    if ok:
        journey.reset()
    if args.json:
        print_json({"ok": ok, "steps": [r.__dict__ for r in results]})
    return 0 if ok else 1
