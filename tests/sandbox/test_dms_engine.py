"""The sandbox DMS engine really moves the data, as a DMS full-load task would, and reports it in DMS's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.dmstask.mappings import TableMappings, default_mappings
from dms_tui.dmstask.settings import TargetTablePrepMode, TaskSettings
from dms_tui.sandbox.dms_engine import (
    EngineEvent,
    FullLoadTask,
    TableLoadCompleted,
    TableLoadStarted,
)

SEED_ROWS = [
    (1, "John", "Smith", "09:00:00"),
    (2, "Mary", "Doe", "09:30:00"),
    (3, "Tom", "Good", "10:00:00"),
    (4, "Peter", "Flynn", "10:30:00"),
]
BIG_ROWS = 100_000
SOURCE_DB = "dms_engine_source"


@pytest.fixture(scope="module")
def source_url(pg_source: Any) -> str:
    """The seed's demo table plus a 100,000-row table and a few small ones, built once for this module."""
    url = pg_source.fresh_database(SOURCE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA demo_schema;
            CREATE TABLE demo_schema.demo_accounts (
                accountNumber BIGINT NOT NULL, firstName VARCHAR(20), lastName VARCHAR(20), creationTime TIME NOT NULL);
            CREATE SCHEMA bulk;
            CREATE TABLE bulk.big_accounts (
                id bigint PRIMARY KEY, account_number bigint NOT NULL, first_name varchar(20), last_name varchar(20),
                creation_time time NOT NULL, balance numeric(12,2), note text, tags jsonb);
            INSERT INTO bulk.big_accounts
                SELECT g, 1000000 + g, 'first' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'last' || (g % 1000) END,
                       time '00:00' + g * interval '1 second', (g * 1.25)::numeric(12,2),
                       repeat('x', g % 50), jsonb_build_object('g', g)
                  FROM generate_series(1, %s) AS g;
            CREATE TABLE bulk.small_a (id int PRIMARY KEY, label text);
            CREATE TABLE bulk.small_b (id int PRIMARY KEY, label text);
            CREATE TABLE bulk.tmp_scratch (id int);
            INSERT INTO bulk.small_a SELECT g, 'a' || g FROM generate_series(1, 10) g;
            INSERT INTO bulk.small_b SELECT g, 'b' || g FROM generate_series(1, 20) g;
            ANALYZE;
            """.replace("%s", str(BIG_ROWS))
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO demo_schema.demo_accounts VALUES (%s, %s, %s, %s)", SEED_ROWS)
    return url


@pytest.fixture
def target_url(pg_target: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "eng_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    yield pg_target.fresh_database(name)
    pg_target.cluster.drop_database(name)


def rules(*rules: dict[str, Any]) -> TableMappings:
    return TableMappings.from_dict({"rules": list(rules)})


def include(rule_id: int, schema: str, table: str, action: str = "include", **more: Any) -> dict[str, Any]:
    return {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": str(rule_id),
        "object-locator": {"schema-name": schema, "table-name": table},
        "rule-action": action,
        **more,
    }


def transform(rule_id: int, target: str, action: str, value: str | None = None, **locator: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "rule-type": "transformation",
        "rule-id": str(rule_id),
        "rule-name": str(rule_id),
        "rule-target": target,
        "object-locator": {k.replace("_", "-"): v for k, v in locator.items()},
        "rule-action": action,
    }
    if value is not None:
        rule["value"] = value
    return rule


def run(source: str, target: str, mappings: TableMappings, settings: TaskSettings | None = None, **kw: Any):
    events: list[EngineEvent] = []
    task = FullLoadTask(
        endpoint(source), endpoint(target), mappings, settings or TaskSettings(), on_event=events.append, **kw
    )
    task.run()
    return task, events


def fingerprint(url: str, table: str, columns: str, order: str) -> tuple[int, str]:
    """Row count and an md5 over every row in order: equal fingerprints mean equal tables, row for row."""
    query = f"SELECT count(*), md5(coalesce(string_agg(row({columns})::text, '|' ORDER BY {order}), '')) FROM {table}"  # noqa: S608 - test-owned names
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


BIG_COLUMNS = "id, account_number, first_name, last_name, creation_time, balance, note, tags"


def test_the_seed_demo_migration_copies_the_four_rows_of_a_table_without_a_primary_key(source_url, target_url):
    with psycopg.connect(target_url, autocommit=True) as conn:  # a stale earlier run: TRUNCATE_BEFORE_LOAD empties it
        conn.execute(
            "CREATE SCHEMA demo_schema; CREATE TABLE demo_schema.demo_accounts (accountNumber BIGINT NOT NULL, "
            "firstName VARCHAR(20), lastName VARCHAR(20), creationTime TIME NOT NULL);"
            "INSERT INTO demo_schema.demo_accounts VALUES (99, 'Stale', 'Row', '01:00')"
        )
    task, events = run(source_url, target_url, default_mappings())

    with psycopg.connect(target_url) as conn:
        rows = conn.execute(
            "SELECT accountnumber, firstname, lastname, creationtime::text FROM demo_schema.demo_accounts ORDER BY 1"
        ).fetchall()
    assert rows == SEED_ROWS
    fields = task.task_fields()
    assert fields["Status"] == "stopped"
    assert fields["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    stats = fields["ReplicationTaskStats"]
    assert (stats["TablesLoaded"], stats["TablesLoading"], stats["TablesQueued"], stats["TablesErrored"]) == (
        1,
        0,
        0,
        0,
    )
    assert stats["FullLoadProgressPercent"] == 100
    assert stats["FullLoadStartDate"] <= stats["FullLoadFinishDate"] <= stats["StopDate"]
    [table] = task.table_statistics()
    assert table["SchemaName"] == "demo_schema" and table["TableName"] == "demo_accounts"
    assert table["TableState"] == "Table completed" and table["FullLoadRows"] == 4
    assert table["FullLoadStartTime"] <= table["FullLoadEndTime"]
    assert [type(e).__name__ for e in events if isinstance(e, TableLoadStarted | TableLoadCompleted)] == [
        "TableLoadStarted",
        "TableLoadCompleted",
    ]


def _prepare_existing_target(target_url: str) -> None:
    """An earlier load on the target, with one junk row and an extra trailing column a person added."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA bulk; CREATE TABLE bulk.big_accounts (id bigint PRIMARY KEY, account_number bigint NOT NULL,"
            " first_name varchar(20), last_name varchar(20), creation_time time NOT NULL, balance numeric(12,2),"
            " note text, tags jsonb, added_by_hand text DEFAULT 'kept');"
            "INSERT INTO bulk.big_accounts (id, account_number, creation_time) VALUES (-1, -1, '00:00')"
        )


