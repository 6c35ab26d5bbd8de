"""The Migrate screen's event strip and throughput come from comparing consecutive DMS snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dms_tui.aws.task_events import (
    TableCompleted,
    TableFailed,
    TableLoading,
    TaskFailed,
    TaskStarted,
    TaskStatusChanged,
    TaskStopped,
    activity_between,
    describe_activity,
    elapsed_seconds,
    format_elapsed,
    table_rates,
    throughput,
)
from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics, TaskStats

T0 = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.UTC)


def snap(status: str, *tables: TableStatistics, at: float = 0.0, **fields: Any) -> ReplicationTaskSnapshot:
    return ReplicationTaskSnapshot(
        task_arn="arn:task",
        identifier="demo",
        migration_type="full-load",
        status=status,
        stop_reason=fields.pop("stop_reason", None),
        last_failure_message=fields.pop("failure", None),
        stats=fields.pop("stats", TaskStats()),
        tables=tables,
        taken_at=T0 + dt.timedelta(seconds=at),
    )


def tbl(name: str, state: str, rows: int = 0, **changes: int) -> TableStatistics:
    return TableStatistics("sales", name, state, full_load_rows=rows, **changes)


def test_the_first_look_at_a_running_task_says_it_started_and_where_each_table_is() -> None:
    events = activity_between(
        None, snap("running", tbl("orders", "Before load"), tbl("customers", "Table completed", 5))
    )
    assert events == [
        TaskStarted("demo", T0),
        TableLoading("sales.orders", "Before load", T0),
        TableCompleted("sales.customers", 5, T0),
    ]


def test_tables_moving_on_become_events_and_the_task_ending_comes_last() -> None:
    before = snap("running", tbl("orders", "Full load", 10), tbl("customers", "Full load", 3))
    after = snap(
        "stopped",
        tbl("orders", "Table completed", 300),
        tbl("customers", "Table error", 3),
        at=2,
        stop_reason="Stop Reason FULL_LOAD_ONLY_FINISHED",
    )
    at = T0 + dt.timedelta(seconds=2)
    assert activity_between(before, after) == [
        TableCompleted("sales.orders", 300, at),
        TableFailed("sales.customers", "Table error", at),
        TaskStopped("demo", "Stop Reason FULL_LOAD_ONLY_FINISHED", at),
    ]


def test_nothing_changed_means_no_event_and_rows_alone_are_not_an_event() -> None:
    before = snap("running", tbl("orders", "Full load", 10))
    assert activity_between(before, snap("running", tbl("orders", "Full load", 500), at=2)) == []


def test_a_failure_carries_dms_s_message_and_other_changes_say_from_what_to_what() -> None:
    running = snap("running", tbl("orders", "Full load"))
    failed = snap("failed", tbl("orders", "Full load"), failure="Stream component failed")
    assert activity_between(running, failed) == [TaskFailed("demo", "Stream component failed", T0)]
    assert activity_between(running, snap("stopping", tbl("orders", "Full load"))) == [
        TaskStatusChanged("demo", "running", "stopping", T0)
    ]
    assert describe_activity(TaskFailed("demo", None, T0)) == "task failed: DMS gave no reason"
    assert describe_activity(TableCompleted("sales.orders", 1234, T0)) == "sales.orders completed (1,234 rows)"
    assert describe_activity(TaskStopped("demo", None, T0)) == "task stopped"


def test_a_resume_after_a_stop_is_a_start_again() -> None:
    stopped = snap("stopped", tbl("orders", "Full load", 5))
    assert activity_between(stopped, snap("running", tbl("orders", "Full load", 5)))[0] == TaskStarted("demo", T0)
    starting = snap("starting")
    assert not any(isinstance(e, TaskStarted) for e in activity_between(starting, snap("running")))


def test_rows_per_second_count_full_load_and_change_rows_between_snapshots() -> None:
    before = snap("running", tbl("orders", "Full load", 100), tbl("customers", "Table completed", 20))
    after = snap(
        "running",
        tbl("orders", "Full load", 300, inserts=40, updates=10, deletes=10),
        tbl("customers", "Table completed", 20),
        tbl("new_one", "Before load"),
        at=4,
    )
    assert table_rates(before, after) == {"sales.orders": 65.0, "sales.customers": 0.0, "sales.new_one": 0.0}
    assert throughput(before, after) == 65.0
    assert throughput(None, after) == 0.0
    assert table_rates(after, after) == {"sales.orders": 0.0, "sales.customers": 0.0, "sales.new_one": 0.0}


def test_a_reloaded_table_restarting_its_count_is_not_negative_throughput() -> None:
    before = snap("running", tbl("orders", "Table completed", 300))
    assert table_rates(before, snap("running", tbl("orders", "Full load", 50), at=2)) == {"sales.orders": 0.0}


def test_elapsed_time_comes_from_dms_not_from_a_local_clock() -> None:
    assert elapsed_seconds(snap("running", stats=TaskStats(elapsed_time_ms=62_500))) == 62.5
    naive_start = dt.datetime(2026, 1, 5, 8, 59, 0)  # moto's dates come back without a zone
    assert elapsed_seconds(snap("running", at=30, stats=TaskStats(start_date=naive_start))) == 90.0
    ended = TaskStats(start_date=T0, stop_date=T0 + dt.timedelta(seconds=10))
    assert elapsed_seconds(snap("stopped", at=500, stats=ended)) == 10.0
    assert elapsed_seconds(snap("creating")) is None
    assert [format_elapsed(s) for s in (None, 0.4, 5, 125, 3723.9)] == ["–", "400ms", "5s", "2m05s", "1h02m03s"]


STATES = st.sampled_from(["Before load", "Full load", "Table completed", "Table error", "Table cancelled"])
TABLES = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d"]), st.tuples(STATES, st.integers(min_value=0, max_value=10**6)), max_size=4
)


@given(TABLES, TABLES, st.sampled_from(["running", "stopped", "failed", "starting"]))
def test_every_state_change_is_reported_exactly_once_and_rates_are_never_negative(
    old: dict[str, tuple[str, int]], new: dict[str, tuple[str, int]], status: str
) -> None:
    before = snap("running", *(tbl(n, s, r) for n, (s, r) in old.items()))
    after = snap(status, *(tbl(n, s, r) for n, (s, r) in new.items()), at=1)
    table_events = [e for e in activity_between(before, after) if hasattr(e, "table")]
    changed = {f"sales.{n}" for n, (s, _) in new.items() if old.get(n, ("",))[0] != s}
    assert sorted(e.table for e in table_events) == sorted(changed)  # type: ignore[union-attr]
    assert all(rate >= 0 for rate in table_rates(before, after).values())
    assert activity_between(after, after) == []
