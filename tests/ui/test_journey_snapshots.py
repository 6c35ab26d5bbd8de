"""SVG snapshots of the Provision (a finished apply, replayed from a recorded stream) and Cleanup screens at 80x24 and 160x48."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dms_tui.app import DmsTuiApp
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from dms_tui.provision.detached import RunRecord
from dms_tui.provision.outputs import OUTPUT_NAMES
from tests.ui.conftest import instant_services
from tests.ui.test_snapshots import SIZES, SNAPSHOT_HOME, freeze

STREAMS = Path(__file__).resolve().parent.parent / "provision" / "streams"
FAKE = Path(__file__).resolve().parent.parent / "provision" / "fake_terraform.py"


@pytest.fixture
def fixed_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return recorded_terraform_home(monkeypatch, tmp_path)


def recorded_terraform_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The fixed state directory, with a fake terraform that replays recorded streams (and their outputs)."""
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    streams = tmp_path / "streams"
    shutil.copytree(STREAMS, streams)
    outputs = {name: {"sensitive": False, "type": "string", "value": f"{name}-value"} for name in OUTPUT_NAMES}
    outputs["source_port"]["value"] = outputs["target_port"]["value"] = 5432
    outputs["source_endpoint_dns_name"]["value"] = "vpce-0source.vpce-svc-0a.us-east-1.vpce.amazonaws.com"
    outputs["target_endpoint_dns_name"]["value"] = "vpce-0target.vpce-svc-0b.us-east-1.vpce.amazonaws.com"
    outputs["source_secret_arn"]["value"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-source"
    outputs["target_secret_arn"]["value"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-target"
    (streams / "output.json").write_text(json.dumps(outputs))
    monkeypatch.setenv("DMS_TUI_TERRAFORM", str(FAKE))
    monkeypatch.setenv("FAKE_TERRAFORM_STREAMS", str(streams))
    return SNAPSHOT_HOME


def _finished_run(journey: Journey) -> RunRecord:
    """A run that ended while nobody watched: its log is a recorded real apply stream."""
    runs = SNAPSHOT_HOME / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    log = runs / "apply.log"
    shutil.copy(STREAMS / "apply.jsonl", log)
    exit_file = runs / "apply.exit"
    exit_file.write_text(json.dumps({"returncode": 0}))
    cwd = journey.workdir / "provisioning"
    return RunRecord("dev", "apply", ("terraform", "apply", "tfplan"), str(cwd), str(log), str(exit_file), 999999, 0.0)


def _app(mode: str) -> DmsTuiApp:
    journey = Journey.resume_or_start("dev", mode)
    return DmsTuiApp(journey, services=instant_services(Environment(mode="aws", region="us-east-1")))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_provision(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        from dms_tui.screens.provision import ProvisionScreen

        await freeze(pilot)
        app: DmsTuiApp = pilot.app  # type: ignore[assignment]
        app.push_screen(ProvisionScreen(app.journey, attach=_finished_run(app.journey)))
        await pilot.pause()
        await freeze(pilot)
        await pilot.pause(0.5)

    assert snap_compare(_app("aws"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cleanup(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await freeze(pilot)
        app: DmsTuiApp = pilot.app  # type: ignore[assignment]
        app.journey.update_task(arn="arn:aws:dms:us-east-1:123456789012:task:DEMO")
        app.goto(Step.CLEANUP)
        await pilot.pause()
        await app.workers.wait_for_complete()  # the plan (nothing to list: no outputs)
        await pilot.pause()
        await freeze(pilot)

    assert snap_compare(_app("aws"), terminal_size=size, run_before=run_before)
