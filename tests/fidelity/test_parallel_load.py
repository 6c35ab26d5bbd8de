"""table-settings parallel-load (ranges, partitions-auto) in the sandbox engine: the same rows as a load without it;
ErrorBehavior.TableErrorPolicy (SUSPEND_TABLE: the other tables go on; STOP_TASK: the task stops) against real
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.preview import range_segments
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.sandbox.dms_engine import FullLoadTask

SOURCE_DB = "parallel_source"


@pytest.fixture(scope="module")
def source_url(pg_source: Any) -> str:
    url = pg_source.fresh_database(SOURCE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA shop;
            CREATE TABLE shop.orders (id int PRIMARY KEY, city text, amount numeric(10,2), note text);
            INSERT INTO shop.orders
              SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['Berlin','Oslo','Rome','Lima'])[g % 4 + 1] END,
                     g * 0.5, repeat('n', g % 30)
                FROM generate_series(1, 5000) g;
            CREATE TABLE shop.sales (id int, region text, amount int, PRIMARY KEY (id, region))
              PARTITION BY LIST (region);
            CREATE TABLE shop.sales_north PARTITION OF shop.sales FOR VALUES IN ('north');
            CREATE TABLE shop.sales_south PARTITION OF shop.sales FOR VALUES IN ('south');
            CREATE TABLE shop.sales_rest PARTITION OF shop.sales DEFAULT;
            INSERT INTO shop.sales
              SELECT g, (ARRAY['north','south','east'])[g % 3 + 1], g FROM generate_series(1, 3000) g;
            CREATE TABLE shop.blobs (body text);
            INSERT INTO shop.blobs VALUES ('no key here');
            """
        )
    return url


