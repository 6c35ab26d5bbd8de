"""DMS data validation in the sandbox: after a table's full load, compare its source and target rows by key.

What DMS does with ``ValidationSettings.EnableValidation`` (AWS DMS User Guide, "AWS DMS data validation"): each
table's rows are compared by primary key (or unique index) once the table is loaded; the table statistics carry
``ValidationState`` (``Pending records`` while it runs, then ``Validated`` or ``Mismatched records``; ``No primary
key`` for a table without one, which is not validated), ``ValidationPendingRecords``, ``ValidationFailedRecords`` and
``ValidationSuspendedRecords``; every failing record goes to the target's ``awsdms_validation_failures_v1``
(:mod:`dms_tui.data.validation_failures`).

The comparison is the project's diff engine (:mod:`dms_tui.data.diff`): bucket checksums on both sides, then only the
differing rows fetched. It compares the columns both tables share by name; what the task itself changes is not a
failure: columns it renames, removes or adds are not compared (the diff pairs columns by name), a value limited-LOB
mode cut at LobMaxSize is compared with the source value cut the same way, retyped columns (change-data-type,
user-defined types as character varying) are compared by their text, and source rows its filters leave out are not
missing on the target. ``ValidationSettings.FailureMaxCount`` (DMS default 10000) caps the rows compared as failing.

``ValidationSuspendedRecords`` counts the records DMS documents it cannot validate ("ValidationSuspended — the number
of records that AWS DMS can't compare. For example, if a record at the source is constantly being updated"; its
limitations: "If one or more rows are being continuously modified during validation, then AWS DMS can't validate
those rows"; its settings: ``TableFailureMaxCount``, default 1000, "the maximum number of rows in one table that can
fail validation before validation is suspended for the table"):

- a differing row whose source row changed while it was compared (read again after the comparison: its values, or
  whether it exists, are no longer what the comparison saw) is in flux, not a failure: suspended;
- once a table has ``TableFailureMaxCount`` failures its validation is suspended: the failing rows past that many
  are counted as suspended and not written to the failures table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from dms_tui.data.diff import DiffOptions, TableDiff, diff_databases
from dms_tui.data.validation_failures import (
    MISSING_SOURCE,
    MISSING_TARGET,
    RECORD_DIFF,
    ValidationFailure,
    clear_failures,
    ensure_failures_table,
    key_text,
    record_diff_details,
    write_failures,
)
from dms_tui.dmstask.preview import SourceColumn, TablePreview
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.domain.dms import ValidationState

DEFAULT_FAILURE_MAX_COUNT = 10000
DEFAULT_TABLE_FAILURE_MAX_COUNT = 1000
_REREAD_BATCH = 500  # keys per query when differing rows are read again
_WRITING = threading.Lock()  # the engine's table threads write the failures table one at a time


@dataclass(frozen=True)
class TableValidation:
    """One table's validation result, as the table statistics report it."""

    state: str
    failed: int = 0
    suspended: int = 0
    details: str | None = None
    failures: tuple[ValidationFailure, ...] = ()


def failure_max_count(settings: TaskSettings) -> int:
    return _positive(settings, "FailureMaxCount", DEFAULT_FAILURE_MAX_COUNT)


def table_failure_max_count(settings: TaskSettings) -> int:
    return _positive(settings, "TableFailureMaxCount", DEFAULT_TABLE_FAILURE_MAX_COUNT)


