"""Story: the person applies the reviewed plan and watches it; cancelling stops terraform gracefully (SIGINT).

terraform here is tests/provision/fake_terraform.py replaying a recorded real `-json` stream.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Static

from dms_tui.app import ConfirmScreen, DmsTuiApp
from dms_tui.journey import Step
from dms_tui.provision.outputs import OUTPUT_NAMES
from dms_tui.screens.provision import ProvisionScreen

HERE = Path(__file__).resolve().parent.parent / "provision"
FAKE = HERE / "fake_terraform.py"


def _apply_stream_counts() -> tuple[int, int]:
    lines = [json.loads(line) for line in (HERE / "streams" / "apply.jsonl").read_text().splitlines() if line.strip()]
    planned = sum(1 for obj in lines if obj.get("type") == "planned_change")
    completed = sum(1 for obj in lines if obj.get("type") == "apply_complete")
    return planned, completed


@pytest.fixture
def fake_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    streams = tmp_path / "streams"
    shutil.copytree(HERE / "streams", streams)
    # outputs shaped like the bundle's (the recording came from a smaller configuration)
    outputs = {name: {"sensitive": False, "type": "string", "value": f"value-of-{name}"} for name in OUTPUT_NAMES}
    outputs["source_port"]["value"] = 5432
    outputs["target_port"]["value"] = 5432
    (streams / "output.json").write_text(json.dumps(outputs))
    monkeypatch.setenv("DMS_TUI_TERRAFORM", str(FAKE))
    monkeypatch.setenv("FAKE_TERRAFORM_STREAMS", str(streams))
    monkeypatch.setenv("FAKE_TERRAFORM_PIDFILE", str(tmp_path / "fake.pid"))
    return streams


async def _open_provision(app: DmsTuiApp, pilot) -> ProvisionScreen:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    app.journey.complete(Step.CONFIGURE)
    plan = app.journey.workdir / "provisioning" / "tfplan"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text("reviewed plan")
    app.goto(Step.PROVISION)
    await pilot.pause()
    assert isinstance(app.screen, ProvisionScreen)
    return app.screen


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_apply_shows_the_right_counts_states_and_outputs(
    make_app: Callable[..., DmsTuiApp], fake_streams: Path, size: tuple[int, int]
) -> None:
    planned, completed = _apply_stream_counts()
    app = make_app(mode="aws")  # the fake terraform stands in for AWS; the sandbox path has its own test
    async with app.run_test(size=size) as pilot:
        screen = await _open_provision(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        counts = str(screen.query_one("#provision-counts", Static).render())
        assert f"{completed}/{planned} resources" in counts
        table = screen.query_one("#provision-table", DataTable)
        assert table.row_count == planned
        states = [str(table.get_cell(key, "state")) for key in table.rows]
        assert all(s.startswith("created") for s in states), states
        result = str(screen.query_one("#provision-result", Static).render())
        assert "Apply complete" in result and "value-of-source_secret_arn" in result
        assert not screen.query_one("#next", Button).disabled
        assert app.journey.state.outputs is not None
        assert app.journey.state.outputs["source"]["secret_arn"] == "value-of-source_secret_arn"


async def test_cancel_asks_then_sends_sigint_and_terraform_is_gone(
    make_app: Callable[..., DmsTuiApp], fake_streams: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TERRAFORM_DELAY", "0.5")  # slow enough to cancel mid-stream
    app = make_app(mode="aws")  # the fake terraform stands in for AWS; the sandbox path has its own test
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_provision(app, pilot)
        pidfile = tmp_path / "fake.pid"
        deadline = time.monotonic() + 20
        while not (pidfile.exists() and screen.process is not None and screen.process.running):
            assert time.monotonic() < deadline, "terraform never started"
            await pilot.pause(0.1)
        pid = int(pidfile.read_text())
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert screen.progress.finished is not None and screen.progress.finished.interrupted
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        result = str(screen.query_one("#provision-result", Static).render())
        assert "cancelled" in result
        assert screen.query_one("#next", Button).disabled
