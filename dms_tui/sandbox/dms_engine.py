"""The sandbox's DMS data plane: really runs a replication task's full load between two PostgreSQL databases.

Moto keeps the DMS API objects but moves no data. This engine does what a DMS replication instance does for a
``full-load`` task, with the same table mappings (``dms_tui.dmstask.mappings``) and task settings
(``dms_tui.dmstask.settings``), and reports the same fields AWS reports: the task's Status / StopReason /
LastFailureMessage / ReplicationTaskStats, and per-table statistics shaped like ``DescribeTableStatistics``'
``TableStatistics`` entries (timestamps as ``datetime``, as boto3 returns them).

How a table is copied: ``COPY (SELECT cols FROM source) TO STDOUT (FORMAT binary)`` on one connection streamed into
``COPY target (cols) FROM STDIN (FORMAT binary)`` on another (``stream_copy``: rows are never decoded, only batched
into 256 KB writes). A column rename does not change COPY data (columns are positional); remove-column just lists
fewer columns. Binary format is used when every target column has the source column's type (always so for tables the
engine creates), text otherwise. Each table is
prepared (drop/truncate/create) and loaded in ONE target transaction, so a failed or cancelled table leaves the
target as it was, and a table is reported "Table completed" only after its commit. Tables load in parallel, up to
``FullLoadSettings.MaxFullLoadSubTasks`` at a time.

A table-settings ``parallel-load`` (``ranges``, ``partitions-auto``) splits a table's load into segments copied
at once on their own sessions, all reading one exported snapshot (``_copy_segments``). ``ErrorBehavior``: a record
the target refuses or the source cannot convert is skipped and counted in FullLoadErrorRows under DataErrorPolicy
LOG_ERROR / IGNORE_RECORD (``_copy_records``), fails the table under SUSPEND_TABLE, the task under STOP_TASK; a table
error stops the task under TableErrorPolicy STOP_TASK. With ``ValidationSettings.EnableValidation`` each loaded table
is compared by key (:mod:`dms_tui.sandbox.validation`; CDC tables once the changes are applied).

``CommitRate`` is accepted and validated but the engine commits once per table (that is what makes the all-or-nothing
promise above possible; DMS's CommitRate only tunes batch sizes).

``full-load-and-cdc`` and ``cdc`` tasks then keep running: changes are read from a logical replication slot on the
source and applied on the target in commit order (:mod:`dms_tui.sandbox.cdc` says how the full load and the capture
meet without loss or double apply, and how a crash is survived). The task stays ``running`` with
FullLoadProgressPercent 100 until it is stopped (StopReason NORMAL); a stopped task keeps its slot, so
``resume-processing`` continues from the last position the target committed; ``reload-target`` and a fresh start drop
it and start again; ReloadTables reloads a table while changes keep flowing to the others.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import pq, sql

from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings
from dms_tui.dmstask.preview import QualifiedName, TablePreview, plan_tables, range_segments, read_source_catalog
from dms_tui.dmstask.settings import SettingsFormatError, TargetTablePrepMode, TaskSettings
from dms_tui.domain.dms import (
    ENDED_STATUSES,
    MigrationType,
    StartTaskType,
    StopReason,
    TableState,
    TaskStatus,
    ValidationState,
)
from dms_tui.sandbox import cdc

# -- inputs -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresEndpoint:
    """Where and as whom the engine connects (the password stays in memory; it is never shown)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)
    sslmode: str = "require"  # libpq's, from the DMS endpoint's SslMode (dms_dataplane maps it)
    sslrootcert: str | None = None  # the CA a verify-* mode checks against

    def conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(
            "",
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password,
            sslmode=self.sslmode,
            sslrootcert=self.sslrootcert,
            connect_timeout=10,
            application_name="dms-tui-sandbox-dms",
        )


# -- events -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskStatusChanged:
    status: str
    stop_reason: str | None = None
    last_failure_message: str | None = None


@dataclass(frozen=True)
class TableLoadStarted:
    schema: str
    table: str


@dataclass(frozen=True)
class TableLoadCompleted:
    schema: str
    table: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class TableLoadFailed:
    schema: str
    table: str
    message: str


@dataclass(frozen=True)
class CaptureStarted:
    """Change capture runs from ``position`` (an LSN) on ``slot``; ``resumed`` when it continues an earlier run."""

    slot: str
    position: str
    resumed: bool


@dataclass(frozen=True)
class ChangesNotApplied:
    """A table whose updates and deletes DMS cannot apply (no usable key); its inserts still are."""

    schema: str
    table: str
    reason: str


@dataclass(frozen=True)
class ChangesApplied:
    """One target transaction of changes committed (``transactions`` source transactions, up to ``position``)."""

    transactions: int
    changes: int
    position: str


@dataclass(frozen=True)
class ValidationCompleted:
    """A table's data validation ended: its ValidationState and how many records failed."""

    schema: str
    table: str
    state: str
    failed: int


EngineEvent = (
    TaskStatusChanged
    | TableLoadStarted
    | TableLoadCompleted
    | TableLoadFailed
    | CaptureStarted
    | ChangesNotApplied
    | ChangesApplied
    | ValidationCompleted
)

#: How many decoded rows one read of the slot returns at most (whole transactions; one target transaction each).
#: Every read decodes again from the slot's restart_lsn, which moves only at a running-transactions record (every
#: ~15 s), so small reads re-decode a backlog over and over: on bench/cdc_vs_native.py's 30,000-change backlog,
#: 5,000 rows per read drained at ~0.4x the native subscription, 20,000 at ~0.55-0.75x, one read of it all ~0.45x
#: (nothing to overlap the read with).
CDC_BATCH = 20000
#: About how many changes the engine sends to the target at a time within a batch (see _apply_loop).
CDC_APPLY_CHUNK = 2000
#: Seconds between looks at the slot while nothing arrives.
CDC_IDLE_POLL = 0.05


class TaskStateError(RuntimeError):
    """The request does not fit the task's current state (e.g. start while running)."""


class _CdcFailure(Exception):
    """Change capture cannot go on; the message becomes the task's LastFailureMessage."""


def _stop_time(position: str | None) -> datetime | None:
    """``server_time:2026-12-02T11:00:00`` (UTC) as DMS writes a CdcStopPosition; None without one."""
    if not position:
        return None
    kind, _, value = position.partition(":")
    if kind not in ("server_time", "commit_time") or not value:
        raise TaskStateError(f"CdcStopPosition {position!r}: use server_time:YYYY-MM-DDTHH:MM:SS.")
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _DataError(Exception):
    """A data error the task's DataErrorPolicy (SUSPEND_TABLE, STOP_TASK) turns into a table error."""

    def __init__(self, policy: str, cause: BaseException, setting: str = "DataErrorPolicy") -> None:
        super().__init__(_one_line(cause))
        self.policy, self.cause, self.setting = policy, _one_line(cause), setting


class _Cancelled(Exception):
    """Raised inside a table load when the task is being stopped."""


def _now() -> datetime:
    return datetime.now(UTC)


def _failure(detail: str) -> str:
    """A LastFailureMessage in DMS's shape."""
    return f"Last Error {detail} Stop Reason FATAL_ERROR Error Level FATAL"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