def _positive(settings: TaskSettings, name: str, default: int) -> int:
    value = settings.validation.extra.get(name, default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _quoted(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


def validate_table(
    source_conninfo: str, target_conninfo: str, plan: TablePreview, settings: TaskSettings, task_name: str
) -> TableValidation:
    """Compare one loaded table; the failures are returned (``record_failures`` writes them)."""
    if not plan.primary_key_target:
        return TableValidation(
            ValidationState.NO_PRIMARY_KEY.value,
            details="Validation needs a primary key or unique index on the table; this one has none.",
        )
    limit = failure_max_count(settings)
    source_name, target_name = _quoted(*_parts(plan.source)), _quoted(*_parts(plan.target))
    report = diff_databases(
        source_conninfo,
        target_conninfo,
        tables=[source_name],
        mapping={str(plan.source): target_name},
        options=DiffOptions(max_rows=limit, recheck=False),
    )
    diff = report.tables[0]
    found = _failures(source_conninfo, plan, settings, diff, task_name)
    in_flux = _in_flux(source_conninfo, plan, diff) & {f.key for f in found} if found else set()
    failures = [f for f in found if f.key not in in_flux][:limit]
    suspended = len(in_flux)
    table_limit = table_failure_max_count(settings)
    over = max(0, len(failures) - table_limit)
    failures = failures[:table_limit]
    suspended += over
    if failures:
        state = ValidationState.MISMATCHED.value
    elif suspended:
        state = ValidationState.SUSPENDED.value
    else:
        state = ValidationState.VALIDATED.value
    if not failures and not suspended and diff.truncated and plan.where_sql:
        # Every listed difference was a row the filters leave out, but the list was cut: count what should be there.
        expected = _count(source_conninfo, plan)
        if expected != diff.target_rows:
            state = ValidationState.MISMATCHED.value
    notes = []
    if failures:
        notes.append(f"{len(failures)} record(s) differ between source and target ({_summary(failures)}).")
    if in_flux:
        notes.append(f"{len(in_flux)} record(s) changed on the source while being compared: not validated.")
    if over:
        notes.append(
            f"Validation was suspended for the table after {table_limit} failed record(s) (TableFailureMaxCount): "
            f"{over} more not recorded."
        )
    details = " ".join(notes) or None
    return TableValidation(state, len(failures), suspended, details, tuple(failures))


def record_failures(
    target_conninfo: str, task_name: str, plan: TablePreview, failures: tuple[ValidationFailure, ...]
) -> None:
    """The table's failures from this comparison replace the ones an earlier comparison wrote (a reload, or CDC
    validation after more changes), so the table holds what is wrong now."""
    with _WRITING, psycopg.connect(target_conninfo, autocommit=True) as conn:
        ensure_failures_table(conn)  # two CREATE ... IF NOT EXISTS at once collide in pg_type: one at a time
        with conn.transaction():
            clear_failures(conn, task_name, plan.source.schema, plan.source.table)
            write_failures(conn, failures)


def _parts(name: Any) -> tuple[str, str]:
    return str(name.schema), str(name.table)


def _summary(failures: list[ValidationFailure]) -> str:
    counts: dict[str, int] = {}
    for failure in failures:
        counts[failure.failure_type] = counts.get(failure.failure_type, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


def _failures(
    source_conninfo: str, plan: TablePreview, settings: TaskSettings, diff: TableDiff, task_name: str
) -> list[ValidationFailure]:
    now = datetime.now(UTC)
    owner, table = plan.source.schema, plan.source.table
    truncated = _truncation(plan, settings)
    key = diff.key or ()

    def failure(kind: str, values: dict[str, str | None], details: str) -> ValidationFailure:
        shown = [values.get(name) for name in key] if key else list(values.values())
        return ValidationFailure(task_name, owner, table, now, "Row", key_text(shown), kind, details)

    found: list[ValidationFailure] = []
    missing = list(diff.missing_in_target)
    if plan.where_sql and missing:
        with psycopg.connect(source_conninfo, autocommit=True) as conn:
            missing = [row for row in missing if _passes_filters(conn, plan, row.key or row.row)]
    for row in missing:
        found.extend(failure(MISSING_TARGET, row.key or row.row, "") for _ in range(row.count))
    for row in diff.extra_in_target:
        found.extend(failure(MISSING_SOURCE, row.key or row.row, "") for _ in range(row.count))
    for changed in diff.changed:
        columns = {
            name: change
            for name, change in changed.columns.items()
            if not (name in truncated and change.source is not None and change.target == truncated[name](change.source))
        }
        if columns:
            found.append(
                failure(
                    RECORD_DIFF,
                    changed.key,
                    record_diff_details(
                        {n: c.source for n, c in columns.items()}, {n: c.target for n, c in columns.items()}
                    ),
                )
            )
    return found


def _truncation(plan: TablePreview, settings: TaskSettings) -> dict[str, Callable[[str], str]]:
    """Per limited-LOB column, the source value's text form as the task truncates it (LobMaxSize KB): a target value
    equal to that is what the task asked for, not a failure."""
    tm = settings.target_metadata
    if not (tm.support_lobs and tm.limited_size_lob_mode and not tm.full_lob_mode):
        return {}
    limit = tm.lob_max_size * 1024
    found: dict[str, Callable[[str], str]] = {}
    for column in plan.columns:
        if column.added or column.source.name != column.target_name:
            continue
        kind = SourceColumn(column.source.name, column.target_type, False).lob_kind
        if kind == "text":
            found[column.source.name] = lambda value: value[:limit]
        elif kind == "binary":  # bytea's text form: \x and two hex digits per byte
            found[column.source.name] = lambda value: value[: 2 + 2 * limit]
    return found


def _passes_filters(conn: psycopg.Connection[Any], plan: TablePreview, values: dict[str, str | None]) -> bool:
    """Whether the source row with these column values (text forms) is one the task's filters select."""
    match = sql.SQL(" AND ").join(
        sql.SQL("{}::text IS NOT DISTINCT FROM {}").format(sql.Identifier(name), sql.Literal(value))
        for name, value in values.items()
    )
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} AND ({}))").format(
        sql.Identifier(plan.source.schema, plan.source.table), match, sql.SQL(plan.where_sql)
    )
    row = conn.execute(query).fetchone()
    return bool(row and row[0])


