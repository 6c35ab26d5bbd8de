"""Review checks the account on arrival: one line per finding (most severe first), Enter opens one in full, the
command hint shows the highlighted finding's `aws` command, and `a` checks again. Against a moto server, in the
sandbox's mode (what moto cannot prove is a warning; what it lacks is skipped)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer
from textual.widgets import OptionList, Static

from dms_tui.app import DmsTuiApp
from dms_tui.environment import Environment
from dms_tui.journey import Journey
from dms_tui.screens.finding import FindingScreen
from dms_tui.screens.review import ReviewScreen
from dms_tui.steps.preflight import CHECKS
from dms_tui.widgets.command_hint import CommandHint
from tests.ui.conftest import instant_services


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def two_more_vpcs(moto_url: str) -> Iterator[None]:
    ec2 = Environment(mode="sandbox", region="us-east-1", aws_endpoint_url=moto_url).client("ec2")
    vpcs = [ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"] for n in range(2)]
    yield
    for vpc in vpcs:
        ec2.delete_vpc(VpcId=vpc)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_review_lists_the_preflight_findings_and_opens_one(
    moto_url: str, two_more_vpcs: None, size: tuple[int, int]
) -> None:
    target = Environment(mode="sandbox", region="us-east-1", env="dev", aws_endpoint_url=moto_url)
    app = DmsTuiApp(
        Journey.resume_or_start("dev", "sandbox"), services=instant_services(target, options={"review_preflight": True})
    )
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        app.push_screen(ReviewScreen(app.journey))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        findings = screen.query_one("#preflight-findings", OptionList)
        assert findings.option_count == len(CHECKS)
        # Two more VPCs than moto's default account holds: over AWS's default quota, a warning (moto never
        # enforces it), listed first.
        first = str(findings.get_option_at_index(0).prompt)
        assert first == "! VPCs: 6 needed, quota 5", first
        assert str(screen.query_one("#preflight-summary", Static).render()) == "nothing blocks the apply (1 to look at)"

        findings.focus()
        await pilot.pause()
        assert "aws ec2 describe-vpcs" in screen.query_one(CommandHint).command
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        assert app.screen.finding.key == "vpc-quota"
        shown = str(app.screen.query_one("#finding-text", Static).render())
        assert "VpcLimitExceeded" in shown and "never enforces" in shown and "→ Delete 1 unused VPC" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen

        await pilot.press("a")  # check again: the same findings, listed afresh
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert findings.option_count == len(CHECKS)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_review_with_the_account_preflight(
    snap_compare, moto_url: str, monkeypatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    """Review at 80x24 once the preflight has answered in the sandbox: nothing to look at, the notes first."""
    import shutil

    from tests.ui.test_snapshots import SNAPSHOT_HOME, freeze

    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))  # the paths the screen prints, the same on every run
    target = Environment(mode="sandbox", region="us-east-1", env="dev", aws_endpoint_url=moto_url)
    app = DmsTuiApp(
        Journey.resume_or_start("dev", "sandbox"), services=instant_services(target, options={"review_preflight": True})
    )

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await freeze(pilot)
        pilot.app.push_screen(ReviewScreen(pilot.app.journey))
        await pilot.pause()
        await freeze(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
