"""The CDC apply's fast paths against real PostgreSQL (issue 13, throughput): the per-shape line reader reads every
line of real test_decoding output exactly as the general reader does, and a batch applied as net changes per key
leaves the target exactly as applying each change in source order does (key moves, a key swap, delete-then-reinsert
resetting a target-only column's default, insert-then-update in one transaction); tables whose target could see the
order of rows (a trigger, another unique index) keep one statement per change; without a free replication slot for
the read-ahead copy the engine reads its own slot and still replicates."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.preview import plan_tables, read_source_catalog
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.domain.dms import TaskStatus
from dms_tui.sandbox import cdc
from dms_tui.sandbox.dms_engine import FullLoadTask

pytestmark = pytest.mark.timeout(120)

SOURCE_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id bigint PRIMARY KEY, name varchar(30), qty integer, tags text[], doc jsonb,
                        price numeric(10,2), bits bit(3), ok boolean, at timestamptz, "Odd ""Col"" x" text);
CREATE TABLE app.pairs (region integer, account text, amount bigint, PRIMARY KEY (region, account));
CREATE TABLE "App Quoted".t (id integer PRIMARY KEY, v text);
"""
TARGET_SQL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id bigint PRIMARY KEY, name varchar(30), qty integer, tags text[], doc jsonb,
                        price numeric(10,2), bits bit(3), ok boolean, at timestamptz, "Odd ""Col"" x" text,
                        marker text DEFAULT 'inserted');
