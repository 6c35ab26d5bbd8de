"""`dms-tui diff`: compare source and target tables row by row (the headless face of the Diff step).

Without URLs it compares the environment's databases (``--sandbox``, ``--env``...), found through the provisioning
outputs and the Secrets Manager secrets: nothing to type, no password. ``--source URL --target URL`` compares any two
databases; their password comes from the URL, from PGPASSWORD (libpq reads it) or from ~/.pgpass, and is never
printed. Exit codes: 0 every table identical, 1 differences (rows or schema), 2 could not compare (why on stderr).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, add_outputs_option, print_json, report_error
from dms_tui.environment import add_environment_options, open_environment, request_from_args

if TYPE_CHECKING:
    from rich.console import Console

    from dms_tui.data.diff.result import DiffReport, TableDiff
    from dms_tui.steps.diff import DiffStepEvent

DEFAULT_MAX_ROWS = 1000  # the step's default (dms_tui.steps.diff.DEFAULT_MAX_ROWS), kept here for a light --help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare source and target tables row by row",
        description=(
            "Compare tables of the source and target databases in the databases themselves (checksums), then list "
            "the rows that differ. Without --source/--target: the environment's two databases, found through its "
            "outputs and secrets, tables paired through the task's mappings. "
            "Exit code 0: identical, 1: differences, 2: could not compare."
        ),
    )
    parser.add_argument("--source", metavar="URL", help="libpq URL of a source database (with --target)")
    parser.add_argument("--target", metavar="URL", help="libpq URL of a target database (with --source)")
    parser.add_argument(
        "--table",
        action="append",
        metavar="SCHEMA.TABLE",
        help="a source table to compare (repeatable; default: the task's tables, else every table outside the "
        "system schemas)",
    )
    parser.add_argument(
        "--max-rows",
        type=_positive_int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help="list at most N rows per kind of difference",
    )
    add_outputs_option(parser)
    add_environment_options(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    from dms_tui.errors import StepError
    from dms_tui.steps.diff import DiffDone, DiffInputs, run_diff

    inputs = DiffInputs(
        tables=tuple(args.table or ()), source_url=args.source, target_url=args.target, max_rows=args.max_rows
    )
    environment = journey = None
    try:
        if not inputs.explicit_databases:
            from dms_tui.journey import Journey

            opened = open_environment(request_from_args(args), outputs_file=args.outputs)
            environment = opened.environment
            journey = Journey.resume_or_start(environment.env, environment.mode)
        show = None if args.json else _progress_printer()
        done: DiffDone | None = None
        for event in run_diff(environment, journey, inputs):
            if isinstance(event, DiffDone):
                done = event
            elif show is not None:
                show(event)
    except StepError as err:
        return report_error(err)
    assert done is not None
    if args.json:
        print_json(done.report.to_json())
    else:
        _print_report(done.report)
    return exit_codes.IDENTICAL if done.identical else exit_codes.DIFFERENT


def _progress_printer() -> Callable[[DiffStepEvent], None]:
    """Progress lines on stderr, so stdout stays clean for the result."""
    from rich.text import Text

    from dms_tui.commands._common import stderr_console
    from dms_tui.steps.diff import BucketsScanned, EndpointsResolved, Rechecking

    err = stderr_console()

    def show(event: DiffStepEvent) -> None:
        if isinstance(event, EndpointsResolved):
            err.print(Text(f"source {event.source}\ntarget {event.target}"), style="dim")
        elif isinstance(event, BucketsScanned):
            err.print(
                Text(
                    f"{event.source_table}: {event.buckets} buckets, {event.rows:,} rows read, "
                    f"{event.rows_per_second:,.0f} rows/s"
                ),
                style="dim",
            )
        elif isinstance(event, Rechecking):
            err.print(
                Text(f"{event.source_table}: {event.differences} differences, re-checking in {event.delay_seconds:g}s")
            )

    return show


def _print_report(report: DiffReport) -> None:
    from rich.table import Table
    from rich.text import Text

    from dms_tui.commands._common import stdout_console

    out = stdout_console()
    summary = Table(title="Row diff", title_justify="left")
    for heading in ("source table", "target table", "key", "source rows", "target rows", "result"):
        summary.add_column(heading)
    for table in report.tables:
        summary.add_row(
            Text(table.source_table),
            Text(table.target_table),
            Text(", ".join(table.key) if table.key else "(none: multiset)"),
            f"{table.source_rows:,}",
            f"{table.target_rows:,}",
            Text("identical", style="green") if table.identical else Text(_describe(table), style="red"),
        )
    out.print(summary)
    for table in report.tables:
        if not table.identical:
            _print_details(out, table)
    out.print(Text(f"compared {len(report.tables)} table(s) in {report.elapsed_seconds:.2f}s"))


def _describe(table: TableDiff) -> str:
    parts = []
    if table.schema_drift:
        parts.append(f"{len(table.schema_drift)} schema drift")
    for label, rows in (
        ("missing", table.missing_in_target),
        ("extra", table.extra_in_target),
        ("changed", table.changed),
    ):
        if rows:
            parts.append(f"{len(rows)}{'+' if table.truncated else ''} {label}")
    return ", ".join(parts) or "differences"


def _cell(value: str | None) -> str:
    return "NULL" if value is None else repr(value)


def _print_details(out: Console, table: TableDiff) -> None:
    from rich.text import Text

    out.print(Text(f"\n{table.source_table} -> {table.target_table}", style="bold"))
    for drift in table.schema_drift:
        out.print(Text(f"  schema: {drift}"))
    for image in table.missing_in_target:
        counts = f" ({image.source_count}x in source, {image.target_count}x in target)" if image.key is None else ""
        out.print(Text(f"  missing in target: {_row_text(image.key or image.row)}{counts}"))
    for image in table.extra_in_target:
        counts = f" ({image.source_count}x in source, {image.target_count}x in target)" if image.key is None else ""
        out.print(Text(f"  extra in target:   {_row_text(image.key or image.row)}{counts}"))
    for change in table.changed:
        cells = ", ".join(f"{name}: {_cell(c.source)} -> {_cell(c.target)}" for name, c in change.columns.items())
        out.print(Text(f"  changed {_row_text(change.key)}: {cells}"))
    if table.truncated:
        out.print(Text("  (lists truncated; raise --max-rows to see more)"))


def _row_text(values: dict[str, str | None]) -> str:
    return ", ".join(f"{name}={_cell(value)}" for name, value in values.items())