@pytest.fixture
def target_url(pg_target: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "par_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    yield pg_target.fresh_database(name)
    pg_target.cluster.drop_database(name)


def select(table: str = "%") -> dict[str, Any]:
    return {
        "rule-type": "selection",
        "rule-id": "1",
        "rule-name": "shop",
        "object-locator": {"schema-name": "shop", "table-name": table},
        "rule-action": "include",
    }


def table_settings(table: str, parallel: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule-type": "table-settings",
        "rule-id": "2",
        "rule-name": "parallel",
        "object-locator": {"schema-name": "shop", "table-name": table},
        "parallel-load": parallel,
    }


def load(source: str, target: str, rules: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> FullLoadTask:
    document = {"FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "MaxFullLoadSubTasks": 4}}
    task = FullLoadTask(
        endpoint(source),
        endpoint(target),
        TableMappings.from_dict({"rules": rules}),
        TaskSettings.from_dict({**document, **(settings or {})}),
    )
    task.run()
    return task


def rows(url: str, table: str, order: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()  # noqa: S608 - the test's own names


def primary_key(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attname",
            (table,),
        ).fetchall()
    return [r[0] for r in found]


RANGES = {
    "one column": {"type": "ranges", "columns": ["id"], "boundaries": [["1000"], ["2500"], ["4000"]]},
    "two columns with NULLs": {
        "type": "ranges",
        "columns": ["city", "id"],
        "boundaries": [["Berlin", "3000"], ["Oslo", "10"], ["Rome", "4999"]],
    },
}


@pytest.mark.parametrize("name", list(RANGES))
def test_ranges_load_the_same_rows_as_a_load_without_them(source_url: str, target_url: str, name: str) -> None:
    task = load(source_url, target_url, [select("orders"), table_settings("orders", RANGES[name])])
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table completed" and stats["FullLoadRows"] == 5000
    assert rows(target_url, "shop.orders", "id") == rows(source_url, "shop.orders", "id")
    assert primary_key(target_url, "shop.orders") == ["id"]


def test_range_segments_put_every_row_in_exactly_one_segment(source_url: str) -> None:
    segments = range_segments(RANGES["two columns with NULLs"])
    assert len(segments) == 4
    with psycopg.connect(source_url) as conn:
        query = "SELECT count(*) FROM shop.orders WHERE {}"  # the segments are SQL the engine builds
        counts = [conn.execute(query.format(s)).fetchone()[0] for s in segments]  # type: ignore[index]
    assert sum(counts) == 5000 and all(counts)


def test_partitions_auto_loads_each_partition_and_the_same_rows(source_url: str, target_url: str) -> None:
    task = load(source_url, target_url, [select("sales"), table_settings("sales", {"type": "partitions-auto"})])
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table completed" and stats["FullLoadRows"] == 3000
    assert rows(target_url, "shop.sales", "id, region") == rows(source_url, "shop.sales", "id, region")


FULL_LOB = {"TargetMetadata": {"SupportLobs": True, "FullLobMode": True, "LimitedSizeLobMode": False}}


def test_table_error_policy_suspend_table_lets_the_other_tables_load(source_url: str, target_url: str) -> None:
    settings = {**FULL_LOB, "ErrorBehavior": {"TableErrorPolicy": "SUSPEND_TABLE"}}
    task = load(source_url, target_url, [select()], settings)
    states = {s["TableName"]: s["TableState"] for s in task.table_statistics()}
    assert states == {"blobs": "Table error", "orders": "Table completed", "sales": "Table completed"}
    fields = task.task_fields()
    assert fields["Status"] == "stopped" and "full LOB mode needs a primary key" in fields["LastFailureMessage"]


def test_table_error_policy_stop_task_stops_the_task(source_url: str, target_url: str) -> None:
    settings = {
        **FULL_LOB,
        "ErrorBehavior": {"TableErrorPolicy": "STOP_TASK"},
        "FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "MaxFullLoadSubTasks": 1},
    }
    rules = [select(), {**select("blobs"), "rule-id": "3", "rule-name": "first", "load-order": 10}]
    task = load(source_url, target_url, rules, settings)
    fields = task.task_fields()
    assert fields["Status"] == "failed" and fields["StopReason"] == "Stop Reason FATAL_ERROR"
    assert "TableErrorPolicy STOP_TASK" in fields["LastFailureMessage"]
    states = {s["TableName"]: s["TableState"] for s in task.table_statistics()}
    assert states["blobs"] == "Table error"
    assert states["orders"] == states["sales"] == "Table cancelled"  # loaded after blobs: never started


@pytest.fixture(scope="module")
def messy_url(pg_source: Any) -> str:
    """A table whose text column holds a value that is no integer, and one with a key."""
    url = pg_source.fresh_database("parallel_messy")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA shop;
            CREATE TABLE shop.codes (id int PRIMARY KEY, code text);
            INSERT INTO shop.codes SELECT g, CASE WHEN g IN (7, 4242) THEN 'x' || g ELSE g::text END
              FROM generate_series(1, 5000) g;
            """
        )
    return url


AS_INTEGER = {
    "rule-type": "transformation",
    "rule-id": "5",
    "rule-name": "code-as-int",
    "rule-target": "column",
    "object-locator": {"schema-name": "shop", "table-name": "codes", "column-name": "code"},
    "rule-action": "change-data-type",
    "data-type": {"type": "int4"},
}


@pytest.mark.parametrize("policy", ["LOG_ERROR", "IGNORE_RECORD", None])
def test_data_error_policy_that_skips_loads_every_other_record(
    messy_url: str, target_url: str, policy: str | None
) -> None:
    settings = {"ErrorBehavior": {"DataErrorPolicy": policy}} if policy else {}
    task = load(messy_url, target_url, [select("codes"), AS_INTEGER], settings)
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table completed"
    assert stats["FullLoadRows"] == 4998 and stats["FullLoadErrorRows"] == 2
    loaded = rows(target_url, "shop.codes", "id")
    assert len(loaded) == 4998 and (7, 7) not in loaded and (8, 8) in loaded
    assert {r[0] for r in loaded} == set(range(1, 5001)) - {7, 4242}
    assert primary_key(target_url, "shop.codes") == ["id"]


def test_a_duplicate_on_an_existing_target_is_a_skipped_record(messy_url: str, target_url: str) -> None:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop; CREATE TABLE shop.codes (id int PRIMARY KEY, code text)")
        conn.execute("INSERT INTO shop.codes VALUES (10, 'already here')")
    settings = {"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}}
    task = load(messy_url, target_url, [select("codes")], settings)
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table completed" and stats["FullLoadErrorRows"] == 1
    assert stats["FullLoadRows"] == 4999
    assert rows(target_url, "shop.codes", "id")[9] == (10, "already here")


@pytest.mark.parametrize(("policy", "status"), [("SUSPEND_TABLE", "stopped"), ("STOP_TASK", "failed")])
def test_data_error_policy_that_stops(messy_url: str, target_url: str, policy: str, status: str) -> None:
    task = load(messy_url, target_url, [select("codes"), AS_INTEGER], {"ErrorBehavior": {"DataErrorPolicy": policy}})
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table error"
    fields = task.task_fields()
    assert fields["Status"] == status and f"DataErrorPolicy {policy}" in fields["LastFailureMessage"]
    assert "invalid input syntax for type integer" in fields["LastFailureMessage"]
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('shop.codes')").fetchone() == (None,)  # rolled back as a whole


@pytest.mark.parametrize(("policy", "status"), [(None, "stopped"), ("STOP_TASK", "failed")])
def test_data_error_escalation_count(messy_url: str, target_url: str, policy: str | None, status: str) -> None:
    behavior: dict[str, Any] = {"DataErrorEscalationCount": 2}
    if policy:
        behavior["DataErrorEscalationPolicy"] = policy
    task = load(messy_url, target_url, [select("codes"), AS_INTEGER], {"ErrorBehavior": behavior})
    [stats] = task.table_statistics()
    assert stats["TableState"] == "Table error"
    fields = task.task_fields()
    expected = f"2 record(s) could not be loaded (ErrorBehavior.DataErrorEscalationCount 2, DataErrorEscalationPolicy {policy or 'SUSPEND_TABLE'})"
    assert fields["Status"] == status and expected in fields["LastFailureMessage"]
