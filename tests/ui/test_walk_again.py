"""Story: the journey walked the way people really walk it never dead-ends (issue 12).

- a failed apply says what failed and offers the ways back; Back to Review shows the failure; Escape and Welcome's
  Continue lead to Review (plan again), never to a re-apply of the saved plan;
- a plan that went stale is planned again and that fresh plan applied;
- after Cleanup, Start over walks it again from a fresh Welcome; Welcome's Start over forgets a finished journey;
- a resumed journey whose environment was emptied (the sandbox removed) falls back, saying why.

terraform here is tests/provision/fake_terraform.py replaying recorded real `-json` streams; AWS is moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from textual.pilot import Pilot
from textual.widgets import Button, Static

from dms_tui.app import ConfirmScreen, DmsTuiApp
from dms_tui.environment import Environment
from dms_tui.journey import STEPS, Journey, Step, TaskRecord
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.screens.provision import ProvisionScreen
from dms_tui.screens.review import ReviewScreen
from dms_tui.screens.welcome import WelcomeScreen
from tests.test_resume import _provisioned as provisioned
from tests.ui.conftest import instant_services
from tests.ui.test_provision_screen import fake_streams  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("fake_streams", "moto_account")


@pytest.fixture
def moto_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The account's APIs (IAM for the DMS roles the plan looks up, EC2 and DMS for the resume check): moto; after
    the sandbox was removed and started again, or on a fresh account, it is empty."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _text(app: DmsTuiApp) -> str:
    return " | ".join(str(w.render()) for w in app.screen.query(Static) if w.display)


def _argv_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("FAKE_TERRAFORM_ARGV_LOG", str(log))
    return log


def _commands(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [next(a for a in json.loads(line) if not a.startswith("-")) for line in log.read_text().splitlines()]


async def _until(pilot: Pilot[int], condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {_text(pilot.app)}"  # type: ignore[arg-type]
        await pilot.pause(0.1)


async def _review_and_plan(app: DmsTuiApp, pilot: Pilot[int]) -> ReviewScreen:
    await app.workers.wait_for_complete()
    app.journey.save_config(app.journey.config)
    app.goto_review()
    await pilot.pause()
    review = app.screen
    assert isinstance(review, ReviewScreen)
    await pilot.press("p")
    await _until(pilot, lambda: review.review is not None, "the plan")
    return review


async def test_a_failed_apply_offers_the_ways_back_and_review_shows_the_failure(
    make_app: Callable[..., DmsTuiApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TERRAFORM_APPLY", "apply_errored.jsonl")
    log = _argv_log(tmp_path, monkeypatch)
    app = make_app(mode="aws")
    async with app.run_test(size=(80, 24)) as pilot:
        await _review_and_plan(app, pilot)
        await pilot.press("f5")  # Apply
        await _until(pilot, lambda: isinstance(app.screen, ProvisionScreen), "the Provision screen")
        provision = app.screen
        assert isinstance(provision, ProvisionScreen)
        await _until(pilot, lambda: provision.failed is not None, "the failure")
        headline = provision.failed.headline
        assert "terraform apply failed" in headline and headline in _text(app)
        # What failed is named beside the counts, without opening the log.
        counts = str(provision.query_one("#provision-counts", Static).render())
        assert "1 failed: module.network.aws_subnet.private[2] — creating EC2 Subnet" in counts, counts
        for button in ("#back-review", "#edit-config", "#retry"):
            assert provision.query_one(button, Button).display, button
        assert not provision.query_one("#next", Button).display
        # The journey went back: the saved plan no longer holds.
        assert app.journey.state.current is Step.CONFIGURE and app.journey.state.setback is not None

        await pilot.click("#back-review")
        await _until(pilot, lambda: isinstance(app.screen, ReviewScreen), "Review")
        assert headline in _text(app) and "plan again" in _text(app)

        await pilot.press("escape")  # Review → Databases → Network → Welcome
        await pilot.press("escape")
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, WelcomeScreen), "Welcome")
        assert headline in _text(app)
        start = app.screen.query_one("#start", Button)
        assert "Review" in str(start.label) and app.screen.query_one("#start-over", Button).display
        applies = _commands(log).count("apply")
        await pilot.click("#start")
        await _until(pilot, lambda: isinstance(app.screen, ReviewScreen), "Review from Welcome's Continue")
        await pilot.pause(0.3)
        assert _commands(log).count("apply") == applies, "Continue re-ran the saved plan"

    restarted = make_app(mode="aws")  # a restart shows the same: the failure is in the checkpoint
    async with restarted.run_test(size=(80, 24)) as pilot:
        await restarted.workers.wait_for_complete()
        await pilot.pause()
        assert headline in _text(restarted) and "Review" in str(restarted.screen.query_one("#start", Button).label)


async def test_retry_after_a_failure_applies_again_and_goes_on(
    make_app: Callable[..., DmsTuiApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TERRAFORM_APPLY", "apply_errored.jsonl")
    app = make_app(mode="aws")
    async with app.run_test(size=(80, 24)) as pilot:
        await _review_and_plan(app, pilot)
        await pilot.press("f5")
        await _until(pilot, lambda: getattr(app.screen, "failed", None) is not None, "the failure")
        provision = app.screen
        assert isinstance(provision, ProvisionScreen)
        monkeypatch.delenv("FAKE_TERRAFORM_APPLY")  # whatever failed is fixed
        await pilot.press("r")
        await _until(pilot, lambda: provision.outputs is not None, "the retried apply")
        assert not provision.query_one("#retry", Button).display and provision.query_one("#next", Button).display
        await pilot.press("f5")
        await pilot.pause()
        state = app.journey.state
        assert state.done == (Step.CONFIGURE, Step.PROVISION) and state.setback is None


async def test_a_stale_plan_is_planned_again_and_the_fresh_plan_applied(
    make_app: Callable[..., DmsTuiApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _argv_log(tmp_path, monkeypatch)
    app = make_app(mode="aws")
    async with app.run_test(size=(80, 24)) as pilot:
        await _review_and_plan(app, pilot)
        # Someone changed the state after the review (an apply by hand): the saved plan is stale.
        (app.journey.workdir / "provisioning" / "fake-terraform.serial").write_text("7")
        await pilot.press("f5")
        await _until(pilot, lambda: isinstance(app.screen, ProvisionScreen), "the Provision screen")
        provision = app.screen
        assert isinstance(provision, ProvisionScreen)
        await _until(pilot, lambda: provision.outputs is not None or provision.failed is not None, "the apply")
        assert provision.failed is None, _text(app)
        assert "Apply complete" in _text(app)
    # reviewed plan, refused stale apply, fresh plan, that plan applied (init runs with each plan)
    assert [c for c in _commands(log) if c in ("plan", "apply")] == ["plan", "apply", "plan", "apply"]


def _finished_journey(environment: Environment) -> Journey:
    """A journey walked to the end (Diff done) whose environment exists (in moto)."""
    outputs, task = provisioned(environment)
    journey = Journey("dev", environment.mode)
    for step in STEPS[:-1]:
        journey.complete(step)
    journey.update(outputs=outputs.to_json(), task=TaskRecord("demo-task", '{"rules": []}', arn=task))
    return journey


async def test_start_over_after_cleanup_walks_it_again_from_a_fresh_welcome(
    make_app: Callable[..., DmsTuiApp],
) -> None:
    target = Environment(mode="aws", region="us-east-1")
    _finished_journey(target)
    opened: list[int] = []
    services = instant_services(target)
    inner = services.open_environment

    def counting(request: Any, progress: Any) -> Any:
        opened.append(1)
        return inner(request, progress)

    services.open_environment = counting
    app = DmsTuiApp(Journey.resume_or_start("dev", "aws"), services=services)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.journey.state.finished and app.screen.query_one("#start-over", Button).display
        assert "Cleanup" in str(app.screen.query_one("#start", Button).label)
        await pilot.click("#start")
        await _until(pilot, lambda: type(app.screen).__name__ == "CleanupScreen", "Cleanup")
        cleanup = app.screen
        await _until(pilot, lambda: getattr(cleanup, "plan", None) is not None, "the cleanup plan")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await _until(pilot, lambda: cleanup.query_one("#start-over", Button).display, "Start over")
        assert "Everything is removed" in _text(app)
        assert app.journey.state.done == ()  # the next start is a fresh journey
        await pilot.press("enter")  # Start over (focused)
        await _until(pilot, lambda: isinstance(app.screen, WelcomeScreen), "a fresh Welcome")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(opened) == 2, "the environment was not made ready again"
        assert "new environment" in _text(app)
        assert str(app.screen.query_one("#start", Button).label).startswith("Continue: Configure")
        assert not app.screen.query_one("#start-over", Button).display
        await pilot.press("enter")
        await _until(pilot, lambda: type(app.screen).__name__ == "NetworkScreen", "Configure")


async def test_start_over_on_welcome_says_what_still_runs_and_forgets_the_journey(
    make_app: Callable[..., DmsTuiApp],
) -> None:
    journey = _finished_journey(Environment(mode="aws", region="us-east-1"))
    app = make_app(mode="aws")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.click("#start-over")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "provisioned outputs" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert app.journey.state.done == () and app.journey.state.current is Step.CONFIGURE
        assert str(app.screen.query_one("#start", Button).label).startswith("Continue: Configure")
        assert app.journey.config_path == journey.config_path  # the configuration is kept (same file)


def _gone_outputs() -> EnvironmentOutputs:
    def side(name: str) -> SideOutputs:
        return SideOutputs(
            f"vpc-{name}0000000001", "10.0.0.0/16", name, "d", 5432, f"arn:s:{name}", "arn:nlb", "arn:tg",
            f"vpce-svc-{name}", f"vpce-{name}000000001", f"{name}.vpce", f"arn:ep:{name}",
        )  # fmt: skip

    return EnvironmentOutputs(side("source"), side("target"), "vpc-dms000000001", "10.0.0.0/16", "arn:ri", "arn:r",
                              "i-1", "us-east-1")  # fmt: skip


@pytest.mark.parametrize("mode", ["sandbox", "aws"])
async def test_resume_after_the_sandbox_was_removed_falls_back_with_its_reason(
    make_app: Callable[..., DmsTuiApp], mode: str
) -> None:
    journey = Journey("dev", mode)
    journey.save_config(journey.config)
    for step in STEPS[:4]:
        journey.complete(step)
    outputs = _gone_outputs()
    journey.update(outputs=outputs.to_json(), task=TaskRecord("demo-task", "{}"))
    app = make_app(mode=mode)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = _text(app)
        assert "back to Configure" in text and "vpc-source0000000001" in text, text
        assert "What Provision created is gone." in text
        assert app.journey.state.done == () and app.journey.state.outputs is None
        assert app.journey.state.task is not None and app.journey.state.task.identifier == "demo-task"
        assert "Review" in str(app.screen.query_one("#start", Button).label)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, ReviewScreen), "Review")
