"""Which source tables a task's mappings select, and what each becomes on the target, read from the source catalog.

``plan_tables`` is what the sandbox engine loads; ``preview`` is the same plan for a person to read before starting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dms_tui.dmstask.mappings import TableMappings, TransformationRule
from dms_tui.dmstask.settings import TaskSettings


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
    user_defined: bool = False  # an enum, domain, composite or range type (or an array of one) of the source

    @property
    def lob_kind(self) -> str | None:
        """How DMS sees the column: "text" / "binary" for the LOB types limited LOB mode truncates, "other" for the
        LOB-like types copied whole (json, jsonb, xml, arrays), None for everything else."""
        base = self.type_sql
        if base in ("text", "character varying"):
            return "text"
        if base == "bytea":
            return "binary"
        if base in ("json", "jsonb", "xml") or base.endswith("[]"):
            return "other"
        return None


@dataclass(frozen=True)
class SourceTable:
    name: QualifiedName
    columns: tuple[SourceColumn, ...]
    primary_key: tuple[str, ...]  # column names, empty when the table has none
    estimated_rows: int  # pg_class.reltuples (-1 when never analysed)
    size_bytes: int
    partitioned: bool = False  # a partitioned table (its rows live in its partitions)


# DMS data types (a data-type block) as PostgreSQL target column types.
_PG_TYPES = {
    "int1": "smallint",
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "uint1": "smallint",
    "uint2": "integer",
    "uint4": "bigint",
    "uint8": "numeric(20,0)",
    "real4": "real",
    "real8": "double precision",
    "boolean": "boolean",
    "date": "date",
    "time": "time without time zone",
    "datetime": "timestamp without time zone",
    "bytes": "bytea",
    "blob": "bytea",
    "clob": "text",
    "nclob": "text",
}


def pg_type(data_type: dict[str, object]) -> str:
    """The PostgreSQL column type DMS creates for a data-type block (``{"type": "string", "length": 50}``)."""
    kind = str(data_type.get("type"))
    if kind in ("string", "wstring"):
        length = data_type.get("length")
        return f"character varying({int(str(length))})" if length not in (None, "") else "character varying"
    if kind == "numeric":
        precision, scale = data_type.get("precision"), data_type.get("scale")
        if precision in (None, ""):
            return "numeric"
        return f"numeric({int(str(precision))},{int(str(scale or 0))})"
    if kind == "datetime" and data_type.get("precision") not in (None, ""):
        return f"timestamp({int(str(data_type['precision']))}) without time zone"
    return _PG_TYPES.get(kind, "character varying")


@dataclass(frozen=True)
class ColumnPlan:
    """One target column: a source column (renamed, retyped, truncated) or an added one (``expression``)."""

    source: SourceColumn  # for an added column: a stand-in named like the target column
    target_name: str
    target_type: str = ""  # DDL type on the target; "" means the source's type
    select_sql: str = ""  # the SELECT expression that produces it; "" means the source column itself
    added: bool = False

    def __post_init__(self) -> None:
        if not self.target_type:
            object.__setattr__(self, "target_type", self.source.type_sql)

    @property
    def not_null(self) -> bool:
        return self.source.not_null and not self.added

    def select_expression(self) -> sql.Composable:
        if self.select_sql:
            return sql.SQL(self.select_sql)  # built here from identifiers and literals, never user text verbatim
        return sql.Identifier(self.source.name)


@dataclass(frozen=True)
class TablePreview:
    """One selected table: its source and target names, the columns copied (renamed) and the columns removed."""

    source: QualifiedName
    target: QualifiedName
    columns: tuple[ColumnPlan, ...]
    columns_removed: tuple[str, ...]
    load_order: int
    table: SourceTable
    where_sql: str = ""  # the source filters as a WHERE condition ("" = every row)
    key_columns: tuple[str, ...] | None = None  # define-primary-key's columns (target names); None: the source key
    refusal: str | None = None  # why DMS would not load this table (the engine fails the table with it)
    parallel_load: dict[str, object] | None = None  # the table-settings rule's parallel-load block, as written

    def select_query(self, segment: str = "", source: QualifiedName | None = None) -> sql.Composed:
        """SELECT <column expressions> FROM <source table> [WHERE <filters>]: what the full load reads. ``segment``
        (a condition from ``range_segments``) and ``source`` (a partition) narrow it to one parallel-load segment."""
        origin = source or self.source
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(c.select_expression() for c in self.columns),
            sql.Identifier(origin.schema, origin.table),
        )
        conditions = [f"({c})" for c in (self.where_sql, segment) if c]
        if conditions:
            query = query + sql.SQL(" WHERE ") + sql.SQL(" AND ".join(conditions))
        return query

    @property
    def renamed(self) -> bool:
        return self.source != self.target or any(c.source.name != c.target_name for c in self.columns)

    @property
    def primary_key_target(self) -> tuple[str, ...]:
        """The target's primary key, or () when a key column is removed (the key cannot be kept then)."""
        if self.key_columns is not None:
            return self.key_columns
        names = {c.source.name: c.target_name for c in self.columns if not c.added}
        if not self.table.primary_key or any(col not in names for col in self.table.primary_key):
            return ()
        return tuple(names[col] for col in self.table.primary_key)


