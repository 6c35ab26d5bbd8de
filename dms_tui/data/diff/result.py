"""The diff result model: what the headless command prints and what the Diff screen renders.

Every value is PostgreSQL's text form of the stored value (``None`` for SQL NULL), so ``''``, ``'NULL'``, trailing
spaces and fractional seconds stay visible. The JSON produced by :meth:`DiffReport.to_json` is the stable headless
contract of issue 7; the dataclasses carry a little more (full rows on both sides, multiset counts) for the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CellText = str | None
"""One cell in PostgreSQL's text form; None is SQL NULL."""


@dataclass(frozen=True)
class RowImage:
    """A row present on one side only (missing in target, or extra in target).

    ``key`` is None for tables without a key. For such tables rows compare as a multiset: ``source_count`` and
    ``target_count`` say how often the row occurs on each side ("3x in source, 1x in target") and ``count`` is the
    surplus on the side the row is listed for. For keyed tables all three are 1/0 as the case may be.
    """

    key: dict[str, CellText] | None
    row: dict[str, CellText]
    count: int = 1
    source_count: int = 0
    target_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "row": dict(self.row), "count": self.count}


@dataclass(frozen=True)
class CellChange:
    """One changed cell: the source and target text forms."""

    source: CellText
    target: CellText

    def to_json(self) -> dict[str, CellText]:
        return {"source": self.source, "target": self.target}


@dataclass(frozen=True)
class ChangedRow:
    """A key present on both sides whose row differs; ``columns`` holds only the changed cells.

    ``source_row`` and ``target_row`` hold every compared column, for a side-by-side view.
    """

    key: dict[str, CellText]
    columns: dict[str, CellChange]
    source_row: dict[str, CellText] = field(default_factory=dict)
    target_row: dict[str, CellText] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": dict(self.key), "columns": {name: change.to_json() for name, change in self.columns.items()}}


@dataclass(frozen=True)
class TableDiff:
    """The comparison of one source table with its (possibly renamed) target table.

    ``identical`` means: same columns with the same types, and the same rows (as a multiset when there is no key).
    Each of the three row lists holds at most ``--max-rows`` entries; ``truncated`` says one was cut.
    """

    source_table: str
    target_table: str
    key: tuple[str, ...] | None
    columns: tuple[str, ...]
    source_rows: int
    target_rows: int
    missing_in_target: tuple[RowImage, ...] = ()
    extra_in_target: tuple[RowImage, ...] = ()
    changed: tuple[ChangedRow, ...] = ()
    schema_drift: tuple[str, ...] = ()
    truncated: bool = False
    elapsed_seconds: float = 0.0
    rechecked: bool = False

    @property
    def row_differences(self) -> int:
        """How many differences are listed (a lower bound when ``truncated``)."""
        return len(self.missing_in_target) + len(self.extra_in_target) + len(self.changed)

    @property
    def identical(self) -> bool:
        return not self.schema_drift and self.row_differences == 0 and not self.truncated

    def to_json(self) -> dict[str, Any]:
        return {
            "source_table": self.source_table,
            "target_table": self.target_table,
            "key": list(self.key) if self.key is not None else None,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "identical": self.identical,
            "missing_in_target": [row.to_json() for row in self.missing_in_target],
            "extra_in_target": [row.to_json() for row in self.extra_in_target],
            "changed": [row.to_json() for row in self.changed],
            "schema_drift": list(self.schema_drift),
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class DiffReport:
    """All compared tables of one run."""

    tables: tuple[TableDiff, ...]
    elapsed_seconds: float

    @property
    def identical(self) -> bool:
        return all(table.identical for table in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {"tables": [table.to_json() for table in self.tables], "elapsed_seconds": round(self.elapsed_seconds, 3)}
