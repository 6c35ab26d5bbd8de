"""Watch a running DMS task: one ``ReplicationTaskSnapshot`` per answer, never two calls in flight.

A poll is DescribeReplicationTasks for the task plus, once the task has started, every page of
DescribeTableStatistics. The next poll is scheduled only after the answer arrives (like Dolphie's ``set_timer`` after
success), so a slow API can never make polls pile up. The interval is short while the task moves, grows while it sits
idle, and grows further when the API keeps failing or throttling; botocore's adaptive retry mode (configured in
``Environment.client``) already slows individual calls down on throttling, this adds the pause between polls.

Both forms serve the same events: :meth:`TaskPoller.events` (a blocking iterator for the headless CLI or a thread
worker, stopped by a ``threading.Event``) and :meth:`TaskPoller.aevents` (an async generator, stopped by cancelling).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.domain.dms import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    NEVER_STARTED_STATUSES,
    TABLE_ERROR_STATES,
    TableState,
    TaskStatus,
)

_THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


@dataclass(frozen=True)
class TaskStats:
    """ReplicationTaskStats: progress of the task as a whole."""

    full_load_progress_percent: int = 0
    elapsed_time_ms: int = 0
    tables_loaded: int = 0
    tables_loading: int = 0
    tables_queued: int = 0
    tables_errored: int = 0
    fresh_start_date: dt.datetime | None = None
    start_date: dt.datetime | None = None
    stop_date: dt.datetime | None = None
    full_load_start_date: dt.datetime | None = None
    full_load_finish_date: dt.datetime | None = None

    @classmethod
    def from_api(cls, stats: Mapping[str, Any]) -> TaskStats:
        return cls(
            full_load_progress_percent=_int(stats.get("FullLoadProgressPercent")),
            elapsed_time_ms=_int(stats.get("ElapsedTimeMillis")),
            tables_loaded=_int(stats.get("TablesLoaded")),
            tables_loading=_int(stats.get("TablesLoading")),
            tables_queued=_int(stats.get("TablesQueued")),
            tables_errored=_int(stats.get("TablesErrored")),
            fresh_start_date=_time(stats.get("FreshStartDate")),
            start_date=_time(stats.get("StartDate")),
            stop_date=_time(stats.get("StopDate")),
            full_load_start_date=_time(stats.get("FullLoadStartDate")),
            full_load_finish_date=_time(stats.get("FullLoadFinishDate")),
        )


@dataclass(frozen=True)
class TableStatistics:
    """One entry of DescribeTableStatistics: how far one table is."""

    schema_name: str
    table_name: str
    table_state: str
    full_load_rows: int = 0
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    ddls: int = 0
    applied_inserts: int = 0  # CDC: changes applied on the target (Inserts/Updates/Deletes count those captured)
    applied_updates: int = 0
    applied_deletes: int = 0
    full_load_error_rows: int = 0
    full_load_condtnl_chk_failed_rows: int = 0
    full_load_reloaded: bool = False
    full_load_start_time: dt.datetime | None = None
    full_load_end_time: dt.datetime | None = None
    last_update_time: dt.datetime | None = None
    validation_state: str | None = None
    validation_pending_records: int = 0
    validation_failed_records: int = 0
    validation_suspended_records: int = 0
    validation_state_details: str | None = None

    @property
    def completed(self) -> bool:
        return self.table_state == TableState.COMPLETED

    @property
    def errored(self) -> bool:
        return self.table_state in TABLE_ERROR_STATES

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> TableStatistics:
        return cls(
            schema_name=str(entry.get("SchemaName", "")),
            table_name=str(entry.get("TableName", "")),
            table_state=str(entry.get("TableState", "")),
            full_load_rows=_int(entry.get("FullLoadRows")),
            inserts=_int(entry.get("Inserts")),
            updates=_int(entry.get("Updates")),
            deletes=_int(entry.get("Deletes")),
            ddls=_int(entry.get("Ddls")),
            applied_inserts=_int(entry.get("AppliedInserts")),
            applied_updates=_int(entry.get("AppliedUpdates")),
            applied_deletes=_int(entry.get("AppliedDeletes")),
            full_load_error_rows=_int(entry.get("FullLoadErrorRows")),
            full_load_condtnl_chk_failed_rows=_int(entry.get("FullLoadCondtnlChkFailedRows")),
            full_load_reloaded=bool(entry.get("FullLoadReloaded", False)),
            full_load_start_time=_time(entry.get("FullLoadStartTime")),
            full_load_end_time=_time(entry.get("FullLoadEndTime")),
            last_update_time=_time(entry.get("LastUpdateTime")),
            validation_state=entry.get("ValidationState") or None,
            validation_pending_records=_int(entry.get("ValidationPendingRecords")),
            validation_failed_records=_int(entry.get("ValidationFailedRecords")),
            validation_suspended_records=_int(entry.get("ValidationSuspendedRecords")),
            validation_state_details=entry.get("ValidationStateDetails") or None,
        )


@dataclass(frozen=True)
class ReplicationTaskSnapshot:
    """Everything the Migrate screen and `dms-tui migrate` show about the task at one moment."""

    task_arn: str
    identifier: str
    migration_type: str
    status: str
    stop_reason: str | None
    last_failure_message: str | None
    stats: TaskStats
    tables: tuple[TableStatistics, ...]
    taken_at: dt.datetime
    table_statistics_error: str | None = None  # the task answered but its table statistics did not

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def succeeded(self) -> bool:
        """Stopped with every table loaded and none errored (what `dms-tui migrate` exits 0 on)."""
        return (
            self.status == TaskStatus.STOPPED
            and self.stats.tables_errored == 0
            and bool(self.tables)
            and all(t.completed for t in self.tables)
        )


@dataclass(frozen=True)
class PollFailed:
    """The API did not answer this poll (throttled, unreachable, denied); the poller retries after ``retry_in_s``."""

    task_arn: str
    message: str
    throttled: bool
    retry_in_s: float
    taken_at: dt.datetime


@dataclass(frozen=True)
class TaskGone:
    """The task no longer exists (deleted); the poller has stopped."""

    task_arn: str
    taken_at: dt.datetime


PollEvent = ReplicationTaskSnapshot | PollFailed | TaskGone


@dataclass(frozen=True)
class PollSchedule:
    """Seconds between the end of one poll and the start of the next."""

    active_s: float = 2.0  # the task moves: the screen's counters should, too
    idle_s: float = 5.0  # first pause once nothing moves
    idle_max_s: float = 30.0
    failing_max_s: float = 60.0  # cap while the API keeps throttling or failing
    growth: float = 2.0


class TaskPoller:
    """Polls one task; see the module docstring. Not thread-safe: one consumer per poller."""

    def __init__(
        self,
        client: Any,
        task_arn: str,
        schedule: PollSchedule | None = None,
        *,
        stop_when_ended: bool = True,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.task_arn = task_arn
        self.schedule = schedule or PollSchedule()
        self.stop_when_ended = stop_when_ended
        self._now = now
        self._delay = self.schedule.active_s
        self._last_status: str | None = None
        self._ended_tables: tuple[TableStatistics, ...] | None = None

    # -- one poll --------------------------------------------------------------------------------------------------

    def poll_once(self) -> PollEvent:
        """Ask the API once and return what it said (never raises for API errors: they become ``PollFailed``)."""
        try:
            response = self.client.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [self.task_arn]}], WithoutSettings=True
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundFault":
                return TaskGone(self.task_arn, self._now())
            return self._failed(exc, throttled=code in _THROTTLING_CODES)
        except BotoCoreError as exc:  # endpoint unreachable, read timeout, retries exhausted
            return self._failed(exc, throttled=False)
        tasks = response.get("ReplicationTasks") or []
        if not tasks:
            return TaskGone(self.task_arn, self._now())
        task = tasks[0]
        status = str(task.get("Status", ""))
        tables: tuple[TableStatistics, ...] = ()
        table_error: str | None = None
        if status in ENDED_STATUSES and status == self._last_status and self._ended_tables is not None:
            # A task that stays stopped/failed cannot change its table statistics: reuse them, save the calls.
            tables = self._ended_tables
        elif status not in NEVER_STARTED_STATUSES:
            tables, table_error = self._table_statistics()
        self._ended_tables = tables if status in ENDED_STATUSES and table_error is None else None
        snapshot = ReplicationTaskSnapshot(
            task_arn=self.task_arn,
            identifier=str(task.get("ReplicationTaskIdentifier", "")),
            migration_type=str(task.get("MigrationType", "")),
            status=status,
            stop_reason=task.get("StopReason") or None,
            last_failure_message=task.get("LastFailureMessage") or None,
            stats=TaskStats.from_api(task.get("ReplicationTaskStats") or {}),
            tables=tables,
            taken_at=self._now(),
            table_statistics_error=table_error,
        )
        self._schedule_after(snapshot)
        return snapshot

    def _table_statistics(self) -> tuple[tuple[TableStatistics, ...], str | None]:
        entries: list[TableStatistics] = []
        try:
            # DescribeTableStatistics returns at most 500 per page; a big schema needs every page.
            pages = self.client.get_paginator("describe_table_statistics").paginate(
                ReplicationTaskArn=self.task_arn, PaginationConfig={"PageSize": 500}
            )
            for page in pages:
                entries.extend(TableStatistics.from_api(e) for e in page.get("TableStatistics", []))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "InvalidResourceStateFault":  # not started yet: no statistics to show
                return (), None
            return tuple(entries), f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
        except BotoCoreError as exc:
            return tuple(entries), str(exc)
        return tuple(entries), None

    # -- scheduling ------------------------------------------------------------------------------------------------

    def _schedule_after(self, snapshot: ReplicationTaskSnapshot) -> None:
        s = self.schedule
        if snapshot.status in ACTIVE_STATUSES:
            self._delay = s.active_s
        elif snapshot.status != self._last_status:
            self._delay = s.idle_s
        else:  # still idle: back off
            self._delay = min(max(self._delay, s.idle_s) * s.growth, s.idle_max_s)
        self._last_status = snapshot.status

    def _failed(self, exc: Exception, *, throttled: bool) -> PollFailed:
        s = self.schedule
        self._delay = min(max(self._delay, s.idle_s) * s.growth, s.failing_max_s)
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            message = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
        else:
            message = str(exc)
        return PollFailed(self.task_arn, message, throttled, self._delay, self._now())

    @property
    def next_delay_s(self) -> float:
        """Seconds the poller will wait before its next call."""
        return self._delay

    def _is_last(self, event: PollEvent) -> bool:
        if isinstance(event, TaskGone):
            return True
        return isinstance(event, ReplicationTaskSnapshot) and event.ended and self.stop_when_ended

    # -- the two forms ---------------------------------------------------------------------------------------------

    def events(
        self, stop: threading.Event | None = None, *, wait: Callable[[float], bool] | None = None
    ) -> Iterator[PollEvent]:
        """Poll until the task ends or ``stop`` is set; ``wait(seconds) -> stop requested`` can replace the clock."""
        stop = stop or threading.Event()
        pause = wait or stop.wait
        while not stop.is_set():
            event = self.poll_once()
            yield event
            if self._is_last(event) or pause(self._delay):
                return

    async def aevents(self) -> AsyncIterator[PollEvent]:
        """The same events for asyncio: each blocking call runs in a thread; cancel the consumer to stop."""
        while True:
            event = await asyncio.to_thread(self.poll_once)
            yield event
            if self._is_last(event):
                return
            await asyncio.sleep(self._delay)
