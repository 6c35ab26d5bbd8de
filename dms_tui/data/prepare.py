"""Prepare the source and target databases exactly as the seed's walkthrough does, or bigger.

Source: ``CREATE DATABASE demo_db``, ``CREATE SCHEMA demo_schema`` and ``demo_schema.demo_accounts`` with the seed's
four columns and no primary key, then the seed's four rows (John Smith, Mary Doe, Tom Good, Peter Flynn; account
numbers 1..4, ``creationTime`` = the insert's ``current_timestamp``) or N rows generated server-side with
``generate_series``. The seed wrote its identifiers unquoted (``accountNumber``), which PostgreSQL folds to lower
case, so the columns really are ``accountnumber``, ``firstname``, ``lastname``, ``creationtime``.
Target: ``CREATE DATABASE demo_db`` (DMS never creates databases).

Re-running never duplicates rows: an existing table is reported and handled by a policy (keep, truncate, recreate).
All SQL is composed with ``psycopg.sql``; identifiers from configuration are never pasted into SQL text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from dms_tui.domain.seed import IF_EXISTS_CHOICES, IfExists  # re-exported for the data layer

#: Opens an autocommit connection to the named database on one side.
Connector = Callable[[str], psycopg.Connection[Any]]

#: Generated rows are inserted in batches of this size so progress can be reported between them.
DEFAULT_BATCH_ROWS = 250_000
#: Batches inserted at once, each on its own connection (the sandbox machine has two cores).
DEFAULT_WORKERS = 2

#: The seed's rows: (accountNumber, firstName, lastName); creationTime is the insert's current_timestamp.
SEED_ROWS: tuple[tuple[int, str, str], ...] = (
    (1, "John", "Smith"),
    (2, "Mary", "Doe"),
    (3, "Tom", "Good"),
    (4, "Peter", "Flynn"),
)

PRIMARY_KEY_EXPLANATION = (
    "The seed's table has no primary key. A DMS full load copies it anyway, but DMS data validation compares rows "
    "by primary key (or a unique index) and skips tables without one, and ongoing replication (CDC) from "
    "PostgreSQL cannot apply UPDATE or DELETE to a table without a primary key: DMS only sees the changed row's "
    "key columns, and there are none. Add a primary key on accountnumber when you plan to validate or run CDC."
)

# Generated names cycle through these lists server-side; both stay within VARCHAR(20).
_FIRST_NAMES = ("John", "Mary", "Tom", "Peter", "Ana", "Wei", "Fatima", "Olu", "Ines", "Raj", "Yuki", "Lars")
_LAST_NAMES = ("Smith", "Doe", "Good", "Flynn", "Silva", "Chen", "Haddad", "Adeyemi", "Garcia", "Patel", "Sato")


@dataclass(frozen=True)
class DemoTable:
    """Where the demo table lives (the seed's names by default)."""

    database: str = "demo_db"
    schema: str = "demo_schema"
    table: str = "demo_accounts"

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


# -- progress events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrepareStep:
    """A statement ran (or was skipped because its object already exists)."""

    side: str
    action: str
    statement: str


@dataclass(frozen=True)
class ExistingTableFound:
    """The demo table already exists; ``policy`` says what happens to its rows."""

    side: str
    table: str
    rows: int
    policy: IfExists


@dataclass(frozen=True)
class RowsProgress:
    """Generated rows inserted so far."""

    side: str
    inserted: int
    total: int


PrepareEvent = PrepareStep | ExistingTableFound | RowsProgress
EventSink = Callable[[PrepareEvent], None]


def _ignore(_: PrepareEvent) -> None:
    return None


# -- table details (\dt+ and \d) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str
    nullable: bool


@dataclass(frozen=True)
class TableDetails:
    """What ``\\dt+`` and ``\\d`` show for one table, plus its exact row count."""

    schema: str
    name: str
    owner: str
    persistence: str
    access_method: str
    size_bytes: int
    size: str
    rows: int
    has_primary_key: bool
    columns: tuple[ColumnInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "owner": self.owner,
            "persistence": self.persistence,
            "access_method": self.access_method,
            "size_bytes": self.size_bytes,
            "size": self.size,
            "rows": self.rows,
            "has_primary_key": self.has_primary_key,
            "columns": [{"name": c.name, "type": c.data_type, "nullable": c.nullable} for c in self.columns],
        }


_PERSISTENCE = {"p": "permanent", "u": "unlogged", "t": "temporary"}


def table_details(conn: psycopg.Connection[Any], table: DemoTable) -> TableDetails | None:
    """``\\dt+``-like details of ``table`` in the connected database, or None when it does not exist."""
    row = conn.execute(
        """
        SELECT c.oid, pg_get_userbyid(c.relowner), c.relpersistence, coalesce(am.amname, ''),
               pg_table_size(c.oid), pg_size_pretty(pg_table_size(c.oid)),
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_am am ON am.oid = c.relam
         WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
        """,
        (table.schema, table.table),
    ).fetchone()
    if row is None:
        return None
    oid, owner, persistence, access_method, size_bytes, size, has_pk = row
    columns = conn.execute(
        """
        SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull
          FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum
        """,
        (oid,),
    ).fetchall()
    return TableDetails(
        schema=table.schema,
        name=table.table,
        owner=str(owner),
        persistence=_PERSISTENCE.get(str(persistence), str(persistence)),
        access_method=str(access_method),
        size_bytes=int(size_bytes),
        size=str(size),
        rows=count_rows(conn, table) or 0,
        has_primary_key=bool(has_pk),
        columns=tuple(ColumnInfo(str(n), str(t), bool(nullable)) for n, t, nullable in columns),
    )


def count_rows(conn: psycopg.Connection[Any], table: DemoTable) -> int | None:
    """Exact row count, or None when the table does not exist."""
    if conn.execute("SELECT to_regclass(%s)", (_regclass_name(table),)).fetchone() == (None,):
        return None
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table.identifier)).fetchone()
    return int(row[0]) if row else 0


