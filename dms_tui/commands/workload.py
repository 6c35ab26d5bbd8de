"""`dms-tui workload`: write inserts, updates and deletes to the source at a steady rate, so changes visibly flow.

Exit codes: 0 the workload ran its duration (or was stopped by SIGTERM, as the Cutover step stops it); 130 Ctrl+C
(the summary is printed all the same); 2 nothing was written (no source to reach, no table to write to, a workload
already running); 1 the source failed while writing.
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, stdout_console
from dms_tui.environment import add_environment_options, open_environment, request_from_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "workload",
        help="write a demo workload (inserts, updates, deletes) to the source database",
        description=(
            "Write inserts, updates and deletes to the source's tables at a steady rate, so a CDC task has changes "
            "to replicate. Mixed in on purpose: a row inserted and updated in one transaction, a key deleted and "
            "inserted again. Ctrl+C stops it with a summary; `dms-tui cutover` stops it too."
        ),
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second (default: 20)")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds to write; 0 writes until stopped (default: 60)"
    )
    parser.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE",
        help="a table (or a schema) to write to; repeat for more (default: every source table)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from dms_tui.steps.workload import (
        WorkloadFinished,
        WorkloadInputs,
        WorkloadStarted,
        WorkloadTick,
        check_inputs,
        run_demo_workload,
    )

    inputs = WorkloadInputs(rate=args.rate, duration_s=args.duration, tables=tuple(args.table))
    check_inputs(inputs)  # before the environment: a typo costs nothing
    environment = open_environment(request_from_args(args)).environment
    out = None if args.json else stdout_console()
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        # Ctrl+C or SIGTERM (the Cutover step): the writer stops after its statement, and the summary still comes.
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    finished: WorkloadFinished | None = None
    started: WorkloadStarted | None = None
    try:
        for event in run_demo_workload(environment, inputs, stop):
            if isinstance(event, WorkloadStarted):
                started = event
                if out is not None:
                    out.print(Text(f"writing to {event.source} at {inputs.rate:g} changes/s", style="bold"))
                    out.print(Text("$ " + event.command, style="dim"), soft_wrap=True)
                    out.print(Text("Ctrl+C stops it (`dms-tui cutover` stops it too)", style="dim"))
            elif isinstance(event, WorkloadTick) and out is not None:
                s = event.stats
                out.print(
                    f"{event.elapsed_s:6.0f} s  {s.changes:>8,} changes  (inserts {s.inserts:,}, "
                    f"updates {s.updates:,}, deletes {s.deletes:,}, skipped {s.errors:,})"
                )
            elif isinstance(event, WorkloadFinished):
                finished = event
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    interrupted = signal.SIGINT in received
    assert finished is not None
    s = finished.stats
    rate = s.changes / s.seconds if s.seconds else 0.0
    why = "Ctrl+C" if interrupted else "stopped (SIGTERM)" if received else "done"
    if args.json:
        print_json(
            {
                "ok": not interrupted,
                "ended": why,
                "stats": s.to_json(),
                "changes_per_second": round(rate, 1),
                "command": started.command if started else "",
            }
        )
    elif out is not None:
        out.print(
            Text(
                f"{why}: {s.changes:,} changes in {s.transactions:,} transactions over {s.seconds:.1f} s "
                f"({rate:.1f}/s): {s.inserts:,} inserts, {s.updates:,} updates, {s.deletes:,} deletes"
                + (f", {s.errors:,} skipped (a key clash)" if s.errors else ""),
                style="green" if not interrupted else "yellow",
            )
        )
    return exit_codes.INTERRUPTED if interrupted else exit_codes.OK
