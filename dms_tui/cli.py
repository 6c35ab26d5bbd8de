"""Command-line entry: `dms-tui` starts the wizard; subcommands run each step headless and print with rich.

Each headless step lives in its own module under dms_tui/commands/ and exposes ``register(subparsers)``; this
module only discovers them, so adding a step never means editing a central list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from dms_tui import __version__, commands
from dms_tui.environment import add_environment_options

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dms-tui",
        description=(
            "Provision, verify, run and prove an on-premises PostgreSQL to Aurora PostgreSQL migration through "
            "AWS PrivateLink with AWS DMS. Without a subcommand, starts the wizard."
        ),
    )
    parser.add_argument("--version", action="version", version=f"dms-tui {__version__}")
    add_environment_options(parser)
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
        from dms_tui.app import run_wizard  # the UI is imported only when the wizard is asked for
        from dms_tui.environment import request_from_args

        return run_wizard(request_from_args(args))
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
