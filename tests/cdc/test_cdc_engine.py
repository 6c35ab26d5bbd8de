"""The sandbox DMS engine's change data capture, against real PostgreSQL: full-load-and-cdc with writes running during
and after the full load, stop/resume, a table reload during CDC, a table without a key, and a SIGKILLed engine
resumed without losing or doubling a change. Equality is proven with the Diff step's own engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from engine_endpoint import endpoint  # type: ignore[import-not-found]

from dms_tui.data.diff.engine import DiffOptions
from dms_tui.data.workload import run_workload
from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.domain.dms import StartTaskType, TableState, TaskStatus
from dms_tui.sandbox import cdc
from dms_tui.sandbox.dms_engine import ChangesNotApplied, EngineEvent, FullLoadTask
from dms_tui.steps.diff import DiffInputs, diff_report

pytestmark = pytest.mark.timeout(240)

TABLES = ("app.int_key", "app.text_key", "app.composite_key")
SCHEMA_SQL = """
DROP SCHEMA IF EXISTS app CASCADE;
CREATE SCHEMA app;
CREATE TABLE app.int_key (id bigint PRIMARY KEY, name varchar(30), balance numeric(12,2), note text);
CREATE TABLE app.text_key (code text PRIMARY KEY, label varchar(40), seen time);
CREATE TABLE app.composite_key (region integer, account varchar(20), amount bigint, flag boolean,
                                PRIMARY KEY (region, account));
CREATE TABLE app.no_key (n integer, label text);
INSERT INTO app.int_key SELECT g, 'n' || g, g * 1.5, repeat('x', g % 10) FROM generate_series(1, 3000) g;
INSERT INTO app.text_key SELECT 'k' || g, 'label ' || g, time '00:00' + g * interval '1 second'
  FROM generate_series(1, 2000) g;
INSERT INTO app.composite_key SELECT g % 10, 'a' || g, g, g % 2 = 0 FROM generate_series(1, 2000) g;
INSERT INTO app.no_key SELECT g, 'row ' || g FROM generate_series(1, 10) g;
"""


def mappings(schema: str = "app", table: str = "%") -> TableMappings:
    return TableMappings.from_dict(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "rule-name": "1",
                    "object-locator": {"schema-name": schema, "table-name": table},
                    "rule-action": "include",
                }
            ]
        }
    )


@pytest.fixture
def dbs(pg_source: Any, pg_target: Any, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    name = "cdc_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    source = pg_source.fresh_database(name)
    target = pg_target.fresh_database(name)
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)
    yield source, target
    with psycopg.connect(source, autocommit=True) as conn:
        for (slot,) in conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE database = current_database()"
        ).fetchall():
            cdc.drop_slot(conn, slot)
    pg_source.cluster.drop_database(name)
    pg_target.cluster.drop_database(name)


def new_task(source: str, target: str, events: list[EngineEvent] | None = None, **kw: Any) -> FullLoadTask:
    return FullLoadTask(
        endpoint(source),
        endpoint(target),
        kw.pop("mappings", mappings()),
        TaskSettings(),
        migration_type=kw.pop("migration_type", "full-load-and-cdc"),
        task_id=kw.pop("task_id", "cdc-test"),
        on_event=(events.append if events is not None else None),
        **kw,
    )


def wait_for(predicate: Any, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def current_lsn(source: str) -> int:
    # The insert position, not pg_current_wal_lsn() (the write position): the sandbox commits asynchronously, so the
    # last commits may not be written yet, and waiting for the write position would pass before they are applied.
    with psycopg.connect(source, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return cdc.lsn_to_int(row[0])


def caught_up(task: FullLoadTask, source: str) -> None:
    """The source's current WAL position has been applied (the slot confirmed past it)."""
    goal = current_lsn(source)
    wait_for(lambda: bool(task.metrics.confirmed) and cdc.lsn_to_int(task.metrics.confirmed) >= goal, 60, "catch-up")


