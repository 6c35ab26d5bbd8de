"""Story: one provision step, two faces. `dms-tui provision apply --yes` and the wizard's Provision screen run the same
step on the same recorded terraform stream and show the same outcome; a saved plan that went stale (someone changed
the state after the review) is planned again and that fresh plan applied once, never the stale one re-applied.

terraform here is tests/provision/fake_terraform.py replaying recorded real `-json` streams, except the last test,
which gets terraform itself to call a plan stale.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Static

from dms_tui.app import DmsTuiApp
from dms_tui.cli import main
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step, load_checkpoint
from dms_tui.provision.workspace import TerraformNotFound, find_terraform
from dms_tui.screens.provision import ProvisionScreen
from dms_tui.screens.review import ReviewScreen
from dms_tui.steps import provision as step
from tests.ui.conftest import instant_services

AWS = Environment(mode="aws", region="us-east-1")


@pytest.fixture
def fake_bundle(fake_terraform, aws_identity, bundle_streams, monkeypatch: pytest.MonkeyPatch):
    """The fake terraform runs in the environment's working copy of the bundle (no --workdir)."""
    monkeypatch.setenv("DMS_TUI_TERRAFORM", str(fake_terraform.path))
    for key, value in fake_terraform.env().items():
        monkeypatch.setenv(key, value)
    return fake_terraform


def _outcome(planned: int, done: int, failed: int, resources: dict[str, str], outputs: Any) -> dict[str, Any]:
    return {"planned": planned, "done": done, "failed": failed, "resources": resources, "outputs": outputs}


