"""`dms-tui preflight [--json]`: check the account before the first plan, with the same step as the Review screen.

Exit codes: 0 nothing blocks the apply (warnings and notes may remain); 1 a finding blocks it (its line says what
fails later and what to change now); 2 the preflight could not run (no identity, an invalid configuration).
"""

from __future__ import annotations

import argparse
from typing import Any

from dms_tui import exit_codes
from dms_tui.commands._common import (
    add_common_options,
    append_fix,
    print_json,
    report_error,
    stderr_console,
    stdout_console,
)
from dms_tui.environment import add_environment_options, open_environment, request_from_args
from dms_tui.errors import StepError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "preflight",
        help="check the account before the first plan: quotas, orderable classes, DMS roles, permissions, cost",
        description=(
            "Ask the account what the configuration needs before a 15-20 minute apply: VPC and interface endpoint "
            "quotas, the Aurora and DMS instance classes orderable in the chosen zones, the account-wide DMS roles, "
            "iam simulate-principal-policy for every action the bundle performs, and the rough hourly cost. "
            "Exit status 0 when nothing blocks, 1 when a finding blocks, 2 when it could not run."
        ),
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


def finding_line(finding: Any) -> Any:
    """One finding (a steps.preflight.Finding) as rich Text: outside values are plain text, never markup."""
    from rich.text import Text

    from dms_tui.steps.preflight import SEVERITY_MARKS

    mark, style = SEVERITY_MARKS[finding.severity]
    line = Text.assemble((f"{mark} ", style), (finding.title, "bold" if finding.blocks else ""))
    line.append("\n    " + finding.detail, style="dim" if finding.severity in ("ok", "skipped") else "")
    shown = finding.severity in ("blocks", "warn")
    return append_fix(
        line, style, finding.remedy, finding.command, remedy_shown=finding.severity != "ok", command_shown=shown
    )


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.journey import Journey
    from dms_tui.steps.preflight import FindingMade, PreflightDone, PreflightStarted, run_preflight

    console = stderr_console() if args.json else stdout_console()
    done: PreflightDone | None = None
    try:
        environment = open_environment(request_from_args(args)).environment
        journey = Journey.resume_or_start(environment.env, environment.mode)
        if journey.config_error is not None:
            raise StepError(
                f"{journey.config_path} is not a valid configuration.",
                str(journey.config_error),
                f"Fix it (`dms-tui config check {journey.config_path}`), then run the preflight again.",
                exit_code=exit_codes.NOT_RUN,
            )
        for event in run_preflight(environment, journey.config):
            if isinstance(event, PreflightStarted):
                console.print(Text(f"preflight of {environment.label} as {event.principal}", style="bold"))
            elif isinstance(event, FindingMade):
                console.print(finding_line(event.finding))
            elif isinstance(event, PreflightDone):
                done = event
    except StepError as err:
        return report_error(err)
    assert done is not None
    if args.json:
        print_json(done.to_json() | {"environment": environment.label})
    console.print(Text(done.summary, style="red" if done.blocked else "green"))
    return done.exit_code