def _regclass_name(table: DemoTable) -> str:
    # to_regclass parses its argument as SQL text, so quote each part as an identifier would be.
    return ".".join('"' + part.replace('"', '""') + '"' for part in (table.schema, table.table))


# -- DDL ---------------------------------------------------------------------------------------------------------------


def create_database_sql(table: DemoTable) -> sql.Composed:
    return sql.SQL("CREATE DATABASE {}").format(sql.Identifier(table.database))


def create_schema_sql(table: DemoTable) -> sql.Composed:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.schema))


def create_table_sql(table: DemoTable) -> sql.Composed:
    """The seed's table, column for column, without a primary key."""
    return sql.SQL(
        "CREATE TABLE {} (\n"
        "    accountnumber BIGINT NOT NULL,\n"
        "    firstname     VARCHAR(20),\n"
        "    lastname      VARCHAR(20),\n"
        "    creationtime  TIME NOT NULL\n"
        ")"
    ).format(table.identifier)


def add_primary_key_sql(table: DemoTable) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (accountnumber)").format(table.identifier)


def ddl_text(table: DemoTable, *, primary_key: bool = False) -> str:
    """The statements that prepare the source, as text for the Prepare screen and for copying into psql."""
    statements = [create_database_sql(table), create_schema_sql(table), create_table_sql(table)]
    if primary_key:
        statements.append(add_primary_key_sql(table))
    return ";\n".join(s.as_string() for s in statements) + ";"


# -- preparing -------------------------------------------------------------------------------------------------------


@contextmanager
def _connection(connector: Connector, dbname: str) -> Iterator[psycopg.Connection[Any]]:
    conn = connector(dbname)
    try:
        yield conn
    finally:
        conn.close()


