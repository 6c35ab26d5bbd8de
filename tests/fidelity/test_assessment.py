"""Our premigration assessment from the two catalogs of real PostgreSQL databases: every finding names its table or
setting, its consequence and its fix; tables that are fine produce none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dms_tui.dmstask.assessment import SourceServer, assess, read_source_server, read_unique_keyed
from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.preview import plan_tables, read_source_catalog
from dms_tui.dmstask.settings import TaskSettings


@pytest.fixture(scope="module")
def source_url(pg_source: Any) -> str:
    url = pg_source.fresh_database("assessment_source")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE SCHEMA app;
            CREATE TYPE app.mood AS ENUM ('sad', 'ok');
            CREATE TABLE app.fine (id int PRIMARY KEY, amount numeric);
            CREATE TABLE app.unique_keyed (code text NOT NULL UNIQUE, amount numeric);
            CREATE TABLE app.nullable_unique (code text UNIQUE, amount numeric);
            CREATE TABLE app.notes (body text);
            CREATE TABLE app.typed (id int PRIMARY KEY, mood app.mood, doc tsvector, body text);
            CREATE TABLE app.existing (id int PRIMARY KEY, a int, b int);
            CREATE TABLE app.kinds (
                id int PRIMARY KEY, addr inet, mac macaddr, q tsquery, l line, s lseg, b box, p path, c circle,
                blob oid, at timestamptz, at3 timestamp(3) with time zone, t timetz, span interval day to second,
                x xml, j json, n numeric, big numeric(40,2), fine numeric(12,2), jb jsonb, tags text[],
                name varchar(20), code char(3), r int4range, flags bool
            );
            CREATE TABLE app.tagged (labels text[]);
            """
        )
    return url


@pytest.fixture
def target_url(pg_target: Any) -> Iterator[str]:
    url = pg_target.fresh_database("assessment_target")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app; CREATE TABLE app.existing (id int PRIMARY KEY, a int)")
    yield url
    pg_target.cluster.drop_database("assessment_target")


def findings(source_url: str, target_url: str, settings: dict[str, Any], migration_type: str, server=None):  # type: ignore[no-untyped-def]
    with psycopg.connect(source_url) as conn:
        tables, keyed, real_server = read_source_catalog(conn), read_unique_keyed(conn), read_source_server(conn)
    with psycopg.connect(target_url) as conn:
        target_tables = read_source_catalog(conn)
    task_settings = TaskSettings.from_dict(settings)
    plans = plan_tables(tables, default_mappings("app"), task_settings)
    return assess(
        plans,
        task_settings,
        migration_type,
        keyed=keyed,
        target_tables=target_tables,
        server=server or real_server,
    )


def test_full_load_findings(source_url: str, target_url: str) -> None:
    settings = {"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD"}}
    found = findings(source_url, target_url, settings, "full-load")
    got = {(f.check, f.subject) for f in found}
    assert got == {
        ("target-table-shape", "app.existing"),  # the target's table lacks column b
        ("table-without-key", "app.notes"),
        ("table-without-key", "app.nullable_unique"),  # a unique index on a nullable column is no key
        ("lob-truncation", "app.notes"),  # text is a LOB to DMS (NCLOB): cut at LobMaxSize in limited LOB mode
        ("lob-truncation", "app.typed"),
        ("lob-truncation", "app.unique_keyed"),
        ("lob-truncation", "app.nullable_unique"),
        ("user-defined-type", "app.typed"),
        ("unsupported-type", "app.typed"),
        ("unsupported-type", "app.kinds"),
        ("partial-type", "app.kinds"),
        ("user-defined-type", "app.kinds"),  # int4range: a range type, created as character varying
        ("table-without-key", "app.tagged"),
        ("array-without-key", "app.tagged"),  # DMS suspends it during full load
    }
    assert found[0].severity == "error" and found[0].check == "target-table-shape"
    for finding in found:
        assert finding.consequence and finding.fix and finding.what
    typed = {f.check: f for f in found if f.subject == "app.typed"}
    assert "character varying" in typed["user-defined-type"].consequence
    assert "tsvector" in typed["unsupported-type"].what
    assert "32 KB" in typed["lob-truncation"].consequence
    kinds = [f for f in found if f.subject == "app.kinds"]
    columns = {f.what.split()[1]: f for f in kinds if f.check in ("unsupported-type", "partial-type")}
    # The DMS guide's PostgreSQL-to-PostgreSQL table: doesn't migrate (error) ...
    assert {c for c, f in columns.items() if f.severity == "error"} == {
        "addr",
        "mac",
        "q",
        "l",
        "s",
        "b",
        "p",
        "c",
        "blob",
    }
    # ... migrates partially (warning); numeric, numeric(12,2), jsonb, text[], varchar(20), char(3), bool migrate.
    assert {c for c, f in columns.items() if f.severity == "warning"} == {"at", "at3", "t", "span", "x", "j", "big"}
    assert "STRING" in columns["big"].consequence  # numeric without precision: whole since DMS 3.4.3
    assert "OID" in columns["blob"].consequence
    for finding in columns.values():
        assert finding.consequence[0].isupper() and finding.fix


