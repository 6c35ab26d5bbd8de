"""`dms-tui verify`: prove every hop of the PrivateLink path, headless, with the same checks as the Verify screen.

Exit codes: 0 every check passed (ok or warn); 1 a check failed (or was skipped because one failed); 3 there is no
environment to verify (no running sandbox, no terraform outputs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.text import Text

from dms_tui.checks.plan import VerifyOptions, verify
from dms_tui.checks.result import CheckEvent, CheckFinished, CheckResult, ChecksPlanned
from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.environment import Environment, aws_environment
from dms_tui.provision.outputs import EnvironmentOutputs, OutputsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_ENVIRONMENT = 3

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
    add_common_options(parser)
    add_environment_options(parser)
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="deadline of each network and API check")
    parser.add_argument(
        "--dms-timeout", type=float, metavar="SECONDS", help="how long to wait for DMS's own test connection"
    )
    parser.set_defaults(func=run)


def add_environment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="`terraform output -json` of the environment (default: what the wizard recorded)",
    )


def resolve_environment(args: argparse.Namespace) -> tuple[Environment, EnvironmentOutputs]:
    """Where to run: the running sandbox, or AWS with outputs from --outputs or the wizard's checkpoint.

    Raises SandboxError / OutputsError / OSError / ValueError with a message that says what to do.
    """
    env = getattr(args, "env", "dev")
    if getattr(args, "sandbox", False):
        from dms_tui.sandbox.environment import running_sandbox

        return running_sandbox()
    outputs_file: Path | None = getattr(args, "outputs", None)
    if outputs_file is not None:
        outputs = EnvironmentOutputs.from_terraform(json.loads(outputs_file.read_text()))
    else:
        from dms_tui.journey import load_checkpoint

        state = load_checkpoint(env, "aws")
        if state is None or not state.outputs:
            raise OutputsError(
                f"no terraform outputs are recorded for environment {env}; provision it first "
                "(dms-tui provision apply), or pass --outputs FILE (from `terraform output -json`), or use --sandbox"
            )
        outputs = EnvironmentOutputs.from_json(state.outputs)
    return aws_environment(outputs.region, env=env), outputs


def result_line(result: CheckResult) -> Text:
    """One settled checklist row; every value from outside is plain text, never markup."""
    mark, style = _MARKS[result.status]
    line = Text.assemble(
        (f"{mark} ", style),
        (f"{result.side:12}", "bold"),
        (f"{result.title:46}", ""),
        (f"{result.duration:6.2f}s  ", "dim"),
    )
    line.append(result.detail)
    if result.remedy and result.status != "ok":
        line.append("\n    → ", style=style)
        line.append(result.remedy)
    if result.command and result.status in ("fail", "warn"):
        line.append("\n    $ ", style="dim")
        line.append(result.command, style="dim")
    return line


def run(args: argparse.Namespace) -> int:
    err = stderr_console()
    try:
        target, outputs = resolve_environment(args)
    except Exception as exc:  # SandboxError, OutputsError, an unreadable --outputs file: nothing to verify
        err.print(Text(f"verify: {exc}", style="red"))
        return EXIT_NO_ENVIRONMENT
    defaults = VerifyOptions.for_target(target)
    options = VerifyOptions(
        api_timeout=args.timeout or defaults.api_timeout,
        network_timeout=args.timeout or defaults.network_timeout,
        dms_timeout=args.dms_timeout or defaults.dms_timeout,
        dms_poll_interval=defaults.dms_poll_interval,
    )
    # Rows print as they settle (stderr with --json, so stdout stays one JSON document).
    console = err if args.json else stdout_console()

    def on_event(event: CheckEvent) -> None:
        if isinstance(event, ChecksPlanned):
            console.print(Text(f"verifying {len(event.checks)} checks on {target.label}", style="bold"))
        elif isinstance(event, CheckFinished):
            console.print(result_line(event.result))

    report = verify(target, outputs, options=options, on_event=on_event)
    if args.json:
        print_json(report.to_json() | {"environment": target.label})
    counts = report.counts()
    summary = Text(
        f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed, {counts['skipped']} skipped "
        f"in {report.seconds:.1f} s",
        style="green" if report.passed else "red",
    )
    console.print(summary)
    return EXIT_OK if report.passed else EXIT_FAILED
