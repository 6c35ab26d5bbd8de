"""Story: on a laptop, the Welcome screen of a provisioned AWS environment offers "Tunnel via bastion"; pressing it
opens the environment again as `dms-tui --tunnel` does, and every later screen reaches the databases through the
tunnels. The AWS objects are moto's, the aws CLI and the Session Manager plugin the stand-ins of ssm_standin.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Button, Static

from dms_tui.app import DmsTuiApp
from dms_tui.environment import EnvironmentProgress, EnvironmentRequest, OpenedEnvironment, open_environment
from dms_tui.journey import Journey
from dms_tui.processes import process_alive
from dms_tui.steps.services import StepServices
from tests.checks.moto_environment import REGION, MotoWorld
from tests.tunnels.ssm_standin import SsmStandIn, postgres_answers, write_terraform_outputs


async def test_the_welcome_choice_opens_the_tunnels(routed: MotoWorld, ssm_standin: SsmStandIn, tmp_path: Path) -> None:
    outputs_file = write_terraform_outputs(routed, tmp_path / "outputs.json")
    asked: list[EnvironmentRequest] = []

    def opener(request: EnvironmentRequest, on_progress: Callable[[EnvironmentProgress], None]) -> OpenedEnvironment:
        asked.append(request)
        return open_environment(request, on_progress=on_progress, outputs_file=outputs_file)

    app = DmsTuiApp(
        Journey.resume_or_start("dev", "aws"),
        EnvironmentRequest(region=REGION),
        services=StepServices(open_environment=opener),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tunnel = app.screen.query_one("#tunnel", Button)
        assert tunnel.display and app.environment is not None and app.environment.tunnels is None
        await pilot.click("#tunnel")
        await app.workers.wait_for_complete()
        await pilot.pause()
        environment = app.environment
        assert [r.tunnel for r in asked] == [False, True]
        assert environment is not None and environment.tunnels is not None
        assert not tunnel.display and not app.screen.query_one("#start", Button).disabled
        assert "Session Manager tunnels" in str(app.screen.query_one("#welcome-mode", Static).render())
        source = routed.outputs.source.endpoint_dns_name
        assert postgres_answers(environment.resolve(source, 5432)) == b"S"
        assert ssm_standin.accepted(source) == 1
    environment.close()
    assert not any(process_alive(pid) for pid in ssm_standin.aws_pids() + ssm_standin.plugin_pids())
