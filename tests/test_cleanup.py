"""Story: after a demo, the person cleans up; the DMS task goes first, nothing of the sandbox is left running or on
disk, and the journey starts over."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from dms_tui.cli import main
from dms_tui.commands import cleanup as cleanup_command
from dms_tui.environment import Environment, OpenedEnvironment
from dms_tui.journey import Journey, Step
from dms_tui.processes import process_alive
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.lifecycle import Sandbox
from dms_tui.steps.cleanup import plan_cleanup
from dms_tui.widgets.command_hint import CommandHint
from tests.checks.moto_environment import paper_side

REGION = "us-east-1"
MAPPINGS = '{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"}]}'  # noqa: E501


def test_the_plan_lists_what_goes_and_a_rough_cost_on_aws() -> None:
    journey = Journey("dev", "aws")
    journey.update_task(identifier="demo", arn="arn:aws:dms:us-east-1:123456789012:task:DEMO")
    plan = plan_cleanup(Environment(mode="aws", region=REGION), journey)  # no outputs: nothing to list
    assert [item.key for item in plan.items] == ["task", "terraform"]
    assert "delete-replication-task" in plan.items[0].command and "--region us-east-1" in plan.items[0].command
    assert plan.rough_hourly_usd > 0.5  # two db.r6g.large writers alone are about 0.52 USD/h
    assert "destroy" in plan.items[1].command
    assert plan.command == "dms-tui cleanup --yes"


def test_cleanup_without_confirmation_and_without_a_terminal_removes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cleanup", "--sandbox"]) == 2
    assert "--yes" in capsys.readouterr().err


# -- an AWS account (moto) with a DMS task the journey never recorded ----------------------------------------------


@dataclass
class DmsWorld:
    environment: Environment
    task_arn: str

    def tasks(self) -> list[str]:
        dms = boto3.client("dms", region_name=REGION)
        return [t["ReplicationTaskArn"] for t in dms.describe_replication_tasks()["ReplicationTasks"]]


@pytest.fixture
def dms_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[DmsWorld]:
    """A provisioned AWS environment (moto) whose replication instance runs a task made outside the wizard."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        dms = boto3.client("dms", region_name=REGION)
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier="dms-demo", ReplicationInstanceClass="dms.t3.medium"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        endpoints = {
            side: dms.create_endpoint(
                EndpointIdentifier=side, EndpointType=side, EngineName="postgres", ServerName="h", Port=5432
            )["Endpoint"]["EndpointArn"]
            for side in ("source", "target")
        }
        task = dms.create_replication_task(
            ReplicationTaskIdentifier="made-by-hand",
            SourceEndpointArn=endpoints["source"],
            TargetEndpointArn=endpoints["target"],
            ReplicationInstanceArn=instance,
            MigrationType="full-load",
            TableMappings=MAPPINGS,
        )["ReplicationTask"]["ReplicationTaskArn"]
        outputs = EnvironmentOutputs(
            source=paper_side("source", endpoints["source"]),
            target=paper_side("target", endpoints["target"]),
            dms_vpc_id="vpc-dms",
            dms_vpc_cidr="10.0.0.0/16",
            dms_replication_instance_arn=instance,
            dms_access_role_arn="arn:aws:iam::123456789012:role/dms",
            bastion_instance_id="i-1",
            region=REGION,
        )
        environment = Environment(mode="aws", region=REGION, outputs=outputs)
        monkeypatch.setattr(
            cleanup_command, "open_environment", lambda request, **_: OpenedEnvironment(environment, "moto")
        )
        Journey("dev", "aws").complete(Step.PROVISION, outputs=outputs.to_json())
        yield DmsWorld(environment, task)


def _cleanup_headless(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, bool, str]]:
    assert main(["cleanup", "--yes", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    return [(step["key"], step["ok"], step["message"]) for step in document["steps"]]


async def _cleanup_on_the_screen(world: DmsWorld) -> list[tuple[str, bool, str]]:
    from textual.widgets import Button, Static

    from dms_tui.app import ConfirmScreen, DmsTuiApp
    from dms_tui.screens.cleanup import CleanupScreen
    from tests.ui.conftest import instant_services

    app = DmsTuiApp(Journey.resume_or_start("dev", "aws"), services=instant_services(world.environment))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.goto(Step.CLEANUP)
        await pilot.pause()
        await app.workers.wait_for_complete()  # the plan lists the tasks
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CleanupScreen) and screen.plan is not None
        assert "made-by-hand" in screen.plan.items[0].what
        assert screen.query_one(CommandHint).command.startswith("aws dms delete-replication-task")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = str(screen.query_one("#cleanup-log", Static).render())
        assert "Everything is removed" in log and not app.running_jobs
        assert screen.query_one("#remove", Button).disabled
    results = []
    for line in log.splitlines():
        if line.startswith(("✓ ", "✗ ")):
            key, message = line[2:].split(": ", 1)
            results.append((key, line.startswith("✓"), message))
    return results


@pytest.mark.parametrize("face", ["headless", "screen"])
async def test_cleanup_lists_and_deletes_the_dms_task_then_starts_the_journey_over(
    dms_world: DmsWorld, capsys: pytest.CaptureFixture[str], face: str
) -> None:
    assert dms_world.tasks() == [dms_world.task_arn]
    results = _cleanup_headless(capsys) if face == "headless" else await _cleanup_on_the_screen(dms_world)
    # The same outcome from either face: the task (found by listing the replication instance) goes first.
    assert [(key, ok) for key, ok, _ in results] == [("task", True), ("terraform", True)]
    assert "made-by-hand deleted" in results[0][2] and "nothing to destroy" in results[1][2]
    assert dms_world.tasks() == []
    state = Journey.resume_or_start("dev", "aws").state
    assert state.outputs is None and state.done == ()


# -- the real sandbox ---------------------------------------------------------------------------------------------


def test_sandbox_cleanup_deletes_the_task_and_leaves_no_process_and_no_file(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox(region=REGION, env="dev", provision="api")
    info = sandbox.up_provisioned()
    assert info.outputs is not None
    try:
        journey = Journey("dev", "sandbox")
        journey.complete(Step.CONFIGURE, outputs=info.outputs.to_json())
        pids = [info.daemon_pid] + [p.pid for p in sandbox.status().pieces if p.pid]
        assert pids and all(process_alive(pid) for pid in pids)
        dms = boto3.client(
            "dms",
            region_name=REGION,
            endpoint_url=info.aws_endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        dms.create_replication_task(
            ReplicationTaskIdentifier="made-by-hand",
            SourceEndpointArn=info.outputs.source.dms_endpoint_arn,
            TargetEndpointArn=info.outputs.target.dms_endpoint_arn,
            ReplicationInstanceArn=info.outputs.dms_replication_instance_arn,
            MigrationType="full-load",
            TableMappings=MAPPINGS,
        )

        assert main(["cleanup", "--sandbox", "--yes"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "made-by-hand deleted" in out and "✗" not in out
        assert "local: environment dev:" in out and "23 AWS object(s) deleted" in out and "daemon stopped too" in out
        alive = [(pid, open(f"/proc/{pid}/cmdline").read()) for pid in pids if process_alive(pid)]
        assert alive == []
        assert not sandbox.workdir.exists() or not any(sandbox.workdir.iterdir())
        assert Journey.resume_or_start("dev", "sandbox").state.outputs is None
    finally:
        sandbox.down(keep_data=False)