def ensure_database(
    connector: Connector,
    table: DemoTable,
    *,
    side: str,
    maintenance_db: str = "postgres",
    on_event: EventSink = _ignore,
) -> bool:
    """Create ``table.database`` if missing (connected to ``maintenance_db``); True when it was created."""
    statement = create_database_sql(table)
    with _connection(connector, maintenance_db) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (table.database,)).fetchone()
        if exists:
            on_event(PrepareStep(side, f"database {table.database} already exists", statement.as_string(conn)))
            return False
        conn.execute(statement)
        on_event(PrepareStep(side, f"created database {table.database}", statement.as_string(conn)))
        return True


@dataclass(frozen=True)
class SourcePreparation:
    """What preparing the source did and what is there now."""

    database_created: bool
    table_existed: bool
    rows_before: int
    policy: IfExists
    rows_inserted: int
    details: TableDetails
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "database_created": self.database_created,
            "table_existed": self.table_existed,
            "rows_before": self.rows_before,
            "policy": self.policy,
            "rows_inserted": self.rows_inserted,
            "seconds": round(self.seconds, 3),
            "table": self.details.to_json(),
            "notes": list(self.notes),
        }


def prepare_source(
    connector: Connector,
    table: DemoTable = DemoTable(),
    *,
    rows: int | None = None,
    if_exists: IfExists = "keep",
    primary_key: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int = DEFAULT_WORKERS,
    maintenance_db: str = "postgres",
    on_event: EventSink = _ignore,
) -> SourcePreparation:
    """Create the seed's database, schema and table, then insert the seed's rows (``rows=None``) or N generated rows.

    An existing table is never loaded twice: ``keep`` leaves a non-empty table as it is, ``truncate`` empties it
    first, ``recreate`` drops and recreates it (picking up a changed definition or primary-key choice).
    """
    if rows is not None and rows < 0:
        raise ValueError("the number of rows must be zero or more")
    if if_exists not in IF_EXISTS_CHOICES:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS_CHOICES)}")
    started = time.monotonic()
    side = "source"
    notes: list[str] = []
    database_created = ensure_database(connector, table, side=side, maintenance_db=maintenance_db, on_event=on_event)
    with _connection(connector, table.database) as conn:
        conn.execute(create_schema_sql(table))
        on_event(PrepareStep(side, f"schema {table.schema} ready", create_schema_sql(table).as_string(conn)))
        rows_before = count_rows(conn, table)
        table_existed = rows_before is not None
        load = True
        if rows_before is not None:
            on_event(ExistingTableFound(side, table.qualified, rows_before, if_exists))
            if if_exists == "recreate":
                statement = sql.SQL("DROP TABLE {}").format(table.identifier)
                conn.execute(statement)
                on_event(PrepareStep(side, f"dropped {table.qualified}", statement.as_string(conn)))
                table_existed_now = False
            elif if_exists == "truncate":
                statement = sql.SQL("TRUNCATE {}").format(table.identifier)
                conn.execute(statement)
                on_event(PrepareStep(side, f"truncated {table.qualified}", statement.as_string(conn)))
                table_existed_now = True
            else:
                table_existed_now = True
                if rows_before > 0:
                    load = False
                    notes.append(
                        f"{table.qualified} already holds {rows_before} rows and was kept as it is; "
                        "choose truncate or recreate to load it again."
                    )
        else:
            table_existed_now = False
        if not table_existed_now:
            conn.execute(create_table_sql(table))
            on_event(PrepareStep(side, f"created {table.qualified}", create_table_sql(table).as_string(conn)))
        inserted = 0
        if load:
            if rows is None:
                inserted = _insert_seed_rows(conn, table)
                on_event(RowsProgress(side, inserted, inserted))
            else:
                inserted = _insert_generated_rows(connector, table, rows, batch_rows, workers, side, on_event)
            # A fresh bulk load leaves the planner's statistics empty; DMS and the diff engine read this table next.
            conn.execute(sql.SQL("ANALYZE {}").format(table.identifier))
        if primary_key:
            notes.append(_ensure_primary_key(conn, table, side, on_event))
        elif not _has_primary_key(conn, table):
            notes.append(PRIMARY_KEY_EXPLANATION)
        details = table_details(conn, table)
        assert details is not None  # created above in this very session
    return SourcePreparation(
        database_created=database_created,
        table_existed=table_existed,
        rows_before=rows_before or 0,
        policy=if_exists,
        rows_inserted=inserted,
        details=details,
        seconds=time.monotonic() - started,
        notes=tuple(notes),
    )