def test_full_lob_mode_and_cdc_findings(source_url: str, target_url: str) -> None:
    settings = {"TargetMetadata": {"FullLobMode": True, "LimitedSizeLobMode": False}}
    server = SourceServer(
        "replica", max_replication_slots=2, replication_slots_used=2, max_wal_senders=10, rds_logical_replication="0"
    )
    found = findings(source_url, target_url, settings, "full-load-and-cdc", server)
    by = {(f.check, f.subject): f for f in found}
    assert by[("lob-without-key", "app.notes")].severity == "error"
    assert by[("table-without-key", "app.notes")].severity == "error"  # CDC: updates and deletes would be lost
    assert "not applied during CDC" in by[("table-without-key", "app.notes")].consequence
    assert "rds.logical_replication = 1" in by[("cdc-wal-level", "source wal_level")].fix
    assert ("cdc-replication-slots", "source max_replication_slots") in by
    assert not any(f.check == "lob-truncation" for f in found)  # full LOB mode truncates nothing
    assert ("target-table-shape", "app.existing") not in by  # no prep mode: DMS's default DROP_AND_CREATE

    # Through the step, an Aurora source's fix is said with this tool's commands (the same as Migrate's prerequisite).
    from dms_tui.environment import Environment
    from dms_tui.steps.cdc_prerequisites import logical_replication_fix
    from dms_tui.steps.task_check import aurora_fix_said_with_this_tool
    from tests.ui.test_migrate_screen import fake_outputs

    tool_fix = logical_replication_fix(Environment(mode="aws", region="us-east-1"), fake_outputs(), "cdc")
    said = {(f.check, f.subject): f for f in aurora_fix_said_with_this_tool(found, server, tool_fix)}
    wal = said[("cdc-wal-level", "source wal_level")].fix
    assert wal == tool_fix(False) and "dms-tui config migration-type cdc" in wal and "reboot-db-instance" in wal
    assert said[("table-without-key", "app.notes")] == by[("table-without-key", "app.notes")]
    plain = SourceServer(
        "replica", max_replication_slots=2, replication_slots_used=0, max_wal_senders=10, rds_logical_replication=None
    )  # a self-managed source: the generic fix stays
    assert aurora_fix_said_with_this_tool(found, plain, tool_fix) == found


def test_the_step_reads_both_catalogs_through_the_environment(pg_source: Any, pg_target: Any) -> None:
    """The step behind `task check --assess`: secrets from (moto's) Secrets Manager, the databases through the
    forwarders standing in for PrivateLink; a wrong password is an error that names the side, never the password."""
    import json

    from dms_tui.steps.task_check import AssessmentUnavailable, assess_definition
    from tests.checks.moto_environment import VERIFY_DB, moto_environment

    with moto_environment({"source": pg_source, "target": pg_target}) as world:
        url = pg_source.url(VERIFY_DB)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS step_app CASCADE")
            conn.execute("CREATE SCHEMA step_app; CREATE TABLE step_app.log (line int)")
        mappings = default_mappings("step_app").to_json()
        found = assess_definition(world.target, world.outputs, mappings, None, "full-load")
        assert [(f.check, f.subject) for f in found] == [("table-without-key", "step_app.log")]
        world.rewrite_secret("target", password="not-the-password")
        with pytest.raises(AssessmentUnavailable) as caught:
            assess_definition(world.target, world.outputs, mappings, json.dumps({}), "full-load")
        assert "target catalog" in str(caught.value) and "not-the-password" not in str(caught.value)
        assert pg_target.password not in str(caught.value)