async def _until(pilot, what: str, condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


@pytest.mark.parametrize(
    ("stream", "exit_code"), [("apply.jsonl", 0), ("apply_errored.jsonl", 1)], ids=["succeeds", "a-resource-fails"]
)
async def test_the_command_and_the_screen_show_the_same_outcome_of_the_same_stream(
    stream: str, exit_code: int, fake_bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("FAKE_TERRAFORM_APPLY", stream)

    # headless: init, plan, confirm (--yes), the detached apply, the outputs
    monkeypatch.setenv("DMS_TUI_HOME", str(tmp_path / "headless"))
    code = await asyncio.to_thread(main, ["provision", "apply", "--yes", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == exit_code
    headless = _outcome(
        document["planned"],
        document["done"],
        document["failed"],
        {r["address"]: r["state"] for r in document["resources"]},
        document["outputs"],
    )
    headless_state = load_checkpoint("dev", "aws")

    # the wizard: no reviewed plan saved, so the screen's apply plans first, then applies the same way
    monkeypatch.setenv("DMS_TUI_HOME", str(tmp_path / "wizard"))
    journey = Journey.resume_or_start("dev", "aws")
    journey.complete(Step.CONFIGURE)
    app = DmsTuiApp(journey, services=instant_services(AWS))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.goto(Step.PROVISION)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        await _until(pilot, "the apply", lambda: screen.job is not None and (screen.job.done or screen.job.failure))
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        job = screen.job
        assert job is not None
        p = screen.progress
        wizard = _outcome(p.planned, p.done, p.failed, {a: r.state for a, r in p.resources.items()}, job.public_outputs)
        counts = str(screen.query_one("#provision-counts", Static).render())
        table = screen.query_one("#provision-table", DataTable)
        shown = {str(key.value): str(table.get_cell(key, "state")) for key in table.rows}
        result = str(screen.query_one("#provision-result", Static).render())
        next_enabled = not screen.query_one("#next", Button).disabled

    assert wizard == headless
    assert f"{p.done}/{p.planned} resources" in counts
    assert set(shown) == set(headless["resources"])
    if exit_code == 0:
        assert headless["failed"] == 0 and headless["outputs"]["source_secret_arn"] == "value-of-source_secret_arn"
        assert "Apply complete" in result and next_enabled
        assert headless_state is not None and journey.state.outputs == headless_state.outputs is not None
    else:
        assert headless["failed"] == 1 and headless["resources"]["module.network.aws_subnet.private[2]"] == "failed"
        assert f"{p.failed} failed" in counts
        assert shown["module.network.aws_subnet.private[2]"].startswith("failed")
        assert "terraform apply failed" in result and "InvalidSubnet.Range" in result and not next_enabled
        assert headless["outputs"] is None and journey.state.outputs is None
        # both faces leave the journey before Review, saying why: the next start plans again, never re-applies
        for state in (headless_state, journey.state):
            assert state is not None and state.current is Step.CONFIGURE and Step.PROVISION not in state.done
            assert state.setback is not None and state.setback.step is Step.PROVISION
            assert "terraform apply failed" in state.setback.headline and "InvalidSubnet.Range" in state.setback.cause


def _commands(fake_terraform) -> list[str]:
    return [json.loads(line)[0] for line in fake_terraform.invocations() if json.loads(line)[0] in ("plan", "apply")]


async def test_a_stale_reviewed_plan_is_planned_again_and_the_fresh_plan_applied_once(fake_bundle) -> None:
    journey = Journey.resume_or_start("dev", "aws")
    app = DmsTuiApp(journey, services=instant_services(AWS))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.push_screen(ReviewScreen(journey))
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("p")
        await _until(pilot, "the review", lambda: review.review is not None)
        assert _commands(fake_bundle) == ["plan"]

        # after the review, someone applies by hand in the working copy: the state moves on
        root = journey.workdir / "provisioning"
        subprocess.run([str(fake_bundle.path), "apply", "-auto-approve"], cwd=root, check=True, capture_output=True)

        await pilot.click("#apply")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        await _until(pilot, "the apply", lambda: screen.job is not None and (screen.job.done or screen.job.failure))
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        job = screen.job
        assert job is not None and job.ok, str(screen.query_one("#provision-result", Static).render())
        assert "Apply complete" in str(screen.query_one("#provision-result", Static).render())
        assert journey.state.outputs is not None
    # the reviewed plan, the hand apply, the refused stale apply, the fresh plan, and that plan applied: once
    assert _commands(fake_bundle) == ["plan", "apply", "apply", "plan", "apply"]
    stale_apply, fresh_plan, fresh_apply = job.commands
    assert (stale_apply.exit_code, fresh_plan.exit_code, fresh_apply.exit_code) == (1, 0, 0)
    assert step.STALE_PLAN_SUMMARY in Path(stale_apply.log).read_text()


async def test_a_plan_that_is_still_stale_after_one_replan_fails_instead_of_looping(fake_bundle, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TERRAFORM_APPLY", "apply_stale.jsonl")  # every apply is refused as stale
    journey = Journey("dev", "aws")
    job = step.apply(AWS, journey)
    events = [event async for event in job]
    assert sum(isinstance(e, step.PlanStale) for e in events) == 1
    assert isinstance(events[-1], step.RunFailed)
    assert events[-1].errors[0].summary == step.STALE_PLAN_SUMMARY
    assert _commands(fake_bundle) == ["plan", "apply", "plan", "apply"]
    assert journey.state.outputs is None


STALE_MODULE = """
variable "v" {
  type    = string
  default = "a"
}

resource "terraform_data" "x" {
  input = var.v
}

output "v" {
  value = terraform_data.x.output
}
"""


@pytest.mark.terraform
async def test_real_terraform_calls_the_saved_plan_stale_and_the_step_replans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        terraform = find_terraform()
    except TerraformNotFound as exc:
        pytest.skip(f"terraform unavailable: {exc}")
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    (tmp_path / "terraform.rc").write_text("")  # no CLI-configuration warning in `terraform output -json`
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "terraform.rc"))
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(STALE_MODULE)  # terraform_data: built in, no provider to install
    journey = Journey("dev", "aws")
    planned = step.plan(AWS, journey, root_module=module)
    async for _ in planned:
        pass
    assert planned.review is not None and planned.review.add == 1, planned.failure

    # another run changes the state after the plan was made
    subprocess.run(
        [str(terraform.path), "apply", "-auto-approve", "-input=false", "-var", "v=b"],
        cwd=module,
        check=True,
        capture_output=True,
        env={**os.environ, "TF_IN_AUTOMATION": "1"},
    )
    job = step.apply(AWS, journey, site=planned.site, plan_if_missing=False)
    events = [event async for event in job]
    assert any(isinstance(e, step.PlanStale) for e in events)
    assert job.ok and job.public_outputs == {"v": "a"}, job.failure
    assert [c.exit_code for c in job.commands] == [1, 0, 0]  # stale apply, fresh plan, fresh apply
    assert job.outputs is None, "not the bundle: its outputs are reported, not recorded"
    shutil.rmtree(module / ".terraform", ignore_errors=True)