@dataclass
class _TableRecord:
    plan: TablePreview
    state: str = TableState.BEFORE_LOAD.value
    rows: int = 0
    error_rows: int = 0
    start: datetime | None = None
    end: datetime | None = None
    reloaded: bool = False
    last_update: datetime = field(default_factory=_now)
    validation: str = ValidationState.NOT_ENABLED.value
    validation_pending: int = 0
    validation_failed: int = 0
    validation_suspended: int = 0
    validation_details: str | None = None
    bytes_copied: int = 0
    message: str | None = None
    changes: cdc.TableCounters = field(default_factory=cdc.TableCounters)
    cdc_note: str | None = None  # why updates/deletes are not applied

    def as_statistics(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "SchemaName": self.plan.source.schema,
            "TableName": self.plan.source.table,
            "Inserts": self.changes.inserts,
            "Deletes": self.changes.deletes,
            "Updates": self.changes.updates,
            "Ddls": self.changes.ddls,
            "AppliedInserts": self.changes.applied_inserts,
            "AppliedDeletes": self.changes.applied_deletes,
            "AppliedUpdates": self.changes.applied_updates,
            "AppliedDdls": self.changes.applied_ddls,
            "FullLoadRows": self.rows,
            "FullLoadCondtnlChkFailedRows": 0,
            "FullLoadErrorRows": self.error_rows,
            "FullLoadReloaded": self.reloaded,
            "LastUpdateTime": self.last_update,
            "TableState": self.state,
            "ValidationPendingRecords": self.validation_pending,
            "ValidationFailedRecords": self.validation_failed,
            "ValidationSuspendedRecords": self.validation_suspended,
            "ValidationState": self.validation,
        }
        if self.start is not None:
            entry["FullLoadStartTime"] = self.start
        if self.end is not None:
            entry["FullLoadEndTime"] = self.end
        if self.message and self.state == TableState.ERROR:
            entry["ValidationStateDetails"] = self.message
        elif self.cdc_note:
            entry["ValidationStateDetails"] = self.cdc_note
        elif self.validation_details:
            entry["ValidationStateDetails"] = self.validation_details
        return entry


@dataclass
class CdcMetrics:
    """What the engine knows about its change stream right now (the CloudWatch CDC* metrics are made from it)."""

    latency_source_s: float = 0.0
    latency_target_s: float = 0.0
    incoming_changes: int = 0
    changes_read: int = 0  # totals since the run began
    changes_applied: int = 0
    checkpoint: str = ""
    confirmed: str = ""
    phase: str = ""  # "full load", "applying cached changes", "ongoing replication"
    catch_up_lsn: int = 0  # the source position when the full load ended


