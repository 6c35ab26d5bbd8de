"""`dms-tui report --html FILE`: the hand-over report of an environment's journey, as one self-contained page.

It reads what the journey recorded (the checkpoint, the provisioning outputs, the steps' evidence) and asks no API,
so it works with the sandbox stopped or the AWS session expired; the page holds resource ids, timings and counts,
never a password. Exit codes: 0 written; 2 nothing written (no journey recorded, or FILE cannot be written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dms_tui import exit_codes
from dms_tui.commands._common import report_error
from dms_tui.environment import add_environment_options, request_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the hand-over report (one self-contained HTML page)",
        description=(
            "Write one HTML page to hand over: the architecture with the real resource ids, the verify checklist "
            "with each check's time, the DMS task's statistics, the diff's verdict per table, the cutover's "
            "timings when there was one, and the commands that were run. Inline CSS, nothing fetched, no secret."
        ),
    )
    parser.add_argument("--html", type=Path, required=True, metavar="FILE", help="where to write the page")
    add_environment_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dms_tui.errors import StepError
    from dms_tui.journey import checkpoint_path, load_checkpoint
    from dms_tui.report import write_report

    # The recorded journey, not open_environment(): the report asks no API, so it needs neither a running sandbox
    # nor AWS credentials (it is often written after the sandbox is down).
    request = request_from_args(args)
    state = load_checkpoint(request.env, request.mode)
    if state is None:
        return report_error(
            StepError(
                f"No journey is recorded for {request.env} ({'sandbox' if request.sandbox else 'AWS'}).",
                f"{checkpoint_path(request.env, request.mode)} does not exist or cannot be read.",
                "Run the journey first (the wizard, or the headless steps), with the same --env"
                + (" and --sandbox." if request.sandbox else "; add --sandbox for the sandbox's journey."),
                exit_code=exit_codes.NOT_RUN,
            )
        )
    target: Path = args.html
    if target.is_dir():
        return report_error(
            StepError(
                f"{target} is a folder.", "", "Give a file name, e.g. --html report.html.", exit_code=exit_codes.NOT_RUN
            )
        )
    try:
        written = write_report(state, None, target)
    except OSError as exc:
        return report_error(
            StepError(
                f"Cannot write {target}.",
                exc.strerror or str(exc),
                "Give a file in a folder that exists and that you can write to.",
                exit_code=exit_codes.NOT_RUN,
            )
        )
    print(f"wrote {written}")
    return exit_codes.OK