@pytest.mark.parametrize("mode", list(TargetTablePrepMode))
def test_every_prep_mode_on_a_100k_row_table(source_url, target_url, mode):
    _prepare_existing_target(target_url)
    settings = TaskSettings().with_prep_mode(mode)
    task, _ = run(source_url, target_url, rules(include(1, "bulk", "big_accounts")), settings)

    [table] = task.table_statistics()
    assert table["TableState"] == "Table completed" and table["FullLoadRows"] == BIG_ROWS
    expected = fingerprint(source_url, "bulk.big_accounts", BIG_COLUMNS, "id")
    if mode is TargetTablePrepMode.DO_NOTHING:
        # the junk row stays, the added column stays, the load is appended
        assert fingerprint(target_url, "bulk.big_accounts WHERE id > 0", BIG_COLUMNS, "id") == expected
        with psycopg.connect(target_url) as conn:
            assert conn.execute("SELECT count(*), min(added_by_hand) FROM bulk.big_accounts").fetchone() == (
                BIG_ROWS + 1,
                "kept",
            )
    else:
        assert fingerprint(target_url, "bulk.big_accounts", BIG_COLUMNS, "id") == expected
        with psycopg.connect(target_url) as conn:
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = 'bulk.big_accounts'::regclass AND attnum > 0 "
                    "AND NOT attisdropped ORDER BY attnum"
                )
            ]
        # DROP_AND_CREATE rebuilds the table from the source definition; TRUNCATE keeps the target's own definition.
        assert ("added_by_hand" in columns) is (mode is TargetTablePrepMode.TRUNCATE_BEFORE_LOAD)


