"""`dms-tui reset [--env NAME] [--force] [--yes]`: forget the journey's progress (the configuration is kept).

Only after cleanup, or with --force: what still exists or runs (provisioned outputs, terraform state, a terraform run
alive, a running sandbox) is listed, and without --force nothing is reset. The wizard's Welcome offers the same as
"Start over".

Exit codes: 0 reset (or nothing to reset); 2 nothing was reset (something still runs without --force, or not
confirmed).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, report_error, stderr_console, stdout_console
from dms_tui.environment import add_environment_options, open_environment, request_from_args
from dms_tui.errors import StepError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "reset", help="start the journey over (after cleanup, or --force); the configuration is kept"
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument("--force", action="store_true", help="reset even though the environment still exists or runs")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.journey import Journey
    from dms_tui.steps.resume import what_still_runs

    request = request_from_args(args)
    out, err = stdout_console(), stderr_console()
    journey = Journey.resume_or_start(request.env, request.mode)
    environment = None
    if request.sandbox:
        try:  # running (not started here): its local pieces are part of what still runs
            environment = open_environment(request).environment
        except StepError:
            environment = None
    still = what_still_runs(journey, environment)
    flags = request.cli_flags()
    if still and not args.force:
        cleanup = shlex.join(["dms-tui", "cleanup", *flags, "--yes"])
        return report_error(
            StepError(
                f"The journey of {request.env} was not reset.",
                "Still there: " + "; ".join(still) + ".",
                f"Clean up first (`{cleanup}`), or pass --force to forget the journey and keep all of it.",
                exit_code=exit_codes.NOT_RUN,
            )
        )
    nothing = not journey.state.done and journey.state.setback is None and journey.state.task is None
    if nothing:
        message = f"Nothing to reset: the journey of {request.env} has not started (next start: Configure)."
        if args.json:
            print_json({"reset": False, "env": request.env, "still_running": still, "message": message})
        else:
            out.print(Text(message))
        return exit_codes.OK
    if not args.yes:
        if not sys.stdin.isatty():
            return report_error(
                StepError(
                    "Nothing was reset.",
                    "Reset forgets the journey's progress, so it asks first, and there is no terminal to ask.",
                    "Pass --yes to confirm.",
                    exit_code=exit_codes.NOT_RUN,
                )
            )
        question = f"Forget the journey of {request.env} (at {journey.state.current.title})? [y/N] "
        if input(question).strip().lower() not in ("y", "yes"):
            err.print("Nothing reset.")
            return exit_codes.NOT_RUN
    was_at = journey.state.current
    journey.reset()
    message = (
        f"The journey of {request.env} starts over at Configure (it was at {was_at.title}); "
        f"the configuration {journey.config_path} is kept."
    )
    if args.json:
        print_json({"reset": True, "env": request.env, "was_at": was_at.value, "still_running": still})
    else:
        out.print(Text(message, style="green"))
        for item in still:
            out.print(Text(f"  still there (--force kept it): {item}", style="yellow"))
    return exit_codes.OK