_CATALOG_SQL = """
SELECT n.nspname, c.relname, c.reltuples::bigint, pg_table_size(c.oid),
       coalesce(array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce(array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce(array_agg(a.attnotnull ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce(array_agg(EXISTS (SELECT 1 FROM pg_type t
                                   LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
                                  WHERE t.oid = a.atttypid
                                    AND coalesce(e.typtype, t.typtype) IN ('e', 'd', 'c', 'r', 'm'))
                          ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
       coalesce((SELECT array_agg(pa.attname ORDER BY k.ord)
                   FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute pa ON pa.attrelid = i.indrelid AND pa.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
       c.relkind = 'p'
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%%'
 GROUP BY n.nspname, c.relname, c.reltuples, c.oid, c.relkind
 ORDER BY n.nspname, c.relname
"""


def read_source_catalog(conn: psycopg.Connection) -> list[SourceTable]:
    """Every user table of the connected database with its columns (generated columns left out: DMS skips them)."""
    tables: list[SourceTable] = []
    rows = conn.execute(_CATALOG_SQL).fetchall()
    for schema, table, reltuples, size, names, types, not_nulls, udts, pk, partitioned in rows:
        columns = tuple(
            SourceColumn(n, t, bool(nn), bool(u)) for n, t, nn, u in zip(names, types, not_nulls, udts, strict=True)
        )
        tables.append(
            SourceTable(QualifiedName(schema, table), columns, tuple(pk), int(reltuples), int(size), bool(partitioned))
        )
    return tables


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_COMPARISONS = {"eq": "=", "noteq": "<>", "lte": "<=", "ste": "<=", "gte": ">="}


def filter_condition(filters: Sequence[dict[str, object]]) -> str:
    """DMS source filters as a WHERE condition: filters ANDed, the conditions of one filter ORed."""
    ands: list[str] = []
    for flt in filters:
        column = _quote(str(flt.get("column-name")))
        ors: list[str] = []
        for cond in flt.get("filter-conditions") or []:  # type: ignore[attr-defined]
            op = cond.get("filter-operator")
            if op in _COMPARISONS:
                ors.append(f"{column} {_COMPARISONS[op]} {_literal(cond.get('value'))}")
            elif op in ("between", "notbetween"):
                neg = "NOT " if op == "notbetween" else ""
                low, high = _literal(cond.get("start-value")), _literal(cond.get("end-value"))
                ors.append(f"{column} {neg}BETWEEN {low} AND {high}")
            elif op == "null":
                ors.append(f"{column} IS NULL")
            elif op == "notnull":
                ors.append(f"{column} IS NOT NULL")
        if ors:
            ands.append("(" + " OR ".join(ors) + ")")
    return " AND ".join(ands)


def range_segments(parallel: dict[str, object]) -> list[str]:
    """parallel-load ``ranges`` as one WHERE condition per segment: N boundaries make N + 1 segments. A row belongs to
    the first segment whose boundary it is less than or equal to (columns compared in order, as a row), the rest to the
    last; a comparison that NULL leaves undecided counts as "not below", so every row lands in exactly one segment."""
    columns = [str(c) for c in parallel.get("columns") or []]  # type: ignore[attr-defined]
    boundaries = [list(b) for b in parallel.get("boundaries") or []]  # type: ignore[attr-defined]
    if not columns or not boundaries:
        return []
    row = "(" + ", ".join(_quote(c) for c in columns) + ")"
    below = [f"coalesce({row} <= ({', '.join(_literal(v) for v in b)}), false)" for b in boundaries]
    segments = []
    for i in range(len(below) + 1):
        earlier = " OR ".join(below[:i])
        parts = ([below[i]] if i < len(below) else []) + ([f"NOT ({earlier})"] if earlier else [])
        segments.append(" AND ".join(parts))
    return segments


