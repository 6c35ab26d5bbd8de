"""The runner with the real terraform and AWS provider (offline mirror) against a moto server on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms_tui.provision.events import CommandFinished, Diagnostic, PlannedChange, Version
from dms_tui.provision.progress import reduce_events
from dms_tui.provision.runner import TerraformRunner, run_sync
from dms_tui.provision.workspace import TerraformNotFound, cli_config, find_terraform, plugin_mirror

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

CONFIG = Path(__file__).resolve().parent / "streams" / "config"


@pytest.fixture
def recording_config(tmp_path: Path) -> Iterator[tuple[TerraformRunner, str]]:
    try:
        terraform = find_terraform()
    except TerraformNotFound as exc:
        pytest.skip(f"terraform is not usable here: {exc}")
    mirror = plugin_mirror()
    if mirror is None:
        pytest.skip(
            "no provider mirror (/opt/tf-plugins or $DMS_TUI_TF_PLUGIN_DIR): terraform init would need the registry"
        )
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    workdir = tmp_path / "config"
    shutil.copytree(CONFIG, workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "tfplan*"))
    (tmp_path / "terraform.rc").write_text(cli_config(mirror))
    runner = TerraformRunner(
        workdir, terraform=str(terraform.path), env={"TF_CLI_CONFIG_FILE": str(tmp_path / "terraform.rc")}
    )
    yield runner, f"http://{host}:{port}"
    server.stop()


def test_real_init_and_plan_against_moto_stream_the_planned_resources(recording_config) -> None:
    runner, endpoint = recording_config
    init_events: list = []
    assert run_sync(runner.init(), init_events.append) == 0, [
        e.message for e in init_events if isinstance(e, Diagnostic)
    ]
    assert any(isinstance(e, Version) for e in init_events)

    plan_events: list = []
    plan = runner.command("plan", "-json", "-input=false", "-out=tfplan", f"-var=endpoint={endpoint}")
    assert run_sync(plan, plan_events.append) == 0
    progress = reduce_events(plan_events)
    planned = {e.address for e in plan_events if isinstance(e, PlannedChange)}
    assert progress.plan_summary is not None and progress.plan_summary.add == len(planned) == progress.planned == 6
    assert "module.network.aws_vpc.this" in planned
    assert isinstance(plan_events[-1], CommandFinished) and Path(plan_events[-1].log_path).stat().st_size > 0
    assert (runner.workdir / "tfplan").exists()
