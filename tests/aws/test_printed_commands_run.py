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

import pytest
from dms_fixtures import REGION, SEED_MAPPINGS
from moto.server import ThreadedMotoServer

from dms_tui.aws.cli_command import AwsCliCommand
from dms_tui.dmstask.migration import TaskDraft
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.steps import migrate
from dms_tui.steps.migrate import MigrateStep, TaskAction
from dms_tui.steps.services import StepServices

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
    """Run the printed line with a shell, exactly as a person would paste it (with no AWS variables of ours)."""
    for name, text in command.files.items():
        (cwd / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"AWS_CONFIG_FILE": "/dev/null"}
    result = subprocess.run(  # noqa: S602 - the point is to run the printed shell line
        ["bash", "-c", command.text], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{command.text}\n{result.stderr}"
    return dict(json.loads(result.stdout or "{}"))


def test_create_start_stop_delete_run_as_printed_with_the_aws_cli(moto_endpoint: str, tmp_path: Path) -> None:
    """The sandbox's commands carry its endpoint and its dummy keys: pasted into a bare shell, they run."""
    environment = Environment(mode="sandbox", region=REGION, aws_endpoint_url=moto_endpoint)
    client = environment.client("dms")
    step = MigrateStep(environment, StepServices(dms_client=lambda _: client), file_threshold=100)
    instance = client.create_replication_instance(
        ReplicationInstanceIdentifier="cli-ri", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    outputs = _outputs(instance)
    definition = migrate.definition_of(TaskDraft(identifier="cli-task", mappings_text=SEED_MAPPINGS))
    create = step.command(TaskAction.CREATE, outputs=outputs, definition=definition)
    assert create.files and "file://" in create.text and create.text.startswith("AWS_ACCESS_KEY_ID=")
    arn = _run(create, tmp_path)["ReplicationTask"]["ReplicationTaskArn"]
    task = client.describe_replication_tasks()["ReplicationTasks"][0]
    assert json.loads(task["TableMappings"]) == json.loads(SEED_MAPPINGS)
    assert task["ReplicationInstanceArn"] == instance

    start = step.command(TaskAction.START, arn=arn)
    assert _run(start, tmp_path)["ReplicationTask"]["Status"] == "running"
    assert _run(step.command(TaskAction.STOP, arn=arn), tmp_path)["ReplicationTask"]["Status"] == "stopped"
    _run(step.command(TaskAction.DELETE, arn=arn), tmp_path)
    assert client.describe_replication_tasks()["ReplicationTasks"] == []


def _outputs(instance_arn: str) -> EnvironmentOutputs:
    """Made-up endpoint ARNs (the CLI's create does not check them on moto) and the real instance."""
    import dataclasses

    from tests.ui.test_migrate_screen import fake_outputs

    return dataclasses.replace(fake_outputs(), dms_replication_instance_arn=instance_arn, region=REGION)


def test_the_assessment_run_command_is_accepted_by_the_aws_cli_as_printed(moto_endpoint: str, tmp_path: Path) -> None:
    """`aws dms start-replication-task-assessment-run ...` as the Migrate preview and `dms-tui task assess` print it.
    Moto does not implement the operation (it answers 500), so the proof is that the real AWS CLI accepted every
    flag and sent the request: it reports the service's answer to StartReplicationTaskAssessmentRun, not a usage
    error (a mistyped flag, checked too, never reaches the endpoint)."""
    import dataclasses

    from dms_tui.steps.assessment_run import AssessmentRunStep

    outputs = dataclasses.replace(
        _outputs(f"arn:aws:dms:{REGION}:123456789012:rep:RI"),
        assessment_bucket="dev-dms-assessments-123456789012-eu-west-1",
        assessment_role_arn="arn:aws:iam::123456789012:role/dev-dms-assess-1",
    )
    environment = Environment(mode="sandbox", region=REGION, aws_endpoint_url=moto_endpoint).with_outputs(outputs)
    command = AssessmentRunStep(environment, StepServices()).start_command(f"arn:aws:dms:{REGION}:123456789012:task:X")
    assert command is not None and " aws dms start-replication-task-assessment-run " in f" {command.text} "
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
    }

    def run(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S602 - the point is to run the printed shell line
            ["bash", "-c", text], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    sent = run(command.text)
    assert "when calling the StartReplicationTaskAssessmentRun operation" in sent.stderr, sent.stderr
    mistyped = run(command.text.replace("--result-location-bucket", "--result-bucket"))
    assert mistyped.returncode == 2 and "StartReplicationTaskAssessmentRun operation" not in mistyped.stderr


def test_the_writer_reboot_of_the_logical_replication_fix_runs_as_printed(moto_endpoint: str, tmp_path: Path) -> None:
    """Issue 13: the CDC prerequisite's fix tells an AWS user to reboot the source writer; that line runs."""
    import dataclasses
    import shlex

    from dms_tui.steps.cdc_prerequisites import logical_replication_fix, reboot_writer_command
    from tests.ui.test_migrate_screen import fake_outputs

    environment = Environment(mode="sandbox", region=REGION, aws_endpoint_url=moto_endpoint)
    rds = environment.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="qa-onprem-source",
        Engine="aurora-postgresql",
        MasterUsername="postgres",
        MasterUserPassword="not-a-secret-1",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="qa-onprem-source-1",
        DBClusterIdentifier="qa-onprem-source",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    plain = fake_outputs()
    outputs = dataclasses.replace(
        plain, source=dataclasses.replace(plain.source, cluster_identifier="qa-onprem-source")
    )
    command = reboot_writer_command(environment, outputs)
    assert command in logical_replication_fix(environment, outputs, "cdc")(False)
    # The fix is shown on AWS, where the person's own credentials apply; moto takes any keys.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_CONFIG_FILE": "/dev/null",
        **environment.aws_cli_environment(),
    }
    result = subprocess.run(  # noqa: S603 - the printed line, split as a shell would
        shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    assert json.loads(result.stdout)["DBInstance"]["DBInstanceIdentifier"] == "qa-onprem-source-1"
