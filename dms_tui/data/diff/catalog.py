"""Catalog step of the diff: which tables, which key, which columns, and how source and target shapes drift apart.

Nothing here reads rows; everything comes from pg_catalog so it is cheap even on very large tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

INTEGER_TYPE_OIDS = frozenset({20, 21, 23})  # int8, int2, int4
NUMERIC_TYPE_OID = 1700
TIMESTAMPTZ_TYPE_OID = 1184
BOOLEAN_TYPE_OID = 16
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")

TableMapping = Mapping[str, str] | Callable[[str], str | None]
"""Source "schema.table" -> target "schema.table", e.g. derived from a DMS task's rename rules."""


class CatalogReader(Protocol):
    """The one thing the catalog step needs from a database session."""

    def query(self, statement: str, params: Sequence[object] = ()) -> list[tuple]: ...


@dataclass(frozen=True, order=True)
class TableRef:
    """A schema-qualified table name."""

    schema: str
    name: str

    @classmethod
    def parse(cls, text: str) -> TableRef:
        """ "schema.table" or "table" (schema public); double quotes allow dots inside names."""
        parts = _split_qualified(text.strip())
        if len(parts) == 1:
            return cls("public", parts[0])
        if len(parts) == 2 and all(parts):
            return cls(parts[0], parts[1])
        raise ValueError(f"{text!r} is not a table name; write it as SCHEMA.TABLE, for example public.orders")

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


