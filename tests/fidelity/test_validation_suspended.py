"""ValidationSuspendedRecords in the sandbox engine, against real PostgreSQL, as the DMS user guide documents it:
records DMS cannot compare (a source row that changes while it is being validated) and the records past
``TableFailureMaxCount`` once validation is suspended for the table. Neither is a failure, nor written as one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.data.validation_failures import read_failures
from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.sandbox import validation
from dms_tui.sandbox.dms_engine import EngineEvent, FullLoadTask, TableLoadCompleted

RULES = [
    {
        "rule-type": "selection",
        "rule-id": "1",
        "rule-name": "app",
        "object-locator": {"schema-name": "app", "table-name": "ledger"},
        "rule-action": "include",
    }
]


@pytest.fixture
def databases(pg_source: Any, pg_target: Any, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    name = "susp_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    source = pg_source.fresh_database(name)
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA app; CREATE TABLE app.ledger (id int PRIMARY KEY, note text NOT NULL);"
            "INSERT INTO app.ledger SELECT g, 'note' || g FROM generate_series(1, 20) g"
        )
    target = pg_target.fresh_database(name)
    yield source, target
    pg_target.cluster.drop_database(name)
    pg_source.cluster.drop_database(name)


def _run(source: str, target: str, settings: dict[str, Any], on_load: Any) -> dict[str, Any]:
    def on_event(event: EngineEvent) -> None:
        if isinstance(event, TableLoadCompleted) and event.table == "ledger":
            with psycopg.connect(target, autocommit=True) as conn:
                on_load(conn)

    task = FullLoadTask(
        endpoint(source),
        endpoint(target),
        TableMappings.from_dict({"rules": RULES}),
        TaskSettings.from_dict(
            {"ValidationSettings": {"EnableValidation": True, **settings}, "TargetMetadata": {"SupportLobs": False}}
        ),
        task_id="suspended-task",
        on_event=on_event,
    )
    task.run()
    (stats,) = [s for s in task.table_statistics() if s["TableName"] == "ledger"]
    return stats


def test_past_table_failure_max_count_the_rest_is_suspended_not_failed(databases: tuple[str, str]) -> None:
    source, target = databases
    stats = _run(
        source,
        target,
        {"TableFailureMaxCount": 2},
        lambda conn: conn.execute("UPDATE app.ledger SET note = 'changed' WHERE id <= 5"),
    )
    assert stats["ValidationState"] == "Mismatched records"
    assert (stats["ValidationFailedRecords"], stats["ValidationSuspendedRecords"]) == (2, 3)
    assert "TableFailureMaxCount" in stats["ValidationStateDetails"]
    with psycopg.connect(target) as conn:
        assert len(read_failures(conn, "suspended-task")) == 2


def test_the_default_table_failure_max_count_is_dms_s_1000(databases: tuple[str, str]) -> None:
    source, target = databases
    stats = _run(source, target, {}, lambda conn: conn.execute("UPDATE app.ledger SET note = 'x' WHERE id <= 5"))
    assert (stats["ValidationFailedRecords"], stats["ValidationSuspendedRecords"]) == (5, 0)
    assert validation.table_failure_max_count(TaskSettings.from_dict({})) == 1000


def test_a_source_row_that_changes_while_compared_is_suspended(
    databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows 3 and 4 differ on the target; row 3 changes on the source right after the comparison read it (a writer
    still at work): DMS cannot compare it, so it is suspended; row 4 is a failure."""
    source, target = databases
    real_diff = validation.diff_databases

    def diff_then_a_writer_changes_row_3(*args: Any, **kwargs: Any) -> Any:
        report = real_diff(*args, **kwargs)
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("UPDATE app.ledger SET note = 'moving' WHERE id = 3")
        return report

    monkeypatch.setattr(validation, "diff_databases", diff_then_a_writer_changes_row_3)
    stats = _run(
        source, target, {}, lambda conn: conn.execute("UPDATE app.ledger SET note = 'drift' WHERE id IN (3, 4)")
    )
    assert stats["ValidationState"] == "Mismatched records"
    assert (stats["ValidationFailedRecords"], stats["ValidationSuspendedRecords"]) == (1, 1)
    assert "changed on the source while being compared" in stats["ValidationStateDetails"]
    with psycopg.connect(target) as conn:
        assert [f.key for f in read_failures(conn, "suspended-task")] == ['{"key": ["4"]}']


def test_only_rows_in_flux_leave_the_table_with_suspended_records(
    databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row deleted on the source after the comparison saw it missing on the target, and one inserted on the source
    after the comparison saw it only on the target: both in flux."""
    source, target = databases
    real_diff = validation.diff_databases

    def diff_then_writes(*args: Any, **kwargs: Any) -> Any:
        report = real_diff(*args, **kwargs)
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("DELETE FROM app.ledger WHERE id = 7; INSERT INTO app.ledger VALUES (99, 'late')")
        return report

    monkeypatch.setattr(validation, "diff_databases", diff_then_writes)

    def on_load(conn: psycopg.Connection[Any]) -> None:
        conn.execute("DELETE FROM app.ledger WHERE id = 7; INSERT INTO app.ledger VALUES (99, 'early')")

    stats = _run(source, target, {}, on_load)
    assert stats["ValidationState"] == "Suspended records"
    assert (stats["ValidationFailedRecords"], stats["ValidationSuspendedRecords"]) == (0, 2)
