"""What happened between two polls of a DMS task: events for the Migrate screen's strip, and rows per second.

DMS reports state, not history: each ``ReplicationTaskSnapshot`` says where the task and its tables are now. The
screen's event strip ("started", "table completed", "failed: ...") and its throughput figures are therefore derived by
comparing consecutive snapshots. These functions are the single place that does it, so the screen, the headless
command and the tests agree on what counts as an event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics
from dms_tui.domain.dms import MOVING_STATUSES, TaskStatus
from dms_tui.domain.units import format_duration


@dataclass(frozen=True)
class TaskStarted:
    """The task began moving (it was not running before, or this is the first look at a running task)."""

    identifier: str
    at: dt.datetime


@dataclass(frozen=True)
class TaskStatusChanged:
    """The task's status changed in a way no more specific event covers (e.g. ``running`` -> ``stopping``)."""

    identifier: str
    old: str
    new: str
    at: dt.datetime


@dataclass(frozen=True)
class TaskStopped:
    """The task reached ``stopped``; ``reason`` is DMS's StopReason (e.g. "Stop Reason FULL_LOAD_ONLY_FINISHED")."""

    identifier: str
    reason: str | None
    at: dt.datetime


@dataclass(frozen=True)
class TaskFailed:
    """The task reached ``failed``; ``message`` is DMS's LastFailureMessage."""

    identifier: str
    message: str | None
    at: dt.datetime


@dataclass(frozen=True)
class TableLoading:
    """A table appeared in the statistics or moved into a loading state."""

    table: str  # schema.table, as DMS reports it (the source name)
    state: str
    at: dt.datetime


@dataclass(frozen=True)
class TableCompleted:
    """A table reached "Table completed"."""

    table: str
    rows: int
    at: dt.datetime


@dataclass(frozen=True)
class TableFailed:
    """A table reached an error state."""

    table: str
    state: str
    at: dt.datetime


TaskActivity = TaskStarted | TaskStatusChanged | TaskStopped | TaskFailed | TableLoading | TableCompleted | TableFailed


def qualified_name(table: TableStatistics) -> str:
    """``schema.table`` for one statistics entry (the key the screen's table rows use)."""
    return f"{table.schema_name}.{table.table_name}"


def activity_between(previous: ReplicationTaskSnapshot | None, current: ReplicationTaskSnapshot) -> list[TaskActivity]:
    """The events that explain how ``previous`` became ``current`` (``previous`` None: the first look)."""
    at = current.taken_at
    found: list[TaskActivity] = []
    # Read in order: the task starts, then its tables move, then the task stops or fails.
    ending: list[TaskActivity] = []
    old_status = previous.status if previous is not None else None
    if current.status != old_status:
        if current.status == TaskStatus.RUNNING and old_status not in MOVING_STATUSES:
            found.append(TaskStarted(current.identifier, at))
        elif current.status == TaskStatus.STOPPED:
            ending.append(TaskStopped(current.identifier, current.stop_reason, at))
        elif current.status == TaskStatus.FAILED:
            ending.append(TaskFailed(current.identifier, current.last_failure_message, at))
        elif old_status is not None:
            found.append(TaskStatusChanged(current.identifier, old_status, current.status, at))
    before = {qualified_name(t): t for t in previous.tables} if previous is not None else {}
    for table in current.tables:
        name = qualified_name(table)
        earlier = before.get(name)
        if earlier is not None and earlier.table_state == table.table_state:
            continue
        if table.completed:
            found.append(TableCompleted(name, table.full_load_rows, at))
        elif table.errored:
            found.append(TableFailed(name, table.table_state, at))
        else:
            found.append(TableLoading(name, table.table_state, at))
    return found + ending


def rows_moved(table: TableStatistics) -> int:
    """Every row the task has applied to this table: full-load rows plus change rows (inserts, updates, deletes)."""
    return table.full_load_rows + table.inserts + table.updates + table.deletes


def table_rates(previous: ReplicationTaskSnapshot | None, current: ReplicationTaskSnapshot) -> dict[str, float]:
    """Rows per second per table between two snapshots (0.0 for a table seen first, or no time elapsed)."""
    rates = {qualified_name(t): 0.0 for t in current.tables}
    if previous is None:
        return rates
    seconds = (current.taken_at - previous.taken_at).total_seconds()
    if seconds <= 0:
        return rates
    before = {qualified_name(t): rows_moved(t) for t in previous.tables}
    for table in current.tables:
        name = qualified_name(table)
        if name in before:
            # A reload starts the count again: a negative delta is a restart, not negative throughput.
            rates[name] = max(0, rows_moved(table) - before[name]) / seconds
    return rates


def throughput(previous: ReplicationTaskSnapshot | None, current: ReplicationTaskSnapshot) -> float:
    """Rows per second for the whole task between two snapshots."""
    return sum(table_rates(previous, current).values())


def elapsed_seconds(snapshot: ReplicationTaskSnapshot) -> float | None:
    """How long the task has run, from DMS's own figures (never a local clock, so the screen is reproducible)."""
    stats = snapshot.stats
    if stats.elapsed_time_ms:
        return stats.elapsed_time_ms / 1000
    start = stats.start_date or stats.fresh_start_date
    if start is None:
        return None
    end = stats.stop_date if snapshot.ended and stats.stop_date is not None else snapshot.taken_at
    if start.tzinfo is None and end.tzinfo is not None:
        start = start.replace(tzinfo=dt.UTC)
    elif end.tzinfo is None and start.tzinfo is not None:
        end = end.replace(tzinfo=dt.UTC)
    return max(0.0, (end - start).total_seconds())


def format_elapsed(seconds: float | None) -> str:
    """``1h02m03s`` / ``4m05s`` / ``12s`` / ``350ms`` (a fast full load takes less than a second); a dash when unknown."""
    return format_duration(seconds)


def describe_activity(event: TaskActivity) -> str:
    """One short line for the event strip (AWS's texts are inserted verbatim; render them as plain text)."""
    match event:
        case TaskStarted():
            return f"task {event.identifier} started"
        case TaskStatusChanged():
            return f"task {event.old} → {event.new}"
        case TaskStopped():
            return f"task stopped ({event.reason})" if event.reason else "task stopped"
        case TaskFailed():
            return f"task failed: {event.message or 'DMS gave no reason'}"
        case TableLoading():
            return f"{event.table}: {event.state.lower()}"
        case TableCompleted():
            return f"{event.table} completed ({event.rows:,} rows)"
        case TableFailed():
            return f"{event.table} failed ({event.state})"
    return str(event)
