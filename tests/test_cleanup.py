"""Story: after a demo, the person cleans up; nothing of the sandbox is left running or on disk."""

from __future__ import annotations

import pytest

from dms_tui.cleanup import plan_cleanup
from dms_tui.cli import main
from dms_tui.journey import Journey, Step
from dms_tui.processes import process_alive
from dms_tui.sandbox.lifecycle import Sandbox


def test_the_plan_lists_what_goes_and_a_rough_cost_on_aws() -> None:
    journey = Journey("dev", "aws")
    journey.update_task(arn="arn:aws:dms:us-east-1:123456789012:task:DEMO")
    plan = plan_cleanup(journey)
    assert [item.key for item in plan.items] == ["task", "terraform"]
    assert "delete-replication-task" in plan.items[0].command
    assert plan.rough_hourly_usd > 0.5  # two db.r6g.large writers alone are about 0.52 USD/h
    assert "destroy" in plan.items[1].command


def test_cleanup_without_confirmation_and_without_a_terminal_removes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cleanup", "--sandbox"]) == 2
    assert "--yes" in capsys.readouterr().err


def test_sandbox_cleanup_leaves_no_process_and_no_file(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox(region="us-east-1", env="dev")
    info = sandbox.up()
    journey = Journey("dev", "sandbox")
    journey.complete(Step.CONFIGURE, outputs=info.outputs.to_json())
    pids = [info.daemon_pid] + [p.pid for p in sandbox.status().pieces if p.pid]
    assert pids and all(process_alive(pid) for pid in pids)

    assert main(["cleanup", "--sandbox", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "sandbox" in out and "✗" not in out
    assert not any(process_alive(pid) for pid in pids)
    assert not sandbox.workdir.exists() or not any(sandbox.workdir.iterdir())
    assert Journey.resume_or_start("dev", "sandbox").state.outputs is None
