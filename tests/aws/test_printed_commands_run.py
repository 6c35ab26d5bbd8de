"""The printed `aws dms` commands run as printed: the real AWS CLI executes them against a moto server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from dms_fixtures import REGION, SEED_MAPPINGS, SEED_SETTINGS
from moto.server import ThreadedMotoServer

from dms_tui.aws.cli_command import AwsCliCommand
from dms_tui.aws.dms import ReplicationTaskRunner, TaskDefinition

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (`aws`) is not installed, so printed commands cannot be executed")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _run(command: AwsCliCommand, cwd: Path) -> dict[str, Any]:
    """Run the printed line with a shell, exactly as a person would paste it."""
    for name, text in command.files.items():
        (cwd / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": "/dev/null"}
    result = subprocess.run(  # noqa: S602 - the point is to run the printed shell line
        ["bash", "-c", command.text], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{command.text}\n{result.stderr}"
    return dict(json.loads(result.stdout or "{}"))


def test_create_start_stop_delete_run_as_printed_with_the_aws_cli(moto_endpoint: str, tmp_path: Path) -> None:
    client = boto3.client(
        "dms", region_name=REGION, endpoint_url=moto_endpoint, aws_access_key_id="testing", aws_secret_access_key="x"
    )
    runner = ReplicationTaskRunner(client, file_threshold=100)  # the mappings go through a file:// document
    instance = client.create_replication_instance(
        ReplicationInstanceIdentifier="cli-ri", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    definition = TaskDefinition("cli-task", "full-load", SEED_MAPPINGS, SEED_SETTINGS + " " * 10)
    params = {
        "ReplicationTaskIdentifier": definition.identifier,
        "SourceEndpointArn": f"arn:aws:dms:{REGION}:123456789012:endpoint:SRC",
        "TargetEndpointArn": f"arn:aws:dms:{REGION}:123456789012:endpoint:TGT",
        "ReplicationInstanceArn": instance,
        "MigrationType": "full-load",
        "TableMappings": definition.table_mappings,
        "ReplicationTaskSettings": definition.task_settings,
    }
    create = runner.command_for("create_replication_task", params)
    assert create.files and "file://" in create.text
    arn = _run(create, tmp_path)["ReplicationTask"]["ReplicationTaskArn"]
    task = client.describe_replication_tasks()["ReplicationTasks"][0]
    assert json.loads(task["TableMappings"]) == json.loads(SEED_MAPPINGS)
    assert task["ReplicationInstanceArn"] == instance

    start = runner.command_for(
        "start_replication_task", {"ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"}
    )
    assert _run(start, tmp_path)["ReplicationTask"]["Status"] == "running"
    stop = runner.command_for("stop_replication_task", {"ReplicationTaskArn": arn})
    assert _run(stop, tmp_path)["ReplicationTask"]["Status"] == "stopped"
    delete = runner.command_for("delete_replication_task", {"ReplicationTaskArn": arn})
    _run(delete, tmp_path)
    assert client.describe_replication_tasks()["ReplicationTasks"] == []
