"""`dms-tui seed`: prepare the source (demo_db, demo_schema.demo_accounts and its rows) and the target (demo_db).

Exit codes: 0 prepared; 1 a database or AWS call failed (the message says what to do); 2 invalid options;
3 there is no environment (no running sandbox, no terraform outputs).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dms_tui.commands._common import add_common_options, print_json, stderr_console, stdout_console
from dms_tui.commands.verify import add_environment_options
from dms_tui.domain.seed import IF_EXISTS_CHOICES

if TYPE_CHECKING:
    from dms_tui.data.connect import DatabaseCredentials
    from dms_tui.data.prepare import Connector, PrepareEvent
    from dms_tui.environment import Environment

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_ENVIRONMENT = 3


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
    add_common_options(parser)
    add_environment_options(parser)
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


def _connector(credentials: DatabaseCredentials, target: Environment) -> Connector:
    from dms_tui.data.connect import connect

    def open_database(dbname: str) -> Any:
        return connect(credentials, target, dbname=dbname)

    return open_database


def run(args: argparse.Namespace) -> int:
    # Heavy modules load only when the command runs: `dms-tui --help` stays fast.
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.text import Text

    from dms_tui.commands.verify import resolve_environment
    from dms_tui.data.connect import SecretFormatError, read_credentials
    from dms_tui.data.prepare import DemoTable, ddl_text, prepare_source, prepare_target, side_table_details

    err = stderr_console()
    if args.rows is not None and args.rows < 0:
        err.print(Text("seed: --rows must be zero or more", style="red"))
        return EXIT_USAGE
    try:
        target, outputs = resolve_environment(args)
    except Exception as exc:  # SandboxError, OutputsError, an unreadable --outputs file: nowhere to seed
        err.print(Text(f"seed: {exc}", style="red"))
        return EXIT_NO_ENVIRONMENT
    table = DemoTable()
    progress = _ProgressPrinter(err)
    try:
        source_credentials = read_credentials(target, outputs.source.secret_arn)
        target_credentials = read_credentials(target, outputs.target.secret_arn)
        source = prepare_source(
            _connector(source_credentials, target),
            table,
            rows=args.rows,
            if_exists=args.if_exists,
            primary_key=args.primary_key,
            on_event=progress,
        )
        target_connector = _connector(target_credentials, target)
        target_created = prepare_target(target_connector, table, on_event=progress)
        target_details = side_table_details(target_connector, table)
    except (BotoCoreError, ClientError) as exc:
        err.print(Text(f"seed: could not read the database secrets: {exc}", style="red"))
        err.print(Text("Run `dms-tui verify` to see which hop fails and what to do."))
        return EXIT_FAILED
    except SecretFormatError as exc:
        err.print(Text(f"seed: {exc}", style="red"))
        return EXIT_FAILED
    except psycopg.Error as exc:
        err.print(Text(f"seed: the database refused: {str(exc).strip()}", style="red"))
        err.print(Text("Run `dms-tui verify` to check the login and the database on both sides."))
        return EXIT_FAILED
    ddl = ddl_text(table, primary_key=args.primary_key)
    document = {
        "environment": target.label,
        "ddl": ddl,
        "source": source.to_json(),
        "target": {
            "database_created": target_created,
            "database": table.database,
            "table": target_details.to_json() if target_details else None,
        },
    }
    if args.json:
        print_json(document)
        return EXIT_OK
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
    target_rows = f"{target_details.rows} rows" if target_details else "no table yet (the DMS task creates it)"
    out.print(Text(f"target {table.database}: {'created' if target_created else 'exists'}; {target_rows}"))
    for note in source.notes:
        out.print(Text(note, style="yellow"))
    return EXIT_OK


class _ProgressPrinter:
    """Renders prepare events on stderr; generated-row progress at most once per batch."""

    def __init__(self, console: Any) -> None:
        self._console = console

    def __call__(self, event: PrepareEvent) -> None:
        from rich.text import Text

        from dms_tui.data.prepare import ExistingTableFound, PrepareStep, RowsProgress

        if isinstance(event, PrepareStep):
            self._console.print(Text(f"{event.side}: {event.action}"))
        elif isinstance(event, ExistingTableFound):
            self._console.print(
                Text(f"{event.side}: {event.table} already exists with {event.rows} rows; policy: {event.policy}")
            )
        elif isinstance(event, RowsProgress) and event.total:
            self._console.print(Text(f"{event.side}: {event.inserted:,}/{event.total:,} rows"))
