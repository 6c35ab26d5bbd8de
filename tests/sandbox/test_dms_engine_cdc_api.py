"""A full-load-and-cdc task through the sandbox's DMS API: it keeps running at 100 %, changes flow, its CDC metrics
are in (moto's) CloudWatch under AWS/DMS with DMS's dimensions, stop keeps the slot and delete drops it."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import boto3
import psycopg
from test_dms_dataplane import REGION, databases, describe, dms_world  # noqa: F401, F811 - fixtures

from dms_tui.dmstask.mappings import default_mappings
from dms_tui.dmstask.settings import TaskSettings

SLOTS = "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'dms_cdc_api%'"


def test_a_cdc_task_replicates_publishes_metrics_keeps_its_slot_when_stopped_and_drops_it_when_deleted(dms_world):  # noqa: F811
    dms = dms_world["dms"]
    task_id = f"cdc-api-{uuid.uuid4().hex[:6]}"
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier=task_id,
        SourceEndpointArn=dms_world["source"],
        TargetEndpointArn=dms_world["target"],
        ReplicationInstanceArn=dms_world["instance"],
        MigrationType="full-load-and-cdc",
        TableMappings=json.dumps(default_mappings().to_dict()),
        ReplicationTaskSettings=TaskSettings().to_json(),
    )["ReplicationTask"]["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = describe(dms_world, arn)
        if task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100:
            break
        time.sleep(0.1)
    assert task["Status"] == "running"
    app = dms_world["app"]
    run = app.run_for(arn)
    assert run is not None
    src = run.source
    conninfo = psycopg.conninfo.make_conninfo(
        "", host=src.host, port=src.port, dbname=src.dbname, user=src.user, password=src.password
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO demo_schema.demo_accounts VALUES (99, 'New', 'Row', '10:00')")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        if stats and stats[0]["AppliedInserts"] >= 1:
            break
        time.sleep(0.1)
    assert stats[0]["Inserts"] >= 1 and stats[0]["AppliedInserts"] >= 1
    assert "not applied" in stats[0].get("ValidationStateDetails", "")  # demo_accounts has no key
    app.publish_metrics()
    time.sleep(0.05)
    app.publish_metrics()
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    cloudwatch = session.client("cloudwatch", endpoint_url=dms._endpoint.host)
    instance_id = dms.describe_replication_instances()["ReplicationInstances"][0]["ReplicationInstanceIdentifier"]
    dims = [
        {"Name": "ReplicationInstanceIdentifier", "Value": instance_id},
        {"Name": "ReplicationTaskIdentifier", "Value": arn.split(":")[-1]},
    ]
    now = dt.datetime.now(dt.UTC)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": name.lower(),
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/DMS", "MetricName": name, "Dimensions": dims},
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
            for name in ("CDCLatencySource", "CDCLatencyTarget", "CDCIncomingChanges", "CDCThroughputRowsTarget")
        ],
        StartTime=now - dt.timedelta(minutes=5),
        EndTime=now + dt.timedelta(minutes=1),
    )
    assert all(result["Values"] for result in answer["MetricDataResults"]), answer["MetricDataResults"]
    dms.stop_replication_task(ReplicationTaskArn=arn)
    deadline = time.monotonic() + 30
    while describe(dms_world, arn)["Status"] != "stopped" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert describe(dms_world, arn)["StopReason"] == "Stop Reason NORMAL"
    assert run.slot_info() is not None
    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert run.slot_info() is None
