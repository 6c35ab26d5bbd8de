"""`dms-tui cutover`: stop the writes, wait until DMS applied every change, prove the rows equal, set the target's
sequences, stop the task, and print where the application connects now.

Exit codes: 0 cut over, every item passed; 1 an item failed (changes not drained in time, rows not identical, a
sequence missing on the target, the task not stopped); 2 nothing ran (no task, a full-load task, writes not
confirmed: give --yes once the application stopped writing).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from dms_tui.commands._common import add_common_options, print_json, stdout_console
from dms_tui.environment import add_environment_options, open_environment, request_from_args

if TYPE_CHECKING:
    from rich.text import Text

    from dms_tui.steps.services import StepServices


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cutover",
        help="switch to the target: stop writes, drain CDC, diff, set sequences, stop the task",
        description=(
            "Cut over from the source to the target: stop the writes (the demo workload; on AWS you stop the "
            "application and confirm), wait until DMS applied the source's last change, run a final row diff, set "
            "every target sequence from the source, stop the DMS task, and print the endpoint the application "
            "uses from now on. Safe to run twice."
        ),
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument(
        "--yes", action="store_true", help="the application's writes to the source have stopped: do not ask"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for DMS to apply the last change (default: 900)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks while waiting")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, services: StepServices | None = None) -> int:
    from dms_tui.errors import StepError
    from dms_tui.journey import Journey, Step
    from dms_tui.steps.cutover import CutoverDone, CutoverPlanned, ItemFinished, exit_code, run_cutover
    from dms_tui.steps.services import StepServices

    environment = open_environment(request_from_args(args)).environment
    journey = Journey.resume_or_start(environment.env, environment.mode)
    base = services or StepServices()
    options = {"cutover_poll_interval_s": args.interval, "cutover_drain_timeout_s": args.timeout, **base.options}
    services = dataclasses.replace(base, options=options)
    out = None if args.json else stdout_console()

    planned: CutoverPlanned | None = None
    items: list[ItemFinished] = []
    done: CutoverDone | None = None
    try:
        for event in run_cutover(environment, journey, services, confirm=_confirm(args)):
            if isinstance(event, CutoverPlanned):
                planned = event
            elif isinstance(event, ItemFinished):
                items.append(event)
            elif isinstance(event, CutoverDone):
                done = event
            line = event_line(event)
            if out is not None and line is not None:
                out.print(line, soft_wrap=True)  # a wrapped command would not run as printed
    except StepError as err:
        if args.json:
            print_json({"ok": False, "error": err.to_json(), **_document(planned, items, None)})
        raise
    assert done is not None
    if done.ok:
        journey.complete(Step.CUTOVER)
    if args.json:
        print_json({"ok": done.ok, **_document(planned, items, done)})
    return exit_code(done)


def _confirm(args: argparse.Namespace) -> Any:
    """--yes confirms; a person at a terminal is asked; otherwise (a script without --yes) nobody can confirm."""
    if args.yes:
        return lambda question: True
    if args.json or not sys.stdin.isatty():
        return None

    def ask(question: str) -> bool:
        from rich.text import Text

        console = stdout_console()
        console.print(Text(question, style="bold yellow"))
        try:
            answer = input("Type yes once writes have stopped: ")
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return ask


def _document(planned: Any, items: list[Any], done: Any) -> dict[str, Any]:
    return {
        "task": None
        if planned is None
        else {
            "identifier": planned.identifier,
            "arn": planned.arn,
            "status": planned.status,
            "migration_type": planned.migration_type,
        },
        "previous": None if planned is None or planned.previous is None else dataclasses.asdict(planned.previous),
        "items": [
            {
                "key": i.key,
                "title": i.title,
                "ok": i.ok,
                "detail": i.detail,
                "seconds": round(i.seconds, 3),
                "commands": list(i.commands),
            }
            for i in items
        ],
        "freeze_seconds": None if done is None else done.record.freeze_seconds,
        "target_endpoint": None if done is None else done.target_endpoint,
        "connect_command": None if done is None else done.connect_command,
        "summary": [] if done is None else done.summary(),
    }


def event_line(event: object) -> Text | None:
    """One human block per step event; outside text (database and AWS messages) is never parsed as markup."""
    from rich.text import Text

    from dms_tui.steps.cutover import CutoverDone, CutoverPlanned, ItemFinished, ItemProgress, ItemStarted, WritesFrozen

    if isinstance(event, CutoverPlanned):
        line = Text.assemble(("task ", "bold"), event.identifier, f" ({event.migration_type}, {event.status})")
        if event.previous is not None:
            verdict = "cleanly" if event.previous.ok else "with problems"
            line.append(
                f"\nan earlier cutover finished {verdict} at {event.previous.finished_at}; running it again: each "
                "item says what it finds",
                style="yellow",
            )
        return line
    if isinstance(event, ItemStarted):
        line = Text(f"▸ {event.title}", style="bold")
        for command in event.commands:
            line.append("\n  $ " + command, style="dim")
        return line
    if isinstance(event, ItemProgress):
        return Text("  " + event.text)
    if isinstance(event, WritesFrozen):
        return Text("  write freeze starts now", style="yellow")
    if isinstance(event, ItemFinished):
        mark, style = ("✓", "green") if event.ok else ("✗", "bold red")
        return Text.assemble((f"{mark} {event.title}: ", style), event.detail, (f"  ({event.seconds:.1f} s)", "dim"))
    if isinstance(event, CutoverDone):
        return Text("\n".join(event.summary()), style="bold green" if event.ok else "bold red")
    return None
