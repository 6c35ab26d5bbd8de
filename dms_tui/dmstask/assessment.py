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

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class TypeVerdict:
    """What the AWS DMS User Guide says of one PostgreSQL source type migrating to PostgreSQL ("Using DMS to migrate
    data from PostgreSQL to PostgreSQL": migrates successfully / partially / doesn't migrate; "Source data types for
    PostgreSQL"; "Limitations on using a PostgreSQL database as a DMS source")."""

    severity: str  # ERROR: doesn't migrate (the values are lost); WARNING: migrates partially
    consequence: str
    fix: str


_REMOVE_AND_REBUILD = (
    "remove the column (remove-column) and copy it after the load (pg_dump --data-only of the table, or "
    "an UPDATE from a staging copy), or convert it on the source to a type DMS carries."
)
_NOT_MIGRATED = "the DMS guide lists {name} as a type that doesn't migrate from PostgreSQL to PostgreSQL: {more}"

#: Built-in types by ``format_type`` name (without a length or precision) that DMS does not migrate.
NOT_MIGRATED_TYPES: dict[str, TypeVerdict] = {
    name: TypeVerdict(ERROR, _NOT_MIGRATED.format(name=name.upper(), more=more), _REMOVE_AND_REBUILD)
    for name, more in (
        ("inet", "DMS maps it to STRING(50); the column's values do not arrive."),
        ("macaddr", "DMS maps it to STRING(18); the column's values do not arrive."),
        ("tsvector", "DMS maps it to CLOB; the column's values do not arrive."),
        ("tsquery", "DMS maps it to CLOB; the column's values do not arrive."),
        ("line", "DMS maps the geometric type to STRING(255); the column's values do not arrive."),
        ("lseg", "DMS maps the geometric type to STRING(255); the column's values do not arrive."),
        ("box", "DMS maps the geometric type to STRING(255); the column's values do not arrive."),
        ("path", "DMS maps the geometric type to CLOB; the column's values do not arrive."),
        ("circle", "DMS maps the geometric type to STRING(255); the column's values do not arrive."),
    )
}
NOT_MIGRATED_TYPES["oid"] = TypeVerdict(
    ERROR,
    "the DMS guide's source limitations say the OID LOB data type isn't migrated to the target.",
    "store large objects in a bytea column before the migration (lo_get), or copy them after the load.",
)
# Not in the guide's type table at all: DMS has no mapping for them (the sandbox creates them as text).
for _name in ("txid_snapshot", "pg_lsn"):
    NOT_MIGRATED_TYPES[_name] = TypeVerdict(
        ERROR, f"DMS's PostgreSQL source type table has no mapping for {_name}.", _REMOVE_AND_REBUILD
    )

_PARTIAL = "the DMS guide says {name} migrates only partially: {more}"
#: Built-in types that DMS migrates partially, by ``format_type`` name. Not here: NUMERIC without precision, which
#: the guide marks partial only for DMS 3.4.2 and earlier (NUMERIC(28,6)); the bundle's replication instance takes
#: the current default engine, which keeps such values whole.
PARTIAL_TYPES: dict[str, TypeVerdict] = {
    "timestamp with time zone": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="TIMESTAMP(Z)", more="DMS carries it as DATETIME, without the zone: values may shift."),
        "keep the server's TimeZone at UTC on both sides, and compare a sample after the load (`dms-tui diff`).",
    ),
    "time with time zone": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="TIME(Z)", more="DMS carries it as TIME, without the zone offset."),
        "store the offset in its own column, or use timestamp with time zone.",
    ),
    "interval": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="INTERVAL", more="DMS carries it as STRING(128) text."),
        "pre-create the target table with the interval column (TargetTablePrepMode TRUNCATE_BEFORE_LOAD).",
    ),
    "xml": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="XML", more="it is a CLOB to DMS; large documents can fail."),
        "use full LOB mode or a LobMaxSize above the largest document, and compare after the load.",
    ),
    "json": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="JSON", more="it is an NCLOB to DMS; large documents can fail."),
        "use full LOB mode or a LobMaxSize above the largest document, and compare after the load.",
    ),
    "character varying": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="VARCHAR without a length", more="DMS treats it as a LOB (NCLOB)."),
        "declare a length (varchar(n)), or size LobMaxSize for the longest value.",
    ),
    "bpchar": TypeVerdict(
        WARNING,
        _PARTIAL.format(name="CHAR without a length", more="DMS carries it as WSTRING(1)."),
        "declare a length (char(n)).",
    ),
}


def type_verdict(type_sql: str) -> TypeVerdict | None:
    """The guide's verdict on a column of this ``format_type`` text (arrays judged by their element type)."""
    base = type_sql.removesuffix("[]")
    if base in NOT_MIGRATED_TYPES:
        return NOT_MIGRATED_TYPES[base]
    if base.startswith("interval"):  # "interval day to second", "interval(3)"
        return PARTIAL_TYPES["interval"]
    if base.startswith("timestamp") and base.endswith("with time zone"):  # "timestamp(3) with time zone"
        return PARTIAL_TYPES["timestamp with time zone"]
    if base.startswith("time") and base.endswith("with time zone"):
        return PARTIAL_TYPES["time with time zone"]
    if base.startswith("numeric(") or base.startswith("decimal("):
        precision = base.split("(", 1)[1].split(",", 1)[0].rstrip(")")
        if precision.isdigit() and int(precision) > 38:
            return TypeVerdict(
                WARNING,
                _PARTIAL.format(name=f"NUMERIC with precision {precision}", more="over 38 digits DMS uses STRING."),
                "pre-create the target table with the numeric column (TargetTablePrepMode TRUNCATE_BEFORE_LOAD).",
            )
        return None
    return PARTIAL_TYPES.get(base)


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
        arrays = [c.source.name for c in plan.columns if not c.added and c.source.type_sql.endswith("[]")]
        if arrays and not has_key:
            found.append(
                Finding(
                    ERROR,
                    "array-without-key",
                    name,
                    f"ARRAY column(s) {', '.join(arrays)} and no primary key",
                    "DMS suspends a table with an ARRAY column and no primary key during full load.",
                    "add a primary key on the source, or a define-primary-key transformation rule.",
                )
            )
        for column in plan.columns:
            if column.added:
                continue
            if column.source.user_defined and column.target_type == "character varying":
                found.append(
                    Finding(
                        WARNING,
                        "user-defined-type",
                        name,
                        f"column {column.source.name} has the user-defined type {column.source.type_sql}",
                        "DMS creates it as character varying on the target (values are kept as text); the DMS "
                        "guide lists ENUM, COMPOSITE and RANGE types as not migrating as themselves.",
                        "create the type on the target and pre-create the table (TargetTablePrepMode "
                        "TRUNCATE_BEFORE_LOAD or DO_NOTHING), or convert it with change-data-type.",
                    )
                )
                continue
            if column.target_type != column.source.type_sql:
                continue  # change-data-type: DMS carries the type the rule names
            verdict = type_verdict(column.source.type_sql)
            if verdict is not None:
                found.append(
                    Finding(
                        verdict.severity,
                        "unsupported-type" if verdict.severity == ERROR else "partial-type",
                        name,
                        f"column {column.source.name} has the type {column.source.type_sql}",
                        verdict.consequence[0].upper() + verdict.consequence[1:],
                        verdict.fix,
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
