"""`dms-tui diff`: compare source and target tables row by row (the headless contract of issue 7).

Exit codes: 0 every table identical, 1 differences (rows or schema), 2 error (message on stderr).
The password comes from the URL, from PGPASSWORD (libpq reads it) or from ~/.pgpass; it is never printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.data.diff import BucketsScanned, DiffError, DiffEvent, DiffReport, Rechecking, TableDiff, diff_databases
from dms_tui.data.diff.engine import DiffOptions

EXIT_IDENTICAL = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="compare source and target tables row by row",
        description=(
            "Compare tables of the source and target databases in the databases themselves (bucket checksums), "
            "then list the rows that differ. Exit code 0: identical, 1: differences, 2: error."
        ),
    )
    parser.add_argument("--source", required=True, metavar="URL", help="libpq URL of the source database")
    parser.add_argument("--target", required=True, metavar="URL", help="libpq URL of the target database")
    parser.add_argument(
        "--table",
        action="append",
        metavar="SCHEMA.TABLE",
        help="a source table to compare (repeatable; default: every table outside the system schemas)",
    )
    parser.add_argument(
        "--max-rows", type=_positive_int, default=1000, metavar="N", help="list at most N rows per kind of difference"
    )
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
    err = stderr_console()
    progress = None if args.json else _progress_printer(err)
    try:
        report = diff_databases(
            args.source, args.target, tables=args.table, options=DiffOptions(max_rows=args.max_rows), on_event=progress
        )
    except DiffError as exc:
        err.print(Text(f"diff failed: {exc}"))
        return EXIT_ERROR
    if args.json:
        print_json(report.to_json())
    else:
        _print_report(report)
    return EXIT_IDENTICAL if report.identical else EXIT_DIFFERENT


def _progress_printer(err: Console) -> Callable[[DiffEvent], None]:
    """Progress lines on stderr, so stdout stays clean for the result."""

    def show(event: DiffEvent) -> None:
        if isinstance(event, BucketsScanned):
            err.print(
                Text(
                    f"{event.source_table}: {event.buckets} buckets, {event.rows:,} rows read, {event.rows_per_second:,.0f} rows/s"
                ),
                style="dim",
            )
        elif isinstance(event, Rechecking):
            err.print(
                Text(f"{event.source_table}: {event.differences} differences, re-checking in {event.delay_seconds:g}s")
            )

    return show


def _print_report(report: DiffReport) -> None:
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
            _print_details(table)
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


def _print_details(table: TableDiff) -> None:
    out = stdout_console()
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
