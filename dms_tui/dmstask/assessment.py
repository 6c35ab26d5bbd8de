"""Our own premigration assessment: what the two catalogs say about a task before it is created.

The same kind of checks DMS's premigration assessment runs (AWS DMS User Guide, "Enabling and working with
premigration assessments"), made here from the source and target catalogs so they work in both modes and before any
task exists: tables without a primary key or unique index, user-defined and unsupported data types, LOB columns
without a key, the source's settings for change data capture, and target tables the prep mode would collide with.
Each finding says what, its consequence and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from dms_tui.dmstask.preview import SourceTable, TablePreview
from dms_tui.dmstask.settings import TargetTablePrepMode, TaskSettings

# Types DMS's PostgreSQL source does not carry as themselves (the guide's source data type table lists no mapping
# for them); the sandbox creates them as text like every type it cannot map.
UNSUPPORTED_TYPES = ("tsvector", "tsquery", "txid_snapshot", "pg_lsn")

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: str  # "error": the task will fail or lose data; "warning": it runs with a consequence
    check: str
    subject: str  # the table (schema.table) or the setting
    what: str
    consequence: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.subject}: {self.what} → {self.consequence} Fix: {self.fix}"

    def to_json(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "check": self.check,
            "subject": self.subject,
            "what": self.what,
            "consequence": self.consequence,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class SourceServer:
    """The source server's settings that change data capture needs."""

    wal_level: str
    max_replication_slots: int
    replication_slots_used: int
    max_wal_senders: int
    rds_logical_replication: str | None  # RDS / Aurora only


_UNIQUE_KEYS_SQL = """
SELECT n.nspname, c.relname
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
   AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey) k(attnum)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                    WHERE NOT a.attnotnull)
"""


