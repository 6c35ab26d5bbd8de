"""Export a diff result to JSON (the headless contract's shape) or CSV (one line per differing cell).

CSV cannot tell NULL from an empty string, so every value column has an ``*_is_null`` companion: a NULL is written
as an empty field with ``true`` beside it, an empty string as an empty field with ``false``. Files go under the
state directory (``diffs/``); they hold table rows but never a connection string or password.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from dms_tui import paths
from dms_tui.data.diff.lines import DifferenceKind, diff_lines, display_columns
from dms_tui.data.diff.result import CellText, DiffReport, TableDiff

ExportFormat = Literal["json", "csv"]

CSV_HEADER: tuple[str, ...] = (
    "source_table",
    "target_table",
    "difference",
    "key",
    "column",
    "source",
    "source_is_null",
    "target",
    "target_is_null",
    "source_count",
    "target_count",
    "note",
)


def _tables(result: DiffReport | TableDiff) -> tuple[TableDiff, ...]:
    return (result,) if isinstance(result, TableDiff) else result.tables


def to_json(result: DiffReport | TableDiff) -> str:
    """The same document ``dms-tui diff --json`` prints (a report), or one table's entry of it."""
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def to_csv(result: DiffReport | TableDiff) -> str:
    """One header line, then one line per differing cell (and one per drift note or identical table)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in _tables(result):
        writer.writerows(_table_records(table))
    return buffer.getvalue()


def _table_records(table: TableDiff) -> Iterator[list[str]]:
    def record(
        difference: str,
        key: str = "",
        column: str = "",
        source: CellText = None,
        target: CellText = None,
        counts: tuple[int, int] | None = None,
        note: str = "",
        *,
        source_present: bool = False,
        target_present: bool = False,
    ) -> list[str]:
        return [
            table.source_table,
            table.target_table,
            difference,
            key,
            column,
            source or "",
            _null_flag(source, source_present),
            target or "",
            _null_flag(target, target_present),
            str(counts[0]) if counts else "",
            str(counts[1]) if counts else "",
            note,
        ]

    if table.identical:
        yield record("none", note=f"identical: {table.source_rows} rows on each side")
        return
    for drift in table.schema_drift:
        yield record("schema_drift", note=drift)
    columns = display_columns(table)
    for line in diff_lines(table):
        key = json.dumps(line.key, ensure_ascii=False) if line.key is not None else ""
        counts = (line.source_count, line.target_count)
        if line.kind is DifferenceKind.CHANGED:
            names = [c for c in columns if c in line.changed_columns]
        else:
            names = [c for c in columns if c in (line.source or line.target or {})]
        for name in names:
            source = line.source.get(name) if line.source is not None else None
            target = line.target.get(name) if line.target is not None else None
            yield record(
                line.kind.value,
                key,
                name,
                source,
                target,
                counts,
                source_present=line.source is not None and name in line.source,
                target_present=line.target is not None and name in line.target,
            )
    if table.truncated:
        yield record("truncated", note="the lists were cut at --max-rows; raise it to see every difference")


def _null_flag(value: CellText, present: bool) -> str:
    """'true' for an SQL NULL, 'false' for a value, '' where the side has no such row or cell."""
    if not present:
        return ""
    return "true" if value is None else "false"


def export_dir() -> Path:
    """Where the Diff screen writes its exports."""
    path = paths.state_dir() / "diffs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_export(
    result: DiffReport | TableDiff,
    fmt: ExportFormat,
    *,
    directory: Path | None = None,
    stem: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the export atomically and return its path (``diff-YYYYmmdd-HHMMSS.json`` by default)."""
    directory = directory or export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stem = stem or f"diff-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"
    text = to_json(result) if fmt == "json" else to_csv(result)
    target = directory / f"{stem}.{fmt}"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".diff-", suffix=f".{fmt}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
