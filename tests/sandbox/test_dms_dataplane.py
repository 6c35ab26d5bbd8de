"""The DMS data plane in front of moto: boto3 creates a task, starts it, and watches real rows move, as on AWS.

The middleware wraps moto's WSGI app in a real HTTP server on loopback; the database endpoints are reached through
TCP forwarders standing in for the interface endpoints, with credentials only from (moto's) Secrets Manager.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.settings import TaskSettings
from dms_tui.sandbox.dms_dataplane import DmsDataPlaneMiddleware
from dms_tui.sandbox.forwarder import TcpForwarder

REGION = "us-east-1"
SOURCE_DNS = "vpce-0source.vpce-svc-0source.us-east-1.vpce.amazonaws.com"
TARGET_DNS = "vpce-0target.vpce-svc-0target.us-east-1.vpce.amazonaws.com"
SEED_ROWS = [(1, "John", "Smith"), (2, "Mary", "Doe"), (3, "Tom", "Good"), (4, "Peter", "Flynn")]


@pytest.fixture(scope="module")
def databases(pg_source: Any, pg_target: Any) -> dict[str, Any]:
    source_url = pg_source.fresh_database("dataplane_src")
    pg_target.fresh_database("dataplane_tgt")
    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA demo_schema; CREATE TABLE demo_schema.demo_accounts (accountNumber BIGINT NOT NULL, "
            "firstName VARCHAR(20), lastName VARCHAR(20), creationTime TIME NOT NULL)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO demo_schema.demo_accounts VALUES (%s, %s, %s, '09:00')", SEED_ROWS)
        conn.execute("CREATE SCHEMA many")
        for i in range(12):
            conn.execute(f"CREATE TABLE many.t{i:02d} AS SELECT g AS id FROM generate_series(1, {i + 1}) g")  # noqa: S608
    return {"source": pg_source, "target": pg_target}


@pytest.fixture(scope="module")
def dms_world(databases: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """moto + the middleware on a loopback port, two forwarders, and the AWS objects a migration needs."""
    forwarders = {
        SOURCE_DNS: TcpForwarder("127.0.0.1", databases["source"].cluster.port, name="source"),
        TARGET_DNS: TcpForwarder("127.0.0.1", databases["target"].cluster.port, name="target"),
    }
    for fwd in forwarders.values():
        fwd.start()

    def resolve(host: str, port: int) -> tuple[str, int]:
        fwd = forwarders.get(host)
        return ("127.0.0.1", fwd.port) if fwd else (host, port)

    ca_cert = databases["target"].cluster.ca.cert_path  # the clusters' CA, as the daemon passes the sandbox's
    app = DmsDataPlaneMiddleware(DomainDispatcherApplication(create_backend_app), resolve, ca_cert=ca_cert)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    url = f"http://127.0.0.1:{server.server_port}"
    dms = session.client("dms", endpoint_url=url)
    secrets = session.client("secretsmanager", endpoint_url=url)

    def endpoint(
        kind: str, dns: str, dbname: str, password: str, name: str | None = None, ssl_mode: str = "require"
    ) -> str:
        secret = secrets.create_secret(
            Name=f"{name or kind}-{uuid.uuid4().hex[:6]}",
            SecretString=json.dumps(
                {"username": "postgres", "password": password, "host": dns, "port": 5432, "dbname": dbname}
            ),
        )
        created = dms.create_endpoint(
            EndpointIdentifier=name or kind,
            EndpointType=kind,
            EngineName="aurora-postgresql" if kind == "target" else "postgres",
            DatabaseName=dbname,
            SslMode=ssl_mode,
            PostgreSQLSettings={
                "SecretsManagerSecretId": secret["ARN"],
                "SecretsManagerAccessRoleArn": "arn:aws:iam::123456789012:role/dms-secrets",
            },
        )
        return str(created["Endpoint"]["EndpointArn"])

    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="sandbox-ri", ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    world = {
        "dms": dms,
        "app": app,
        "instance": instance,
        "source": endpoint("source", SOURCE_DNS, "dataplane_src", databases["source"].password),
        "target": endpoint("target", TARGET_DNS, "dataplane_tgt", databases["target"].password),
        "bad_target": endpoint("target", TARGET_DNS, "dataplane_tgt", "not-the-password", name="bad-target"),
        "plain_target": endpoint(
            "target", TARGET_DNS, "dataplane_tgt", databases["target"].password, name="plain-target", ssl_mode="none"
        ),
        "verified_target": endpoint(
            "target", TARGET_DNS, "dataplane_tgt", databases["target"].password, name="vfy-target", ssl_mode="verify-ca"
        ),
        "target_url": databases["target"].url("dataplane_tgt"),
    }
    yield world
    server.shutdown()
    # moto's backends live in the process: another module building this world again must not find these objects.
    from moto.backends import get_backend

    for service in ("dms", "secretsmanager"):
        get_backend(service).reset()  # type: ignore[no-untyped-call]
    for fwd in forwarders.values():
        fwd.stop()


def create_task(
    world: dict[str, Any], mappings: dict[str, Any], settings: TaskSettings | None = None, **kw: Any
) -> str:
    task = world["dms"].create_replication_task(
        ReplicationTaskIdentifier=f"task-{uuid.uuid4().hex[:8]}",
        SourceEndpointArn=world["source"],
        TargetEndpointArn=kw.pop("target", world["target"]),
        ReplicationInstanceArn=world["instance"],
        MigrationType="full-load",
        TableMappings=json.dumps(mappings),
        ReplicationTaskSettings=(settings or TaskSettings()).to_json(),
    )
    return str(task["ReplicationTask"]["ReplicationTaskArn"])


def describe(world: dict[str, Any], arn: str) -> dict[str, Any]:
    tasks = world["dms"].describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])
    return dict(tasks["ReplicationTasks"][0])


def wait_until_done(world: dict[str, Any], arn: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = describe(world, arn)
        if task["Status"] in ("stopped", "failed"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {arn} still {task['Status']} after {timeout}s")


def all_table_statistics(world: dict[str, Any], arn: str) -> list[dict[str, Any]]:
    pages = (
        world["dms"]
        .get_paginator("describe_table_statistics")
        .paginate(ReplicationTaskArn=arn, PaginationConfig={"PageSize": 10})
    )
    return [entry for page in pages for entry in page["TableStatistics"]]


def test_the_seed_migration_runs_through_the_api_until_every_table_is_completed(dms_world):
    arn = create_task(dms_world, default_mappings().to_dict())
    before = describe(dms_world, arn)
    assert before["Status"] == "ready"  # moto would say "creating" forever
    assert before["ReplicationTaskStats"]["TablesLoaded"] == 0  # not moto's invented "1 table loaded"

    started = dms_world["dms"].start_replication_task(
        ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
    )["ReplicationTask"]
    assert started["Status"] in ("starting", "running", "stopped"), started.get("LastFailureMessage")
    task = wait_until_done(dms_world, arn)

    assert task["Status"] == "stopped" and task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    stats = task["ReplicationTaskStats"]
    assert (stats["TablesLoaded"], stats["TablesErrored"], stats["FullLoadProgressPercent"]) == (1, 0, 100)
    assert stats["FullLoadFinishDate"] >= stats["FullLoadStartDate"]  # parsed by botocore as datetimes
    [table] = all_table_statistics(dms_world, arn)
    assert (table["SchemaName"], table["TableName"], table["TableState"], table["FullLoadRows"]) == (
        "demo_schema",
        "demo_accounts",
        "Table completed",
        4,
    )
    with psycopg.connect(dms_world["target_url"]) as conn:
        rows = conn.execute(
            "SELECT accountnumber, firstname, lastname FROM demo_schema.demo_accounts ORDER BY 1"
        ).fetchall()
    assert rows == SEED_ROWS


def test_table_statistics_paginate_filter_and_reload(dms_world):
    mappings = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "1",
                "rule-action": "include",
                "object-locator": {"schema-name": "many", "table-name": "%"},
            },
            {
                "rule-type": "selection",
                "rule-id": "2",
                "rule-name": "2",
                "rule-action": "exclude",
                "object-locator": {"schema-name": "many", "table-name": "t11"},
            },
        ]
    }
    arn = create_task(dms_world, mappings, TaskSettings().with_prep_mode("DROP_AND_CREATE"))
    dms_world["dms"].start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    assert wait_until_done(dms_world, arn)["ReplicationTaskStats"]["TablesLoaded"] == 11

    stats = all_table_statistics(dms_world, arn)
    assert sorted(s["TableName"] for s in stats) == [f"t{i:02d}" for i in range(11)]
    assert all(s["FullLoadRows"] == int(s["TableName"][1:]) + 1 for s in stats)
    only = dms_world["dms"].describe_table_statistics(
        ReplicationTaskArn=arn, Filters=[{"Name": "table-name", "Values": ["t03"]}]
    )["TableStatistics"]
    assert [s["TableName"] for s in only] == ["t03"]

    dms_world["dms"].reload_tables(
        ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "many", "TableName": "t03"}], ReloadOption="data-reload"
    )
    wait_until_done(dms_world, arn)
    reloaded = {s["TableName"]: s["FullLoadReloaded"] for s in all_table_statistics(dms_world, arn)}
    assert reloaded["t03"] is True and reloaded["t04"] is False


def test_an_unsupported_rule_fails_the_task_with_a_message_naming_it(dms_world):
    mappings = default_mappings().to_dict()
    mappings["rules"].append(
        {
            "rule-type": "transformation",
            "rule-id": "9",
            "rule-name": "9",
            "rule-target": "column",
            "object-locator": {"schema-name": "%", "table-name": "%", "column-name": "accountnumber"},
            "rule-action": "data-masking-hash-mask",  # valid on AWS; the sandbox engine does not mask
        }
    )
    arn = create_task(dms_world, mappings)
    dms_world["dms"].start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_until_done(dms_world, arn)
    assert task["Status"] == "failed"
    assert "rule 9" in task["LastFailureMessage"] and "data-masking-hash-mask" in task["LastFailureMessage"]


def test_a_wrong_password_in_the_secret_fails_the_task_and_the_connection_test(dms_world):
    arn = create_task(dms_world, default_mappings().to_dict(), target=dms_world["bad_target"])
    dms_world["dms"].start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_until_done(dms_world, arn)
    assert task["Status"] == "failed" and "password authentication failed" in task["LastFailureMessage"]
    assert "not-the-password" not in json.dumps(task, default=str)

    for endpoint, expected in ((dms_world["bad_target"], "failed"), (dms_world["source"], "successful")):
        conn = connection_after_test(dms_world, endpoint)
        assert conn["Status"] == expected, conn
        assert ("password authentication failed" in conn["LastFailureMessage"]) is (expected == "failed")


def connection_after_test(dms_world: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """TestConnection for ``endpoint``, then its record once the test finished."""
    dms = dms_world["dms"]
    first = dms.test_connection(ReplicationInstanceArn=dms_world["instance"], EndpointArn=endpoint)
    assert first["Connection"]["Status"] == "testing"
    deadline = time.monotonic() + 30
    while True:
        [conn] = dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint]}])["Connections"]
        if conn["Status"] != "testing" or time.monotonic() > deadline:
            return dict(conn)
        time.sleep(0.05)


def test_the_engine_connects_with_the_endpoints_ssl_mode_and_plaintext_is_refused(dms_world):
    """As DMS against Aurora with rds.force_ssl: ssl_mode none cannot log in; require and verify-ca (checked
    against the sandbox CA, standing in for the endpoint's certificate) can."""
    plain = connection_after_test(dms_world, dms_world["plain_target"])
    assert plain["Status"] == "failed" and "no encryption" in plain["LastFailureMessage"], plain
    for endpoint in (dms_world["target"], dms_world["verified_target"]):
        assert connection_after_test(dms_world, endpoint)["Status"] == "successful"
    arn = create_task(dms_world, default_mappings().to_dict(), target=dms_world["plain_target"])
    dms_world["dms"].start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = wait_until_done(dms_world, arn)
    assert task["Status"] == "failed" and "no encryption" in task["LastFailureMessage"], task


def test_state_errors_come_back_as_dms_faults_and_other_calls_still_reach_moto(dms_world):
    arn = create_task(dms_world, default_mappings().to_dict())
    dms = dms_world["dms"]
    with pytest.raises(ClientError) as stop_error:
        dms.stop_replication_task(ReplicationTaskArn=arn)
    assert stop_error.value.response["Error"]["Code"] == "InvalidResourceStateFault"
    with pytest.raises(ClientError) as missing:
        dms.describe_table_statistics(ReplicationTaskArn=arn.replace("task:", "task:nope"))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundFault"
    assert dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"] == []
    assert {e["EndpointArn"] for e in dms.describe_endpoints()["Endpoints"]} >= {dms_world["source"]}
    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert dms_world["app"].run_for(arn) is None
