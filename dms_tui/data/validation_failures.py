"""DMS's validation failures table on the target: its shape, and reading (and, for the sandbox, writing) its rows.

With ``ValidationSettings.EnableValidation`` DMS writes every record that fails validation to
``awsdms_validation_failures_v1`` in the target's control schema (``ControlTablesSettings.ControlSchema``). The
columns are those of the AWS DMS User Guide ("Data validation" > "Troubleshooting", the table
awsdms_validation_failures_v1): TASK_NAME, TABLE_OWNER (the source schema), TABLE_NAME, FAILURE_TIME, KEY_TYPE
(``Row``), KEY (``{"key": ["1"]}``: the key values as text, in key order), FAILURE_TYPE (``RECORD_DIFF``,
``MISSING_SOURCE``, ``MISSING_TARGET``) and DETAILS (for RECORD_DIFF the differing columns as
``[[{source values}, {target values}],]``).

The guide names the columns in upper case; the sandbox creates them quoted so they keep that spelling. The reader
matches column names case-insensitively, so it reads a table DMS created in either spelling.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

FAILURES_TABLE = "awsdms_validation_failures_v1"
DEFAULT_CONTROL_SCHEMA = "awsdms_control"

MISSING_TARGET = "MISSING_TARGET"
MISSING_SOURCE = "MISSING_SOURCE"
RECORD_DIFF = "RECORD_DIFF"

_COLUMNS = (
    ("TASK_NAME", "varchar(128)"),
    ("TABLE_OWNER", "varchar(128)"),
    ("TABLE_NAME", "varchar(128)"),
    ("FAILURE_TIME", "timestamp(3) without time zone"),
    ("KEY_TYPE", "varchar(128)"),
    ("KEY", "text"),
    ("FAILURE_TYPE", "varchar(128)"),
    ("DETAILS", "varchar(8000)"),
)


@dataclass(frozen=True)
class ValidationFailure:
    """One row of the failures table."""

    task_name: str
    table_owner: str
    table_name: str
    failure_time: dt.datetime
    key_type: str
    key: str
    failure_type: str
    details: str

    @property
    def table(self) -> str:
        return f"{self.table_owner}.{self.table_name}"


def key_text(values: Sequence[str | None]) -> str:
    """DMS's KEY column: ``{"key": ["3", "0"]}`` (SQL NULL as an empty string, as DMS writes it)."""
    return json.dumps({"key": ["" if v is None else v for v in values]})


def record_diff_details(source: dict[str, str | None], target: dict[str, str | None]) -> str:
    """DMS's DETAILS for a RECORD_DIFF: ``[[{source values}, {target values}],]``, cut to the column's 8000."""
    return f"[[{source!r}, {target!r}],]"[:8000]


def ensure_failures_table(conn: psycopg.Connection[Any], schema: str = DEFAULT_CONTROL_SCHEMA) -> None:
    """Create the control schema and the failures table when missing (what DMS does when validation starts)."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {} NOT NULL").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in _COLUMNS
    )
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(sql.Identifier(schema, FAILURES_TABLE), columns)
        )


def write_failures(
    conn: psycopg.Connection[Any], failures: Sequence[ValidationFailure], schema: str = DEFAULT_CONTROL_SCHEMA
) -> None:
    if not failures:
        return
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(schema, FAILURES_TABLE),
        sql.SQL(", ").join(sql.Identifier(name) for name, _ in _COLUMNS),
        sql.SQL(", ").join(sql.Placeholder() for _ in _COLUMNS),
    )
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            statement,
            [
                (
                    f.task_name,
                    f.table_owner,
                    f.table_name,
                    f.failure_time.astimezone(dt.UTC).replace(tzinfo=None),
                    f.key_type,
                    f.key,
                    f.failure_type,
                    f.details,
                )
                for f in failures
            ],
        )


def clear_failures(
    conn: psycopg.Connection[Any], task_name: str, owner: str, table: str, schema: str = DEFAULT_CONTROL_SCHEMA
) -> None:
    """Remove one table's failures of one task (the sandbox, before it writes a new comparison's)."""
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE {} = %s AND {} = %s AND {} = %s").format(
            sql.Identifier(schema, FAILURES_TABLE),
            sql.Identifier("TASK_NAME"),
            sql.Identifier("TABLE_OWNER"),
            sql.Identifier("TABLE_NAME"),
        ),
        (task_name, owner, table),
    )


def read_failures(
    conn: psycopg.Connection[Any],
    task_name: str | None = None,
    *,
    schema: str = DEFAULT_CONTROL_SCHEMA,
    limit: int = 200,
) -> list[ValidationFailure]:
    """The newest failures (of ``task_name``, or all), newest first; [] when the table does not exist yet."""
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        ('"{}"."{}"'.format(schema.replace('"', '""'), FAILURES_TABLE),),
    ).fetchone()
    if not found or not found[0]:
        return []
    names = {
        str(row[0]).upper(): str(row[0])
        for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            ('"{}"."{}"'.format(schema.replace('"', '""'), FAILURES_TABLE),),
        ).fetchall()
    }
    missing = [name for name, _ in _COLUMNS if name not in names]
    if missing:
        raise ValueError(f"{schema}.{FAILURES_TABLE} has no column {', '.join(missing)}")
    selected = sql.SQL(", ").join(sql.Identifier(names[name]) for name, _ in _COLUMNS)
    query = sql.SQL("SELECT {} FROM {}").format(selected, sql.Identifier(schema, FAILURES_TABLE))
    params: list[Any] = []
    if task_name is not None:
        query += sql.SQL(" WHERE {} = %s").format(sql.Identifier(names["TASK_NAME"]))
        params.append(task_name)
    query += sql.SQL(" ORDER BY {} DESC LIMIT %s").format(sql.Identifier(names["FAILURE_TIME"]))
    params.append(limit)
    return [
        ValidationFailure(
            str(r[0]), str(r[1]), str(r[2]), r[3].replace(tzinfo=dt.UTC), str(r[4]), str(r[5]), str(r[6]), str(r[7])
        )
        for r in conn.execute(query, params).fetchall()
    ]