def _count(source_conninfo: str, plan: TablePreview) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
        sql.Identifier(plan.source.schema, plan.source.table), sql.SQL(plan.where_sql)
    )
    with psycopg.connect(source_conninfo, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _in_flux(source_conninfo: str, plan: TablePreview, diff: TableDiff) -> set[str]:
    """The keys (as ``key_text`` writes them) of differing rows whose source row is no longer what the comparison
    read: changed, deleted or inserted since. DMS cannot validate a row that keeps changing; neither do we."""
    key = diff.key or ()
    if not key:
        return set()
    seen: dict[str, dict[str, str | None] | None] = {}  # key text -> the source row the comparison saw (None: none)
    keys: dict[str, list[str | None]] = {}
    for changed in diff.changed:
        values = [changed.key.get(name) for name in key]
        seen[key_text(values)], keys[key_text(values)] = dict(changed.source_row), values
    for row in diff.missing_in_target:
        values = [(row.key or row.row).get(name) for name in key]
        seen[key_text(values)], keys[key_text(values)] = dict(row.row), values
    for row in diff.extra_in_target:
        values = [(row.key or row.row).get(name) for name in key]
        seen[key_text(values)], keys[key_text(values)] = None, values
    if not seen:
        return set()
    columns = list(diff.columns)
    found: set[str] = set()
    items = list(keys.items())
    with psycopg.connect(source_conninfo, autocommit=True) as conn:
        for start in range(0, len(items), _REREAD_BATCH):
            batch = items[start : start + _REREAD_BATCH]
            now = _read_rows(conn, plan, key, columns, [values for _, values in batch])
            for text, values in batch:
                before, after = seen[text], now.get(tuple(values))
                if before is None:
                    if after is not None:  # not on the source when compared, there now: inserted meanwhile
                        found.add(text)
                elif after is None or any(after.get(c) != before.get(c) for c in before if c in after):
                    found.add(text)  # deleted or changed since the comparison read it
    return found


def _read_rows(
    conn: psycopg.Connection[Any],
    plan: TablePreview,
    key: tuple[str, ...],
    columns: list[str],
    keys: list[list[str | None]],
) -> dict[tuple[str | None, ...], dict[str, str | None]]:
    """The source rows with these keys (text forms, as the diff reads them), by key."""
    shown = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in (*key, *columns))
    wanted = sql.SQL(", ").join(
        sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in values)) for values in keys
    )
    match = sql.SQL("({}) IN ({})").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in key), wanted
    )
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        shown, sql.Identifier(plan.source.schema, plan.source.table), match
    )
    rows: dict[tuple[str | None, ...], dict[str, str | None]] = {}
    for record in conn.execute(query).fetchall():
        rows[tuple(record[: len(key)])] = dict(zip(columns, record[len(key) :], strict=True))
    return rows
