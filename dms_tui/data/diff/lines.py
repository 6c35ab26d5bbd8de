"""One table's differences as uniform lines: what the side-by-side view shows and the CSV export writes.

A :class:`TableDiff` keeps missing, extra and changed rows in three lists of different shapes; a person reads them
as one list of rows, each with a source side, a target side, the key, and the cells that differ. Building those lines
here, below the UI line, keeps one source of truth for the screen and the export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dms_tui.data.diff.result import CellText, RowImage, TableDiff


class DifferenceKind(StrEnum):
    """Which way a row differs."""

    MISSING = "missing_in_target"  # on the source side only
    EXTRA = "extra_in_target"  # on the target side only
    CHANGED = "changed"  # the same key on both sides, some cells differ

    @property
    def label(self) -> str:
        return {"missing_in_target": "missing", "extra_in_target": "extra", "changed": "changed"}[self.value]


ALL_KINDS: frozenset[DifferenceKind] = frozenset(DifferenceKind)


@dataclass(frozen=True)
class DiffLine:
    """One differing row. ``source`` / ``target`` are None on the side where the row does not exist.

    For tables without a key, ``key`` is None and the counts say how often the row occurs on each side; a row that
    occurs on both sides (just not equally often) is shown on both.
    """

    kind: DifferenceKind
    key: dict[str, CellText] | None
    source: dict[str, CellText] | None
    target: dict[str, CellText] | None
    changed_columns: frozenset[str] = frozenset()
    source_count: int = 0
    target_count: int = 0

    @property
    def multiset(self) -> bool:
        return self.key is None


def diff_lines(table: TableDiff, kinds: Iterable[DifferenceKind] = ALL_KINDS) -> list[DiffLine]:
    """The table's differences of the given kinds: missing first, then extra, then changed (each in engine order)."""
    wanted = frozenset(kinds)
    lines: list[DiffLine] = []

    def present(image: RowImage, count: int) -> dict[str, CellText] | None:
        # A key-less row still present on the other side (fewer times) is shown there too, with its count.
        return dict(image.row) if image.key is None and count > 0 else None

    if DifferenceKind.MISSING in wanted:
        lines.extend(
            DiffLine(
                DifferenceKind.MISSING,
                image.key,
                dict(image.row),
                present(image, image.target_count),
                source_count=image.source_count if image.key is None else 1,
                target_count=image.target_count if image.key is None else 0,
            )
            for image in table.missing_in_target
        )
    if DifferenceKind.EXTRA in wanted:
        lines.extend(
            DiffLine(
                DifferenceKind.EXTRA,
                image.key,
                present(image, image.source_count),
                dict(image.row),
                source_count=image.source_count if image.key is None else 0,
                target_count=image.target_count if image.key is None else 1,
            )
            for image in table.extra_in_target
        )
    if DifferenceKind.CHANGED in wanted:
        for change in table.changed:
            # The engine fills full rows for the side-by-side view; an older result may carry only the changed cells.
            source = dict(change.source_row) or {**change.key, **{c: v.source for c, v in change.columns.items()}}
            target = dict(change.target_row) or {**change.key, **{c: v.target for c, v in change.columns.items()}}
            lines.append(
                DiffLine(
                    DifferenceKind.CHANGED,
                    dict(change.key),
                    source,
                    target,
                    frozenset(change.columns),
                    source_count=1,
                    target_count=1,
                )
            )
    return lines


def display_columns(table: TableDiff) -> tuple[str, ...]:
    """Key columns first (they stay pinned), then the compared columns, then any a row carries beyond them."""
    key = tuple(table.key or ())
    ordered = list(key) + [c for c in table.columns if c not in key]
    seen = set(ordered)
    for line in diff_lines(table):
        for row in (line.source, line.target):
            for name in row or {}:
                if name not in seen:
                    seen.add(name)
                    ordered.append(name)
    return tuple(ordered)


def kind_counts(table: TableDiff) -> dict[DifferenceKind, int]:
    """How many lines of each kind the table lists."""
    return {
        DifferenceKind.MISSING: len(table.missing_in_target),
        DifferenceKind.EXTRA: len(table.extra_in_target),
        DifferenceKind.CHANGED: len(table.changed),
    }
