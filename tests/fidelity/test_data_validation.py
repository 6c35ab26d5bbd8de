"""DMS data validation in the sandbox engine, against real PostgreSQL: mismatches injected on the target during a run
(after a table's load, before its validation) are reported in the table statistics and written to the target's
awsdms_control.awsdms_validation_failures_v1; what the task itself changes (filters, truncation) is no failure."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.data.validation_failures import read_failures
from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.sandbox.dms_engine import (
    EngineEvent,
    FullLoadTask,
    TableLoadCompleted,
    ValidationCompleted,
)

SOURCE_DB = "validation_source"


@pytest.fixture(scope="module")
def source_url(pg_source: Any) -> str:
    url = pg_source.fresh_database(SOURCE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2));
            INSERT INTO app.accounts SELECT g, 'owner' || g, g * 1.5 FROM generate_series(1, 50) g;
            CREATE TABLE app.clean (id int PRIMARY KEY, label text);
            INSERT INTO app.clean SELECT g, 'c' || g FROM generate_series(1, 30) g;
            CREATE TABLE app.docs (id int PRIMARY KEY, body text);
            INSERT INTO app.docs VALUES (1, repeat('a', 5000)), (2, 'short');
            CREATE TABLE app.events (id int PRIMARY KEY, kind text);
            INSERT INTO app.events SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END
              FROM generate_series(1, 40) g;
            CREATE TABLE app.nokey (note text);
            INSERT INTO app.nokey VALUES ('n1'), ('n2');
            """
        )
    return url


@pytest.fixture
def target_url(pg_target: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "val_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    yield pg_target.fresh_database(name)
    pg_target.cluster.drop_database(name)


RULES = [
    {
        "rule-type": "selection",
        "rule-id": "1",
        "rule-name": "app",
        "object-locator": {"schema-name": "app", "table-name": "%"},
        "rule-action": "include",
    },
    {
        "rule-type": "selection",
        "rule-id": "2",
        "rule-name": "odd-events",
        "object-locator": {"schema-name": "app", "table-name": "events"},
        "rule-action": "include",
        "filters": [
            {
                "filter-type": "source",
                "column-name": "kind",
                "filter-conditions": [{"filter-operator": "eq", "value": "odd"}],
            }
        ],
    },
]
SETTINGS = {
    "ValidationSettings": {"EnableValidation": True},
    "TargetMetadata": {"SupportLobs": True, "LimitedSizeLobMode": True, "LobMaxSize": 1},
    "FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "MaxFullLoadSubTasks": 2},
}


def test_mismatches_injected_during_a_run_are_reported_and_written(source_url: str, target_url: str) -> None:
    events: list[EngineEvent] = []

    def on_event(event: EngineEvent) -> None:
        events.append(event)
        if isinstance(event, TableLoadCompleted) and event.table == "accounts":
            # The table is loaded and committed; its validation has not started: a person (or a bug) changes it.
            with psycopg.connect(target_url, autocommit=True) as conn:
                conn.execute("UPDATE app.accounts SET owner = 'changed', balance = 0 WHERE id = 3")
                conn.execute("DELETE FROM app.accounts WHERE id = 5")
                conn.execute("INSERT INTO app.accounts VALUES (1000, 'intruder', 1)")

    task = FullLoadTask(
        endpoint(source_url),
        endpoint(target_url),
        TableMappings.from_dict({"rules": RULES}),
        TaskSettings.from_dict(SETTINGS),
        task_id="validation-task",
        on_event=on_event,
    )
    task.run()
    stats = {s["TableName"]: s for s in task.table_statistics()}
    assert {name: s["TableState"] for name, s in stats.items()} == dict.fromkeys(
        ("accounts", "clean", "docs", "events", "nokey"), "Table completed"
    )
    accounts = stats["accounts"]
    assert accounts["ValidationState"] == "Mismatched records"
    assert accounts["ValidationFailedRecords"] == 3
    assert accounts["ValidationPendingRecords"] == 0
    assert accounts["ValidationSuspendedRecords"] == 0
    assert "MISSING_SOURCE 1, MISSING_TARGET 1, RECORD_DIFF 1" in accounts["ValidationStateDetails"]
    # What the task itself changes is no failure: filtered-out rows (events), truncated LOBs (docs).
    assert stats["clean"]["ValidationState"] == "Validated"
    assert stats["events"]["ValidationState"] == "Validated" and stats["events"]["FullLoadRows"] == 20
    assert stats["docs"]["ValidationState"] == "Validated"
    assert stats["nokey"]["ValidationState"] == "No primary key"
    assert stats["clean"]["ValidationFailedRecords"] == 0
    finished = {(e.table, e.state, e.failed) for e in events if isinstance(e, ValidationCompleted)}
    assert ("accounts", "Mismatched records", 3) in finished

    with psycopg.connect(target_url, autocommit=True) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'awsdms_control' "
                "AND table_name = 'awsdms_validation_failures_v1' ORDER BY ordinal_position"
            ).fetchall()
        ]
        failures = read_failures(conn, "validation-task")
        assert read_failures(conn, "another-task") == []
    assert columns == [
        "TASK_NAME",
        "TABLE_OWNER",
        "TABLE_NAME",
        "FAILURE_TIME",
        "KEY_TYPE",
        "KEY",
        "FAILURE_TYPE",
        "DETAILS",
    ]
    by_type = {f.failure_type: f for f in failures}
    assert len(failures) == 3 and set(by_type) == {"RECORD_DIFF", "MISSING_TARGET", "MISSING_SOURCE"}
    assert all(f.table == "app.accounts" and f.key_type == "Row" for f in failures)
    assert json.loads(by_type["RECORD_DIFF"].key) == {"key": ["3"]}
    assert json.loads(by_type["MISSING_TARGET"].key) == {"key": ["5"]}
    assert json.loads(by_type["MISSING_SOURCE"].key) == {"key": ["1000"]}
    assert "owner3" in by_type["RECORD_DIFF"].details and "changed" in by_type["RECORD_DIFF"].details


