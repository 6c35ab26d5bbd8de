"""AWS DMS's vocabulary, spelled as DMS spells it: task statuses, table states, start types, migration types.

One definition for the client code (``dms_tui.aws``), the Migrate step, its screen and command, and the sandbox's
emulator (``dms_tui.sandbox.dms_engine`` / ``dms_dataplane``), so what the emulator reports is what the client reads.
Every enum is a ``StrEnum``: members compare and hash equal to the strings the API sends.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """A replication task's ``Status`` (DescribeReplicationTasks)."""

    CREATING = "creating"
    READY = "ready"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"
    DELETING = "deleting"
    MODIFYING = "modifying"
    MOVING = "moving"
    FAILED_MOVE = "failed-move"
    TESTING = "testing"


#: Statuses from which a task will not move on by itself (DMS's own waiters use the same set).
ENDED_STATUSES: frozenset[str] = frozenset({TaskStatus.STOPPED, TaskStatus.FAILED})
#: The task is doing something: a poller should look often.
ACTIVE_STATUSES: frozenset[str] = frozenset(
    {TaskStatus.STARTING, TaskStatus.RUNNING, TaskStatus.STOPPING, TaskStatus.MODIFYING, TaskStatus.TESTING}
)
#: The task is moving data (or about to): it must be stopped before it can be deleted or started again.
MOVING_STATUSES: frozenset[str] = frozenset({TaskStatus.STARTING, TaskStatus.RUNNING})
#: A task in one of these has never been started: it has no table statistics.
NEVER_STARTED_STATUSES: frozenset[str] = frozenset({TaskStatus.CREATING, TaskStatus.READY, TaskStatus.DELETING})
#: Statuses a task only reaches after it has been ready (or on its way out): it will not become ready again.
PAST_READY_STATUSES: frozenset[str] = frozenset(
    {TaskStatus.STARTING, TaskStatus.RUNNING, TaskStatus.STOPPING, TaskStatus.STOPPED, TaskStatus.DELETING}
)
#: A task in one of these can be started (fresh, resumed or reloaded).
STARTABLE_STATUSES: frozenset[str] = frozenset(
    {TaskStatus.CREATING, TaskStatus.READY, TaskStatus.STOPPED, TaskStatus.FAILED}
)


class StopReason(StrEnum):
    """The ``StopReason`` strings DMS reports for the ways a task ends."""

    FULL_LOAD_ONLY_FINISHED = "Stop Reason FULL_LOAD_ONLY_FINISHED"
    NORMAL = "Stop Reason NORMAL"  # stopped by a person
    RECOVERABLE_ERROR = "Stop Reason RECOVERABLE_ERROR"
    FATAL_ERROR = "Stop Reason FATAL_ERROR"


class TableState(StrEnum):
    """A table's ``TableState`` (DescribeTableStatistics), exactly as DMS writes it."""

    DOES_NOT_EXIST = "Table does not exist"
    BEFORE_LOAD = "Before load"
    FULL_LOAD = "Full load"
    LOADING = "Table loading"
    RELOADING = "Table is being reloaded"
    COMPLETED = "Table completed"
    CANCELLED = "Table cancelled"
    ERROR = "Table error"
    ERROR_SHORT = "Error"  # some engine versions report a bare "Error"


#: Table states that mean the table did not load.
TABLE_ERROR_STATES: frozenset[str] = frozenset({TableState.ERROR, TableState.ERROR_SHORT})


class ValidationState(StrEnum):
    """A table's ``ValidationState`` (DescribeTableStatistics)."""

    NOT_ENABLED = "Not enabled"
    PENDING = "Pending records"
    VALIDATED = "Validated"
    MISMATCHED = "Mismatched records"
    NO_PRIMARY_KEY = "No primary key"
    SUSPENDED = "Suspended records"
    TABLE_ERROR = "Table error"  # the table failed to load, so it is not validated
    ERROR = "Error"  # validation itself could not run


class StartTaskType(StrEnum):
    """StartReplicationTask's ``StartReplicationTaskType``."""

    START_REPLICATION = "start-replication"
    RESUME_PROCESSING = "resume-processing"
    RELOAD_TARGET = "reload-target"


class ReloadOption(StrEnum):
    """ReloadTables' ``ReloadOption``."""

    DATA_RELOAD = "data-reload"
    VALIDATE_ONLY = "validate-only"


class ConnectionStatus(StrEnum):
    """A connection test's ``Status`` (DescribeConnections)."""

    TESTING = "testing"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    DELETING = "deleting"


class MigrationType(StrEnum):
    """A replication task's ``MigrationType``."""

    FULL_LOAD = "full-load"
    FULL_LOAD_AND_CDC = "full-load-and-cdc"
    CDC = "cdc"

    @property
    def label(self) -> str:
        """The console's name for this type (``title`` would shadow ``str.title``)."""
        return _TITLES[self]

    @property
    def summary(self) -> str:
        """One sentence: what the task does."""
        return _SUMMARIES[self]

    @property
    def needs(self) -> tuple[str, ...]:
        """What must be true before this type of task can run, one requirement per entry."""
        return _NEEDS[self]

    @property
    def captures_changes(self) -> bool:
        return self is not MigrationType.FULL_LOAD


_TITLES = {
    MigrationType.FULL_LOAD: "Migrate existing data (full load)",
    MigrationType.FULL_LOAD_AND_CDC: "Migrate existing data and replicate ongoing changes",
    MigrationType.CDC: "Replicate data changes only",
}

_SUMMARIES = {
    MigrationType.FULL_LOAD: (
        "Copies every selected table once, as it is when the task starts, then stops (the seed's migration)."
    ),
    MigrationType.FULL_LOAD_AND_CDC: (
        "Copies every selected table, then keeps applying the source's inserts, updates and deletes until you stop "
        "the task: the way to cut over with minimal downtime."
    ),
    MigrationType.CDC: (
        "Applies only the changes made on the source after the task starts (or from a given position); the target "
        "must already hold the data."
    ),
}

_CDC_NEEDS = (
    "Logical replication on the source: wal_level = logical (on RDS/Aurora: rds.logical_replication = 1), "
    "max_replication_slots and max_wal_senders above zero, and a restart after changing them.",
    "A source user allowed to replicate (REPLICATION attribute, or rds_replication on RDS) so DMS can create a "
    "replication slot with the test_decoding plugin.",
    "A primary key on every table that receives updates or deletes: without one DMS cannot find the target row, "
    "so those changes are not applied (the seed's demo_accounts has none).",
)

_NEEDS: dict[MigrationType, tuple[str, ...]] = {
    MigrationType.FULL_LOAD: (
        "Read access to the selected tables on the source, and create/insert rights on the target.",
        "No writes to the source while the load runs, or the copy is not a consistent picture.",
    ),
    MigrationType.FULL_LOAD_AND_CDC: (
        "Read access to the selected tables on the source, and create/insert rights on the target.",
        *_CDC_NEEDS,
    ),
    MigrationType.CDC: (
        "The target tables already loaded (by a full load, pg_dump or a snapshot) up to the CDC start point.",
        *_CDC_NEEDS,
    ),
}