def _split_qualified(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            if quoted and i + 1 < len(text) and text[i + 1] == '"':
                current.append('"')
                i += 1
            else:
                quoted = not quoted
        elif char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Column:
    """One column as the catalog describes it."""

    name: str
    type_name: str  # format_type(): includes the typmod, e.g. numeric(12,2)
    base_type_oid: int  # the type itself, or a domain's base type
    not_null: bool
    hash_portable: bool  # the type's own hash function gives equal values equal hashes in any database
    hash_function: tuple[str, str] | None = None  # (schema, name) of the type's extended hash function
    hash_input_oid: int = 0  # the type that function takes
    is_array: bool = False

    @property
    def is_timestamptz(self) -> bool:
        return self.base_type_oid == TIMESTAMPTZ_TYPE_OID

    @property
    def is_boolean(self) -> bool:
        return self.base_type_oid == BOOLEAN_TYPE_OID

    @property
    def is_integer(self) -> bool:
        return self.base_type_oid in INTEGER_TYPE_OIDS

    @property
    def is_numeric(self) -> bool:
        return self.base_type_oid == NUMERIC_TYPE_OID


@dataclass(frozen=True)
class TableShape:
    """A table's columns (in attribute order), its key (None when it has none) and the planner's row estimate."""

    ref: TableRef
    columns: tuple[Column, ...]
    key: tuple[str, ...] | None
    estimated_rows: int

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_LIST_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
ORDER BY 1, 2
"""

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), bt.oid, a.attnotnull,
       CASE WHEN bt.typcategory = 'A' THEN bt.typelem ELSE bt.oid END, bt.typcategory = 'A'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = coalesce(nullif(t.typbasetype, 0), a.atttypid)
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

# A type's hash is portable when a default hash operator class exists for the type itself (enums only have the
# polymorphic anyenum class, which hashes the enum's OID: different in every database) or, for arrays, for the
# element type. Types without any hash support (json, xml, geometric types) are compared through their text form.
_HASHABLE_TYPES = """
SELECT oc.opcintype, pn.nspname, p.proname, p.proargtypes[0]
FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
LEFT JOIN pg_amproc ap ON ap.amprocfamily = oc.opcfamily AND ap.amproclefttype = oc.opcintype
     AND ap.amprocrighttype = oc.opcintype AND ap.amprocnum = 2
LEFT JOIN pg_proc p ON p.oid = ap.amproc LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE am.amname = 'hash' AND oc.opcdefault
"""

_UNIQUE_INDEXES = """
SELECT i.indisprimary,
       array(SELECT a.attname FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
       NOT EXISTS (SELECT 1 FROM unnest(i.indkey[0:i.indnkeyatts - 1]) k(attnum)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE NOT a.attnotnull)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND i.indisunique AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL AND 0 <> ALL (i.indkey)
"""

_ESTIMATE = """
SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""


def list_tables(db: CatalogReader) -> list[TableRef]:
    """Every ordinary or partitioned table outside the system schemas (partitions are covered by their parent)."""
    return [TableRef(schema, name) for schema, name in db.query(_LIST_TABLES)]


def load_shape(db: CatalogReader, ref: TableRef) -> TableShape | None:
    """The table's shape, or None when it does not exist."""
    rows = db.query(_COLUMNS, (ref.schema, ref.name))
    if not rows:
        return None
    hash_functions: dict[int, tuple[tuple[str, str] | None, int]] = {
        int(oid): ((schema, proname) if proname else None, int(arg or 0))
        for oid, schema, proname, arg in db.query(_HASHABLE_TYPES)
    }
    columns = []
    for name, type_name, base, nn, hashed_as, is_array in rows:
        portable = int(hashed_as) in hash_functions
        function, input_oid = hash_functions.get(int(base), (None, 0))
        columns.append(Column(name, type_name, int(base), bool(nn), portable, function, input_oid, bool(is_array)))
    estimate = db.query(_ESTIMATE, (ref.schema, ref.name))
    return TableShape(
        ref, tuple(columns), choose_key(db.query(_UNIQUE_INDEXES, (ref.schema, ref.name))), int(estimate[0][0])
    )


def choose_key(indexes: Sequence[tuple]) -> tuple[str, ...] | None:
    """The primary key, else the narrowest unique index whose columns are all NOT NULL, else None."""
    primary = [tuple(cols) for is_primary, cols, _ in indexes if is_primary]
    if primary:
        return primary[0]
    candidates = sorted((tuple(cols) for _, cols, all_not_null in indexes if all_not_null), key=lambda c: (len(c), c))
    return candidates[0] if candidates else None


def target_name(source: TableRef, mapping: TableMapping | None) -> TableRef:
    """Where ``source`` lives in the target: renamed through the mapping when it says so, else the same name."""
    if mapping is None:
        return source
    renamed = mapping(str(source)) if callable(mapping) else mapping.get(str(source))
    return TableRef.parse(renamed) if renamed else source


@dataclass(frozen=True)
class ShapeComparison:
    """How two shapes line up: the columns compared (source order), the key used, and the drift found."""

    columns: tuple[str, ...]
    key: tuple[str, ...] | None
    retyped: frozenset[str]  # common columns whose types differ: compared by canonical text on both sides
    drift: tuple[str, ...]


def compare_shapes(source: TableShape, target: TableShape) -> ShapeComparison:
    """Compare column lists, types and keys; rows are compared on the common columns only."""
    target_columns = {c.name: c for c in target.columns}
    source_names = {c.name for c in source.columns}
    drift: list[str] = []
    common: list[str] = []
    retyped: set[str] = set()
    for column in source.columns:
        other = target_columns.get(column.name)
        if other is None:
            drift.append(f"column {column.name} ({column.type_name}) is missing in the target")
            continue
        common.append(column.name)
        if other.type_name != column.type_name:
            drift.append(
                f"column {column.name} changed type: {column.type_name} in source, {other.type_name} in target"
            )
            retyped.add(column.name)
    for column in target.columns:
        if column.name not in source_names:
            drift.append(f"column {column.name} ({column.type_name}) exists only in the target")
    key = source.key if source.key and all(name in common for name in source.key) else None
    if source.key != target.key:
        drift.append(f"key differs: {_describe_key(source.key)} in source, {_describe_key(target.key)} in target")
    return ShapeComparison(tuple(common), key, frozenset(retyped), tuple(drift))


def _describe_key(key: tuple[str, ...] | None) -> str:
    return f"({', '.join(key)})" if key else "none"
