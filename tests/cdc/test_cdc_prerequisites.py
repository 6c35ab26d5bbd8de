"""CDC prerequisites read from real PostgreSQL: a source without logical decoding is refused with its fix, a table
without a key is flagged (a warning: DMS still runs, applying its inserts only), a user without the replication
privilege is named, and the Migrate step creates nothing when a blocker fails (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dms_tui import exit_codes
from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.migration import TaskDraft
from dms_tui.errors import StepError
from dms_tui.steps.cdc_prerequisites import CdcPrerequisites, findings_for

SCHEMA_SQL = """
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id bigint PRIMARY KEY, total numeric);
CREATE TABLE shop.audit (at timestamptz, note text);
CREATE TABLE shop.full_ident (n integer, label text);
ALTER TABLE shop.full_ident REPLICA IDENTITY FULL;
"""


def mappings(schema: str = "shop") -> TableMappings:
    return TableMappings.from_dict(
        {
            "rules": [
                {
                    "rule-type": "selection",
                    "rule-id": "1",
                    "rule-name": "1",
                    "object-locator": {"schema-name": schema, "table-name": "%"},
                    "rule-action": "include",
                }
            ]
        }
    )


@pytest.fixture
def logical_source(pg_source: Any) -> Iterator[str]:
    url = pg_source.fresh_database("prereq_src")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)
    yield url


@pytest.fixture
def replica_source(pg_target: Any) -> Iterator[str]:
    """A source on a cluster with wal_level=replica (the test target cluster is one)."""
    url = pg_target.fresh_database("prereq_replica_src")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)
    yield url


@pytest.fixture
def target(pg_target: Any) -> Iterator[str]:
    url = pg_target.fresh_database("prereq_tgt")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop; CREATE TABLE shop.orders (id bigint, total numeric)")
    yield url


def report_for(source: str, target: str, migration_type: str = "full-load-and-cdc") -> CdcPrerequisites:
    with psycopg.connect(source, autocommit=True) as s, psycopg.connect(target, autocommit=True) as t:
        return findings_for(s, t, mappings(), migration_type)


def by_id(report: CdcPrerequisites) -> dict[str, Any]:
    return {f.id: f for f in report.findings}


def test_a_source_with_wal_level_replica_is_refused_with_the_fix(replica_source: str, target: str) -> None:
    report = report_for(replica_source, target)
    wal = by_id(report)["source.wal_level"]
    assert not wal.passed and wal.blocks
    assert wal.detail.startswith("wal_level = replica")
    assert "ALTER SYSTEM SET wal_level = logical" in wal.fix and "restart" in wal.fix
    assert not report.ok and wal in report.blockers
    error = report.error()
    assert error.exit_code == exit_codes.NOT_RUN
    assert "wal_level = logical" in error.why and "nothing was created" in error.what


def test_a_logical_source_passes_and_a_table_without_a_key_is_flagged(logical_source: str, target: str) -> None:
    report = report_for(logical_source, target)
    found = by_id(report)
    assert found["source.wal_level"].passed
    assert (
        found["source.replication_slots"].passed
        and "max_replication_slots = 10" in found["source.replication_slots"].detail
    )
    assert found["source.wal_senders"].passed
    assert found["source.replication_privilege"].passed  # the test cluster's superuser
    assert found["source.identity.shop.orders"].passed
    assert found["source.identity.shop.full_ident"].passed
    assert found["source.identity.shop.full_ident"].detail == "REPLICA IDENTITY FULL"
    audit = found["source.identity.shop.audit"]
    assert not audit.passed and not audit.blocker  # DMS still runs: inserts applied, updates/deletes not
    assert 'ALTER TABLE "shop"."audit" ADD PRIMARY KEY' in audit.fix and "REPLICA IDENTITY FULL" in audit.fix
    # On the target: orders exists without a key (flagged), the others are created by the full load.
    orders = found["target.key.shop.orders"]
    assert not orders.passed and not orders.blocker and "updates and deletes" in orders.detail
    assert found["target.key.shop.audit"].passed
    assert report.ok and audit in report.warnings and orders in report.warnings
    json.dumps(report.to_json())  # the headless --json form


def test_a_cdc_task_needs_its_target_tables_to_exist(logical_source: str, target: str) -> None:
    found = by_id(report_for(logical_source, target, "cdc"))
    missing = found["target.key.shop.audit"]
    assert missing.blocks and "load the table first" in missing.fix


def test_a_user_without_the_replication_privilege_is_named(pg_source: Any, logical_source: str, target: str) -> None:
    with psycopg.connect(logical_source, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS prereq_plain; CREATE ROLE prereq_plain LOGIN PASSWORD 'x-not-secret'")
        admin.execute(
            "GRANT USAGE ON SCHEMA shop TO prereq_plain; GRANT SELECT ON ALL TABLES IN SCHEMA shop TO prereq_plain"
        )
    try:
        plain = psycopg.conninfo.make_conninfo(logical_source, user="prereq_plain", password="x-not-secret")
        found = by_id(report_for(plain, target))
        privilege = found["source.replication_privilege"]
        assert privilege.blocks
        assert privilege.detail.startswith("prereq_plain: no REPLICATION attribute")
        assert 'ALTER ROLE "prereq_plain" REPLICATION' in privilege.fix and "rds_replication" in privilege.fix
    finally:
        with psycopg.connect(logical_source, autocommit=True) as admin:
            admin.execute("DROP OWNED BY prereq_plain; DROP ROLE prereq_plain")


def test_the_migrate_step_creates_nothing_when_a_blocker_fails(replica_source: str, target: str) -> None:
    """launch() reads the prerequisites first and raises before CreateReplicationTask: the DMS client is never used."""
    from dms_tui.environment import Environment
    from dms_tui.steps import migrate
    from dms_tui.steps.migrate import MigrateStep, PrerequisitesChecked
    from dms_tui.steps.services import StepServices

    class NoDms:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"DMS was called ({name}) although a prerequisite failed")

    def real_findings(_env: Any, _outputs: Any, chosen: TableMappings, kind: str) -> CdcPrerequisites:
        with psycopg.connect(replica_source, autocommit=True) as s, psycopg.connect(target, autocommit=True) as t:
            return findings_for(s, t, chosen, kind)

    outputs = _outputs()
    environment = Environment(mode="sandbox", region="us-east-1", env="dev", outputs=outputs)
    services = StepServices(dms_client=lambda _: NoDms(), options={migrate.PREREQUISITES: real_findings})
    step = MigrateStep(environment, services)
    draft = TaskDraft(migration_type="full-load-and-cdc", mappings_text=mappings().to_json())
    seen: list[Any] = []
    with pytest.raises(StepError) as raised:
        seen.extend(step.launch(draft))
    assert raised.value.exit_code == exit_codes.NOT_RUN
    assert [type(e) for e in seen] == [PrerequisitesChecked]
    assert not seen[0].report.ok
    # full-load needs none of it: no finding, no database read
    assert step.prerequisites(TaskDraft(migration_type="full-load", mappings_text=mappings().to_json())).findings == ()


def _outputs() -> Any:
    from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs

    def side(name: str) -> SideOutputs:
        return SideOutputs(
            vpc_id=f"vpc-{name}",
            vpc_cidr="10.0.0.0/16",
            cluster_identifier=f"{name}-cluster",
            database_name="demo",
            port=5432,
            secret_arn=f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}",
            nlb_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/{name}/1",
            target_group_arn=f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/1",
            endpoint_service_id=f"vpce-svc-{name}",
            vpc_endpoint_id=f"vpce-{name}",
            endpoint_dns_name=f"vpce-0{name}.vpce-svc.us-east-1.vpce.amazonaws.com",
            dms_endpoint_arn=f"arn:aws:dms:us-east-1:123456789012:endpoint:{name}",
        )

    return EnvironmentOutputs(
        source=side("source"),
        target=side("target"),
        dms_vpc_id="vpc-dms",
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn="arn:aws:dms:us-east-1:123456789012:rep:dms-demo",
        dms_access_role_arn="arn:aws:iam::123456789012:role/dms-vpc-role",
        bastion_instance_id="i-0123456789abcdef0",
        region="us-east-1",
    )


def test_headless_migrate_prints_each_finding_with_its_fix(replica_source: str, target: str) -> None:
    from dms_tui.commands.migrate import event_line
    from dms_tui.steps.migrate import PrerequisitesChecked

    line = event_line(PrerequisitesChecked(report_for(replica_source, target)))
    assert line is not None
    printed = line.plain
    assert printed.startswith("CDC prerequisites for full-load-and-cdc: NOT met: the task is not created")
    assert "✗ logical decoding on the source: wal_level = replica" in printed
    assert "fix: Run ALTER SYSTEM SET wal_level = logical" in printed
    assert "! shop.audit: primary key or replica identity: no primary key" in printed


def _on_aurora(url: str, logical_replication: str) -> str:
    """The same cluster as Aurora shows itself: rds.logical_replication is a setting a session can read."""
    return psycopg.conninfo.make_conninfo(url, options=f"-c rds.logical_replication={logical_replication}")


def test_an_aurora_source_provisioned_for_full_load_is_told_how_to_fix_it_with_this_tool(
    logical_source: str, target: str, tmp_path: Any
) -> None:
    """Issue 13: the bundle set rds.logical_replication from the configured type (full-load: off); the fix names the
    configure command, the apply, and the writer's reboot, each as a command that runs as printed."""
    import shlex

    from dms_tui import cli
    from dms_tui.config import WizardConfig, load, tfvars_path
    from dms_tui.environment import Environment
    from dms_tui.steps.cdc_prerequisites import logical_replication_fix

    environment = Environment(mode="aws", region="eu-west-1", env="qa", profile="demo")
    fix = logical_replication_fix(environment, _outputs(), "full-load-and-cdc")
    with (
        psycopg.connect(_on_aurora(logical_source, "0"), autocommit=True) as s,
        psycopg.connect(target, autocommit=True) as t,
    ):
        report = findings_for(s, t, mappings(), "full-load-and-cdc", logical_replication_fix=fix)
    finding = by_id(report)["source.logical_replication"]
    assert finding.blocks and finding.detail == "rds.logical_replication = 0, wal_level = logical"
    configure = "dms-tui config migration-type full-load-and-cdc --env qa"
    assert f"Set the type: {configure};" in finding.fix
    assert "apply it: dms-tui provision apply --env qa --profile demo (sets rds.logical_replication = 1" in finding.fix
    assert (
        "reboot the source writer source-cluster-1, which restarts it (the source is unavailable for a minute or two"
        in finding.fix
    )
    assert (
        "aws rds reboot-db-instance --db-instance-identifier source-cluster-1 --region eu-west-1 --profile demo"
        in finding.fix
    )
    assert configure in report.error().why  # the headless refusal carries the same fix

    # The configure command runs as printed and does what it says.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DMS_TUI_HOME", str(tmp_path))
        assert cli.main(shlex.split(configure)[1:]) == 0
        from dms_tui import paths

        saved = tfvars_path(paths.environment_dir("qa") / "terraform", "qa")
        assert load(saved) == WizardConfig.default("qa").with_value("migration_type", "full-load-and-cdc")


def test_an_aurora_source_with_the_parameter_set_but_not_rebooted_is_told_to_reboot(
    replica_source: str, target: str
) -> None:
    from dms_tui.environment import Environment
    from dms_tui.steps.cdc_prerequisites import logical_replication_fix

    fix = logical_replication_fix(Environment(mode="aws", region="us-east-1"), _outputs(), "cdc")
    with (
        psycopg.connect(_on_aurora(replica_source, "1"), autocommit=True) as s,
        psycopg.connect(target, autocommit=True) as t,
    ):
        finding = by_id(findings_for(s, t, mappings(), "cdc", logical_replication_fix=fix))[
            "source.logical_replication"
        ]
    assert finding.blocks and finding.detail == "rds.logical_replication = 1, wal_level = replica"
    assert finding.fix.startswith("rds.logical_replication = 1 is set but not in effect until the writer reboots")
    assert "aws rds reboot-db-instance --db-instance-identifier source-cluster-1 --region us-east-1" in finding.fix
    assert "config migration-type" not in finding.fix  # the type is right already: only the reboot is missing
