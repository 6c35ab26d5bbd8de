"""Buckets of rows and their server-side checksums.

Integer keys are bucketed by key range: bucket ``b`` of shift ``s`` holds the keys ``b << s .. (b << s) + 2**s - 1``
(an arithmetic shift, so negative keys and huge gaps need no arithmetic that could overflow, and empty ranges
produce no group at all). A differing bucket that holds many rows is split into sub-ranges with an index range
scan ("re-bucketing"), until few rows are left to fetch. Other keys, and tables without a key, are bucketed by
the low bits of a hash (of the key, or of the whole row).

A bucket's checksum is ``(count(*), sum(row hash))``; the sum (not xor) keeps duplicates from cancelling out.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

INT8_MIN = -(2**63)
INT8_MAX = 2**63 - 1
SPLIT_BITS = 8  # a re-bucketed range is split into up to 2**8 sub-ranges


@dataclass(frozen=True)
class Checksum:
    """Row count and sum of row hashes of one bucket on one side."""

    rows: int
    hash_sum: int


Checksums = dict[int, Checksum]


def read_checksums(rows: list[tuple]) -> Checksums:
    """Rows of ``(bucket, count, sum)`` as returned by the scan queries."""
    return {int(bucket): Checksum(int(count), int(total)) for bucket, count, total in rows}


def differing_buckets(source: Checksums, target: Checksums) -> list[int]:
    """Buckets whose checksums differ, including buckets present on one side only (sorted)."""
    return sorted(b for b in source.keys() | target.keys() if source.get(b) != target.get(b))


def bucket_rows(bucket: int, source: Checksums, target: Checksums) -> int:
    """The larger of the two sides' row counts in ``bucket``."""
    return max(source.get(bucket, Checksum(0, 0)).rows, target.get(bucket, Checksum(0, 0)).rows)


# -- integer key ranges -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRange:
    """Keys ``low..high`` (inclusive) of an integer key, bucketed with ``shift``."""

    low: int
    high: int
    shift: int

    @classmethod
    def of_bucket(cls, bucket: int, shift: int) -> KeyRange:
        low = bucket << shift
        return cls(max(low, INT8_MIN), min(low + (1 << shift) - 1, INT8_MAX), shift)

    def split_shift(self) -> int:
        return max(0, self.shift - SPLIT_BITS)


def plan_shift(low: int, high: int, buckets: int) -> int:
    """The smallest shift that spreads keys ``low..high`` over at most ``buckets`` ranges (at least two when the
    keys straddle zero). Never more than 63: PostgreSQL's ``>>`` takes the shift count modulo 64."""
    shift = 0
    while (high >> shift) - (low >> shift) + 1 > max(buckets, 1) and shift < 63:
        shift += 1
    return shift


def range_scan(
    table: sql.Composable,
    key: str,
    row_hash: sql.Composable,
    shift: int,
    within: KeyRange | None,
    part: sql.Composable | None = None,
) -> sql.Composed:
    """Checksums per key range of ``table``, optionally restricted to one range (an index range scan) or to one
    part (a block range) of the table."""
    conditions: list[sql.Composable] = []
    if within is not None:
        conditions.append(
            sql.SQL("{key} BETWEEN CAST({low} AS int8) AND CAST({high} AS int8)").format(
                key=sql.Identifier(key), low=sql.Literal(within.low), high=sql.Literal(within.high)
            )
        )
    if part is not None:
        conditions.append(part)
    return sql.SQL(
        "SELECT ({key}::int8 >> {shift}) AS bucket, count(*), sum({hash}) FROM {table}{where} GROUP BY 1"
    ).format(key=sql.Identifier(key), shift=sql.Literal(shift), hash=row_hash, table=table, where=_where(conditions))