def test_without_enable_validation_nothing_is_compared_or_written(source_url: str, target_url: str) -> None:
    settings = {**SETTINGS, "ValidationSettings": {"EnableValidation": False}}
    task = FullLoadTask(
        endpoint(source_url),
        endpoint(target_url),
        TableMappings.from_dict({"rules": RULES}),
        TaskSettings.from_dict(settings),
    )
    task.run()
    assert {s["ValidationState"] for s in task.table_statistics()} == {"Not enabled"}
    with psycopg.connect(target_url, autocommit=True) as conn:
        assert read_failures(conn) == []


@pytest.fixture
def cdc_dbs(pg_source: Any, pg_target: Any) -> Iterator[tuple[str, str]]:
    source = pg_source.fresh_database("validation_cdc")
    target = pg_target.fresh_database("validation_cdc")
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA app; CREATE TABLE app.accounts (id int PRIMARY KEY, owner text NOT NULL, balance int);"
            "INSERT INTO app.accounts SELECT g, 'owner' || g, g FROM generate_series(1, 50) g"
        )
    yield source, target
    with psycopg.connect(source, autocommit=True) as conn:
        for (slot,) in conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE database = current_database()"
        ).fetchall():
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    pg_source.cluster.drop_database("validation_cdc")
    pg_target.cluster.drop_database("validation_cdc")


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_cdc_tables_are_validated_once_changes_are_applied(cdc_dbs: tuple[str, str]) -> None:
    source, target = cdc_dbs
    task = FullLoadTask(
        endpoint(source),
        endpoint(target),
        TableMappings.from_dict({"rules": RULES[:1]}),
        TaskSettings.from_dict({"ValidationSettings": {"EnableValidation": True}}),
        migration_type="full-load-and-cdc",
        task_id="validation-cdc",
    )

    def accounts() -> dict[str, Any]:
        return {s["TableName"]: s for s in task.table_statistics()}.get("accounts", {})

    task.start()
    try:
        wait_for(lambda: accounts().get("ValidationState") == "Validated", "the loaded table to validate")
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("UPDATE app.accounts SET balance = 99 WHERE id = 1")
            conn.execute("INSERT INTO app.accounts VALUES (51, 'new', 51)")
        wait_for(
            lambda: (
                accounts().get("AppliedInserts") == 1
                and accounts().get("ValidationState") == "Validated"
                and accounts().get("ValidationPendingRecords") == 0
            ),
            "the applied changes to validate",
        )
        with psycopg.connect(target, autocommit=True) as conn:  # a mismatch made on the target during the run
            conn.execute("UPDATE app.accounts SET owner = 'tampered' WHERE id = 2")
        with psycopg.connect(source, autocommit=True) as conn:  # the next change to the table revalidates it
            conn.execute("UPDATE app.accounts SET balance = 7 WHERE id = 3")
        wait_for(lambda: accounts().get("ValidationState") == "Mismatched records", "the mismatch to be found")
        assert accounts()["ValidationFailedRecords"] == 1
        with psycopg.connect(target, autocommit=True) as conn:
            [failure] = read_failures(conn, "validation-cdc")
        assert failure.failure_type == "RECORD_DIFF" and json.loads(failure.key) == {"key": ["2"]}
        assert "tampered" in failure.details
    finally:
        task.stop()
        task.wait(30)
