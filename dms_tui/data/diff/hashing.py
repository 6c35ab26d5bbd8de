"""Server-side row hashes that are type- and NULL-safe and do not depend on session settings.

Four strategies; the best one both servers support is used unless one is forced:

- COLUMNS (PostgreSQL 11+, the default): each column is hashed by its type's own extended hash function, seeded
  with its position, and the row hash is the xor of the column hashes. A NULL becomes a constant that depends on
  its position, so NULL differs from '' and a NULL moving to another column changes the hash. Equal values hash
  equal whatever their text form (numeric 1.5 = 1.50, floats by value); a timestamptz is hashed as a timestamp in
  the pinned UTC session, i.e. as its instant. Types whose hash is not portable or that have none (enums, json,
  xml, geometric types, date, whose hash function takes another type) are hashed as canonical text; a boolean
  becomes one of three constants per position (true, false, NULL).
  This is the cheapest per row: no row value is built and no text is formatted for most types.
- RECORD (PostgreSQL 14+, when asked for): ``hash_record_extended(ROW(c1, c2, ...), 0)``. Each column is hashed by its type's own
  hash function, so equal values hash equal whatever their text form: ``1.5 = 1.50`` (numeric), a timestamptz is
  hashed as its UTC instant (TimeZone does not matter), a float as its value. A NULL contributes differently from
  every value and, because the combination is order-dependent, the position of a NULL matters. Types whose hash is
  not portable between databases (enums hash their OID) or that have no hash at all (json, xml, geometric types)
  are cast to text first.
- TEXT (PostgreSQL 11+, when asked for): ``hashtextextended(ROW(canonical texts)::text, 0)``. The record's text form quotes
  ``''`` as ``""`` and leaves NULL empty, so NULL and '' differ and positions matter; numerics are normalised by
  dropping trailing zeros, and the session is pinned to UTC / ISO / extra_float_digits=3 so text forms agree.
- MD5 (older servers): the same canonical text through md5, folded to 64 bits.

Bucket checksums sum the row hashes (xor would let duplicate rows of a key-less table cancel out).

Decisions: ``json`` compares by its exact stored text (whitespace and key order are part of a json value; use
``jsonb`` for semantic equality, which hashes natively). Columns whose types differ between source and target are
compared by canonical text on both sides so that, say, ``integer`` and ``bigint`` still match.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from psycopg import sql

from dms_tui.data.diff.catalog import Column


class HashStrategy(Enum):
    COLUMNS = "columns"
    RECORD = "record"
    TEXT = "text"
    MD5 = "md5"


def strategy_for(server_version: int) -> HashStrategy:
    """The best strategy a server supports (``server_version`` as libpq reports it, e.g. 150018)."""
    if server_version >= 110000:
        return HashStrategy.COLUMNS
    return HashStrategy.MD5


def common_strategy(*server_versions: int) -> HashStrategy:
    """The strategy both sides support: the weakest of theirs."""
    order = [HashStrategy.MD5, HashStrategy.TEXT, HashStrategy.RECORD, HashStrategy.COLUMNS]
    return min((strategy_for(v) for v in server_versions), key=order.index)


def canonical_text(column: Column, *, trim_scale: bool) -> sql.Composable:
    """The column's text form with numeric scale normalised (1.50 -> 1.5); NULL stays NULL."""
    ident = sql.Identifier(column.name)
    if column.is_numeric:
        if trim_scale:
            return sql.SQL("trim_scale({})::text").format(ident)
        # Before PostgreSQL 13 there is no trim_scale(): strip trailing zeros of the fraction by hand.
        return sql.SQL(
            "CASE WHEN strpos({0}::text, '.') > 0 THEN rtrim(rtrim({0}::text, '0'), '.') ELSE {0}::text END"
        ).format(ident)
    return sql.SQL("{}::text").format(ident)


def hashed_value(column: Column, strategy: HashStrategy, *, as_text: bool, trim_scale: bool) -> sql.Composable:
    """What goes into the row hash for ``column``: the value itself when its type hashes portably, else text."""
    if strategy is HashStrategy.RECORD and column.hash_portable and not as_text:
        return sql.Identifier(column.name)
    return canonical_text(column, trim_scale=trim_scale)