class FullLoadTask:
    """One replication task's data movement: start / stop / resume / reload, and its DMS-shaped state.

    ``table_mappings`` and ``task_settings`` are the task's JSON documents (or parsed models). Nothing is checked in
    the constructor: like DMS, problems surface when the task runs, as a failed task with a LastFailureMessage.
    """

    def __init__(
        self,
        source: PostgresEndpoint,
        target: PostgresEndpoint,
        table_mappings: TableMappings | str,
        task_settings: TaskSettings | str | None = None,
        *,
        migration_type: str = MigrationType.FULL_LOAD.value,
        task_id: str = "sandbox-task",
        on_event: Callable[[EngineEvent], None] | None = None,
        slot_name: str | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.task_id = task_id
        self.migration_type = migration_type
        self._raw_mappings = table_mappings
        self._raw_settings = task_settings
        self._on_event = on_event
        self._lock = threading.RLock()
        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = TaskStatus.READY.value
        self._stop_reason: str | None = None
        self._failure: str | None = None
        self._tables: dict[tuple[str, str], _TableRecord] = {}
        self._start_date: datetime | None = None
        self._fresh_start_date: datetime | None = None
        self._stop_date: datetime | None = None
        self._full_load_start: datetime | None = None
        self._full_load_finish: datetime | None = None
        self.slot_name = slot_name or cdc.slot_name_for(task_id, source.dbname, target.dbname)
        self.metrics = CdcMetrics()
        self._reload_requests: list[set[tuple[str, str]]] = []
        self._cdc_start_position: str | None = None
        self._cdc_stop_time: datetime | None = None
        self._table_error_stop: str | None = None  # the table error that stopped the task (TableErrorPolicy)
        self._validation_due: set[tuple[str, str]] = set()  # CDC: tables to validate once changes caught up

    # -- control --------------------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def is_active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def captures_changes(self) -> bool:
        return self.migration_type in (MigrationType.FULL_LOAD_AND_CDC, MigrationType.CDC)

    def start(
        self,
        start_type: str = StartTaskType.START_REPLICATION,
        *,
        cdc_start_position: str | None = None,
        cdc_stop_position: str | None = None,
    ) -> None:
        """Run in a background thread. ``start-replication`` / ``reload-target`` load every selected table again;
        ``resume-processing`` loads only the tables not completed by the previous run (CDC tasks: and continues
        from the checkpoint the target holds). ``cdc_start_position``: a native LSN on the task's slot (``cdc``
        tasks); ``cdc_stop_position``: ``server_time:YYYY-MM-DDTHH:MM:SS`` (UTC) after which the task stops."""
        with self._lock:
            if self.is_active:
                raise TaskStateError(f"Task {self.task_id} is {self._status}; stop it before starting it again.")
            if self.captures_changes:
                self._cdc_start_position = cdc_start_position
                self._cdc_stop_time = _stop_time(cdc_stop_position)
                self._prepare_run(None, reload=start_type == StartTaskType.RESUME_PROCESSING)
                self.metrics = CdcMetrics()
                self._thread = threading.Thread(
                    target=self._run_cdc, args=(str(start_type),), name=f"dms-{self.task_id}", daemon=True
                )
                self._thread.start()
                return
            only: set[tuple[str, str]] | None = None
            if start_type == StartTaskType.RESUME_PROCESSING and self._tables:
                only = {key for key, rec in self._tables.items() if rec.state != TableState.COMPLETED}
            self._prepare_run(only, reload=False)
        self._thread = threading.Thread(target=self._run, args=(only, False), name=f"dms-{self.task_id}", daemon=True)
        self._thread.start()

    def reload_tables(self, tables: Iterable[tuple[str, str]]) -> None:
        """Load the given (source schema, table) pairs again, keeping every other table's statistics. A CDC task
        reloads them while it runs (changes keep flowing to the other tables)."""
        with self._lock:
            if self.captures_changes:
                if not self.is_active:
                    raise TaskStateError(f"Task {self.task_id} is {self._status}; start it to reload tables.")
                wanted = set(tables)
                for key in wanted:
                    record = self._tables.get(key)
                    if record is not None:
                        record.state = TableState.RELOADING.value
                self._reload_requests.append(wanted)
                return
            if self.is_active:
                raise TaskStateError(f"Task {self.task_id} is {self._status}; wait until it stops to reload tables.")
            only = set(tables)
            self._prepare_run(only, reload=True)
        self._thread = threading.Thread(target=self._run, args=(only, True), name=f"dms-{self.task_id}", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Run the full load in the calling thread (tests and benchmarks)."""
        with self._lock:
            self._prepare_run(None, reload=False)
        self._run(None, False)

    def fail_to_start(self, detail: str) -> None:
        """Record a start that could not begin (e.g. an endpoint's secret is unreadable) as a failed task."""
        with self._lock:
            if self.is_active:
                raise TaskStateError(f"Task {self.task_id} is {self._status}.")
            self._prepare_run(None, reload=False)
        self._fail(detail)

    def stop(self) -> None:
        """Ask a running load to stop; tables not yet committed are cancelled and rolled back."""
        with self._lock:
            if not self.is_active:
                raise TaskStateError(f"Task {self.task_id} is not running (status {self._status}).")
            self._stop_requested.set()
            self._set_status(TaskStatus.STOPPING)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background run to end; True when it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # -- DMS-shaped state -----------------------------------------------------------------------------------------

    def replication_task_stats(self) -> dict[str, Any]:
        with self._lock:
            records = list(self._tables.values())
            counts = {state: sum(1 for r in records if r.state == state) for state in TableState}
            stats: dict[str, Any] = {
                "FullLoadProgressPercent": self._progress_percent(records),
                "ElapsedTimeMillis": self._elapsed_millis(),
                "TablesLoaded": counts[TableState.COMPLETED],
                "TablesLoading": counts[TableState.FULL_LOAD],
                "TablesQueued": counts[TableState.BEFORE_LOAD],
                "TablesErrored": counts[TableState.ERROR],
            }
            for key, value in (
                ("FreshStartDate", self._fresh_start_date),
                ("StartDate", self._start_date),
                ("StopDate", self._stop_date),
                ("FullLoadStartDate", self._full_load_start),
                ("FullLoadFinishDate", self._full_load_finish),
            ):
                if value is not None:
                    stats[key] = value
            return stats

    def task_fields(self) -> dict[str, Any]:
        """The fields of a ``DescribeReplicationTasks`` entry that the data plane owns."""
        with self._lock:
            fields: dict[str, Any] = {"Status": self._status, "ReplicationTaskStats": self.replication_task_stats()}
            if self._stop_reason:
                fields["StopReason"] = self._stop_reason
            if self._failure:
                fields["LastFailureMessage"] = self._failure
            if self._start_date is not None:
                fields["ReplicationTaskStartDate"] = self._start_date
            return fields

    def table_statistics(self) -> list[dict[str, Any]]:
        """``DescribeTableStatistics``' ``TableStatistics`` entries, in load order."""
        with self._lock:
            return [record.as_statistics() for record in self._tables.values()]

    def _progress_percent(self, records: Sequence[_TableRecord]) -> int:
        if self.captures_changes and self._full_load_finish is not None:
            return 100
        if not records:
            return 100 if self._status == TaskStatus.STOPPED and self._full_load_finish else 0
        total = done = 0.0
        for record in records:
            weight = float(max(record.plan.table.size_bytes, 1))
            total += weight
            if record.state == TableState.COMPLETED:
                done += weight
            elif record.state == TableState.FULL_LOAD:
                done += weight * min(0.99, record.bytes_copied / weight)  # an estimate until the commit
        return int(100 * done / total)

    def _elapsed_millis(self) -> int:
        if self._start_date is None:
            return 0
        end = self._stop_date if self._stop_date is not None and self._status in ENDED_STATUSES else _now()
        return max(0, int((end - self._start_date).total_seconds() * 1000))

    # -- the run --------------------------------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _set_status(
        self, status: TaskStatus, stop_reason: StopReason | None = None, failure: str | None = None
    ) -> None:
        with self._lock:
            self._status = status.value
            self._stop_reason = stop_reason.value if stop_reason else None
            if failure is not None:
                self._failure = failure
            if status in (TaskStatus.STOPPED, TaskStatus.FAILED):
                self._stop_date = _now()
        self._emit(TaskStatusChanged(status.value, self._stop_reason, failure))

    def _fail(self, detail: str) -> None:
        self._set_status(TaskStatus.FAILED, StopReason.FATAL_ERROR, _failure(detail))

    def _prepare_run(self, only: set[tuple[str, str]] | None, *, reload: bool) -> None:
        self._stop_requested.clear()
        self._table_error_stop = None
        self._start_date = _now()
        if only is None and not reload:
            self._fresh_start_date = self._start_date
        self._stop_date = None
        self._stop_reason = None
        self._failure = None
        self._full_load_finish = None
        self._status = TaskStatus.STARTING.value

    def _definition_problems(self) -> tuple[TableMappings | None, TaskSettings | None, list[str]]:
        problems: list[str] = []
        mappings: TableMappings | None = None
        settings: TaskSettings | None = None
        try:
            mappings = (
                self._raw_mappings
                if isinstance(self._raw_mappings, TableMappings)
                else TableMappings.from_json(self._raw_mappings)
            )
        except MappingsFormatError as exc:
            problems.append(f"Invalid table mappings: {exc}")
        try:
            raw = self._raw_settings
            settings = raw if isinstance(raw, TaskSettings) else TaskSettings.from_json(raw) if raw else TaskSettings()
        except SettingsFormatError as exc:
            problems.append(f"Invalid task settings: {exc}")
        if self.migration_type not in {t.value for t in MigrationType}:
            problems.append(f"Unsupported migration type {self.migration_type!r}.")
        if mappings is not None:
            problems.extend(f"Invalid table mappings: {p}" for p in mappings.validate())
            problems.extend(
                f"Unsupported table mapping: {u} by the sandbox DMS engine." for u in mappings.unsupported()
            )
        if settings is not None:
            problems.extend(f"Invalid task settings: {p}" for p in settings.validate())
            if settings.target_metadata.target_schema:
                problems.append(
                    "Unsupported task setting: TargetMetadata.TargetSchema is not supported by the sandbox DMS "
                    "engine; rename the schema with a transformation rule instead."
                )
        return mappings, settings, problems

    def _run(self, only: set[tuple[str, str]] | None, reload: bool) -> None:
        self._emit(TaskStatusChanged(TaskStatus.STARTING.value))
        mappings, settings, problems = self._definition_problems()
        if problems or mappings is None or settings is None:
            self._fail(" ".join(problems))
            return
        try:
            with psycopg.connect(self.source.conninfo(), autocommit=True) as conn:
                plans = plan_tables(read_source_catalog(conn), mappings, settings)
        except psycopg.Error as exc:
            self._fail(f"Failed to connect to the source endpoint: {_one_line(exc)}")
            return
        if only is not None:
            plans = [p for p in plans if (p.source.schema, p.source.table) in only]
        if not plans:
            self._fail(
                "No tables were found at task initialization. Either the selected table(s) or schemas(s) no "
                "longer exist or no table(s) were specified."
            )
            return
        try:
            with psycopg.connect(self.target.conninfo(), autocommit=True) as conn:
                # Before the parallel loads: two transactions creating the same schema at once would collide.
                for schema in sorted({p.target.schema for p in plans}):
                    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        except psycopg.Error as exc:
            self._fail(f"Failed to prepare the target endpoint: {_one_line(exc)}")
            return
        with self._lock:
            if only is None:
                self._tables = {}
            for plan in plans:
                key = (plan.source.schema, plan.source.table)
                self._tables[key] = _TableRecord(plan, reloaded=reload)
            self._full_load_start = _now()
        self._set_status(TaskStatus.RUNNING)
        workers = max(1, min(settings.full_load.max_full_load_sub_tasks, len(plans)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dms-{self.task_id}-load") as pool:
            list(pool.map(lambda p: self._load_table(p, settings), plans))
        with self._lock:
            self._full_load_finish = _now()
            errored = [r for r in self._tables.values() if r.state == TableState.ERROR]
        if self._table_error_stop is not None:
            self._fail(f"Task stopped by ErrorBehavior STOP_TASK: {self._table_error_stop}")
        elif self._stop_requested.is_set():
            self._set_status(TaskStatus.STOPPED, StopReason.NORMAL)
        elif errored:
            detail = "; ".join(f"{r.plan.source}: {r.message}" for r in errored)
            self._set_status(
                TaskStatus.STOPPED,
                StopReason.FULL_LOAD_ONLY_FINISHED,
                f"Last Error {len(errored)} table(s) failed to load: {detail}",
            )
        else:
            self._set_status(TaskStatus.STOPPED, StopReason.FULL_LOAD_ONLY_FINISHED)

    # -- change data capture --------------------------------------------------------------------------------------

    def drop_slot(self) -> bool:
        """Drop the task's replication slot on the source (task deleted, sandbox going down); True if one was."""
        with psycopg.connect(self.source.conninfo(), autocommit=True) as conn:
            return cdc.drop_slot(conn, self.slot_name)

    def slot_info(self) -> cdc.SlotInfo | None:
        with psycopg.connect(self.source.conninfo(), autocommit=True) as conn:
            return cdc.slot_info(conn, self.slot_name)

    def _run_cdc(self, start_type: str) -> None:
        self._emit(TaskStatusChanged(TaskStatus.STARTING.value))
        mappings, settings, problems = self._definition_problems()
        if problems or mappings is None or settings is None:
            self._fail(" ".join(problems))
            return
        try:
            self._capture(start_type, mappings, settings)
        except _CdcFailure as exc:
            self._fail(str(exc))
        except psycopg.Error as exc:
            self._fail(f"Change data capture stopped: {_one_line(exc)}")
        except Exception as exc:  # noqa: BLE001 - a bug must fail the task by name, not leave it "running"
            self._fail(f"Change data capture stopped: {type(exc).__name__}: {_one_line(exc)}")

    def _load_with_snapshot(
        self, plans: Sequence[TablePreview], settings: TaskSettings, snapshot: cdc.ExportedSnapshot
    ) -> list[_TableRecord]:
        """Load ``plans`` inside ``snapshot`` (kept open meanwhile); each table's load point is its consistent LSN."""
        workers = max(1, min(settings.full_load.max_full_load_sub_tasks, len(plans)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dms-{self.task_id}-load") as pool:
            list(
                pool.map(
                    lambda p: self._load_table(p, settings, snapshot.snapshot, snapshot.consistent_lsn),
                    plans,
                )
            )
        with self._lock:
            return [self._tables[(p.source.schema, p.source.table)] for p in plans]

    def _capture(self, start_type: str, mappings: TableMappings, settings: TaskSettings) -> None:
        resume = start_type == StartTaskType.RESUME_PROCESSING
        with (
            psycopg.connect(self.source.conninfo(), autocommit=True) as src,
            psycopg.connect(self.target.conninfo(), autocommit=True) as tgt,
        ):
            plans = plan_tables(read_source_catalog(src), mappings)
            if not plans:
                raise _CdcFailure(
                    "No tables were found at task initialization. Either the selected table(s) or schemas(s) no "
                    "longer exist or no table(s) were specified."
                )
            for schema in sorted({p.target.schema for p in plans}):
                tgt.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            cdc.ensure_control_tables(tgt)
            slot = self.slot_name
            checkpoint = cdc.read_checkpoint(tgt, self.task_id)
            points = cdc.read_load_points(tgt, self.task_id)
            info = self._wait_slot_free(src, slot)
            with self._lock:
                previous = self._tables
                self._tables = {}
                for plan in plans:
                    key = (plan.source.schema, plan.source.table)
                    old = previous.get(key)
                    record = _TableRecord(plan)
                    if old is not None and resume:
                        record.changes, record.rows, record.start, record.end = (
                            old.changes,
                            old.rows,
                            old.start,
                            old.end,
                        )
                    self._tables[key] = record
                self._full_load_start = _now()
            self._set_status(TaskStatus.RUNNING)
            full_load = self.migration_type == MigrationType.FULL_LOAD_AND_CDC
            if resume and info is None and (checkpoint is not None or points):
                raise _CdcFailure(
                    f"Cannot resume: the replication slot {slot} no longer exists on the source, so the changes "
                    "since the last checkpoint are gone. Start the task with reload-target."
                )
            if resume and info is not None:
                position = checkpoint.lsn if checkpoint is not None else -1
                self.metrics.phase = "full load"
                missing = [p for p in plans if (p.source.schema, p.source.table) not in points] if full_load else []
                for plan in plans:  # tables loaded by the earlier run stay as they are
                    key = (plan.source.schema, plan.source.table)
                    if key not in [(m.source.schema, m.source.table) for m in missing]:
                        self._update(self._tables[key], state=TableState.COMPLETED.value)
                if missing:
                    with cdc.ExportedSnapshot(self.source.conninfo(), f"{slot}_load", temporary=True) as snap:
                        self._load_with_snapshot(missing, settings, snap)
                    points = cdc.read_load_points(tgt, self.task_id)
                self._emit(CaptureStarted(slot, cdc.int_to_lsn(max(position, info.confirmed_flush_lsn)), True))
            elif self.migration_type == MigrationType.CDC:
                position = self._cdc_start(src, slot, info)
                for record in self._tables.values():
                    self._update(record, state=TableState.COMPLETED.value)
                points = {}
                with tgt.transaction():
                    cdc.forget_task(tgt, self.task_id)
                    cdc.write_checkpoint(tgt, self.task_id, slot, position, None)
                self._emit(CaptureStarted(slot, cdc.int_to_lsn(position), False))
            else:
                # Fresh start (start-replication, reload-target): a new slot, then the copy inside its snapshot.
                if info is not None:
                    cdc.drop_slot(src, slot)
                with tgt.transaction():
                    cdc.forget_task(tgt, self.task_id)
                self.metrics.phase = "full load"
                with cdc.ExportedSnapshot(self.source.conninfo(), slot, temporary=False) as snap:
                    position = snap.consistent_lsn
                    self._emit(CaptureStarted(slot, cdc.int_to_lsn(position), False))
                    records = self._load_with_snapshot(plans, settings, snap)
                points = cdc.read_load_points(tgt, self.task_id)
                errored = [r for r in records if r.state == TableState.ERROR]
                if errored and not self._stop_requested.is_set():
                    detail = "; ".join(f"{r.plan.source}: {r.message}" for r in errored)
                    raise _CdcFailure(f"{len(errored)} table(s) failed to load: {detail}")
                cdc.write_checkpoint(tgt, self.task_id, slot, position, None)
            with self._lock:
                self._full_load_finish = _now()
            if self._stop_requested.is_set():
                self._set_status(TaskStatus.STOPPED, StopReason.NORMAL)
                return
            self._apply_loop(src, plans, points, position)

    def _wait_slot_free(self, src: psycopg.Connection[Any], slot: str) -> cdc.SlotInfo | None:
        """The slot, once no session holds it (after a crash the old backend may take a moment to go)."""
        deadline = time.monotonic() + 10
        while True:
            info = cdc.slot_info(src, slot)
            if info is None or not info.active or time.monotonic() > deadline:
                return info
            time.sleep(0.2)

    def _cdc_start(self, src: psycopg.Connection[Any], slot: str, info: cdc.SlotInfo | None) -> int:
        """Where a ``cdc`` task begins: a given native LSN on the existing slot, else a new slot's start."""
        wanted = self._cdc_start_position
        if wanted:
            try:
                position = cdc.lsn_to_int(wanted.removeprefix("lsn:"))
            except ValueError:
                raise _CdcFailure(
                    f"CdcStartPosition {wanted!r} is not a PostgreSQL LSN (like 0/16B3748); the sandbox accepts "
                    "native LSN start points only."
                ) from None
            if info is None:
                raise _CdcFailure(
                    f"CdcStartPosition needs an existing replication slot; {slot} does not exist on the source "
                    "(set SlotName on the source endpoint to a slot created at or before that position)."
                )
            if position < info.confirmed_flush_lsn:
                raise _CdcFailure(
                    f"CdcStartPosition {wanted} is before what slot {slot} still holds "
                    f"({cdc.int_to_lsn(info.confirmed_flush_lsn)}): those changes are gone."
                )
            return position - 1  # changes committed at or after the position are applied
        if info is not None:
            cdc.drop_slot(src, slot)
        return cdc.create_slot(src, slot)

    def _apply_loop(
        self,
        src: psycopg.Connection[Any],
        plans: Sequence[TablePreview],
        points: dict[tuple[str, str], int],
        position: int,
    ) -> None:
        """Read whole transactions from the slot and apply them in commit order until the task is stopped."""
        slot = self.slot_name
        with psycopg.connect(self.target.conninfo()) as tgt:
            targets = cdc.apply_targets(plans, src, tgt)
            tgt.rollback()
            applier = cdc.Applier(targets, points)
            _, settings, _ = self._definition_problems()
            validating = settings is not None and settings.validation.enable_validation
            with self._lock:
                for key, target in targets.items():
                    record = self._tables[key]
                    applier.counters[key] = record.changes
                    if not target.keyed:
                        record.cdc_note = (
                            f"Updates and deletes are not applied: {target.no_key_reason} (as DMS does for a "
                            "table without a primary key)."
                        )
            for key, target in targets.items():
                if not target.keyed:
                    self._emit(ChangesNotApplied(key[0], key[1], target.no_key_reason))
            info = cdc.slot_info(src, slot)
            confirmed = info.confirmed_flush_lsn if info is not None else 0
            catch_up = cdc.flush_wal(src)
            self.metrics.catch_up_lsn = catch_up
            self.metrics.phase = "applying cached changes"
            checkpoint = position
            reader = self._slot_reader(src, slot)
            try:
                at_stop_position = self._apply_batches(
                    src, tgt, plans, applier, reader, slot, checkpoint, confirmed, catch_up, validating
                )
            finally:
                reader.close()
        self.metrics.latency_source_s = self.metrics.latency_target_s = 0.0
        if not at_stop_position:
            self._set_status(TaskStatus.STOPPED, StopReason.NORMAL)

    def _slot_reader(self, src: psycopg.Connection[Any], slot: str) -> cdc.ReadAhead | cdc.PeekReader:
        """A read-ahead on a temporary copy of the slot (see cdc.ReadAhead); without a free slot for the copy, the
        slot itself, read between applies."""
        try:
            return cdc.ReadAhead(self.source.conninfo(), slot, CDC_BATCH)
        except psycopg.errors.ConfigurationLimitExceeded:  # all replication slots are in use
            return cdc.PeekReader(src, slot, CDC_BATCH)

    def _apply_batches(
        self,
        src: psycopg.Connection[Any],
        tgt: psycopg.Connection[Any],
        plans: Sequence[TablePreview],
        applier: cdc.Applier,
        reader: cdc.ReadAhead | cdc.PeekReader,
        slot: str,
        checkpoint: int,
        confirmed: int,
        catch_up: int,
        validating: bool,
    ) -> bool:
        """Apply the slot's batches in commit order until the task is stopped; True when it stopped itself at its
        CdcStopPosition."""
        while not self._stop_requested.is_set():
            if self._reload_requests:
                self._reload_now(src, tgt, applier, plans)
            if self._cdc_stop_time is not None and _now() >= self._cdc_stop_time:
                self._set_status(
                    TaskStatus.STOPPED, StopReason.NORMAL, "Task stopped at the CdcStopPosition (server_time)"
                )
                return True
            read = reader.next(self._stop_requested, CDC_IDLE_POLL)
            if read is None:
                break
            rows, upto, complete = read.rows, read.upto, read.complete
            read_at = _now()
            m = self.metrics
            m.incoming_changes = sum(1 for row in rows if row[2].startswith("table "))
            fresh: list[cdc.Transaction] = []
            last_read: cdc.Transaction | None = None
            applied = 0
            # The whole batch in ONE target transaction with its checkpoint (exactly once: see cdc), sent chunk
            # by chunk in pipeline mode: the target applies a chunk while the next one is read.
            with cdc.no_cyclic_gc(), contextlib.ExitStack() as batch:
                cur: psycopg.Cursor[Any] | None = None
                for chunk in cdc.transaction_chunks(rows, CDC_APPLY_CHUNK):
                    last_read = chunk[-1]
                    chunk_fresh = [t for t in chunk if t.commit_lsn > checkpoint]
                    if not chunk_fresh:
                        continue  # applied before a crash, not yet confirmed on the slot
                    if cur is None:
                        batch.enter_context(tgt.pipeline())
                        batch.enter_context(tgt.transaction())
                        cur = batch.enter_context(tgt.cursor())
                    applied += applier.apply_batch(cur, chunk_fresh)
                    fresh.extend(chunk_fresh)
                if fresh:
                    last = fresh[-1]
                    cdc.write_checkpoint(tgt, self.task_id, slot, last.commit_lsn, last.commit_time)
            m.incoming_changes = sum(len(t.changes) for t in fresh)
            m.changes_read += m.incoming_changes
            m.latency_source_s = max(0.0, (read_at - fresh[-1].commit_time).total_seconds()) if fresh else 0.0
            if fresh:
                checkpoint = fresh[-1].commit_lsn
                done_at = _now()
                m.latency_target_s = max(0.0, (done_at - fresh[0].commit_time).total_seconds())
                m.changes_applied += applied
                m.incoming_changes = 0
                touched = Counter((c.schema, c.table) for t in fresh for c in t.changes)
                with self._lock:
                    for key, count in touched.items():
                        changed = self._tables.get(key)
                        if changed is not None:
                            changed.last_update = done_at
                            if validating:  # changed rows wait for the next validation
                                changed.validation_pending += count
                                self._validation_due.add(key)
                self._emit(ChangesApplied(len(fresh), applied, cdc.int_to_lsn(checkpoint)))
            else:
                m.latency_target_s = 0.0
            new_confirmed = upto if complete else (last_read.commit_lsn if last_read else confirmed)
            if new_confirmed > confirmed:
                cdc.advance(src, slot, new_confirmed)  # only after the target committed what precedes it
                confirmed = new_confirmed
            m.checkpoint, m.confirmed = cdc.int_to_lsn(checkpoint), cdc.int_to_lsn(confirmed)
            if confirmed >= catch_up:
                m.phase = "ongoing replication"
            if complete and not fresh:
                if self._validation_due and confirmed >= catch_up:
                    self._validate_caught_up(src, plans, checkpoint)
                if isinstance(reader, cdc.PeekReader):  # (the read-ahead waits by itself)
                    self._stop_requested.wait(CDC_IDLE_POLL)
        return False

    def _validate_caught_up(self, src: psycopg.Connection[Any], plans: Sequence[TablePreview], checkpoint: int) -> None:
        """CDC validation: with every change up to ``checkpoint`` applied, compare the tables that changed. A table
        that changed again on the source while it was compared stays "Pending records" and is compared next time
        (its differences may be changes not yet applied, as DMS treats them)."""
        _, settings, _ = self._definition_problems()
        assert settings is not None
        by_key = {(p.source.schema, p.source.table): p for p in plans}
        with self._lock:
            due = sorted(self._validation_due)
        for key in due:
            plan, record = by_key.get(key), self._tables.get(key)
            if plan is None or record is None or record.state != TableState.COMPLETED:
                continue

            def settled(key: tuple[str, str] = key) -> bool:
                txns = cdc.group_transactions(cdc.peek(src, self.slot_name, cdc.flush_wal(src), CDC_BATCH))
                return not any((c.schema, c.table) == key for t in txns if t.commit_lsn > checkpoint for c in t.changes)

            if self._validate(plan, settings, record, record.validation_pending, settled=settled):
                with self._lock:
                    self._validation_due.discard(key)

    def _reload_now(
        self,
        src: psycopg.Connection[Any],
        tgt: psycopg.Connection[Any],
        applier: cdc.Applier,
        plans: Sequence[TablePreview],
    ) -> None:
        """ReloadTables during CDC: each table is copied in a temporary slot's snapshot; the main stream's changes
        at or before that snapshot are skipped for it, later ones applied (see dms_tui.sandbox.cdc)."""
        with self._lock:
            wanted = set().union(*self._reload_requests)
            self._reload_requests.clear()
        chosen = [p for p in plans if (p.source.schema, p.source.table) in wanted]
        if not chosen:
            return
        _, settings, _ = self._definition_problems()
        assert settings is not None
        with cdc.ExportedSnapshot(self.source.conninfo(), f"{self.slot_name}_reload", temporary=True) as snap:
            for plan in chosen:
                key = (plan.source.schema, plan.source.table)
                self._load_table(plan, settings, snap.snapshot, snap.consistent_lsn)
                applier.load_points[key] = snap.consistent_lsn
                self._update(self._tables[key], reloaded=True)

    def _update(self, record: _TableRecord, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(record, key, value)
            record.last_update = _now()

    def _load_table(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        snapshot: str | None = None,
        load_point: int | None = None,
    ) -> None:
        record = self._tables[(plan.source.schema, plan.source.table)]
        if self._stop_requested.is_set():
            self._update(record, state=TableState.CANCELLED.value)
            return
        started = time.monotonic()
        self._update(record, state=TableState.FULL_LOAD.value, start=_now(), end=None, rows=0, bytes_copied=0)
        self._emit(TableLoadStarted(plan.source.schema, plan.source.table))
        try:
            if plan.refusal:  # what DMS would not load (e.g. LOB columns, full LOB mode, no key)
                raise ValueError(plan.refusal)
            rows = self._copy_table(plan, settings, record, snapshot, load_point)
        except _Cancelled:
            self._update(record, state=TableState.CANCELLED.value, end=_now())
            return
        except Exception as exc:  # noqa: BLE001 - any failure is this table's error, never a stuck task
            message = _one_line(exc)
            stop_task = table_error_policy(settings) == "STOP_TASK"
            why = " (ErrorBehavior.TableErrorPolicy STOP_TASK)" if stop_task else ""
            if isinstance(exc, _DataError):
                message, why = f"{exc.cause} (ErrorBehavior.{exc.setting} {exc.policy})", ""
                stop_task = stop_task or exc.policy == "STOP_TASK"
            validation = ValidationState.TABLE_ERROR.value if settings.validation.enable_validation else None
            self._update(
                record,
                state=TableState.ERROR.value,
                end=_now(),
                message=message,
                rows=0,
                validation=validation or record.validation,
            )
            self._emit(TableLoadFailed(plan.source.schema, plan.source.table, message))
            if stop_task:
                # TableErrorPolicy (or DataErrorPolicy) STOP_TASK: the first such error stops the whole task.
                with self._lock:
                    self._table_error_stop = f"{plan.source}: {message}{why}"
                self._stop_requested.set()
            return
        self._update(record, state=TableState.COMPLETED.value, end=_now(), rows=rows)
        self._emit(TableLoadCompleted(plan.source.schema, plan.source.table, rows, time.monotonic() - started))
        if settings.validation.enable_validation:
            if self.captures_changes:
                # The copy is the snapshot's; the source has moved on. Validated once the changes caught up.
                self._update(record, validation=ValidationState.PENDING.value, validation_pending=rows)
                with self._lock:
                    self._validation_due.add((plan.source.schema, plan.source.table))
            else:
                self._validate(plan, settings, record, rows)

    def _copy_table(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        record: _TableRecord,
        snapshot: str | None = None,
        load_point: int | None = None,
    ) -> int:
        try:
            segments = self._segments(plan)
            if len(segments) > 1:
                return self._copy_segments(plan, settings, record, segments, snapshot, load_point)
            return self._copy_whole(plan, settings, record, snapshot, load_point)
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            # A record the target refuses or the source cannot convert: ErrorBehavior.DataErrorPolicy says what next.
            policy = data_error_policy(settings)
            if policy in ("SUSPEND_TABLE", "STOP_TASK") or plan.table.partitioned:
                raise _DataError(policy, exc) from exc
        return self._copy_records(plan, settings, record, snapshot, load_point)

    def _copy_records(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        record: _TableRecord,
        snapshot: str | None,
        load_point: int | None,
    ) -> int:
        """The load again, record by record where it must be (DataErrorPolicy LOG_ERROR / IGNORE_RECORD: DMS skips a
        record it cannot load and counts it in FullLoadErrorRows). Rows are copied in batches under savepoints on both
        sides; a failing batch is halved until the failing records are alone, and those are skipped. One target
        transaction, as for a load without errors."""
        target_ident = sql.Identifier(plan.target.schema, plan.target.table)
        source_ident = sql.Identifier(plan.source.schema, plan.source.table)
        skipped = 0
        escalation = data_error_escalation(settings)
        with (
            psycopg.connect(self.source.conninfo()) as src,
            psycopg.connect(self.target.conninfo()) as tgt,
        ):
            src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if snapshot is not None:
                src.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            created = self._prepare_target(tgt, plan, settings)[0]
            where = sql.SQL(" WHERE ({})").format(sql.SQL(plan.where_sql)) if plan.where_sql else sql.SQL("")
            tids = [str(r[0]) for r in src.execute(sql.SQL("SELECT ctid FROM {}{}").format(source_ident, where))]
            columns_in = sql.SQL(", ").join(sql.Identifier(c.target_name) for c in plan.columns)
            fmt = sql.SQL("text")  # passed through as it arrives: text needs no header or trailer per batch
            loaded = 0

            def copy_batch(batch: list[str]) -> int:
                only = "ctid = ANY ('{{{}}}'::tid[])".format(",".join(f'"{t}"' for t in batch))  # tids: "(page,item)"
                out = sql.SQL("COPY ({}) TO STDOUT (FORMAT {})").format(plan.select_query(only), fmt)
                into = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(target_ident, columns_in, fmt)
                with src.cursor().copy(out) as reader, tgt.cursor().copy(into) as writer:
                    for data in reader:
                        writer.write(data)
                return len(batch)

            pending = [tids[i : i + 10000] for i in range(0, len(tids), 10000)]
            while pending:
                if self._stop_requested.is_set():
                    raise _Cancelled()
                batch = pending.pop(0)
                src.execute("SAVEPOINT dms_batch")
                tgt.execute("SAVEPOINT dms_batch")
                try:
                    loaded += copy_batch(batch)
                except (psycopg.errors.DataError, psycopg.errors.IntegrityError):
                    src.execute("ROLLBACK TO SAVEPOINT dms_batch")
                    tgt.execute("ROLLBACK TO SAVEPOINT dms_batch")
                    if len(batch) == 1:
                        skipped += 1
                        self._update(record, error_rows=skipped)
                        if escalation and skipped >= escalation[1]:
                            raise _DataError(
                                escalation[0],
                                ValueError(f"{skipped} record(s) could not be loaded"),
                                f"DataErrorEscalationCount {escalation[1]}, DataErrorEscalationPolicy",
                            ) from None
                    else:
                        half = len(batch) // 2
                        pending[:0] = [batch[:half], batch[half:]]
                    continue
                src.execute("RELEASE SAVEPOINT dms_batch")
                tgt.execute("RELEASE SAVEPOINT dms_batch")
                record.bytes_copied = int(plan.table.size_bytes * loaded / max(len(tids), 1))
            if created and plan.primary_key_target:
                tgt.execute(_add_key_sql(plan, target_ident))
            if load_point is not None:
                cdc.write_load_point(tgt, self.task_id, plan.source.schema, plan.source.table, load_point)
            tgt.commit()
            src.rollback()
        return loaded

    def _copy_whole(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        record: _TableRecord,
        snapshot: str | None = None,
        load_point: int | None = None,
    ) -> int:
        target_ident = sql.Identifier(plan.target.schema, plan.target.table)
        with (
            psycopg.connect(self.source.conninfo()) as src,
            psycopg.connect(self.target.conninfo()) as tgt,
        ):
            # One snapshot for the whole read; one transaction for prepare + load on the target.
            src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if snapshot is not None:  # the slot's exported snapshot: the copy ends exactly where capture begins
                src.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            created, fresh, binary = self._prepare_target(tgt, plan, settings)
            stop = self._stop_requested

            def progress(copied: int) -> None:
                record.bytes_copied = copied  # a plain int store: the progress estimate reads it
                if stop.is_set():
                    raise _Cancelled()

            try:
                rows = self._stream_segment(src, tgt, plan, "", None, binary=binary, freeze=fresh, progress=progress)
            except BaseException:
                # Mid-COPY the sessions cannot be reused: closing them rolls the target transaction back.
                src.close()
                tgt.close()
                raise
            if created and plan.primary_key_target:
                # Like DMS: the key is built after the rows are in (one sort instead of an index update per row).
                tgt.execute(_add_key_sql(plan, target_ident))
            if load_point is not None:  # in the same transaction as the rows: the copy and its position go together
                cdc.write_load_point(tgt, self.task_id, plan.source.schema, plan.source.table, load_point)
            tgt.commit()
            src.rollback()
        return int(rows)

    def _prepare_target(
        self, tgt: psycopg.Connection[Any], plan: TablePreview, settings: TaskSettings
    ) -> tuple[bool, bool, bool]:
        """TargetTablePrepMode on the target table, in ``tgt``'s open transaction: (created here, created or emptied
        here so COPY FREEZE may be used, binary COPY possible)."""
        mode = settings.prep_mode or TargetTablePrepMode.DO_NOTHING
        target_ident = sql.Identifier(plan.target.schema, plan.target.table)
        exists = tgt.execute("SELECT to_regclass(%s) IS NOT NULL", (_regclass_text(plan),)).fetchone()
        found = bool(exists and exists[0])
        if found and mode == TargetTablePrepMode.DROP_AND_CREATE:
            tgt.execute(sql.SQL("DROP TABLE {} CASCADE").format(target_ident))
            found = False
        if found:
            fresh = mode == TargetTablePrepMode.TRUNCATE_BEFORE_LOAD
            if fresh:
                tgt.execute(sql.SQL("TRUNCATE TABLE {}").format(target_ident))
            return False, fresh, self._target_matches_source_types(tgt, plan)
        tgt.execute(_create_table_sql(plan, with_key=False))
        return True, True, True

    @staticmethod
    def _stream_segment(
        src: psycopg.Connection[Any],
        tgt: psycopg.Connection[Any],
        plan: TablePreview,
        segment: str,
        partition: QualifiedName | None,
        *,
        binary: bool,
        freeze: bool,
        progress: Callable[[int], None],
    ) -> int:
        """COPY one segment (the whole table: no condition, no partition) from ``src`` into ``tgt``."""
        target_ident = sql.Identifier(plan.target.schema, plan.target.table)
        columns_in = sql.SQL(", ").join(sql.Identifier(c.target_name) for c in plan.columns)
        fmt = sql.SQL("binary" if binary else "text")
        options = sql.SQL("FORMAT {}, FREEZE").format(fmt) if freeze else sql.SQL("FORMAT {}").format(fmt)
        # The query form also reads partitioned tables (plain COPY refuses them) at no measurable cost.
        # The plan's SELECT: column expressions (types, truncation, added columns) and the source filters.
        copy_out = sql.SQL("COPY ({}) TO STDOUT (FORMAT {})").format(plan.select_query(segment, partition), fmt)
        copy_in = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(target_ident, columns_in, options)
        return stream_copy(src, tgt, copy_out.as_bytes(src), copy_in.as_bytes(tgt), progress)

    def _segments(self, plan: TablePreview) -> list[tuple[str, QualifiedName | None]]:
        """table-settings parallel-load as (condition, partition) segments; one segment when there is none."""
        parallel = plan.parallel_load or {}
        kind = parallel.get("type")
        if kind == "ranges":
            return [(condition, None) for condition in range_segments(parallel)] or [("", None)]
        if kind == "partitions-auto":
            with psycopg.connect(self.source.conninfo(), autocommit=True) as src:
                leaves = src.execute(_LEAF_PARTITIONS_SQL, (_quoted(plan.source),)).fetchall()
            return [("", QualifiedName(str(schema), str(name))) for schema, name in leaves] or [("", None)]
        return [("", None)]

    def _copy_segments(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        record: _TableRecord,
        segments: Sequence[tuple[str, QualifiedName | None]],
        snapshot: str | None,
        load_point: int | None,
    ) -> int:
        """A parallel load (table-settings parallel-load): the target table is prepared and committed first, then
        each segment is copied on its own pair of sessions, all reading one exported source snapshot, up to
        MaxFullLoadSubTasks at once. Unlike a one-piece load this is not one target transaction (neither is DMS's):
        when a segment fails, the rows the others committed are removed again before the table is reported failed."""
        target_ident = sql.Identifier(plan.target.schema, plan.target.table)
        copied: dict[int, int] = {}
        stop = self._stop_requested
        with (
            psycopg.connect(self.source.conninfo()) as holder,
            psycopg.connect(self.target.conninfo()) as tgt,
        ):
            holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if snapshot is not None:
                holder.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            # Every segment reads the snapshot the table's load is given (CDC), else one exported here.
            exported = (snapshot,) if snapshot is not None else holder.execute("SELECT pg_export_snapshot()").fetchone()
            assert exported is not None
            created, _, binary = self._prepare_target(tgt, plan, settings)
            tgt.commit()

            def load(index: int, segment: str, partition: QualifiedName | None) -> int:
                def progress(done: int) -> None:
                    copied[index] = done
                    record.bytes_copied = sum(copied.values())
                    if stop.is_set():
                        raise _Cancelled()

                with (
                    psycopg.connect(self.source.conninfo()) as src,
                    psycopg.connect(self.target.conninfo()) as part,
                ):
                    src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    src.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(exported[0])))
                    try:
                        rows = self._stream_segment(
                            src, part, plan, segment, partition, binary=binary, freeze=False, progress=progress
                        )
                    except BaseException:
                        src.close()
                        part.close()
                        raise
                    part.commit()
                    src.rollback()
                return rows

            workers = max(1, min(settings.full_load.max_full_load_sub_tasks, len(segments)))
            try:
                with ThreadPoolExecutor(workers, thread_name_prefix=f"dms-{self.task_id}-segment") as pool:
                    futures = [pool.submit(load, i, cond, part) for i, (cond, part) in enumerate(segments)]
                    rows = sum(f.result() for f in futures)
            except BaseException:
                with psycopg.connect(self.target.conninfo(), autocommit=True) as cleanup:
                    statement = "DROP TABLE {}" if created else "TRUNCATE TABLE {}"
                    cleanup.execute(sql.SQL(statement).format(target_ident))
                raise
            if created and plan.primary_key_target:
                tgt.execute(_add_key_sql(plan, target_ident))
            if load_point is not None:
                cdc.write_load_point(tgt, self.task_id, plan.source.schema, plan.source.table, load_point)
            tgt.commit()
            holder.rollback()
        return rows

    def _target_matches_source_types(self, tgt: psycopg.Connection, plan: TablePreview) -> bool:
        """True when binary COPY is safe: every target column exists with the source column's exact type."""
        found: dict[str, str] = dict(
            tgt.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
                (_regclass_text(plan),),
            ).fetchall()
        )
        missing = [c.target_name for c in plan.columns if c.target_name not in found]
        if missing:
            raise psycopg.errors.UndefinedColumn(
                f"target table {plan.target} has no column {', '.join(missing)}; use TargetTablePrepMode "
                "DROP_AND_CREATE or fix the target table"
            )
        return all(found[c.target_name] == c.target_type for c in plan.columns)

    def _validate(
        self,
        plan: TablePreview,
        settings: TaskSettings,
        record: _TableRecord,
        rows: int,
        *,
        settled: Callable[[], bool] | None = None,
    ) -> bool:
        """DMS data validation of a loaded table (see :mod:`dms_tui.sandbox.validation`): "Pending records" while it
        runs, then the result; the table's failures in the target's awsdms_validation_failures_v1 are replaced by
        this comparison's. ``settled`` (CDC) says whether the result still holds; if not, the table stays pending and
        False is returned."""
        from dms_tui.sandbox.validation import record_failures, validate_table

        self._update(record, validation=ValidationState.PENDING.value, validation_pending=rows)
        try:
            result = validate_table(self.source.conninfo(), self.target.conninfo(), plan, settings, self.task_id)
            if settled is not None and not settled():
                return False
            record_failures(self.target.conninfo(), self.task_id, plan, result.failures)
        except Exception as exc:  # noqa: BLE001 - a validation that cannot run is the table's validation error
            self._update(
                record,
                validation=ValidationState.ERROR.value,
                validation_pending=0,
                validation_details=f"Validation could not run: {_one_line(exc)}",
            )
            self._emit(ValidationCompleted(plan.source.schema, plan.source.table, ValidationState.ERROR.value, 0))
            return True
        self._update(
            record,
            validation=result.state,
            validation_pending=0,
            validation_failed=result.failed,
            validation_suspended=result.suspended,
            validation_details=result.details,
        )
        self._emit(ValidationCompleted(plan.source.schema, plan.source.table, result.state, result.failed))
        return True


_LEAF_PARTITIONS_SQL = """
SELECT n.nspname, c.relname
  FROM pg_partition_tree(to_regclass(%s)) t
  JOIN pg_class c ON c.oid = t.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.isleaf AND t.level > 0
 ORDER BY n.nspname, c.relname
"""


def _quoted(name: QualifiedName) -> str:
    return '"{}"."{}"'.format(name.schema.replace('"', '""'), name.table.replace('"', '""'))


def _add_key_sql(plan: TablePreview, target_ident: sql.Identifier) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
        target_ident, sql.SQL(", ").join(sql.Identifier(c) for c in plan.primary_key_target)
    )


def data_error_policy(settings: TaskSettings) -> str:
    """ErrorBehavior.DataErrorPolicy: LOG_ERROR (DMS's default) and IGNORE_RECORD skip the record and go on (the
    sandbox keeps no task log, so both count the record in FullLoadErrorRows), SUSPEND_TABLE fails the table,
    STOP_TASK the task."""
    behavior = settings.extra.get("ErrorBehavior")
    policy = behavior.get("DataErrorPolicy") if isinstance(behavior, dict) else None
    return policy if policy in ("LOG_ERROR", "IGNORE_RECORD", "SUSPEND_TABLE", "STOP_TASK") else "LOG_ERROR"


def data_error_escalation(settings: TaskSettings) -> tuple[str, int] | None:
    """ErrorBehavior.DataErrorEscalationCount (0, DMS's default: never) and DataErrorEscalationPolicy (SUSPEND_TABLE
    by default, or STOP_TASK): after that many skipped records the table fails (or the task stops)."""
    behavior = settings.extra.get("ErrorBehavior")
    if not isinstance(behavior, dict):
        return None
    count = behavior.get("DataErrorEscalationCount", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return None
    policy = behavior.get("DataErrorEscalationPolicy")
    return (policy if policy in ("SUSPEND_TABLE", "STOP_TASK") else "SUSPEND_TABLE"), count


def table_error_policy(settings: TaskSettings) -> str:
    """ErrorBehavior.TableErrorPolicy: SUSPEND_TABLE (DMS's default: the table errors, the others go on) or
    STOP_TASK."""
    behavior = settings.extra.get("ErrorBehavior")
    policy = behavior.get("TableErrorPolicy") if isinstance(behavior, dict) else None
    return policy if policy in ("SUSPEND_TABLE", "STOP_TASK") else "SUSPEND_TABLE"


def _regclass_text(plan: TablePreview) -> str:
    """The target table as text for to_regclass(), with both parts quoted (names may hold any character)."""
    return '"{}"."{}"'.format(plan.target.schema.replace('"', '""'), plan.target.table.replace('"', '""'))


def _create_table_sql(plan: TablePreview, *, with_key: bool) -> sql.Composed:
    """The target table from the source definition (names after transformation, types and NOT NULL as on the source)."""
    columns = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.target_name),
            sql.SQL(c.target_type),  # format_type() output or a DMS data type's PostgreSQL name, not user text
            sql.SQL(" NOT NULL") if c.not_null else sql.SQL(""),
        )
        for c in plan.columns
    ]
    if with_key and plan.primary_key_target:
        key = sql.SQL(", ").join(sql.Identifier(c) for c in plan.primary_key_target)
        columns.append(sql.SQL("PRIMARY KEY ({})").format(key))
    return sql.SQL("CREATE TABLE {} ({})").format(
        sql.Identifier(plan.target.schema, plan.target.table), sql.SQL(", ").join(columns)
    )


_BATCH_BYTES = 256 * 1024
_WAIT_SECONDS = 1.0  # longest single wait on a socket, so a dead peer or a stop request is noticed


def _wait(pgconn: pq.abc.PGconn, *, read: bool, write: bool) -> tuple[bool, bool]:
    """Wait (GIL released, in select) until the connection's socket is readable and/or writable."""
    fd = pgconn.socket
    readable, writable, _ = select.select([fd] if read else [], [fd] if write else [], [], _WAIT_SECONDS)
    return bool(readable), bool(writable)


def _flush(pgconn: pq.abc.PGconn) -> None:
    while pgconn.flush() == 1:
        readable, _ = _wait(pgconn, read=True, write=True)
        if readable:
            pgconn.consume_input()  # the server may talk (e.g. an error) while we write


def _result(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    """The next result, waiting in select rather than inside libpq."""
    while pgconn.is_busy():
        _wait(pgconn, read=True, write=False)
        pgconn.consume_input()
    return pgconn.get_result()


def _expect(pgconn: pq.abc.PGconn, status: pq.ExecStatus) -> pq.abc.PGresult:
    result = _result(pgconn)
    if result is None or result.status != status:
        if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result)
        raise psycopg.OperationalError(f"unexpected server answer during COPY: {getattr(result, 'status', None)}")
    return result


def _drain(pgconn: pq.abc.PGconn) -> None:
    while _result(pgconn) is not None:
        pass


def _send(pgconn: pq.abc.PGconn, data: bytes) -> None:
    while pgconn.put_copy_data(data) == 0:  # libpq's queue is full: let the socket drain
        _wait(pgconn, read=False, write=True)
        _flush(pgconn)
    _flush(pgconn)


def stream_copy(
    src: psycopg.Connection,
    tgt: psycopg.Connection,
    copy_out: bytes,
    copy_in: bytes,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Stream ``COPY ... TO STDOUT`` on ``src`` into ``COPY ... FROM STDIN`` on ``tgt``; the target's row count.

    Why libpq directly: the server sends one CopyData message per row, and psycopg's ``Copy`` iterator costs a few
    microseconds of Python per message, which made the engine 2x slower than a ``psql | psql`` pipe. Here each message
    costs one C call and a buffer append, and the target receives 256 KB writes.

    Every libpq call is non-blocking and all waiting happens in ``select`` (which releases the GIL): a blocking libpq
    call holds the GIL, and the sandbox's TCP forwarders are Python threads of the same process, so a blocking read
    through a forwarder would wait forever for a thread that cannot run.

    ``on_progress`` (bytes so far) is called per batch and may raise to abort; the caller then closes both connections.
    """
    spg, tpg = src.pgconn, tgt.pgconn
    spg.nonblocking = tpg.nonblocking = 1
    spg.send_query(copy_out)
    _flush(spg)
    _expect(spg, pq.ExecStatus.COPY_OUT)
    tpg.send_query(copy_in)
    _flush(tpg)
    _expect(tpg, pq.ExecStatus.COPY_IN)
    get = spg.get_copy_data
    buffer = bytearray()
    copied = 0
    while True:
        size, data = get(1)  # async: 0 means "no complete row buffered yet"
        if size > 0:
            buffer += data
            if len(buffer) < _BATCH_BYTES:
                continue
        elif size == 0:
            if len(buffer) < _BATCH_BYTES // 4:
                _wait(spg, read=True, write=False)
                spg.consume_input()
                continue
        else:
            break  # -1: the COPY is over (its result says whether it succeeded)
        _send(tpg, bytes(buffer))
        copied += len(buffer)
        buffer.clear()
        if on_progress is not None:
            on_progress(copied)
    if buffer:
        _send(tpg, bytes(buffer))
        copied += len(buffer)
    _expect(spg, pq.ExecStatus.COMMAND_OK)
    _drain(spg)
    while tpg.put_copy_end() == 0:
        _wait(tpg, read=False, write=True)
    _flush(tpg)
    done = _expect(tpg, pq.ExecStatus.COMMAND_OK)
    _drain(tpg)
    if on_progress is not None:
        on_progress(copied)
    return int(done.command_tuples or 0)
