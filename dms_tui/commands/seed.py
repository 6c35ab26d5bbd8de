"""`dms-tui seed`: prepare the source (demo_db, demo_schema.demo_accounts and its rows) and the target (demo_db).

Exit codes (dms_tui.exit_codes): 0 prepared; 1 a database or AWS call failed (the message says what to do);
2 nothing ran (invalid options, no environment or outputs, an existing table without a policy).
The work is the Prepare step's (dms_tui.steps.prepare); this module renders its events.
"""

from __future__ import annotations

import argparse
from typing import Any

from dms_tui import exit_codes
from dms_tui.commands._common import add_common_options, print_json, report_error, stderr_console, stdout_console
from dms_tui.domain.seed import IF_EXISTS_CHOICES
from dms_tui.environment import add_environment_options, open_environment, request_from_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="create demo_db, demo_schema.demo_accounts and its rows on the source, and demo_db on the target",
        description=(
            "Prepare the databases as the seed's walkthrough does: the source table with the seed's four rows "
            "(or --rows N generated server-side), and the target database DMS needs. Re-running never duplicates "
            "rows: --if-exists says whether an existing table is kept, truncated or recreated."
        ),
    )
    add_environment_options(parser)
    add_common_options(parser)
    parser.add_argument("--rows", type=int, metavar="N", help="generate N rows instead of the seed's four")
    parser.add_argument(
        "--if-exists",
        choices=IF_EXISTS_CHOICES,
        default="keep",
        help="what to do when the table already exists (default: keep its rows)",
    )
    parser.add_argument(
        "--primary-key",
        action="store_true",
        help="add a primary key on accountnumber (DMS validation and CDC need one; the seed has none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Heavy modules (rich, psycopg, boto3, the step) load only when the command runs: `dms-tui --help` stays fast.
    from rich.text import Text

    from dms_tui.errors import StepError
    from dms_tui.journey import Journey
    from dms_tui.steps.prepare import PrepareChoice, Prepared, run_prepare

    try:
        choice = PrepareChoice(rows=args.rows, if_exists=args.if_exists, primary_key=args.primary_key)
    except ValueError as exc:
        stderr_console().print(Text(f"seed: {exc}", style="red"))
        return exit_codes.NOT_RUN
    try:
        environment = open_environment(request_from_args(args)).environment
        journey = Journey.resume_or_start(environment.env, environment.mode)
        done: Prepared | None = None
        for event in run_prepare(environment, choice, journey):
            if isinstance(event, Prepared):
                done = event
            else:
                _print_progress(event)
    except StepError as exc:
        return report_error(exc)
    assert done is not None  # run_prepare always ends with Prepared
    preparation = done.preparation
    source, target = preparation.source, preparation.after.target
    ddl = done.ddl
    if args.json:
        print_json(
            {
                "environment": environment.label,
                "ddl": ddl,
                "source": source.to_json(),
                "target": {
                    "database_created": preparation.target_database_created,
                    "database": target.database,
                    "table": target.table.to_json() if target.table else None,
                },
            }
        )
        return exit_codes.OK
    out = stdout_console()
    out.print(Text(ddl))
    details = source.details
    out.print(
        Text(
            f"source {details.schema}.{details.name}: {details.rows} rows, {details.size}, "
            f"owner {details.owner}, primary key: {'yes' if details.has_primary_key else 'no'} "
            f"({source.rows_inserted} inserted in {source.seconds:.2f} s)"
        )
    )
    target_rows = f"{target.table.rows} rows" if target.table else "no table yet (the DMS task creates it)"
    created = "created" if preparation.target_database_created else "exists"
    out.print(Text(f"target {target.database}: {created}; {target_rows}"))
    for note in source.notes:
        out.print(Text(note, style="yellow"))
    return exit_codes.OK


def _print_progress(event: Any) -> None:
    """Prepare events on stderr (stdout stays the result, or one JSON document)."""
    from rich.text import Text

    from dms_tui.steps.prepare import ExistingTableFound, PrepareStep, RowsProgress

    console = stderr_console()
    if isinstance(event, PrepareStep):
        console.print(Text(f"{event.side}: {event.action}"))
    elif isinstance(event, ExistingTableFound):
        console.print(
            Text(f"{event.side}: {event.table} already exists with {event.rows} rows; policy: {event.policy}")
        )
    elif isinstance(event, RowsProgress) and event.total:
        console.print(Text(f"{event.side}: {event.inserted:,}/{event.total:,} rows"))