def test_a_re_run_with_truncate_before_load_never_duplicates(source_url, target_url):
    mappings = rules(include(1, "bulk", "big_accounts"))
    run(source_url, target_url, mappings)
    task, _ = run(source_url, target_url, mappings)
    assert task.table_statistics()[0]["FullLoadRows"] == BIG_ROWS
    assert fingerprint(target_url, "bulk.big_accounts", BIG_COLUMNS, "id") == fingerprint(
        source_url, "bulk.big_accounts", BIG_COLUMNS, "id"
    )


# (transformation rule, target table, column list on the target matching BIG_COLUMNS' values)
TRANSFORMATIONS = [
    (transform(2, "schema", "rename", "renamed", schema_name="bulk"), '"renamed".big_accounts', BIG_COLUMNS),
    (transform(2, "schema", "add-prefix", "dms_", schema_name="bulk"), "dms_bulk.big_accounts", BIG_COLUMNS),
    (transform(2, "schema", "remove-prefix", "bu", schema_name="%"), '"lk".big_accounts', BIG_COLUMNS),
    (transform(2, "schema", "add-suffix", "_v2", schema_name="bulk"), "bulk_v2.big_accounts", BIG_COLUMNS),
    (transform(2, "schema", "convert-uppercase", schema_name="bulk"), '"BULK".big_accounts', BIG_COLUMNS),
    (
        transform(2, "table", "rename", "accounts", schema_name="bulk", table_name="big_accounts"),
        "bulk.accounts",
        BIG_COLUMNS,
    ),
    (transform(2, "table", "add-prefix", "t_", schema_name="%", table_name="%"), "bulk.t_big_accounts", BIG_COLUMNS),
    (transform(2, "table", "remove-prefix", "big_", schema_name="bulk", table_name="%"), "bulk.accounts", BIG_COLUMNS),
    (transform(2, "table", "remove-suffix", "_accounts", schema_name="bulk", table_name="%"), "bulk.big", BIG_COLUMNS),
    (
        transform(2, "table", "convert-uppercase", schema_name="bulk", table_name="%"),
        'bulk."BIG_ACCOUNTS"',
        BIG_COLUMNS,
    ),
    (
        transform(2, "column", "rename", "acct_no", schema_name="bulk", table_name="%", column_name="account_number"),
        "bulk.big_accounts",
        BIG_COLUMNS.replace("account_number", "acct_no"),
    ),
    (
        transform(2, "column", "add-suffix", "_x", schema_name="bulk", table_name="%", column_name="%name"),
        "bulk.big_accounts",
        BIG_COLUMNS.replace("first_name", "first_name_x").replace("last_name", "last_name_x"),
    ),
    (
        transform(2, "column", "remove-prefix", "creation_", schema_name="bulk", table_name="%", column_name="%"),
        "bulk.big_accounts",
        BIG_COLUMNS.replace("creation_time", '"time"'),
    ),
    (
        transform(2, "column", "convert-uppercase", schema_name="bulk", table_name="%", column_name="note"),
        "bulk.big_accounts",
        BIG_COLUMNS.replace("note", '"NOTE"'),
    ),
    (
        transform(2, "column", "remove-column", schema_name="bulk", table_name="big_accounts", column_name="note"),
        "bulk.big_accounts",
        BIG_COLUMNS.replace(", note", ""),
    ),
]


@pytest.mark.parametrize(
    ("rule", "target_table", "target_columns"),
    TRANSFORMATIONS,
    ids=[f"{r['rule-target']}-{r['rule-action']}" for r, _, _ in TRANSFORMATIONS],
)
def test_each_transformation_on_the_100k_table(source_url, target_url, rule, target_table, target_columns):
    mappings = rules(include(1, "bulk", "big_accounts"), rule)
    task, _ = run(source_url, target_url, mappings, TaskSettings().with_prep_mode("DROP_AND_CREATE"))
    assert task.status == "stopped", task.task_fields()
    [table] = task.table_statistics()
    assert (table["TableState"], table["FullLoadRows"]) == ("Table completed", BIG_ROWS)
    source_columns = BIG_COLUMNS.replace(", note", "") if rule["rule-action"] == "remove-column" else BIG_COLUMNS
    assert fingerprint(target_url, target_table, target_columns, "1") == fingerprint(
        source_url, "bulk.big_accounts", source_columns, "1"
    )


