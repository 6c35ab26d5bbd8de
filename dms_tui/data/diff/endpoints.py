"""What the wizard's Diff step compares: the environment's two databases, and how the task pairs their tables.

The databases come from the provisioned secrets (read through the target environment, so in the sandbox the
interface endpoint's name reaches the local forwarder). Connection strings carry the password in memory only;
:func:`redact_url` gives the form that may be shown or copied.
"""

from __future__ import annotations

import shlex
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from dms_tui.data.diff.catalog import TableMapping, TableRef, list_tables
from dms_tui.data.diff.engine import DiffOptions, EventSink, diff_databases
from dms_tui.data.diff.errors import DiffError
from dms_tui.data.diff.result import DiffReport
from dms_tui.data.diff.session import SnapshotSession
from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs


@dataclass(frozen=True)
class DiffEndpoints:
    """The two libpq connection strings (with password: never shown) and their shareable forms."""

    source_url: str = field(repr=False)
    target_url: str = field(repr=False)

    @property
    def source_display(self) -> str:
        return redact_url(self.source_url)

    @property
    def target_display(self) -> str:
        return redact_url(self.target_url)


def redact_url(url: str) -> str:
    """A ``postgresql://user@host:port/dbname`` URL without the password (libpq URLs and key=value strings)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unreadable connection string)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    dbname = f"/{params['dbname']}" if params.get("dbname") else ""
    # TLS settings stay: the shown command must connect as the app did (the CA file is a path, not a secret).
    tls = {key: params[key] for key in ("sslmode", "sslrootcert") if params.get(key)}
    query = f"?{urllib.parse.urlencode(tls, safe='/')}" if tls else ""
    return f"postgresql://{user}{host}{port}{dbname}{query}"


def environment_endpoints(target: Environment, outputs: EnvironmentOutputs) -> DiffEndpoints:
    """Both databases' connection strings, from the provisioned secrets."""
    from dms_tui.data.connect import SecretFormatError, connection_params, read_credentials

    urls = []
    for side, secret_arn in (("source", outputs.source.secret_arn), ("target", outputs.target.secret_arn)):
        try:
            credentials = read_credentials(target, secret_arn)
        except SecretFormatError as exc:
            raise DiffError(f"The {side} database secret {secret_arn} is malformed: {exc}.") from None
        except Exception as exc:  # botocore errors: the message names the API failure, never the secret value
            raise DiffError(
                f"Could not read the {side} database secret {secret_arn}: {exc}. "
                "Check that provisioning finished and that your AWS identity may read the secret."
            ) from None
        urls.append(psycopg.conninfo.make_conninfo("", **connection_params(credentials, target)))
    return DiffEndpoints(urls[0], urls[1])


@dataclass(frozen=True)
class TablePairing:
    """Which source tables a task copies and what they are called on the target."""

    mappings: TableMappings

    def selects(self, table: TableRef) -> bool:
        return self.mappings.is_selected(table.schema, table.name)

    def target_of(self, source: str) -> str | None:
        ref = TableRef.parse(source)
        schema = self.mappings.target_schema(ref.schema)
        name = self.mappings.target_table(ref.schema, ref.name)
        return str(TableRef(schema, name))

    @property
    def mapping(self) -> TableMapping:
        return self.target_of


def pairing_from_task(table_mappings_json: str | None) -> TablePairing | None:
    """The pairing of a task's table mappings (a JSON string), or None to pair tables by name."""
    if not table_mappings_json:
        return None
    try:
        return TablePairing(TableMappings.from_json(table_mappings_json))
    except (MappingsFormatError, ValueError) as exc:
        raise DiffError(
            f"The task's table mappings could not be read ({exc}); open the Migrate step to fix them, "
            "or compare tables by name with `dms-tui diff`."
        ) from None


def selected_tables(source_url: str, pairing: TablePairing) -> list[str]:
    """The source tables the task copies (in the catalog's order)."""
    session = SnapshotSession(source_url, "source")
    try:
        return [str(ref) for ref in list_tables(session) if pairing.selects(ref)]
    finally:
        session.close()


def run_wizard_diff(
    endpoints: DiffEndpoints,
    pairing: TablePairing | None,
    *,
    tables: Sequence[str] | None = None,
    options: DiffOptions | None = None,
    on_event: EventSink | None = None,
) -> DiffReport:
    """Compare the environment's databases: the task's tables through its renames, else every table by name."""
    if tables is None and pairing is not None:
        tables = selected_tables(endpoints.source_url, pairing)
        if not tables:
            raise DiffError(
                "The task's table mappings select no table of the source database; check the selection rules "
                "on the Migrate step."
            )
    mapping: TableMapping | None = pairing.mapping if pairing is not None else None
    return diff_databases(
        endpoints.source_url, endpoints.target_url, tables=tables, mapping=mapping, options=options, on_event=on_event
    )


def diff_command_line(endpoints: DiffEndpoints, tables: Sequence[str] | None = None) -> str:
    """The headless command a person could run (no password: psql-style, it comes from their PGPASSWORD).

    The headless command pairs tables by name, so for a task that renames tables it compares the source names only.
    """
    argv = ["dms-tui", "diff", "--source", endpoints.source_display, "--target", endpoints.target_display]
    for table in tables or ():
        argv += ["--table", table]
    return shlex.join(argv)
