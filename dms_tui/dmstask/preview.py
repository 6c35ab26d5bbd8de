"""Which source tables a task's mappings select, and what each becomes on the target, read from the source catalog.

``plan_tables`` is what the sandbox engine loads; ``preview`` is the same plan for a person to read before starting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from dms_tui.dmstask.mappings import TableMappings


@dataclass(frozen=True)
class QualifiedName:
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class SourceColumn:
    name: str
    type_sql: str  # format_type(): e.g. "character varying(20)", usable verbatim in DDL
    not_null: bool


@dataclass(frozen=True)
class SourceTable:
    name: QualifiedName
    columns: tuple[SourceColumn, ...]
    primary_key: tuple[str, ...]  # column names, empty when the table has none
    estimated_rows: int  # pg_class.reltuples (-1 when never analysed)
    size_bytes: int


@dataclass(frozen=True)
class ColumnPlan:
    source: SourceColumn
    target_name: str


@dataclass(frozen=True)
class TablePreview:
    """One selected table: its source and target names, the columns copied (renamed) and the columns removed."""

    source: QualifiedName
    target: QualifiedName
    columns: tuple[ColumnPlan, ...]
    columns_removed: tuple[str, ...]
    load_order: int
    table: SourceTable

    @property
    def renamed(self) -> bool:
        return self.source != self.target or any(c.source.name != c.target_name for c in self.columns)

    @property
    def primary_key_target(self) -> tuple[str, ...]:
        """The target's primary key, or () when a key column is removed (the key cannot be kept then)."""
        names = {c.source.name: c.target_name for c in self.columns}
        if not self.table.primary_key or any(col not in names for col in self.table.primary_key):
            return ()
        return tuple(names[col] for col in self.table.primary_key)


_CATALOG_SQL = """
SELECT n.nspname, c.relname, c.reltuples::bigint, pg_table_size(c.oid),
       coalesce(array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce(array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce(array_agg(a.attnotnull ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce((SELECT array_agg(pa.attname ORDER BY k.ord)
                   FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute pa ON pa.attrelid = i.indrelid AND pa.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND i.indisprimary), '{}')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%%'
 GROUP BY n.nspname, c.relname, c.reltuples, c.oid
 ORDER BY n.nspname, c.relname
"""


def read_source_catalog(conn: psycopg.Connection) -> list[SourceTable]:
    """Every user table of the connected database with its columns (generated columns left out: DMS skips them)."""
    tables: list[SourceTable] = []
    for schema, table, reltuples, size, names, types, not_nulls, pk in conn.execute(_CATALOG_SQL).fetchall():
        columns = tuple(SourceColumn(n, t, bool(nn)) for n, t, nn in zip(names, types, not_nulls, strict=True))
        tables.append(SourceTable(QualifiedName(schema, table), columns, tuple(pk), int(reltuples), int(size)))
    return tables


def plan_tables(catalog: Sequence[SourceTable], mappings: TableMappings) -> list[TablePreview]:
    """The selected tables in load order (higher load-order first, then by name) with their target names."""
    plans: list[TablePreview] = []
    for table in catalog:
        schema, name = table.name.schema, table.name.table
        if not mappings.is_selected(schema, name):
            continue
        columns: list[ColumnPlan] = []
        removed: list[str] = []
        for column in table.columns:
            target_name = mappings.target_column(schema, name, column.name)
            if target_name is None:
                removed.append(column.name)
            else:
                columns.append(ColumnPlan(column, target_name))
        target = QualifiedName(mappings.target_schema(schema), mappings.target_table(schema, name))
        plans.append(
            TablePreview(table.name, target, tuple(columns), tuple(removed), mappings.load_order(schema, name), table)
        )
    plans.sort(key=lambda p: (-p.load_order, p.source.schema, p.source.table))
    return plans


def preview(conn: psycopg.Connection, mappings: TableMappings) -> list[TablePreview]:
    """What ``mappings`` select in the source database behind ``conn``, and what each table becomes on the target."""
    return plan_tables(read_source_catalog(conn), mappings)
