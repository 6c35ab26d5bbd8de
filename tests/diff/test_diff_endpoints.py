"""The Diff step's inputs: the environment's databases from their secrets, and table pairing from task mappings."""

from __future__ import annotations

import json

import boto3
import psycopg
import pytest
from moto import mock_aws

from dms_tui.data.diff import DiffError
from dms_tui.data.diff.catalog import TableRef
from dms_tui.data.diff.endpoints import (
    diff_command_line,
    environment_endpoints,
    pairing_from_task,
    redact_url,
    run_wizard_diff,
)
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs

REGION = "us-east-1"


def _side(name: str, secret_arn: str) -> SideOutputs:
    return SideOutputs(
        vpc_id=f"vpc-{name}",
        vpc_cidr="10.0.0.0/16",
        cluster_identifier=name,
        database_name="app",
        port=5432,
        secret_arn=secret_arn,
        nlb_arn="arn:nlb",
        target_group_arn="arn:tg",
        endpoint_service_id="vpce-svc",
        vpc_endpoint_id="vpce-1",
        endpoint_dns_name=f"{name}.vpce.example",
        dms_endpoint_arn="arn:dms",
    )


def _outputs(source_arn: str, target_arn: str) -> EnvironmentOutputs:
    return EnvironmentOutputs(
        source=_side("source", source_arn),
        target=_side("target", target_arn),
        dms_vpc_id="vpc-dms",
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn="arn:ri",
        dms_access_role_arn="arn:role",
        bastion_instance_id="i-1",
        region=REGION,
    )


def test_redacted_urls_never_carry_the_password() -> None:
    assert redact_url("postgresql://app:s3cret@db.example:6432/sales") == "postgresql://app@db.example:6432/sales"
    conninfo = psycopg.conninfo.make_conninfo(
        "", host="h", port=5, user="u", password="s3cret", dbname="d", sslmode="require"
    )
    assert redact_url(conninfo) == "postgresql://u@h:5/d?sslmode=require"


def test_secrets_lead_through_the_environment_to_both_databases(pg_source, pg_target) -> None:  # type: ignore[no-untyped-def]
    source_url = pg_source.fresh_database("endpoints_src")
    target_url = pg_target.fresh_database("endpoints_tgt")
    for url in (source_url, target_url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table t (id int primary key, v text); insert into t values (1, 'a'), (2, null)")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arns = []
        for name, server, db in (("source", pg_source, "endpoints_src"), ("target", pg_target, "endpoints_tgt")):
            secret = {
                "username": server.cluster.superuser,
                "password": server.password,
                "port": 5432,
                "host": f"{name}.vpce.example",
                "dbname": db,
            }
            arns.append(client.create_secret(Name=f"db-{name}", SecretString=json.dumps(secret))["ARN"])
        # The sandbox maps each interface endpoint name to where the database really listens.
        target = Environment(
            mode="sandbox",
            region=REGION,
            host_map={
                "source.vpce.example": ("127.0.0.1", pg_source.cluster.port),
                "target.vpce.example": ("127.0.0.1", pg_target.cluster.port),
            },
        )
        endpoints = environment_endpoints(target, _outputs(*arns))
        with pytest.raises(DiffError, match="db-missing"):
            environment_endpoints(target, _outputs(arns[0], arns[1].replace("db-target", "db-missing")))
    assert pg_source.password not in repr(endpoints) and pg_source.password not in endpoints.source_display
    command = diff_command_line(endpoints)
    assert f":{pg_source.cluster.port}/endpoints_src" in command and pg_target.password not in command
    report = run_wizard_diff(endpoints, None)
    assert [(t.source_table, t.identical, t.source_rows) for t in report.tables] == [("public.t", True, 2)]


def test_task_mappings_choose_and_rename_tables() -> None:
    assert pairing_from_task(None) is None and pairing_from_task("") is None
    rules = [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "in",
            "rule-action": "include",
            "object-locator": {"schema-name": "public", "table-name": "%"},
        },
        {
            "rule-type": "selection",
            "rule-id": "2",
            "rule-name": "out",
            "rule-action": "exclude",
            "object-locator": {"schema-name": "public", "table-name": "audit%"},
        },
        {
            "rule-type": "transformation",
            "rule-id": "3",
            "rule-name": "up",
            "rule-action": "add-prefix",
            "rule-target": "table",
            "object-locator": {"schema-name": "public", "table-name": "%"},
            "value": "mig_",
        },
    ]
    pairing = pairing_from_task(json.dumps({"rules": rules}))
    assert pairing is not None
    assert pairing.selects(TableRef("public", "orders")) and not pairing.selects(TableRef("public", "audit_log"))
    assert not pairing.selects(TableRef("other", "orders"))
    mapping = pairing.mapping
    assert callable(mapping) and mapping("public.orders") == "public.mig_orders"


def test_unreadable_task_mappings_say_where_to_fix_them() -> None:
    with pytest.raises(DiffError, match="Migrate step"):
        pairing_from_task("{not json")
