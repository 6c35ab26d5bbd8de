"""The row diff: pair tables, compare bucket checksums computed in both databases at once, then fetch and compare
only the rows of the buckets that differ.

Usage::

    report = diff_databases(source_url, target_url, tables=["public.orders"], on_event=print)

Each side reads one snapshot (REPEATABLE READ, READ ONLY) on its own connection; the two sides' queries run
concurrently on two threads (psycopg releases the GIL while the server works).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from psycopg import sql

from dms_tui.data.diff import buckets
from dms_tui.data.diff.buckets import Checksums, KeyRange
from dms_tui.data.diff.catalog import (
    Column,
    ShapeComparison,
    TableMapping,
    TableRef,
    TableShape,
    compare_shapes,
    list_tables,
    load_shape,
    target_name,
)
from dms_tui.data.diff.errors import DiffError
from dms_tui.data.diff.events import BucketsScanned, DiffEvent, Rechecking, TableCompared, TableStarted
from dms_tui.data.diff.hashing import HashStrategy, RowHasher, common_strategy
from dms_tui.data.diff.result import CellChange, CellText, ChangedRow, DiffReport, RowImage, TableDiff
from dms_tui.data.diff.session import SnapshotSession

T = TypeVar("T")
EventSink = Callable[[DiffEvent], None]


@dataclass(frozen=True)
class DiffOptions:
    """Tuning knobs; the defaults suit tables from a few rows to tens of millions."""

    max_rows: int = 1000  # per list (missing / extra / changed) and table
    recheck: bool = True  # re-read differing rows once from fresh snapshots (a task may still be applying changes)
    recheck_delay_seconds: float = 0.5
    range_buckets: int = 4096  # most key ranges in the first pass over an integer key
    rows_per_range_bucket: int = 512
    rows_per_hash_bucket: int = 128
    leaf_rows: int = 1024  # a differing key range holding more rows is split again before its rows are fetched
    fetch_batch: int = 64  # buckets whose rows are fetched by one query
    scan_parts: int = 3  # the first pass over a large table runs as this many block-range scans per side at once
    min_blocks_to_split: int = 2048  # tables smaller than this (in 8 kB pages) are scanned in one piece
    strategy: HashStrategy | None = None  # None: the best that both servers support
    whole_table_first: bool = True  # one ungrouped checksum per table first; buckets only when the totals differ


def diff_databases(
    source_url: str,
    target_url: str,
    *,
    tables: Sequence[str] | None = None,
    mapping: TableMapping | None = None,
    options: DiffOptions | None = None,
    on_event: EventSink | None = None,
) -> DiffReport:
    """Compare ``tables`` (default: every source table outside the system schemas) of two databases."""
    started = time.perf_counter()
    refs = [_parse_table(t) for t in tables] if tables else None
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="dms-tui-diff") as pool:
        source, target = _open_both(pool, source_url, target_url)
        try:
            differ = DatabaseDiffer(source, target, pool, options or DiffOptions(), on_event or _ignore)
            refs = refs if refs is not None else list_tables(source)
            results = [differ.compare(ref, target_name(ref, mapping), i, len(refs)) for i, ref in enumerate(refs, 1)]
        finally:
            source.close()
            target.close()
    return DiffReport(tuple(results), time.perf_counter() - started)


def _open_both(pool: ThreadPoolExecutor, source_url: str, target_url: str) -> tuple[SnapshotSession, SnapshotSession]:
    """Log in to both databases at once; if one fails, the other session is closed again."""
    pending_target = pool.submit(SnapshotSession, target_url, "target")
    try:
        source = SnapshotSession(source_url, "source")
    except BaseException:
        with contextlib.suppress(Exception):
            pending_target.result().close()
        raise
    try:
        return source, pending_target.result()
    except BaseException:
        source.close()
        raise


def _parse_table(text: str) -> TableRef:
    try:
        return TableRef.parse(text)
    except ValueError as exc:
        raise DiffError(str(exc)) from None


def _ignore(_event: DiffEvent) -> None:
    return None


class DatabaseDiffer:
    """Compares table pairs over two open snapshot sessions."""

    def __init__(
        self,
        source: SnapshotSession,
        target: SnapshotSession,
        pool: ThreadPoolExecutor,
        options: DiffOptions,
        emit: EventSink,
    ) -> None:
        self.source = source
        self.target = target
        self.pool = pool
        self.options = options
        self.emit = emit
        self.strategy = options.strategy or common_strategy(source.server_version, target.server_version)
        self.trim_scale = min(source.server_version, target.server_version) >= 130000

    def both(self, on_source: Callable[[SnapshotSession], T], on_target: Callable[[SnapshotSession], T]) -> tuple[T, T]:
        """Run one call per side concurrently."""
        pending = self.pool.submit(on_target, self.target)
        return on_source(self.source), pending.result()

    def compare(self, source_ref: TableRef, target_ref: TableRef, position: int, total: int) -> TableDiff:
        self.emit(TableStarted(str(source_ref), str(target_ref), position, total))
        started = time.perf_counter()
        source_shape, target_shape = self.both(lambda s: load_shape(s, source_ref), lambda s: load_shape(s, target_ref))
        if source_shape is None:
            raise DiffError(
                f"Table {source_ref} does not exist in the source database at {self.source.where}. "
                "Check the name (SCHEMA.TABLE) or omit --table to compare every table."
            )
        if target_shape is None:
            diff = self._missing_target(source_shape, target_ref, started)
        else:
            diff = TableComparison(self, source_shape, target_shape, compare_shapes(source_shape, target_shape)).run(
                started
            )
        self.emit(TableCompared(diff))
        return diff

    def _missing_target(self, shape: TableShape, target_ref: TableRef, started: float) -> TableDiff:
        rows = self.source.query(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(shape.ref.schema, shape.ref.name))
        )
        return TableDiff(
            source_table=str(shape.ref),
            target_table=str(target_ref),
            key=shape.key,
            columns=tuple(c.name for c in shape.columns),
            source_rows=int(rows[0][0]),
            target_rows=0,
            schema_drift=(f"table {target_ref} does not exist in the target",),
            elapsed_seconds=time.perf_counter() - started,
        )


@dataclass
class _Found:
    """Differences collected so far for one table."""

    missing: list[RowImage]
    extra: list[RowImage]
    changed: list[ChangedRow]

    @classmethod
    def empty(cls) -> _Found:
        return cls([], [], [])

    def count(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.changed)

    def full(self, limit: int) -> bool:
        return max(len(self.missing), len(self.extra), len(self.changed)) >= limit


_BLOCKS = """
SELECT pg_relation_size(c.oid) / current_setting('block_size')::int8
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'
"""

Leaf = KeyRange | int  # a key range (integer keys) or a hash bucket number


class TableComparison:
    """The comparison of one table pair whose shapes are known."""

    def __init__(self, differ: DatabaseDiffer, source: TableShape, target: TableShape, shape: ShapeComparison) -> None:
        self.differ = differ
        self.options = differ.options
        self.source_shape = source
        self.target_shape = target
        self.shape = shape
        self.columns = shape.columns
        self.key = shape.key
        self.source_table = sql.Identifier(source.ref.schema, source.ref.name)
        self.target_table = sql.Identifier(target.ref.schema, target.ref.name)
        self.source_hasher = self._hasher([source.column(n) for n in shape.columns])
        self.target_hasher = self._hasher([target.column(n) for n in shape.columns])
        key_columns = [source.column(n) for n in self.key] if self.key else []
        self.integer_key: str | None = None
        if len(key_columns) == 1 and key_columns[0].is_integer and target.column(key_columns[0].name).is_integer:
            self.integer_key = key_columns[0].name
        self.hash_buckets = 1
        self.rows_read = 0
        self.buckets_compared = 0

    def _hasher(self, columns: list[Column]) -> RowHasher:
        return RowHasher(
            columns, strategy=self.differ.strategy, retyped=self.shape.retyped, trim_scale=self.differ.trim_scale
        )

    # -- the run --------------------------------------------------------------------------------------------------

    def run(self, started: float) -> TableDiff:
        self.started = started
        if self.options.whole_table_first:
            source_total, target_total = self._whole_pass()
            if source_total == target_total:
                rows = sum(c.rows for c in source_total.values())
                return self._result(rows, rows, _Found.empty(), truncated=False, rechecked=False)
        source_sums, target_sums = self._first_pass()
        source_rows = sum(c.rows for c in source_sums.values())
        target_rows = sum(c.rows for c in target_sums.values())
        differing = buckets.differing_buckets(source_sums, target_sums)
        found = _Found.empty()
        fetched: list[Leaf] = []
        truncated = False
        if differing:
            leaves = self._leaves(differing, source_sums, target_sums)
            truncated = self._collect(leaves, found, fetched)
        rechecked = False
        if found.count() and self.options.recheck:
            self.differ.emit(Rechecking(str(self.source_shape.ref), found.count(), self.options.recheck_delay_seconds))
            time.sleep(self.options.recheck_delay_seconds)
            self.differ.source.renew_snapshot()
            self.differ.target.renew_snapshot()
            found = _Found.empty()
            truncated = self._collect(iter(list(fetched)), found, []) or truncated
            rechecked = True
        return self._result(source_rows, target_rows, found, truncated=truncated, rechecked=rechecked)

    def _result(
        self, source_rows: int, target_rows: int, found: _Found, *, truncated: bool, rechecked: bool
    ) -> TableDiff:
        limit = self.options.max_rows
        truncated = truncated or found.full(limit + 1)
        return TableDiff(
            source_table=str(self.source_shape.ref),
            target_table=str(self.target_shape.ref),
            key=self.key,
            columns=self.columns,
            source_rows=source_rows,
            target_rows=target_rows,
            missing_in_target=tuple(found.missing[:limit]),
            extra_in_target=tuple(found.extra[:limit]),
            changed=tuple(found.changed[:limit]),
            schema_drift=self.shape.drift,
            truncated=truncated,
            elapsed_seconds=time.perf_counter() - self.started,
            rechecked=rechecked,
        )

    def _scanned(self, source: Checksums, target: Checksums, differing: int) -> None:
        self.buckets_compared += len(source.keys() | target.keys())
        self.rows_read += sum(c.rows for c in source.values()) + sum(c.rows for c in target.values())
        self.differ.emit(
            BucketsScanned(
                str(self.source_shape.ref),
                self.buckets_compared,
                differing,
                self.rows_read,
                time.perf_counter() - self.started,
            )
        )

    def _checksums(self, make: Callable[[sql.Composable, RowHasher], sql.Composable]) -> tuple[Checksums, Checksums]:
        source_query = make(self.source_table, self.source_hasher)
        target_query = make(self.target_table, self.target_hasher)
        source, target = self.differ.both(lambda s: s.query(source_query), lambda s: s.query(target_query))
        return buckets.read_checksums(source), buckets.read_checksums(target)

    def _split_checksums(
        self, make: Callable[[sql.Composable, RowHasher, sql.Composable | None], sql.Composable]
    ) -> tuple[Checksums, Checksums]:
        """Checksums of a full pass, each side split into block ranges scanned concurrently when it is large."""

        def scan(session: SnapshotSession, shape: TableShape, table: sql.Composable, hasher: RowHasher) -> Checksums:
            parts = self._block_ranges(session, shape)
            statements = [make(table, hasher, part) for part in parts] if parts else [make(table, hasher, None)]
            results = session.query_in_parallel(statements)
            return buckets.merge_checksums([buckets.read_checksums(rows) for rows in results])

        return self.differ.both(
            lambda s: scan(s, self.source_shape, self.source_table, self.source_hasher),
            lambda s: scan(s, self.target_shape, self.target_table, self.target_hasher),
        )

    def _block_ranges(self, session: SnapshotSession, shape: TableShape) -> list[sql.Composable]:
        if self.options.scan_parts <= 1 or session.server_version < 140000:  # TID range scans came with 14
            return []
        rows = session.query(_BLOCKS, (shape.ref.schema, shape.ref.name))
        blocks = int(rows[0][0]) if rows else 0  # no row: a partitioned table, scanned in one piece
        if blocks < self.options.min_blocks_to_split:
            return []
        return buckets.block_ranges(blocks, self.options.scan_parts)

    def _whole_pass(self) -> tuple[Checksums, Checksums]:
        """Each side's whole-table checksum (one bucket): equal totals prove the table pair identical."""
        sums = self._split_checksums(lambda table, hasher, part: buckets.total_scan(table, hasher.row_hash(), part))
        self._scanned(*sums, len(buckets.differing_buckets(*sums)))
        return sums

    def _first_pass(self) -> tuple[Checksums, Checksums]:
        if self.integer_key is not None:
            key = self.integer_key
            bounds_query = sql.SQL("SELECT min({k})::int8, max({k})::int8 FROM {t}")
            source_bounds, target_bounds = self.differ.both(
                lambda s: s.query(bounds_query.format(k=sql.Identifier(key), t=self.source_table)),
                lambda s: s.query(bounds_query.format(k=sql.Identifier(key), t=self.target_table)),
            )
            lows = [b[0][0] for b in (source_bounds, target_bounds) if b[0][0] is not None]
            highs = [b[0][1] for b in (source_bounds, target_bounds) if b[0][1] is not None]
            if not lows:
                self._scanned({}, {}, 0)
                return {}, {}
            estimate = max(self.source_shape.estimated_rows, self.target_shape.estimated_rows)
            wanted = self.options.range_buckets
            if estimate > 0:
                wanted = max(1, min(wanted, estimate // self.options.rows_per_range_bucket))
            self.shift = buckets.plan_shift(min(lows), max(highs), wanted)
            sums = self._split_checksums(
                lambda table, hasher, part: buckets.range_scan(table, key, hasher.row_hash(), self.shift, None, part)
            )
        else:
            estimate = max(self.source_shape.estimated_rows, self.target_shape.estimated_rows)
            self.hash_buckets = buckets.plan_hash_buckets(estimate, self.options.rows_per_hash_bucket)
            sums = self._split_checksums(
                lambda table, hasher, part: buckets.hash_scan(
                    table, self._bucket_hash(hasher), hasher.row_hash(), self.hash_buckets, part
                )
            )
        self._scanned(*sums, len(buckets.differing_buckets(*sums)))
        return sums

    def _bucket_hash(self, hasher: RowHasher) -> sql.Composable | None:
        return hasher.hash_of(self.key) if self.key else None

    # -- from differing buckets to the rows to fetch -------------------------------------------------------------

    def _leaves(self, differing: list[int], source: Checksums, target: Checksums) -> Iterator[Leaf]:
        if self.integer_key is None:
            yield from differing
            return
        key = self.integer_key
        pending = [(KeyRange.of_bucket(b, self.shift), buckets.bucket_rows(b, source, target)) for b in differing]
        while pending:
            key_range, rows = pending.pop(0)
            if rows <= self.options.leaf_rows or key_range.shift == 0:
                yield key_range
                continue
            # A skewed or large bucket: split its key range with an index range scan on both sides.
            shift = key_range.split_shift()

            def split(
                table: sql.Composable, hasher: RowHasher, r: KeyRange = key_range, s: int = shift
            ) -> sql.Composable:
                return buckets.range_scan(table, key, hasher.row_hash(), s, r)

            sub_source, sub_target = self._checksums(split)
            sub_differing = buckets.differing_buckets(sub_source, sub_target)
            self._scanned(sub_source, sub_target, len(sub_differing))
            pending[0:0] = [
                (KeyRange.of_bucket(b, shift), buckets.bucket_rows(b, sub_source, sub_target)) for b in sub_differing
            ]

    def _collect(self, leaves: Iterator[Leaf], found: _Found, fetched: list[Leaf]) -> bool:
        """Fetch and compare the rows of ``leaves`` in batches; True when stopped early at ``max_rows``."""
        batch: list[Leaf] = []
        for leaf in leaves:
            batch.append(leaf)
            if len(batch) >= self.options.fetch_batch:
                self._compare_rows(batch, found)
                fetched.extend(batch)
                batch = []
                if found.full(self.options.max_rows):
                    return next(leaves, None) is not None
        if batch:
            self._compare_rows(batch, found)
            fetched.extend(batch)
        return False

    # -- fetching and comparing rows -------------------------------------------------------------------------------

    def _predicate(self, leaves: list[Leaf], hasher: RowHasher) -> sql.Composable:
        if self.integer_key is not None:
            return buckets.range_predicate(self.integer_key, [leaf for leaf in leaves if isinstance(leaf, KeyRange)])
        bucket_hash = self._bucket_hash(hasher) or hasher.row_hash()
        numbers = sql.SQL(", ").join(sql.Literal(leaf) for leaf in leaves if isinstance(leaf, int))
        return sql.SQL("{} IN ({})").format(buckets.hash_bucket(bucket_hash, self.hash_buckets), numbers)

    def _fetch_query(self, table: sql.Composable, hasher: RowHasher, leaves: list[Leaf]) -> sql.Composed:
        shown = [sql.SQL("{}::text").format(sql.Identifier(name)) for name in self.columns]
        fingerprints = [hasher.hash_of([name]) for name in self.columns]
        select = sql.SQL(", ").join([*shown, *fingerprints])
        where = self._predicate(leaves, hasher)
        if self.key:
            order = sql.SQL(", ").join(sql.Identifier(name) for name in self.key)
            return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(select, table, where, order)
        positions = sql.SQL(", ").join(sql.Literal(i) for i in range(1, 2 * len(self.columns) + 1))
        return sql.SQL("SELECT {}, count(*) FROM {} WHERE {} GROUP BY {} ORDER BY {}").format(
            select, table, where, positions, positions
        )

    def _compare_rows(self, leaves: list[Leaf], found: _Found) -> None:
        source_query = self._fetch_query(self.source_table, self.source_hasher, leaves)
        target_query = self._fetch_query(self.target_table, self.target_hasher, leaves)
        source_rows, target_rows = self.differ.both(lambda s: s.query(source_query), lambda s: s.query(target_query))
        if self.key:
            self._compare_keyed(source_rows, target_rows, found)
        else:
            self._compare_multisets(source_rows, target_rows, found)

    def _split(self, row: tuple) -> tuple[dict[str, CellText], tuple]:
        width = len(self.columns)
        return dict(zip(self.columns, row[:width], strict=True)), tuple(row[width : 2 * width])

    def _compare_keyed(self, source_rows: list[tuple], target_rows: list[tuple], found: _Found) -> None:
        assert self.key is not None
        positions = [self.columns.index(name) for name in self.key]

        def index(rows: list[tuple]) -> dict[tuple, tuple[dict[str, CellText], tuple]]:
            indexed = {}
            for raw in rows:
                shown, prints = self._split(raw)
                indexed[tuple(prints[i] for i in positions)] = (shown, prints)
            return indexed

        source, target = index(source_rows), index(target_rows)
        for identity, (shown, prints) in source.items():
            key = {name: shown[name] for name in self.key}
            other = target.get(identity)
            if other is None:
                found.missing.append(RowImage(key, shown, 1, 1, 0))
            elif other[1] != prints:
                other_shown = other[0]
                changes = {
                    name: CellChange(shown[name], other_shown[name])
                    for i, name in enumerate(self.columns)
                    if prints[i] != other[1][i]
                }
                found.changed.append(ChangedRow(key, changes, shown, other_shown))
        for identity, (shown, _prints) in target.items():
            if identity not in source:
                found.extra.append(RowImage({name: shown[name] for name in self.key}, shown, 1, 0, 1))

    def _compare_multisets(self, source_rows: list[tuple], target_rows: list[tuple], found: _Found) -> None:
        def tally(rows: list[tuple]) -> dict[tuple, tuple[dict[str, CellText], int]]:
            counts: dict[tuple, tuple[dict[str, CellText], int]] = {}
            for raw in rows:
                shown, prints = self._split(raw)
                seen = counts.get(prints)
                # 1.5 and 1.50 are one value with two text forms: count them together, show the first.
                counts[prints] = (seen[0] if seen else shown, (seen[1] if seen else 0) + int(raw[-1]))
            return counts

        source, target = tally(source_rows), tally(target_rows)
        for prints, (shown, n) in source.items():
            m = target.get(prints, ({}, 0))[1]
            if n > m:
                found.missing.append(RowImage(None, shown, n - m, n, m))
        for prints, (shown, m) in target.items():
            n = source.get(prints, ({}, 0))[1]
            if m > n:
                found.extra.append(RowImage(None, shown, m - n, n, m))
