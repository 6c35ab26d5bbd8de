"""Helpers shared by the headless subcommands: global options and rich consoles."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console


def add_common_options(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """--sandbox, --env and --json, accepted after the subcommand as well as before it."""
    parser.add_argument("--sandbox", action="store_true", default=argparse.SUPPRESS, help="use the embedded sandbox")
    parser.add_argument("--env", default=argparse.SUPPRESS, help="environment name (default: dev)")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
