"""Story: a newcomer runs the whole journey on the sandbox with nothing but Enter on the defaults.

Real everything: the sandbox (moto daemon, two PostgreSQL clusters, forwarders, DMS engine), terraform against the
sandbox when it is installed (else the sandbox's boto3 path, which the Provision screen explains), the checks, the
seed data, the DMS task, the diff — and cleanup leaves no process, no file and no moto object behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from dms_tui.app import DmsTuiApp, build_app
from dms_tui.environment import EnvironmentRequest
from dms_tui.journey import Step
from dms_tui.processes import process_alive
from dms_tui.sandbox.lifecycle import Sandbox

pytestmark = pytest.mark.slow


def _visible_text(screen: Screen[object]) -> str:
    from textual.widgets import Static

    return " | ".join(str(w.render())[:200] for w in screen.query(Static) if w.display)[:3000]


async def _until(pilot: Pilot[int], what: str, condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; screen: {_visible_text(pilot.app.screen)}")
        await pilot.pause(0.25)


async def _on(pilot: Pilot[int], name: str, timeout: float = 60) -> Screen[object]:
    await _until(pilot, f"the {name} screen", lambda: type(pilot.app.screen).__name__ == name, timeout)
    return pilot.app.screen


@pytest.fixture
def sandbox_teardown(dms_home: Path):  # type: ignore[no-untyped-def]
    """Whatever happens in the journey, nothing of the sandbox outlives the test."""
    yield
    Sandbox(region="us-east-1", env="dev").down(keep_data=False)


async def test_the_whole_journey_on_the_sandbox_with_enter_only(dms_home: Path, sandbox_teardown: None) -> None:
    app: DmsTuiApp = build_app(EnvironmentRequest(sandbox=True, env="dev"))
    async with app.run_test(size=(100, 32)) as pilot:
        await _until(pilot, "the sandbox to come up", lambda: app.environment is not None, 180)
        await pilot.pause(0.5)
        await pilot.press("enter")  # Welcome: Continue
        await _on(pilot, "NetworkScreen")
        await pilot.press("enter")  # defaults: three overlapping 10.0.0.0/16 VPCs
        await _on(pilot, "DatabasesScreen")
        await pilot.press("enter")
        review = await _on(pilot, "ReviewScreen")
        await pilot.press("enter")  # Plan
        await _until(
            pilot, "the plan", lambda: getattr(review, "review", None) is not None or "✗" in _visible_text(review), 300
        )
        assert review.review is not None and not review.review.errors, _visible_text(review)
        await pilot.pause(0.3)
        await pilot.press("enter")  # Apply
        provision = await _on(pilot, "ProvisionScreen")
        await _until(pilot, "the apply", lambda: provision.outputs is not None or "✗" in _visible_text(provision), 600)
        assert provision.outputs is not None, _visible_text(provision)
        await pilot.pause(0.3)
        await pilot.press("enter")  # Next: verify
        verify = await _on(pilot, "VerifyScreen")
        await _until(pilot, "the checks", lambda: verify.report is not None and not verify.running, 180)
        assert verify.report is not None and verify.report.passed, _visible_text(verify)
        await pilot.pause(0.3)
        await pilot.press("enter")  # Next: prepare
        prepare = await _on(pilot, "PrepareScreen")
        await _until(pilot, "the prepare button", lambda: app.focused is not None and app.focused.id == "prepare", 120)
        await pilot.press("enter")  # Prepare the seed's four rows
        await _until(pilot, "the seed data", lambda: app.focused is not None and app.focused.id == "next", 120)
        assert "prepare" not in app.running_jobs
        await pilot.press("enter")  # Next: migrate
        migrate = await _on(pilot, "MigrateScreen")
        await _until(
            pilot,
            "the task form",
            lambda: app.focused is not None and app.focused.id == "create-task" and not app.focused.disabled,
            120,
        )
        await pilot.press("enter")  # Create and start
        await _until(pilot, "the full load", lambda: app.focused is not None and app.focused.id == "next", 300)
        await pilot.press("enter")  # Next: diff
        diff = await _on(pilot, "DiffScreen")
        await _until(pilot, "the diff", lambda: app.journey.state.diff is not None, 180)
        assert app.journey.state.diff.identical is True, _visible_text(diff)
        assert "Identical" in _visible_text(diff)
        assert app.journey.state.done[:5] == (Step.CONFIGURE, Step.PROVISION, Step.VERIFY, Step.PREPARE, Step.MIGRATE)
        del migrate, prepare

        sandbox = Sandbox(region="us-east-1", env="dev")
        pids = [p.pid for p in sandbox.status().pieces if p.pid]
        assert pids and all(process_alive(pid) for pid in pids)
        await pilot.press("f5")  # Diff → Cutover: a full-load task has nothing to cut over
        await _on(pilot, "CutoverScreen")
        await pilot.press("f5", "y")  # → Cleanup, once asked
        cleanup = await _on(pilot, "CleanupScreen")
        await _until(pilot, "the cleanup plan", lambda: getattr(cleanup, "plan", None) is not None, 120)
        await pilot.press("d")
        await pilot.pause(0.3)
        await pilot.press("y")
        await _until(
            pilot,
            "the cleanup",
            # The Start over button appears when everything is removed (the log's last line can be past what
            # _visible_text keeps of a widget); a failure shows ✗ in the resource table.
            lambda: cleanup.query_one("#start-over").display or "✗ failed" in _visible_text(cleanup),
            600,
        )
        assert cleanup.query_one("#start-over").display, _visible_text(cleanup)
        assert any("Everything is removed" in str(line) for line in cleanup.log_lines), cleanup.log_lines
        # Cleaned up, the journey starts over (the configuration is kept): a second walk never dead-ends.
        assert app.journey.state.done == () and app.journey.state.current is Step.CONFIGURE
    assert not any(process_alive(pid) for pid in pids), "cleanup left a sandbox process running"
    assert not sandbox.workdir.exists() or not any(sandbox.workdir.iterdir()), "cleanup left sandbox files"
