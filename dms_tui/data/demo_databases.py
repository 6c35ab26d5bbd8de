"""Both sides' demo databases, reached the way DMS reaches them: through each side's secret and endpoint.

The Prepare screen and anything else above the UI line use this instead of psycopg and boto3: it reads the two
secrets once, says what exists before anything changes (so a person can choose keep / truncate / recreate), runs
``prepare_source`` and ``prepare_target`` with the person's choices, and reports both sides afterwards. Every
failure becomes a ``PreparationError`` whose message says what went wrong and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.data.connect import DatabaseCredentials, SecretFormatError, connect, psql_command, read_credentials
from dms_tui.data.prepare import (
    Connector,
    DemoTable,
    EventSink,
    IfExists,
    SourcePreparation,
    TableDetails,
    ddl_text,
    prepare_source,
    prepare_target,
    side_table_details,
)
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs

#: The largest generated load the Prepare screen offers (tens of millions, as the issue asks).
MAX_GENERATED_ROWS = 50_000_000


class PreparationError(RuntimeError):
    """Preparing or inspecting a side failed; the message is for a person (what happened, what to do)."""

    def __init__(self, message: str, side: str = "") -> None:
        super().__init__(message)
        self.side = side


@dataclass(frozen=True)
class PrepareChoice:
    """What a person chose: the seed's four rows (``rows=None``) or N generated ones, the existing-table policy,
    and whether to add the primary key the seed's table lacks."""

    rows: int | None = None
    if_exists: IfExists | None = "keep"  # None: no policy chosen (the Prepare step refuses an existing table)
    primary_key: bool = False

    def __post_init__(self) -> None:
        if self.rows is not None and not 0 <= self.rows <= MAX_GENERATED_ROWS:
            raise ValueError(f"the number of rows must be between 0 and {MAX_GENERATED_ROWS:,}")


@dataclass(frozen=True)
class SideSnapshot:
    """One side's demo database and table as they are now."""

    side: str
    database: str
    database_exists: bool
    table: TableDetails | None

    @property
    def rows(self) -> int | None:
        return self.table.rows if self.table is not None else None


@dataclass(frozen=True)
class DemoSnapshot:
    source: SideSnapshot
    target: SideSnapshot


@dataclass(frozen=True)
class DemoPreparation:
    """What preparing did on the source, whether the target database was created, and both sides afterwards."""

    source: SourcePreparation
    target_database_created: bool
    after: DemoSnapshot


class DemoDatabases:
    """The source and target demo databases of one provisioned environment (credentials in memory only)."""

    def __init__(
        self,
        target: Environment,
        outputs: EnvironmentOutputs,
        source_credentials: DatabaseCredentials,
        target_credentials: DatabaseCredentials,
    ) -> None:
        self.target = target
        self.outputs = outputs
        self._credentials = {"source": source_credentials, "target": target_credentials}
        # Each side's database is the one terraform recorded (and DMS's endpoint names); the seed calls it demo_db.
        self.source_table = DemoTable(database=outputs.source.database_name)
        self.target_table = DemoTable(database=outputs.target.database_name)

    @classmethod
    def from_environment(cls, target: Environment, outputs: EnvironmentOutputs) -> DemoDatabases:
        """Read both sides' secrets from Secrets Manager; raises PreparationError saying what to do."""
        credentials: dict[str, DatabaseCredentials] = {}
        for side, side_outputs in (("source", outputs.source), ("target", outputs.target)):
            try:
                credentials[side] = read_credentials(target, side_outputs.secret_arn)
            except (BotoCoreError, ClientError) as exc:
                raise PreparationError(
                    f"Could not read the {side} database secret: {exc}. Go back to Verify: its secret check says "
                    "whether the secret is missing or the bastion's role may not read it.",
                    side,
                ) from exc
            except SecretFormatError as exc:
                raise PreparationError(
                    f"The {side} database secret is not usable: {exc}. Fix the secret (or re-run provisioning), "
                    "then try again.",
                    side,
                ) from exc
        return cls(target, outputs, credentials["source"], credentials["target"])

    def connector(self, side: str) -> Connector:
        """Opens autocommit connections to a named database on ``side`` through the environment's path."""
        credentials = self._credentials[side]

        def open_database(dbname: str) -> psycopg.Connection[Any]:
            return connect(credentials, self.target, dbname=dbname)

        return open_database

    def ddl(self, *, primary_key: bool = False) -> str:
        """The source's DDL as psql would take it."""
        return ddl_text(self.source_table, primary_key=primary_key)

    def psql_command(self, side: str, sql: str) -> str:
        """A psql command for ``side`` (no password in it)."""
        table = self.source_table if side == "source" else self.target_table
        return psql_command(self._credentials[side], self.target, dbname=table.database, sql=sql)

    def snapshot(self) -> DemoSnapshot:
        """Both sides as they are now: does the database exist, and the table's \\dt+ details."""
        return DemoSnapshot(self._side_snapshot("source"), self._side_snapshot("target"))

    def _side_snapshot(self, side: str) -> SideSnapshot:
        table = self.source_table if side == "source" else self.target_table
        with _explained(side, "inspect"):
            details = side_table_details(self.connector(side), table)
            exists = details is not None or self._database_exists(side, table)
        return SideSnapshot(side, table.database, exists, details)

    def _database_exists(self, side: str, table: DemoTable) -> bool:
        with self.connector(side)("postgres") as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (table.database,)).fetchone() is not None
            )

    def prepare(self, choice: PrepareChoice, *, on_event: EventSink | None = None) -> DemoPreparation:
        """Prepare the source (database, schema, table, rows) and the target (database), then look at both."""
        sink: EventSink = on_event or (lambda _event: None)
        with _explained("source", "prepare"):
            source = prepare_source(
                self.connector("source"),
                self.source_table,
                rows=choice.rows,
                if_exists=choice.if_exists or "keep",
                primary_key=choice.primary_key,
                on_event=sink,
            )
        with _explained("target", "prepare"):
            created = prepare_target(self.connector("target"), self.target_table, on_event=sink)
        return DemoPreparation(source=source, target_database_created=created, after=self.snapshot())


@contextmanager
def _explained(side: str, doing: str) -> Iterator[None]:
    """Turns a database failure on ``side`` into a PreparationError a person can act on."""
    try:
        yield
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PreparationError(
            f"The {side} database refused while trying to {doing}: {first_line}. Go back to Verify (Escape) "
            "to see whether the login, the endpoint or the database is the problem.",
            side,
        ) from exc
