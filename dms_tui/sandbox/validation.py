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
missing on the target. ``ValidationSettings.FailureMaxCount`` (DMS default 10000) caps the failures recorded per table.
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
    value = settings.validation.extra.get("FailureMaxCount", DEFAULT_FAILURE_MAX_COUNT)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_FAILURE_MAX_COUNT


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
    failures = _failures(source_conninfo, plan, settings, diff, task_name)[:limit]
    state = ValidationState.MISMATCHED.value if failures else ValidationState.VALIDATED.value
    if not failures and diff.truncated and plan.where_sql:
        # Every listed difference was a row the filters leave out, but the list was cut: count what should be there.
        expected = _count(source_conninfo, plan)
        if expected != diff.target_rows:
            state = ValidationState.MISMATCHED.value
    details = None
    if failures:
        details = f"{len(failures)} record(s) differ between source and target ({_summary(failures)})."
    return TableValidation(state, len(failures), 0, details, tuple(failures))


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