def combine(values: Sequence[sql.Composable], strategy: HashStrategy) -> sql.Composable:
    """A bigint hash of the given values (in order)."""
    if not values:
        return sql.SQL("0::bigint")
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(values))
    if strategy is HashStrategy.RECORD:
        return sql.SQL("hash_record_extended({}, 0)").format(row)
    if strategy is HashStrategy.TEXT:
        return sql.SQL("hashtextextended({}::text, 0)").format(row)
    return sql.SQL("('x' || substr(md5({}::text), 1, 16))::bit(64)::bigint").format(row)


_TEXT_HASH = ("pg_catalog", "hashtextextended")
_ARRAY_HASH = ("pg_catalog", "hash_array_extended")
_TIMESTAMP_HASH = ("pg_catalog", "timestamp_hash_extended")


_TRUE_SEED = 1 << 20  # offsets that keep a boolean's constants apart from every position's NULL constant
_FALSE_SEED = 1 << 21


def null_hash(seed: int) -> int:
    """The hash standing for NULL in column ``seed``: fixed, different per position, a valid bigint."""
    return ((seed + 1) * 0x9E3779B97F4A7C15) % (1 << 63) - (1 << 62)


def column_hash(column: Column, seed: int, *, as_text: bool, trim_scale: bool) -> sql.Composable:
    """A bigint hash of one column value (never NULL), seeded with the column's position (COLUMNS strategy)."""
    ident = sql.Identifier(column.name)
    if column.is_boolean and not as_text:
        # Two values and NULL: three constants per position, with no function call per row (a third of the
        # cost of hashing the text form on a six-column table).
        return sql.SQL("CASE WHEN {0} THEN {1} WHEN NOT {0} THEN {2} ELSE {3} END").format(
            ident,
            sql.Literal(null_hash(seed + _TRUE_SEED)),
            sql.Literal(null_hash(seed + _FALSE_SEED)),
            sql.Literal(null_hash(seed)),
        )
    value: sql.Composable = ident
    function = _TEXT_HASH
    if as_text or not column.hash_portable:
        value = canonical_text(column, trim_scale=trim_scale)
    elif column.is_array:
        function = _ARRAY_HASH
    elif column.is_timestamptz:
        # Same representation as timestamp; the session is pinned to UTC, so the cast keeps the instant.
        function, value = _TIMESTAMP_HASH, sql.SQL("{}::timestamp").format(ident)
    elif column.hash_function is not None and column.hash_input_oid == column.base_type_oid:
        function = column.hash_function
    else:
        value = canonical_text(column, trim_scale=trim_scale)
    return sql.SQL("coalesce({}({}, {}), {})").format(
        sql.Identifier(*function), value, sql.Literal(seed), sql.Literal(null_hash(seed))
    )


class RowHasher:
    """Builds the hash expressions of one side of one table pair."""

    def __init__(
        self, columns: Sequence[Column], *, strategy: HashStrategy, retyped: frozenset[str], trim_scale: bool
    ) -> None:
        self.columns = tuple(columns)
        self.strategy = strategy
        self._retyped = retyped
        self._trim_scale = trim_scale

    def value(self, column: Column) -> sql.Composable:
        return hashed_value(column, self.strategy, as_text=column.name in self._retyped, trim_scale=self._trim_scale)

    def row_hash(self) -> sql.Composable:
        """Hash of the whole row (all compared columns)."""
        return self.hash_of([c.name for c in self.columns])

    def hash_of(self, names: Sequence[str]) -> sql.Composable:
        """Hash of some columns (the key, or a single column as its fingerprint)."""
        positions = {c.name: i for i, c in enumerate(self.columns)}
        if self.strategy is HashStrategy.COLUMNS:
            if not names:
                return sql.SQL("0::bigint")
            hashes = [
                column_hash(
                    self.columns[positions[name]],
                    positions[name],
                    as_text=name in self._retyped,
                    trim_scale=self._trim_scale,
                )
                for name in names
            ]
            return sql.SQL("({})").format(sql.SQL(" # ").join(hashes))
        return combine([self.value(self.columns[positions[name]]) for name in names], self.strategy)
