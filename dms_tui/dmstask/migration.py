"""DMS migration types and, plainly, what each one needs from the source and the target."""

from __future__ import annotations

from enum import StrEnum


class MigrationType(StrEnum):
    """The ``--migration-type`` of a replication task."""

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
