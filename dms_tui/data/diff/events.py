"""Progress of a running diff, as typed events for the Diff screen and the headless command."""

from __future__ import annotations

from dataclasses import dataclass

from dms_tui.data.diff.result import TableDiff


@dataclass(frozen=True)
class TableStarted:
    """Comparison of table ``position`` (1-based) of ``total`` begins."""

    source_table: str
    target_table: str
    position: int
    total: int


@dataclass(frozen=True)
class BucketsScanned:
    """A checksum pass finished: ``buckets`` compared so far for this table, ``rows`` read on both sides."""

    source_table: str
    buckets: int
    differing: int
    rows: int
    elapsed_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0


@dataclass(frozen=True)
class Rechecking:
    """Differences were found; they are read again from fresh snapshots after ``delay_seconds``."""

    source_table: str
    differences: int
    delay_seconds: float


@dataclass(frozen=True)
class TableCompared:
    """One table is done."""

    diff: TableDiff


DiffEvent = TableStarted | BucketsScanned | Rechecking | TableCompared