CREATE TABLE app.pairs (region integer, account text, amount bigint, PRIMARY KEY (region, account));
"""
# Rows the target holds before the changes (a full load's copy): marker 'loaded' shows which rows were re-inserted.
TARGET_ROWS = """
INSERT INTO app.items (id, name, qty, marker) SELECT g, 'n' || g, g, 'loaded' FROM generate_series(1, 6) g;
INSERT INTO app.pairs SELECT 1, 'a' || g, g FROM generate_series(1, 4) g;
"""
SOURCE_ROWS = """
INSERT INTO app.items (id, name, qty) SELECT g, 'n' || g, g FROM generate_series(1, 6) g;
INSERT INTO app.pairs SELECT 1, 'a' || g, g FROM generate_series(1, 4) g;
"""
CHANGES = [
    # insert and update in one transaction; values the line reader must take apart
    "INSERT INTO app.items VALUES (10, 'it''s', 1, '{a,\"b c\"}', '{\"k\": [1, \"x y\"]}', 1.50, B'101', true,"
    " '2026-12-07 10:00:00+00', 'odd ''value'' here'); UPDATE app.items SET qty = 2, name = E'two\\nlines' WHERE id = 10",
    "UPDATE app.items SET name = NULL, tags = NULL WHERE id = 1",
    # a deleted-then-reinserted key: the target-only column gets its default again
    "DELETE FROM app.items WHERE id = 2; INSERT INTO app.items (id, name, qty) VALUES (2, 'again', 20)",
    # a key swap through a third key, and a key moved onto a key deleted in the same batch
    "UPDATE app.items SET id = 100 WHERE id = 3; UPDATE app.items SET id = 3 WHERE id = 4;"
    " UPDATE app.items SET id = 4 WHERE id = 100",
    "DELETE FROM app.items WHERE id = 5",
    "UPDATE app.items SET id = 5, name = 'moved' WHERE id = 6",
    "UPDATE app.pairs SET account = 'z' WHERE region = 1 AND account = 'a1'; DELETE FROM app.pairs WHERE account = 'a2';"
    " INSERT INTO app.pairs VALUES (2, 'a2', 7); UPDATE app.pairs SET amount = amount + 1",
    "INSERT INTO \"App Quoted\".t VALUES (1, 'q'); UPDATE \"App Quoted\".t SET v = 'r'",
    "INSERT INTO app.items (id) VALUES (11); DELETE FROM app.items WHERE id = 11",
]
COMPARE = "SELECT * FROM app.items ORDER BY id"


@pytest.fixture
def dbs(pg_source: Any, pg_target: Any, request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    name = "cdcapply_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:30]
    source = pg_source.fresh_database(name)
    targets = [pg_target.fresh_database(name + "_net"), pg_target.fresh_database(name + "_row")]
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute('CREATE SCHEMA "App Quoted"')
        conn.execute(SOURCE_SQL)
        conn.execute(SOURCE_ROWS)
    for target in targets:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(TARGET_SQL)
            conn.execute(TARGET_ROWS)
    yield source, targets[0], targets[1]
    with psycopg.connect(source, autocommit=True) as conn:
        cdc.drop_slot(conn, "cdc_apply_test")
    pg_source.cluster.drop_database(name)
    for suffix in ("_net", "_row"):
        pg_target.cluster.drop_database(name + suffix)


def decoded(source: str) -> tuple[list[tuple[str, Any, str]], list[cdc.Transaction]]:
    with psycopg.connect(source, autocommit=True) as conn:
        cdc.create_slot(conn, "cdc_apply_test")
        for statement in CHANGES:
            with conn.transaction():
                conn.execute(statement)
        rows = cdc.peek(conn, "cdc_apply_test", cdc.flush_wal(conn), 100_000)
    return rows, cdc.group_transactions(rows)


def app_mappings() -> TableMappings:
    rule = {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include"}
    return TableMappings.from_dict({"rules": [{**rule, "object-locator": {"schema-name": "app", "table-name": "%"}}]})


def test_the_shape_reader_reads_real_test_decoding_lines_as_the_general_reader_does(dbs: tuple[str, str, str]) -> None:
    source, _, _ = dbs
    rows, _ = decoded(source)
    lines = [data for _, _, data in rows if data.startswith("table ")]
    assert len(lines) >= 20
    fast = 0
    for line in lines:
        general = cdc._parse_change_general(line)
        assert cdc.parse_change(line) == general, line
        fast += cdc._fast_change(line) is not None
    # the common lines (unquoted names, no old key) took the fast path; the quoted schema's did not
    assert fast >= len([line for line in lines if line.startswith("table app.") and "old-key:" not in line])
    assert all(cdc._fast_change(line) is None for line in lines if line.startswith('table "App Quoted"'))


def test_a_batch_applied_as_net_changes_leaves_the_target_as_applying_each_change_in_order_does(
    dbs: tuple[str, str, str],
) -> None:
    source, net_target, row_target = dbs
    _, txns = decoded(source)
    results = []
    for target, bulk in ((net_target, True), (row_target, False)):
        with psycopg.connect(source, autocommit=True) as src, psycopg.connect(target) as tgt:
            plans = plan_tables(read_source_catalog(src), app_mappings())
            targets = cdc.apply_targets(plans, src, tgt)
            tgt.rollback()
            assert all(bool(t.bulk_types) for t in targets.values()), "both tables qualify for net changes"
            if not bulk:
                targets = {k: dataclasses.replace(t, bulk_types={}) for k, t in targets.items()}
            applier = cdc.Applier(targets, {})
            with tgt.pipeline(), tgt.transaction(), tgt.cursor() as cur:
                applied = applier.apply_batch(cur, txns)
            results.append(
                (
                    applied,
                    tgt.execute(COMPARE).fetchall(),
                    tgt.execute("SELECT * FROM app.pairs ORDER BY 1, 2").fetchall(),
                    {k: dataclasses.astuple(c) for k, c in applier.counters.items()},
                )
            )
    assert results[0] == results[1]
    items = {row[0]: row for row in results[0][1]}
    assert items[2][-1] == "inserted" and items[1][-1] == "loaded"  # re-inserted vs updated in place
    assert items[3][1] == "n4" and items[4][1] == "n3" and 6 not in items and items[5][1] == "moved"
    with psycopg.connect(source) as src:
        source_items = [row for row in src.execute(COMPARE).fetchall()]
    assert [row[:-1] for row in results[0][1]] == source_items  # the target's extra column aside


def test_a_target_that_could_see_the_order_of_rows_keeps_one_statement_per_change(dbs: tuple[str, str, str]) -> None:
    source, target, _ = dbs
    with psycopg.connect(source, autocommit=True) as src, psycopg.connect(target, autocommit=True) as tgt:
        plans = plan_tables(read_source_catalog(src), app_mappings())
        assert all(t.bulk_types for t in cdc.apply_targets(plans, src, tgt).values())
        tgt.execute("CREATE UNIQUE INDEX items_name ON app.items (name)")
        tgt.execute(
            "CREATE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
            " CREATE TRIGGER pairs_noop BEFORE INSERT ON app.pairs FOR EACH ROW EXECUTE FUNCTION app.noop()"
        )
        found = cdc.apply_targets(plans, src, tgt)
        assert {k[1]: bool(t.bulk_types) for k, t in found.items()} == {"items": False, "pairs": False}
        assert all(t.keyed for t in found.values())


def test_without_a_free_slot_for_the_read_ahead_the_engine_reads_its_own_slot_and_still_replicates(
    dbs: tuple[str, str, str],
) -> None:
    source, target, _ = dbs
    rule = {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include"}
    task = FullLoadTask(
        endpoint(source),
        endpoint(target),
        TableMappings.from_dict({"rules": [{**rule, "object-locator": {"schema-name": "app", "table-name": "pairs"}}]}),
        TaskSettings(),
        migration_type="cdc",
        task_id="cdc-apply-fallback",
    )
    with psycopg.connect(source, autocommit=True) as holder:
        # Every free slot but one taken (temporary slots of this session): the task's own slot gets the last one.
        row = holder.execute(
            "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)"
        ).fetchone()
        assert row is not None and row[0] >= 1
        for i in range(row[0] - 1):
            holder.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding', true)", (f"hold_{i}",))
        task.start()
        try:
            wait_for(lambda: task.metrics.phase == "ongoing replication", "replicating")
            with psycopg.connect(source, autocommit=True) as conn:
                conn.execute("INSERT INTO app.pairs VALUES (7, 'fallback', 1)")
            with psycopg.connect(target, autocommit=True) as conn:
                wait_for(
                    lambda: conn.execute("SELECT amount FROM app.pairs WHERE account = 'fallback'").fetchone() == (1,),
                    "the insert applied",
                )
            slots = [r[0] for r in holder.execute("SELECT slot_name FROM pg_replication_slots").fetchall()]
            assert task.slot_name in slots and not [s for s in slots if s.startswith(task.slot_name + "_r")]
        finally:
            task.stop()
            task.wait(30)
            task.drop_slot()
            for i in range(row[0] - 1):
                holder.execute("SELECT pg_drop_replication_slot(%s)", (f"hold_{i}",))
    assert task.status == TaskStatus.STOPPED


def wait_for(predicate: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