def test_two_actions_on_one_table_fail_the_task_by_name(source_url, target_url):
    # DMS documents that only one transformation action may act on an object (issue 14): no silent chaining.
    mappings = rules(
        include(1, "demo_schema", "%"),
        transform(2, "table", "convert-uppercase", schema_name="%", table_name="%"),
        transform(3, "table", "convert-lowercase", schema_name="%", table_name="%"),
    )
    task, _ = run(source_url, target_url, mappings)
    assert task.status == "failed"
    assert "rules[2].object-locator" in str(task.task_fields()) and "only one transformation action" in str(
        task.task_fields()
    )


def test_selection_wildcards_exclude_explicit_and_load_order(source_url, target_url):
    mappings = rules(
        include(1, "bulk", "small%", **{"load-order": 1}),
        include(2, "bulk", "tmp%", "exclude"),
        include(3, "demo_schema", "demo_accounts", "explicit", **{"load-order": 5}),
        include(4, "bulk", "%"),
        include(5, "bulk", "big_accounts", "exclude"),
    )
    settings = TaskSettings.from_dict({"FullLoadSettings": {"MaxFullLoadSubTasks": 1}})
    task, events = run(source_url, target_url, mappings, settings)

    loaded = [(e.schema, e.table) for e in events if isinstance(e, TableLoadStarted)]
    assert loaded == [("demo_schema", "demo_accounts"), ("bulk", "small_a"), ("bulk", "small_b")]
    assert [s["FullLoadRows"] for s in task.table_statistics()] == [4, 10, 20]
    with psycopg.connect(target_url) as conn:
        tables = conn.execute("SELECT to_regclass('bulk.tmp_scratch'), to_regclass('bulk.big_accounts')").fetchone()
    assert tables == (None, None)


def test_an_unsupported_rule_fails_the_task_by_name_and_copies_nothing(source_url, target_url):
    mappings = rules(
        include(1, "demo_schema", "%"),
        {
            **transform(7, "column", "data-masking-hash-mask", schema_name="%", table_name="%", column_name="x"),
        },
    )
    task, _ = run(source_url, target_url, mappings)
    fields = task.task_fields()
    assert fields["Status"] == "failed"
    assert fields["StopReason"] == "Stop Reason FATAL_ERROR"
    assert "rule 7" in fields["LastFailureMessage"] and "data-masking-hash-mask" in fields["LastFailureMessage"]
    assert task.table_statistics() == []
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regnamespace('demo_schema')").fetchone() == (None,)


def test_an_unknown_migration_type_and_an_invalid_setting_are_named(source_url, target_url):
    settings = TaskSettings.from_dict(
        {"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE", "MaxFullLoadSubTasks": 50}}
    )
    task, _ = run(source_url, target_url, default_mappings(), settings, migration_type="full-load-and-replay")
    message = task.task_fields()["LastFailureMessage"]
    assert task.status == "failed"
    for name in ("full-load-and-replay", "TargetTablePrepMode", "MaxFullLoadSubTasks"):
        assert name in message


def test_no_selected_table_fails_like_dms(source_url, target_url):
    task, _ = run(source_url, target_url, rules(include(1, "nowhere", "%")))
    assert task.status == "failed"
    assert "No tables were found at task initialization" in task.task_fields()["LastFailureMessage"]


