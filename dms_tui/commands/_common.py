"""Helpers shared by the headless subcommands: global options, rich consoles, JSON output, errors.

Light on purpose: `dms-tui --help` imports every command module to build its parser, so nothing here imports rich
(or anything else heavy) at module level; the consoles are built on first use, inside a command's run function.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dms_tui.errors import StepError

if TYPE_CHECKING:
    from rich.console import Console


def add_common_options(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """--sandbox, --env and --json, accepted after the subcommand as well as before it.

    An option the parser already has (say, from :func:`dms_tui.environment.add_environment_options` called first)
    is left as it is, so the two helpers can be combined in that order.
    """
    have = set(parser._option_string_actions)
    if "--sandbox" not in have:
        parser.add_argument(
            "--sandbox", action="store_true", default=argparse.SUPPRESS, help="use the embedded sandbox"
        )
    if "--env" not in have:
        parser.add_argument("--env", default=argparse.SUPPRESS, help="environment name (default: dev)")
    if json_flag and "--json" not in have:
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def stdout_console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def report_error(err: StepError) -> int:
    """Print ``err`` on stderr as what / why / → next (plain text: it quotes outside values); return its exit code."""
    from rich.text import Text

    text = Text(err.what, style="bold red")
    if err.why:
        text.append("\n" + err.why)
    if err.next_step:
        text.append("\n→ " + err.next_step, style="bold")
    stderr_console().print(text, soft_wrap=True)
    return err.exit_code


def append_fix(
    line: Any, style: str, remedy: str | None, command: str | None, *, remedy_shown: bool, command_shown: bool
) -> Any:
    """The tail every checklist line shares (verify's checks, preflight's findings): "→ what to do", then the
    equivalent command, each on its own indented line. ``line`` is a rich Text; outside values stay plain text."""
    if remedy and remedy_shown:
        line.append("\n    → ", style=style)
        line.append(remedy)
    if command and command_shown:
        line.append("\n    $ ", style="dim")
        line.append(command, style="dim")
    return line


def add_outputs_option(parser: argparse.ArgumentParser, *, used_for: str = "") -> None:
    """``--outputs FILE``: the environment's `terraform output -json` instead of what provisioning recorded (one
    definition for every command that reads the environment's outputs)."""
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help=f"`terraform output -json` document{used_for} (AWS mode; default: the outputs the wizard recorded)",
    )