def total_scan(table: sql.Composable, row_hash: sql.Composable, part: sql.Composable | None = None) -> sql.Composed:
    """One checksum (as bucket 0) of the whole ``table`` or of one part of it: no grouping, the cheapest full pass.

    Grouping by bucket costs a hash-table probe per row (about a third of the scan on a six-column table), so a
    table is first checksummed whole and bucketed only when the two sides' totals differ."""
    return sql.SQL("SELECT 0 AS bucket, count(*), coalesce(sum({hash}), 0) FROM {table}{where}").format(
        hash=row_hash, table=table, where=_where([part] if part is not None else [])
    )


def _where(conditions: list[sql.Composable]) -> sql.Composable:
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


def block_ranges(blocks: int, parts: int) -> list[sql.Composable]:
    """Predicates splitting a table of ``blocks`` pages into ``parts`` TID ranges (TID range scans, PostgreSQL 14+).

    The first and last ranges are open-ended, so together they always cover the whole table.
    """
    bounds = [blocks * i // parts for i in range(1, parts)]
    if parts <= 1 or not bounds or len(set(bounds)) != len(bounds) or bounds[0] == 0:
        return []
    tids = [sql.Literal(f"({bound},0)") for bound in bounds]
    ranges: list[sql.Composable] = [sql.SQL("ctid < {}::tid").format(tids[0])]
    for low, high in zip(tids, tids[1:], strict=False):
        ranges.append(sql.SQL("ctid >= {}::tid AND ctid < {}::tid").format(low, high))
    ranges.append(sql.SQL("ctid >= {}::tid").format(tids[-1]))
    return ranges


def merge_checksums(parts: list[Checksums]) -> Checksums:
    """Checksums of a whole table from those of its parts (sums of counts and of hash sums)."""
    merged: Checksums = {}
    for part in parts:
        for bucket, checksum in part.items():
            seen = merged.get(bucket)
            merged[bucket] = (
                checksum if seen is None else Checksum(seen.rows + checksum.rows, seen.hash_sum + checksum.hash_sum)
            )
    return merged


def range_predicate(key: str, ranges: list[KeyRange]) -> sql.Composed:
    """``key BETWEEN .. OR ..`` for fetching the rows of some ranges."""
    return sql.SQL(" OR ").join(
        sql.SQL("{} BETWEEN {} AND {}").format(sql.Identifier(key), sql.Literal(r.low), sql.Literal(r.high))
        for r in ranges
    )


# -- hash buckets ---------------------------------------------------------------------------------------------------


def plan_hash_buckets(estimated_rows: int, rows_per_bucket: int = 128, most: int = 1 << 16) -> int:
    """A power of two near ``estimated_rows / rows_per_bucket``, between 1 and ``most``."""
    wanted = max(1, estimated_rows // rows_per_bucket)
    count = 1
    while count < wanted and count < most:
        count <<= 1
    return count


def hash_bucket(bucket_hash: sql.Composable, bucket_count: int) -> sql.Composed:
    """The bucket of a row: low bits of a hash (``& mask`` is never negative)."""
    return sql.SQL("({} & {})").format(bucket_hash, sql.Literal(bucket_count - 1))


def hash_scan(
    table: sql.Composable,
    bucket_hash: sql.Composable | None,
    row_hash: sql.Composable,
    bucket_count: int,
    part: sql.Composable | None = None,
) -> sql.Composed:
    """Checksums per hash bucket; ``bucket_hash`` None means bucket by the row hash itself (tables without a key)."""
    where = _where([part] if part is not None else [])
    if bucket_hash is None:
        # OFFSET 0 keeps the subquery, so the row hash is computed once per row, not twice.
        return sql.SQL(
            "SELECT (h & {mask}) AS bucket, count(*), sum(h) FROM (SELECT {hash} AS h FROM {table}{where} OFFSET 0) AS s "
            "GROUP BY 1"
        ).format(mask=sql.Literal(bucket_count - 1), hash=row_hash, table=table, where=where)
    return sql.SQL("SELECT {bucket} AS bucket, count(*), sum({hash}) FROM {table}{where} GROUP BY 1").format(
        bucket=hash_bucket(bucket_hash, bucket_count), hash=row_hash, table=table, where=where
    )