def read_unique_keyed(conn: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    """Tables with a primary key or a unique index on NOT NULL columns (what DMS accepts as a key)."""
    return {(str(s), str(t)) for s, t in conn.execute(_UNIQUE_KEYS_SQL).fetchall()}


def read_source_server(conn: psycopg.Connection[Any]) -> SourceServer:
    row = conn.execute(
        "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int,"
        " (SELECT count(*) FROM pg_replication_slots)::int, current_setting('max_wal_senders')::int,"
        " current_setting('rds.logical_replication', true)"
    ).fetchone()
    assert row is not None
    return SourceServer(str(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4])


def assess(
    plans: Sequence[TablePreview],
    settings: TaskSettings,
    migration_type: str,
    *,
    keyed: set[tuple[str, str]],
    target_tables: Sequence[SourceTable] = (),
    server: SourceServer | None = None,
) -> list[Finding]:
    """Every finding for the tables ``plans`` select, errors first."""
    found: list[Finding] = []
    cdc = migration_type in ("cdc", "full-load-and-cdc")
    tm = settings.target_metadata
    full_lob = tm.support_lobs and tm.full_lob_mode
    targets = {(t.name.schema, t.name.table): t for t in target_tables}
    for plan in plans:
        name = str(plan.source)
        has_key = bool(plan.key_columns) or (plan.source.schema, plan.source.table) in keyed
        lobs = [c.source.name for c in plan.columns if not c.added and c.source.lob_kind is not None]
        if not has_key:
            consequence = "DMS data validation skips it (No primary key)"
            if cdc:
                consequence = "updates and deletes are not applied during CDC; " + consequence
            found.append(
                Finding(
                    ERROR if cdc else WARNING,
                    "table-without-key",
                    name,
                    "no primary key or unique index on NOT NULL columns",
                    consequence + ".",
                    "add a primary key (or a unique index on NOT NULL columns) on the source, or a define-primary-key "
                    "transformation rule.",
                )
            )
            if lobs and full_lob:
                found.append(
                    Finding(
                        ERROR,
                        "lob-without-key",
                        name,
                        f"LOB column(s) {', '.join(lobs)} and no key, with FullLobMode",
                        "DMS suspends the table: full LOB mode looks LOBs up by key.",
                        "add a key, or use limited LOB mode (LimitedSizeLobMode with a LobMaxSize that fits).",
                    )
                )
        if lobs and tm.support_lobs and tm.limited_size_lob_mode and not tm.full_lob_mode:
            text_lobs = [c.source.name for c in plan.columns if not c.added and c.source.lob_kind in ("text", "binary")]
            if text_lobs:
                found.append(
                    Finding(
                        WARNING,
                        "lob-truncation",
                        name,
                        f"LOB column(s) {', '.join(text_lobs)} in limited LOB mode",
                        f"values longer than LobMaxSize ({tm.lob_max_size} KB) are cut on the target.",
                        "raise LobMaxSize above the largest value, or use FullLobMode.",
                    )
                )
        for column in plan.columns:
            if column.added:
                continue
            base = column.source.type_sql.removesuffix("[]")
            if column.source.user_defined and column.target_type == "character varying":
                found.append(
                    Finding(
                        WARNING,
                        "user-defined-type",
                        name,
                        f"column {column.source.name} has the user-defined type {column.source.type_sql}",
                        "DMS creates it as character varying on the target (values are kept as text).",
                        "create the type on the target and pre-create the table (TargetTablePrepMode "
                        "TRUNCATE_BEFORE_LOAD or DO_NOTHING), or convert it with change-data-type.",
                    )
                )
            elif base in UNSUPPORTED_TYPES:
                found.append(
                    Finding(
                        WARNING,
                        "unsupported-type",
                        name,
                        f"column {column.source.name} has the type {column.source.type_sql}",
                        "DMS has no mapping for it from a PostgreSQL source.",
                        "remove the column (remove-column) and rebuild it on the target after the load.",
                    )
                )
        existing = targets.get((plan.target.schema, plan.target.table))
        mode = settings.prep_mode
        if existing is not None and mode == TargetTablePrepMode.DO_NOTHING and existing.estimated_rows != 0:
            found.append(
                Finding(
                    WARNING,
                    "target-table-exists",
                    str(plan.target),
                    "the target table exists and TargetTablePrepMode is DO_NOTHING",
                    "rows are appended to what is there; a second run duplicates them (or fails on its key).",
                    "use TRUNCATE_BEFORE_LOAD or DROP_AND_CREATE.",
                )
            )
        if existing is not None and mode in (TargetTablePrepMode.DO_NOTHING, TargetTablePrepMode.TRUNCATE_BEFORE_LOAD):
            missing = sorted({c.target_name for c in plan.columns} - {c.name for c in existing.columns})
            if missing:
                found.append(
                    Finding(
                        ERROR,
                        "target-table-shape",
                        str(plan.target),
                        f"the existing target table has no column {', '.join(missing)}",
                        "the table's load fails.",
                        "use TargetTablePrepMode DROP_AND_CREATE, or add the columns on the target.",
                    )
                )
    if cdc and server is not None:
        found.extend(_cdc_findings(server))
    found.sort(key=lambda f: (f.severity != ERROR, f.subject, f.check))
    return found


def _cdc_findings(server: SourceServer) -> list[Finding]:
    found: list[Finding] = []
    if server.wal_level != "logical":
        fix = (
            "set rds.logical_replication = 1 in the cluster parameter group and reboot the writer."
            if server.rds_logical_replication is not None
            else "set wal_level = logical on the source and restart it."
        )
        found.append(
            Finding(
                ERROR,
                "cdc-wal-level",
                "source wal_level",
                f"wal_level is {server.wal_level}",
                "DMS cannot create a logical replication slot: a CDC task fails at start.",
                fix,
            )
        )
    if server.replication_slots_used >= server.max_replication_slots:
        found.append(
            Finding(
                ERROR,
                "cdc-replication-slots",
                "source max_replication_slots",
                f"{server.replication_slots_used} of {server.max_replication_slots} replication slots are in use",
                "the task cannot create its slot and fails at start.",
                "drop unused slots (pg_drop_replication_slot) or raise max_replication_slots.",
            )
        )
    if server.max_wal_senders < 1:
        found.append(
            Finding(
                ERROR,
                "cdc-wal-senders",
                "source max_wal_senders",
                "max_wal_senders is 0",
                "no replication connection can stream changes.",
                "raise max_wal_senders and restart the source.",
            )
        )
    return found
