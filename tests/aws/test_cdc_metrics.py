"""The CDC metrics a migration engineer watches: read from CloudWatch with one GetMetricData call (moto holds the
metrics as DMS publishes them), the same call printed as an `aws cloudwatch get-metric-data` line that runs as
printed, a failing API that is said and retried later, and the phase derived from what the API reports."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dms_tui.aws.cdc_metrics import CdcLatency, CdcMetricsReader, CdcMetricsUnavailable, task_resource_id
from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TableStatistics, TaskStats
from dms_tui.steps.cdc_watch import CdcPhase, cdc_phase

REGION = "us-east-1"
TASK_ARN = f"arn:aws:dms:{REGION}:123456789012:task:ABCDEFGHIJKLMNOP"
NOW = dt.datetime(2026, 3, 2, 10, 0, 0, tzinfo=dt.UTC)


def publish(client: Any, instance: str, at: dt.datetime, **values: float) -> None:
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": instance},
        {"Name": "ReplicationTaskIdentifier", "Value": task_resource_id(TASK_ARN)},
    ]
    client.put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {"MetricName": name, "Value": value, "Dimensions": dimensions, "Timestamp": at}
            for name, value in values.items()
        ],
    )


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def test_the_newest_value_of_each_metric_is_read_for_this_task_only(cloudwatch: Any) -> None:
    publish(cloudwatch, "dms-demo", NOW - dt.timedelta(seconds=40), CDCLatencySource=9.0, CDCLatencyTarget=12.0)
    publish(
        cloudwatch,
        "dms-demo",
        NOW - dt.timedelta(seconds=5),
        CDCLatencySource=0.4,
        CDCLatencyTarget=0.7,
        CDCIncomingChanges=3,
        CDCThroughputRowsSource=18,
        CDCThroughputRowsTarget=17,
    )
    publish(cloudwatch, "another-instance", NOW - dt.timedelta(seconds=2), CDCLatencyTarget=99.0)
    reader = CdcMetricsReader(cloudwatch, "dms-demo", TASK_ARN, now=lambda: NOW)
    read = reader.read_once()
    assert isinstance(read, CdcLatency) and read.has_data
    assert (read.source_s, read.target_s, read.incoming_changes) == (0.4, 0.7, 3.0)
    assert (read.throughput_source, read.throughput_target) == (18.0, 17.0)


def test_no_metrics_yet_is_no_data_not_zero(cloudwatch: Any) -> None:
    read = CdcMetricsReader(cloudwatch, "dms-demo", TASK_ARN, now=lambda: NOW).read_once()
    assert isinstance(read, CdcLatency) and not read.has_data and read.target_s is None


def test_a_throttled_read_is_said_and_the_next_waits_longer() -> None:
    client = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    reader = CdcMetricsReader(client, "dms-demo", TASK_ARN, interval_s=5, now=lambda: NOW)
    with Stubber(client) as stub:
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded")
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded")
        first, second = reader.read_once(), reader.read_once()
    assert isinstance(first, CdcMetricsUnavailable) and "Throttling: Rate exceeded" in first.message
    assert isinstance(second, CdcMetricsUnavailable) and second.retry_in_s > first.retry_in_s


def _snapshot(migration_type: str, *states: str, progress: int = 100, finished: dt.datetime | None = None) -> Any:
    return ReplicationTaskSnapshot(
        TASK_ARN,
        "demo",
        migration_type,
        "running",
        None,
        None,
        TaskStats(full_load_progress_percent=progress, full_load_finish_date=finished),
        tuple(TableStatistics("s", f"t{i}", state) for i, state in enumerate(states)),
        NOW,
    )


def _latency(target: float | None, at: dt.datetime = NOW) -> CdcLatency:
    return CdcLatency(NOW, 0.1, target, 0.0, 0.0, 0.0, points_at=at)


def test_the_phase_moves_from_full_load_through_cached_changes_to_ongoing_replication() -> None:
    finished = NOW - dt.timedelta(seconds=30)
    loading = _snapshot("full-load-and-cdc", "Table completed", "Full load", progress=50)
    loaded = _snapshot("full-load-and-cdc", "Table completed", "Table completed", finished=finished)
    assert cdc_phase(loading, None, None) is CdcPhase.FULL_LOAD
    assert cdc_phase(loaded, None, CdcPhase.FULL_LOAD) is CdcPhase.APPLYING_CACHED
    assert cdc_phase(loaded, _latency(14.0), CdcPhase.APPLYING_CACHED) is CdcPhase.APPLYING_CACHED
    # a small latency published before the load finished says nothing about the cached changes
    stale = _latency(0.2, at=finished - dt.timedelta(seconds=60))
    assert cdc_phase(loaded, stale, CdcPhase.APPLYING_CACHED) is CdcPhase.APPLYING_CACHED
    assert cdc_phase(loaded, _latency(0.5), CdcPhase.APPLYING_CACHED) is CdcPhase.ONGOING
    # once replicating, a burst of latency does not send it back
    assert cdc_phase(loaded, _latency(30.0), CdcPhase.ONGOING) is CdcPhase.ONGOING
    assert cdc_phase(_snapshot("cdc", "Table completed"), None, None) is CdcPhase.ONGOING
    assert cdc_phase(_snapshot("full-load", "Table completed"), None, None) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_printed_get_metric_data_command_runs_as_printed_and_reads_the_same(tmp_path: Any) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (`aws`) is not installed, so the printed command cannot be executed")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        client = boto3.client(
            "cloudwatch",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        now = dt.datetime.now(dt.UTC)
        publish(client, "dms-demo", now - dt.timedelta(seconds=5), CDCLatencySource=0.25, CDCLatencyTarget=0.5)
        reader = CdcMetricsReader(
            client,
            "dms-demo",
            TASK_ARN,
            now=lambda: now,
            cli_flags=["--region", REGION, "--endpoint-url", endpoint],
            cli_environment=keys,
        )
        read = reader.read_once()
        command = reader.command()
        assert not command.files  # inline: nothing to save first
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"AWS_CONFIG_FILE": "/dev/null"}
        done = subprocess.run(
            ["bash", "-c", command.text], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        results = {r["Id"]: r["Values"] for r in json.loads(done.stdout)["MetricDataResults"]}
        assert results["latencytarget"][0] == read.target_s == 0.5  # type: ignore[union-attr]
        assert results["latencysource"][0] == read.source_s == 0.25  # type: ignore[union-attr]
        assert shlex.split(command.text)[2:4] == ["aws", "cloudwatch"]
    finally:
        server.stop()