def assert_identical(source: str, target: str, tables: tuple[str, ...] = TABLES) -> None:
    done = diff_report(
        None, None, DiffInputs(tables=tables, source_url=source, target_url=target, options=DiffOptions())
    )
    assert done.report.identical, [(t.source, t.row_differences) for t in done.report.tables]


def workload_thread(source: str, rate: float, stop: threading.Event, seed: int) -> threading.Thread:
    thread = threading.Thread(
        target=run_workload,
        args=(source,),
        kwargs={"rate": rate, "duration_s": 0, "tables": list(TABLES), "stop": stop, "seed": seed},
        daemon=True,
    )
    thread.start()
    return thread


def test_full_load_and_cdc_with_writes_during_and_after_the_load_ends_identical(dbs):
    source, target = dbs
    stop = threading.Event()
    writes = workload_thread(source, 300, stop, seed=1)
    time.sleep(0.3)  # writes are already running when the slot and the snapshot are taken
    task = new_task(source, target)
    task.start()
    wait_for(lambda: task.replication_task_stats()["FullLoadProgressPercent"] == 100, what="full load")
    assert task.status == TaskStatus.RUNNING  # a CDC task keeps running after its full load
    with psycopg.connect(source, autocommit=True) as conn:  # the two shapes the issue names, on purpose
        with conn.transaction():
            conn.execute("INSERT INTO app.int_key VALUES (9000001, 'in-one-txn', 1, 'a')")
            conn.execute("UPDATE app.int_key SET name = 'updated-in-same-txn' WHERE id = 9000001")
        conn.execute("DELETE FROM app.text_key WHERE code = 'k7'")
        conn.execute("INSERT INTO app.text_key VALUES ('k7', 'reinserted', '01:02:03')")
        conn.execute("UPDATE app.composite_key SET region = 99 WHERE region = 1 AND account = 'a1'")  # key moves
    time.sleep(2)
    stop.set()
    writes.join(10)
    caught_up(task, source)
    # The batch that caught up reports its own latency; the next, empty look at the slot reports zero.
    wait_for(lambda: task.metrics.latency_target_s == 0.0, 10, "target latency zero")
    assert_identical(source, target)
    stats = {(s["SchemaName"], s["TableName"]): s for s in task.table_statistics()}
    assert stats[("app", "int_key")]["TableState"] == TableState.COMPLETED
    assert sum(s["AppliedInserts"] for s in stats.values()) > 0
    assert sum(s["AppliedUpdates"] + s["AppliedDeletes"] for s in stats.values()) > 0
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT name FROM app.int_key WHERE id = 9000001").fetchone() == ("updated-in-same-txn",)
    task.stop()
    assert task.wait(30)
    assert task.status == TaskStatus.STOPPED
    assert task.slot_info() is not None  # a stopped task keeps its slot
    assert task.drop_slot() and task.slot_info() is None


def test_stop_resume_and_a_reload_during_cdc(dbs):
    source, target = dbs
    task = new_task(source, target)
    task.start()
    wait_for(lambda: task.replication_task_stats()["FullLoadProgressPercent"] == 100, what="full load")
    stop = threading.Event()
    writes = workload_thread(source, 200, stop, seed=2)
    time.sleep(1)
    task.stop()
    assert task.wait(30) and task.status == TaskStatus.STOPPED
    time.sleep(1)  # written while the task is stopped: held by the slot
    with psycopg.connect(target, autocommit=True) as conn:  # damage one target table; the reload repairs it
        conn.execute("DELETE FROM app.text_key WHERE code LIKE 'k1%'")
    task.start(StartTaskType.RESUME_PROCESSING)
    wait_for(lambda: task.status == TaskStatus.RUNNING, what="running again")
    task.reload_tables([("app", "text_key")])
    wait_for(
        lambda: next(s for s in task.table_statistics() if s["TableName"] == "text_key")["FullLoadReloaded"],
        what="reload",
    )
    time.sleep(1)
    stop.set()
    writes.join(10)
    caught_up(task, source)
    assert_identical(source, target)
    task.stop()
    task.wait(30)
    task.drop_slot()