def _added_column(rule: TransformationRule) -> ColumnPlan:
    from dms_tui.dmstask.expressions import ExpressionUnsupported, translate

    target_type = pg_type(rule.data_type or {})
    expression = "NULL"
    if rule.expression is not None:
        try:
            expression = translate(rule.expression).sql
        except ExpressionUnsupported:
            expression = "NULL"  # listed by TableMappings.sandbox_unsupported; the engine refuses the task first
    name = rule.value or ""
    stand_in = SourceColumn(name, target_type, False)
    return ColumnPlan(stand_in, name, target_type, f"({expression})::{target_type}", added=True)


def _column_plan(
    column: SourceColumn,
    target_name: str,
    mappings: TableMappings,
    schema: str,
    table: str,
    settings: TaskSettings | None,
) -> ColumnPlan:
    change = mappings.data_type_change(schema, table, column.name)
    target_type = column.type_sql
    if change is not None:
        target_type = pg_type(change)
    elif column.user_defined:
        target_type = "character varying"  # DMS creates user-defined types as character varying
    expression = _quote(column.name)
    if target_type != column.type_sql:
        expression = f"{expression}::{target_type}"
    tm = settings.target_metadata if settings is not None else None
    if tm is not None and tm.support_lobs and tm.limited_size_lob_mode and not tm.full_lob_mode:
        limit = tm.lob_max_size * 1024
        kind = SourceColumn(column.name, target_type, False).lob_kind
        if kind == "text":
            expression = f"left({expression}, {limit})"
        elif kind == "binary":
            expression = f"substring({expression} from 1 for {limit})"
    select = "" if expression == _quote(column.name) else expression
    return ColumnPlan(column, target_name, target_type, select)


def plan_tables(
    catalog: Sequence[SourceTable], mappings: TableMappings, settings: TaskSettings | None = None
) -> list[TablePreview]:
    """The selected tables in load order (higher load-order first, then by name) with their target names, types,
    select expressions and filters. ``settings`` (the task's) adds limited-LOB truncation and the full-LOB key rule."""
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
                columns.append(_column_plan(column, target_name, mappings, schema, name, settings))
        columns.extend(_added_column(rule) for rule in mappings.added_columns(schema, name))
        refusal = None
        filters = mappings.filters_for(schema, name)
        known = {c.name for c in table.columns}
        missing = sorted({str(f.get("column-name")) for f in filters} - known)
        if missing:
            refusal = f"filter column {', '.join(missing)} does not exist in {table.name}"
        key_columns = None
        definition = mappings.primary_key_definition(schema, name)
        if definition is not None and definition.primary_key_def is not None:
            by_source = {c.source.name: c.target_name for c in columns if not c.added}
            key_columns = tuple(by_source.get(str(c), str(c)) for c in definition.primary_key_def.get("columns", []))
        tm = settings.target_metadata if settings is not None else None
        has_key = bool(key_columns) or bool(table.primary_key)
        if tm is not None and tm.support_lobs and tm.full_lob_mode and not has_key:
            lobs = [c.target_name for c in columns if c.source.lob_kind is not None]
            if lobs:
                refusal = (
                    f"full LOB mode needs a primary key or unique index; {table.name} has LOB column(s) "
                    f"{', '.join(lobs)} and no key (DMS suspends such a table)"
                )
        target = QualifiedName(mappings.target_schema(schema), mappings.target_table(schema, name))
        plans.append(
            TablePreview(
                table.name,
                target,
                tuple(columns),
                tuple(removed),
                mappings.load_order(schema, name),
                table,
                where_sql=filter_condition(filters),
                key_columns=key_columns,
                refusal=refusal,
                parallel_load=mappings.parallel_load(schema, name),
            )
        )
    plans.sort(key=lambda p: (-p.load_order, p.source.schema, p.source.table))
    return plans


def preview(
    conn: psycopg.Connection, mappings: TableMappings, settings: TaskSettings | None = None
) -> list[TablePreview]:
    """What ``mappings`` select in the source database behind ``conn``, and what each table becomes on the target."""
    return plan_tables(read_source_catalog(conn), mappings, settings)
