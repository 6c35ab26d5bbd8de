"""Command-line entry: `dms-tui` starts the wizard; subcommands run each step headless and print with rich.

Each headless step lives in its own module under dms_tui/commands/ and exposes ``register(subparsers)``; this
module only discovers them, so adding a step never means editing a central list.

Start-up is part of the interface: `dms-tui --version` and `--help` build the whole parser, so this module and every
command module import only the standard library and light dms_tui modules at their top (tests/test_startup.py checks
that boto3, botocore, psycopg and textual stay out); the UI, rich and the step modules are imported when used.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from dms_tui import __version__, commands, exit_codes
from dms_tui.environment import add_environment_options
from dms_tui.errors import StepError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dms-tui",
        description=(
            "Provision, verify, run and prove an on-premises PostgreSQL to Aurora PostgreSQL migration through "
            "AWS PrivateLink with AWS DMS. Without a subcommand, starts the wizard."
        ),
        epilog=(
            f"exit codes: {exit_codes.OK} done, {exit_codes.FAILED} the step failed (or found differences), "
            f"{exit_codes.NOT_RUN} nothing ran (bad input, nothing to run against), "
            f"{exit_codes.INTERRUPTED} interrupted"
        ),
    )
    parser.add_argument("--version", action="version", version=f"dms-tui {__version__}")
    add_environment_options(parser)
    parser.add_argument(
        "--present",
        action="store_true",
        help="start the wizard in presenter mode: a narration per step for a customer, finished steps move on by "
        "themselves (p pauses); also in the command palette",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:

        def wizard() -> int:
            from dms_tui.app import run_wizard  # the UI is imported only when the wizard is asked for
            from dms_tui.environment import request_from_args

            return run_wizard(request_from_args(args))

        return _run("the wizard", wizard)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return exit_codes.NOT_RUN
    return _run(f"dms-tui {args.command}", lambda: int(func(args)))


def _run(context: str, job: Callable[[], int]) -> int:
    """Run ``job``: a StepError is printed as what / why / → next; anything else is a bug, logged with its traceback."""
    try:
        return job()
    except StepError as err:
        from dms_tui.commands._common import report_error

        return report_error(err)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last resort: a person gets the log's path, not a traceback
        from dms_tui.applog import log_exception

        try:
            where = f"the traceback is in {log_exception(context, exc)}"
        except OSError as log_error:  # the state directory itself is unusable: say so rather than hide both
            where = f"the log could not be written either ({log_error})"
        print(f"{context} failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"{where}; please report it", file=sys.stderr)
        return exit_codes.FAILED


if __name__ == "__main__":
    raise SystemExit(main())