def test_a_table_without_a_key_gets_inserts_but_not_updates_or_deletes_and_says_so(dbs):
    source, target = dbs
    events: list[EngineEvent] = []
    task = new_task(source, target, events, mappings=mappings("app", "no_key"))
    task.start()
    wait_for(lambda: task.metrics.phase == "ongoing replication", what="replicating")
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("INSERT INTO app.no_key VALUES (11, 'new')")
        conn.execute("UPDATE app.no_key SET label = 'changed' WHERE n = 1")
        conn.execute("DELETE FROM app.no_key WHERE n = 2")
    caught_up(task, source)
    (stats,) = task.table_statistics()
    assert (stats["Inserts"], stats["Updates"], stats["Deletes"]) == (1, 1, 1)
    assert (stats["AppliedInserts"], stats["AppliedUpdates"], stats["AppliedDeletes"]) == (1, 0, 0)
    assert "not applied" in stats["ValidationStateDetails"]
    assert any(isinstance(e, ChangesNotApplied) and "no primary key" in e.reason for e in events)
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT label FROM app.no_key WHERE n = 1").fetchone() == ("row 1",)
        assert conn.execute("SELECT count(*) FROM app.no_key").fetchone() == (11,)
    task.stop()
    task.wait(30)
    task.drop_slot()


ENGINE_CHILD = textwrap.dedent(
    """
    import sys, time, json
    from dms_tui.sandbox.dms_engine import FullLoadTask, PostgresEndpoint
    from dms_tui.dmstask.settings import TaskSettings
    import psycopg
    def ep(url):
        p = psycopg.conninfo.conninfo_to_dict(url)
        return PostgresEndpoint(p["host"], int(p["port"]), p["dbname"], p["user"], p["password"])
    source, target, mappings, start_type = sys.stdin.read().split("\\n")[:4]
    task = FullLoadTask(ep(source), ep(target), mappings, TaskSettings(), migration_type="full-load-and-cdc",
                        task_id="cdc-killed")
    task.start(start_type)
    while True:
        print(json.dumps({"status": task.status, "phase": task.metrics.phase,
                          "applied": task.metrics.changes_applied}), flush=True)
        time.sleep(0.2)
    """
)


def spawn_engine(source: str, target: str, start_type: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", ENGINE_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert child.stdin is not None
    child.stdin.write("\n".join([source, target, mappings().to_json(indent=None), start_type]) + "\n")
    child.stdin.close()
    return child


def read_until(child: subprocess.Popen[str], predicate: Any, timeout: float = 60) -> dict[str, Any]:
    import json

    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            raise AssertionError("the engine process ended")
        state = json.loads(line)
        if predicate(state):
            return dict(state)
    raise AssertionError("timed out reading the engine's state")


def test_an_engine_killed_during_cdc_resumes_from_the_target_checkpoint_without_loss_or_double_apply(dbs):
    source, target = dbs
    stop = threading.Event()
    writes = workload_thread(source, 300, stop, seed=3)
    child = spawn_engine(source, target, StartTaskType.START_REPLICATION)
    try:
        read_until(child, lambda s: s["phase"] == "ongoing replication" and s["applied"] > 100)
        os.kill(child.pid, signal.SIGKILL)  # mid-stream: maybe between a target commit and the slot advance
        child.wait(10)
        time.sleep(1)  # writes go on while nothing captures them
        with psycopg.connect(target) as conn:
            checkpoint = cdc.read_checkpoint(conn, "cdc-killed")
        assert checkpoint is not None
        resumed = new_task(source, target, task_id="cdc-killed")
        resumed.start(StartTaskType.RESUME_PROCESSING)
        wait_for(lambda: resumed.metrics.phase == "ongoing replication", what="resumed")
        time.sleep(1)
        stop.set()
        writes.join(10)
        caught_up(resumed, source)
        assert_identical(source, target)
        # Nothing applied twice in effect: inserts are upserts, and the stream restarted after the checkpoint.
        stats = resumed.table_statistics()
        assert sum(s["FullLoadRows"] for s in stats) == 0  # the resume loaded nothing again
        resumed.stop()
        resumed.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        stop.set()
    assert resumed.drop_slot()
