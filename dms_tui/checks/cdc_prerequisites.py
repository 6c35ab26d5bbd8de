"""What a change-capturing DMS task (full-load-and-cdc, cdc) needs from the two databases, each with its fix.

Read from the catalogs through ordinary connections, before the task is created, so a missing setting is named with
its remedy instead of surfacing minutes later as a failed task:

- logical decoding on the source: ``wal_level = logical`` (self-managed PostgreSQL, the sandbox), or
  ``rds.logical_replication = 1`` in the cluster parameter group (RDS / Aurora, where wal_level follows it);
- a free replication slot (``max_replication_slots`` against ``pg_replication_slots``) and a free WAL sender
  (``max_wal_senders`` against ``pg_stat_replication``): DMS holds one of each while the task runs;
- the migration user may replicate (``rolreplication``, superuser, or membership of ``rds_replication`` on RDS);
- each selected source table has a primary key or a usable replica identity, and each target table a primary key or
  unique index: without them DMS applies inserts but not updates or deletes (a warning, as DMS still runs).

A failed check marked ``blocker`` stops the task from being created; warnings are shown and the task runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from dms_tui.dmstask.preview import QualifiedName

# The view's column lists as SQL a person can paste into psql (shown next to each finding).
SETTINGS_SQL = (
    "SELECT name, setting FROM pg_settings WHERE name IN "
    "('wal_level', 'rds.logical_replication', 'max_replication_slots', 'max_wal_senders')"
)
SLOTS_SQL = "SELECT slot_name, plugin, active FROM pg_replication_slots"
SENDERS_SQL = "SELECT pid, application_name, state FROM pg_stat_replication"
ROLE_SQL = "SELECT rolname, rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user"  # + rds_replication


@dataclass(frozen=True)
class Prerequisite:
    """One finding: ``passed``, what was seen, and when it did not pass, what to do."""

    id: str
    side: str  # "source" or "target"
    title: str
    passed: bool
    detail: str
    fix: str = ""
    blocker: bool = True  # a failure stops the task from being created
    sql: str = ""  # what a person runs in psql to see the same

    @property
    def blocks(self) -> bool:
        return self.blocker and not self.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "title": self.title,
            "passed": self.passed,
            "blocker": self.blocker,
            "detail": self.detail,
            "fix": self.fix,
            "sql": self.sql,
        }


def _shown(template: str, ident: str) -> str:
    """SQL shown to a person (never run here): the quoted table name as a literal."""
    return sql.SQL(template).format(sql.Literal(ident)).as_string(None)  # type: ignore[arg-type]


def _setting(conn: psycopg.Connection[Any], name: str) -> str | None:
    row = conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone()
    return None if row is None or row[0] in (None, "") else str(row[0])


#: The fix for an RDS / Aurora source whose logical decoding is off, given whether rds.logical_replication is already
#: 1 (then only the writer's reboot is missing). The steps pass one that names this tool's commands.
LogicalReplicationFix = Callable[[bool], str]


def generic_logical_replication_fix(parameter_on: bool) -> str:
    if parameter_on:
        return "rds.logical_replication = 1 is not in effect yet: reboot the source's writer instance."
    return (
        "Set rds.logical_replication = 1 in the source cluster's DB cluster parameter group, then reboot the writer "
        "instance."
    )


def source_prerequisites(
    conn: psycopg.Connection[Any],
    tables: Sequence[QualifiedName],
    *,
    logical_replication_fix: LogicalReplicationFix = generic_logical_replication_fix,
) -> list[Prerequisite]:
    """The source's findings: logical decoding, slots, WAL senders, the user's privilege, each table's identity."""
    findings = [_logical_decoding(conn, logical_replication_fix), *_capacity(conn), _replication_privilege(conn)]
    findings += [_source_identity(conn, name) for name in tables]
    return findings


def _logical_decoding(conn: psycopg.Connection[Any], aurora_fix: LogicalReplicationFix) -> Prerequisite:
    wal_level = _setting(conn, "wal_level") or "unknown"
    rds = _setting(conn, "rds.logical_replication")
    title = "logical decoding on the source"
    if rds is not None:  # RDS / Aurora: the parameter group decides, wal_level follows it after a reboot
        on = rds.lower() in ("on", "1", "true")
        return Prerequisite(
            "source.logical_replication",
            "source",
            title,
            on and wal_level == "logical",
            f"rds.logical_replication = {rds}, wal_level = {wal_level}",
            "" if on and wal_level == "logical" else aurora_fix(on),
            sql=SETTINGS_SQL,
        )
    ok = wal_level == "logical"
    return Prerequisite(
        "source.wal_level",
        "source",
        title,
        ok,
        f"wal_level = {wal_level}" + ("" if ok else " (logical decoding needs logical)"),
        ""
        if ok
        else "Run ALTER SYSTEM SET wal_level = logical; as a superuser on the source, then restart PostgreSQL "
        "(pg_ctl restart, or systemctl restart postgresql).",
        sql=SETTINGS_SQL,
    )


