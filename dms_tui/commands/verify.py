"""`dms-tui verify`: prove every hop of the PrivateLink path, headless, with the same checks as the Verify screen.

Exit codes: 0 every check passed (ok or warn); 1 a check failed (or was skipped because one failed); 2 there is no
environment to verify (no running sandbox, no terraform outputs).
"""

from __future__ import annotations

import argparse
from typing import Any

from dms_tui import environment as environments
from dms_tui import exit_codes
from dms_tui.commands._common import (
    add_common_options,
    add_outputs_option,
    append_fix,
    print_json,
    report_error,
    stderr_console,
    stdout_console,
)
from dms_tui.environment import open_environment, request_from_args
from dms_tui.errors import StepError

_MARKS = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red"), "skipped": ("–", "dim")}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check every hop: secrets, DNS, TCP, PostgreSQL login, PrivateLink, NLB health, DMS test connection",
        description=(
            "Run the reachability checklist for both sides in parallel and explain each failure. "
            "Exit status 0 only when every check passes."
        ),
    )
    environments.add_environment_options(parser)
    add_common_options(parser)
    add_outputs_option(parser)
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="deadline of each network and API check")
    parser.add_argument(
        "--dms-timeout", type=float, metavar="SECONDS", help="how long to wait for DMS's own test connection"
    )
    parser.set_defaults(func=run)


def result_line(result: Any) -> Any:
    """One settled checklist row (a CheckResult); every value from outside is plain text, never markup."""
    from rich.text import Text

    mark, style = _MARKS[result.status]
    line = Text.assemble(
        (f"{mark} ", style),
        (f"{result.side:12}", "bold"),
        (f"{result.title:46}", ""),
        (f"{result.duration:6.2f}s  ", "dim"),
    )
    line.append(result.detail)
    shown = result.status in ("fail", "warn")
    return append_fix(
        line, style, result.remedy, result.command, remedy_shown=result.status != "ok", command_shown=shown
    )


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.journey import Journey
    from dms_tui.steps.verify import CheckFinished, ChecksPlanned, VerifyDone, options_for, run_verify, summary_line

    try:
        environment = open_environment(request_from_args(args), outputs_file=args.outputs).environment
        journey = Journey.resume_or_start(environment.env, environment.mode)
        options = options_for(environment, timeout=args.timeout, dms_timeout=args.dms_timeout)
        # Rows print as they settle (stderr with --json, so stdout stays one JSON document).
        console = stderr_console() if args.json else stdout_console()
        done: VerifyDone | None = None
        for event in run_verify(environment, journey, options=options):
            if isinstance(event, ChecksPlanned):
                console.print(Text(f"verifying {len(event.checks)} checks on {environment.label}", style="bold"))
            elif isinstance(event, CheckFinished):
                console.print(result_line(event.result))
            elif isinstance(event, VerifyDone):
                done = event
    except StepError as err:
        return report_error(err)
    assert done is not None
    if args.json:
        print_json(done.report.to_json() | {"environment": environment.label})
    console.print(Text(summary_line(done.report), style="green" if done.passed else "red"))
    return exit_codes.OK if done.passed else exit_codes.FAILED