def test_a_table_that_cannot_load_is_errored_and_the_others_complete(source_url, target_url):
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bulk; CREATE TABLE bulk.small_a (id int PRIMARY KEY)")  # no "label" column
    task, _ = run(
        source_url,
        target_url,
        rules(include(1, "bulk", "small%")),
        TaskSettings().with_prep_mode("DO_NOTHING"),
    )
    stats = {s["TableName"]: s for s in task.table_statistics()}
    assert stats["small_a"]["TableState"] == "Table error" and stats["small_a"]["FullLoadRows"] == 0
    assert stats["small_b"]["TableState"] == "Table completed"
    fields = task.task_fields()
    assert fields["ReplicationTaskStats"]["TablesErrored"] == 1
    assert "label" in fields["LastFailureMessage"] and "bulk.small_a" in fields["LastFailureMessage"]
    assert fields["ReplicationTaskStats"]["FullLoadProgressPercent"] < 100


def test_stopping_mid_load_rolls_the_table_back_and_reports_it_cancelled(source_url, target_url):
    task: FullLoadTask

    def stop_when_loading(event: EngineEvent) -> None:
        if isinstance(event, TableLoadStarted):
            task.stop()

    task = FullLoadTask(
        endpoint(source_url),
        endpoint(target_url),
        rules(include(1, "bulk", "big_accounts")),
        on_event=stop_when_loading,
    )
    task.start()
    assert task.wait(60)
    fields = task.task_fields()
    assert (fields["Status"], fields["StopReason"]) == ("stopped", "Stop Reason NORMAL")
    assert task.table_statistics()[0]["TableState"] == "Table cancelled"
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('bulk.big_accounts')").fetchone() == (None,)

    task._on_event = None  # resume: only the unfinished table runs again, to completion
    task.start("resume-processing")
    assert task.wait(60)
    assert task.table_statistics()[0]["TableState"] == "Table completed"
    assert fingerprint(target_url, "bulk.big_accounts", BIG_COLUMNS, "id")[0] == BIG_ROWS


def test_reload_tables_copies_one_table_again_and_marks_it_reloaded(source_url, target_url):
    task, _ = run(source_url, target_url, rules(include(1, "bulk", "small%")))
    assert task.status == "stopped", task.task_fields()
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("DELETE FROM bulk.small_b")
    task.reload_tables([("bulk", "small_b")])
    assert task.wait(60)
    stats = {s["TableName"]: s for s in task.table_statistics()}
    assert stats["small_b"]["FullLoadReloaded"] is True and stats["small_b"]["FullLoadRows"] == 20
    assert stats["small_a"]["FullLoadReloaded"] is False
    assert fingerprint(target_url, "bulk.small_b", "id, label", "id")[0] == 20


def test_validation_compares_tables_with_a_key_and_says_when_there_is_none(source_url, target_url):
    settings = TaskSettings.from_dict({"ValidationSettings": {"EnableValidation": True}})
    task, _ = run(
        source_url, target_url, rules(include(1, "demo_schema", "%"), include(2, "bulk", "small_a")), settings
    )
    states = {s["TableName"]: s["ValidationState"] for s in task.table_statistics()}
    assert states == {"demo_accounts": "No primary key", "small_a": "Validated"}


def test_the_password_never_appears_in_the_engine_state(source_url, target_url, pg_source):
    task, _ = run(source_url, target_url, rules(include(1, "nowhere", "%")))
    text = json.dumps([task.task_fields(), task.table_statistics(), repr(task.source)], default=str)
    assert pg_source.password not in text


def test_the_engine_vs_psql_benchmark_runs_at_a_small_size(pg_source, pg_target, capsys):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "engine_vs_psql.py"
    spec = importlib.util.spec_from_file_location("engine_vs_psql", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["engine_vs_psql"] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    pg_source.fresh_database("bench_smoke")
    pg_target.fresh_database("bench_smoke")
    figures = bench.compare(
        str(pg_source.cluster.bindir / "psql"),
        bench.Side(pg_source.cluster.port, pg_source.password, "bench_smoke"),
        bench.Side(pg_target.cluster.port, pg_target.password, "bench_smoke"),
        rows=2000,
        repeat=1,
    )
    assert figures["ratio"] > 0
    printed = capsys.readouterr().out
    assert "engine / pipe time" in printed and "2,000" in printed
    assert pg_source.password not in printed