def _capacity(conn: psycopg.Connection[Any]) -> list[Prerequisite]:
    slots_max = int(_setting(conn, "max_replication_slots") or 0)
    senders_max = int(_setting(conn, "max_wal_senders") or 0)
    row = conn.execute("SELECT count(*), count(*) FILTER (WHERE NOT active) FROM pg_replication_slots").fetchone()
    slots_used, slots_idle = (int(row[0]), int(row[1])) if row else (0, 0)
    senders_row = conn.execute("SELECT count(*) FROM pg_stat_replication").fetchone()
    senders_used = int(senders_row[0]) if senders_row else 0
    free_slots, free_senders = slots_max - slots_used, senders_max - senders_used
    idle = f"; {slots_idle} of them inactive (drop unused ones with SELECT pg_drop_replication_slot('name'))"
    return [
        Prerequisite(
            "source.replication_slots",
            "source",
            "a free replication slot",
            free_slots > 0,
            f"{slots_used} of max_replication_slots = {slots_max} in use",
            ""
            if free_slots > 0
            else "Raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = "
            f"{max(slots_max, slots_used) + 4}; then restart; on RDS/Aurora in the parameter group)"
            + (idle if slots_idle else "."),
            sql=SLOTS_SQL,
        ),
        Prerequisite(
            "source.wal_senders",
            "source",
            "a free WAL sender",
            free_senders > 0,
            f"{senders_used} of max_wal_senders = {senders_max} in use",
            ""
            if free_senders > 0
            else "Raise max_wal_senders (ALTER SYSTEM SET max_wal_senders = "
            f"{max(senders_max, senders_used) + 4}; then restart; on RDS/Aurora in the parameter group).",
            sql=SENDERS_SQL,
        ),
    ]


def _replication_privilege(conn: psycopg.Connection[Any]) -> Prerequisite:
    row = conn.execute(
        "SELECT current_user, r.rolreplication, r.rolsuper,"
        " EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')"
        "   AND pg_has_role(current_user, 'rds_replication', 'member')"
        " FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    user, replication, superuser, rds_member = (
        (str(row[0]), bool(row[1]), bool(row[2]), bool(row[3]))
        if row
        else (
            "?",
            False,
            False,
            False,
        )
    )
    ok = replication or superuser or rds_member
    how = (
        "REPLICATION attribute"
        if replication
        else "superuser"
        if superuser
        else "member of rds_replication"
        if rds_member
        else "no REPLICATION attribute and not a member of rds_replication"
    )
    quoted = sql.Identifier(user).as_string(None)
    return Prerequisite(
        "source.replication_privilege",
        "source",
        "the migration user may replicate",
        ok,
        f"{user}: {how}",
        ""
        if ok
        else f"As an administrator: ALTER ROLE {quoted} REPLICATION; (on RDS/Aurora: GRANT rds_replication TO "
        f"{quoted};).",
        sql=ROLE_SQL,
    )


def _source_identity(conn: psycopg.Connection[Any], name: QualifiedName) -> Prerequisite:
    """A primary key (the default replica identity uses it), REPLICA IDENTITY FULL, or USING INDEX."""
    row = conn.execute(
        "SELECT c.relreplident,"
        " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),"
        " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (name.schema, name.table),
    ).fetchone()
    ident = sql.Identifier(name.schema, name.table).as_string(None)
    check_sql = _shown("SELECT relreplident FROM pg_class WHERE oid = {}::regclass", ident)
    title = f"{name}: primary key or replica identity"
    if row is None:
        return Prerequisite(
            f"source.identity.{name}",
            "source",
            title,
            False,
            "the table is not on the source",
            "Check the table mappings' schema-name and table-name.",
            blocker=False,
            sql=check_sql,
        )
    mode, has_pk, has_ident_index = str(row[0]), bool(row[1]), bool(row[2])
    if mode == "f":
        return Prerequisite(f"source.identity.{name}", "source", title, True, "REPLICA IDENTITY FULL", sql=check_sql)
    if mode == "i" and has_ident_index:
        return Prerequisite(
            f"source.identity.{name}", "source", title, True, "REPLICA IDENTITY USING INDEX", sql=check_sql
        )
    if mode == "d" and has_pk:
        return Prerequisite(f"source.identity.{name}", "source", title, True, "primary key", sql=check_sql)
    return Prerequisite(
        f"source.identity.{name}",
        "source",
        title,
        False,
        "no primary key and no usable replica identity: DMS applies its inserts but not its updates or deletes",
        f"ALTER TABLE {ident} ADD PRIMARY KEY (...); or, if no key exists, ALTER TABLE {ident} REPLICA IDENTITY "
        "FULL; (the target table still needs a key for updates and deletes).",
        blocker=False,
        sql=check_sql,
    )


def target_prerequisites(
    conn: psycopg.Connection[Any], tables: Sequence[QualifiedName], *, must_exist: bool
) -> list[Prerequisite]:
    """Each target table has a primary key or unique index (or is missing and will be created by the full load;
    ``must_exist``: a cdc-only task, whose target must already hold the data)."""
    findings: list[Prerequisite] = []
    for name in tables:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisunique))"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (name.schema, name.table),
        ).fetchone()
        ident = sql.Identifier(name.schema, name.table).as_string(None)
        check_sql = _shown(
            "SELECT indexrelid::regclass, indisprimary FROM pg_index WHERE indrelid = {}::regclass", ident
        )
        title = f"{name} on the target: a primary key or unique index"
        if row is None:
            findings.append(
                Prerequisite(
                    f"target.key.{name}",
                    "target",
                    title,
                    not must_exist,
                    "not on the target yet"
                    + ("" if must_exist else ": the full load creates it, with the source table's primary key"),
                    "A cdc task only applies changes: load the table first (a full-load task, pg_dump) or choose "
                    "full-load-and-cdc."
                    if must_exist
                    else "",
                    blocker=must_exist,
                    sql="",
                )
            )
        elif bool(row[0]):
            findings.append(Prerequisite(f"target.key.{name}", "target", title, True, "has a key", sql=check_sql))
        else:
            findings.append(
                Prerequisite(
                    f"target.key.{name}",
                    "target",
                    title,
                    False,
                    "no primary key or unique index: updates and deletes cannot find their row",
                    f"ALTER TABLE {ident} ADD PRIMARY KEY (...); on the target, or let the load create it "
                    "(TargetTablePrepMode DROP_AND_CREATE).",
                    blocker=False,
                    sql=check_sql,
                )
            )
    return findings