def _insert_seed_rows(conn: psycopg.Connection[Any], table: DemoTable) -> int:
    statement = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, current_timestamp)").format(table.identifier)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(statement, SEED_ROWS)
    return len(SEED_ROWS)


def _insert_generated_rows(
    connector: Connector,
    table: DemoTable,
    rows: int,
    batch_rows: int,
    workers: int,
    side: str,
    on_event: EventSink,
) -> int:
    """Insert account numbers 1..rows generated by the server, one batch per transaction, reporting progress.

    Batches run on ``workers`` connections at once: generating and inserting is CPU-bound in the server, and one
    backend uses one core.
    """
    batch_rows = max(1, batch_rows)
    ranges = [(lo, min(rows, lo + batch_rows - 1)) for lo in range(1, rows + 1, batch_rows)]
    on_event(RowsProgress(side, 0, rows))
    if not ranges:
        return 0

    def insert(bounds: tuple[int, int]) -> int:
        lo, hi = bounds
        with _connection(connector, table.database) as conn:
            conn.execute(_GENERATE_SQL.format(table.identifier), _generate_params(lo, hi))
        return hi - lo + 1

    inserted = 0
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(ranges))), thread_name_prefix="seed") as pool:
        for count in pool.map(insert, ranges):
            inserted += count
            on_event(RowsProgress(side, inserted, rows))
    return inserted


_GENERATE_SQL = sql.SQL(
    "INSERT INTO {} "
    "SELECT g, (%(first)s::text[])[1 + g %% %(nfirst)s], (%(last)s::text[])[1 + g %% %(nlast)s], "
    "time '00:00' + (g %% 86400) * interval '1 second' "
    "FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g"
)


def _generate_params(lo: int, hi: int) -> dict[str, Any]:
    return {
        "first": list(_FIRST_NAMES),
        "nfirst": len(_FIRST_NAMES),
        "last": list(_LAST_NAMES),
        "nlast": len(_LAST_NAMES),
        "lo": lo,
        "hi": hi,
    }


def _has_primary_key(conn: psycopg.Connection[Any], table: DemoTable) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p')",
        (_regclass_name(table),),
    ).fetchone()
    return bool(row and row[0])


def _ensure_primary_key(conn: psycopg.Connection[Any], table: DemoTable, side: str, on_event: EventSink) -> str:
    if _has_primary_key(conn, table):
        return f"{table.qualified} already has a primary key."
    statement = add_primary_key_sql(table)
    try:
        conn.execute(statement)
    except psycopg.errors.UniqueViolation:
        return (
            f"Could not add a primary key: {table.qualified} holds duplicate account numbers. "
            "Recreate the table (if-exists recreate) and load it again with the primary key option."
        )
    on_event(PrepareStep(side, f"added a primary key to {table.qualified}", statement.as_string(conn)))
    return "Added a primary key on accountnumber, so DMS validation and CDC can match rows."


def prepare_target(
    connector: Connector,
    table: DemoTable = DemoTable(),
    *,
    maintenance_db: str = "postgres",
    on_event: EventSink = _ignore,
) -> bool:
    """The seed's "Create the target database" step: DMS creates schemas and tables but never the database."""
    return ensure_database(connector, table, side="target", maintenance_db=maintenance_db, on_event=on_event)


def side_table_details(connector: Connector, table: DemoTable = DemoTable()) -> TableDetails | None:
    """The demo table on a side as it is now (None when the database or the table is missing)."""
    with _connection(connector, "postgres") as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (table.database,)).fetchone():
            return None
    with _connection(connector, table.database) as conn:
        return table_details(conn, table)
