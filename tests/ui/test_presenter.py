"""Presenter mode: a narration panel for a customer beside each step, and finished steps moving on by themselves
(the app presses the primary action a moment after the step's done-event), with p to pause and resume.

Update the picture after an intended change with: scripts/test tests/ui/test_presenter.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from dms_tui.app import DmsTuiApp
from dms_tui.cli import build_parser
from dms_tui.domain.narration import NARRATION
from dms_tui.environment import request_from_args
from dms_tui.journey import STEPS, Step
from dms_tui.screens.verify import VerifyScreen
from dms_tui.widgets.narration import NarrationPanel
from tests.ui.test_verify_screen import _snapshot_app

DELAY = 0.3  # the pause before the app presses on: short, so the test is quick


def _presenting(monkeypatch: pytest.MonkeyPatch, *, paused: bool = False) -> DmsTuiApp:
    app = _snapshot_app(False, monkeypatch)  # Verify with scripted checks that all pass
    app.presenting, app.presenter_paused = True, paused
    app.ADVANCE_DELAY = DELAY  # type: ignore[misc]
    return app


def _record_moves(app: DmsTuiApp, monkeypatch: pytest.MonkeyPatch) -> list[Step]:
    """The steps the app moves to (instead of opening them: Prepare would reach for real databases)."""
    moves: list[Step] = []
    monkeypatch.setattr(app, "goto", moves.append)
    return moves


async def _wait_for(pilot: Pilot, condition: object, seconds: float = 10.0) -> None:  # type: ignore[type-arg]
    for _ in range(int(seconds / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await pilot.pause(0.05)


def test_every_step_has_words_for_a_customer() -> None:
    for step in STEPS:
        narration = NARRATION[step.value]
        assert narration.headline and narration.proves and narration.why, step
    assert "welcome" in NARRATION


def test_the_present_flag_asks_for_presenter_mode() -> None:
    assert request_from_args(build_parser().parse_args(["--present", "--sandbox"])).present
    assert not request_from_args(build_parser().parse_args(["--sandbox"])).present


async def test_a_finished_verify_moves_on_to_prepare_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _presenting(monkeypatch)
    moves = _record_moves(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        panel = screen.query_one(NarrationPanel)
        assert panel.display and panel.has_class("presenting")
        assert NARRATION["verify"].headline in str(panel.render())
        # (Welcome, ready first, may have moved on by itself too: that is where presenter mode starts)
        await _wait_for(pilot, lambda: Step.PREPARE in moves)
        assert moves[-1] is Step.PREPARE, "nobody pressed anything: the app moved on by itself"


async def test_p_pauses_the_moving_on_and_p_again_resumes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _presenting(monkeypatch)
    moves = _record_moves(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")  # paused before the checks even finish
        assert app.presenter_paused
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        assert not screen.query_one("#next").disabled, "the checks passed"
        await pilot.pause(DELAY * 4)
        assert not moves, "paused: the step waits for the presenter"
        assert "paused" in str(screen.query_one(NarrationPanel).render())
        await pilot.press("p")
        assert not app.presenter_paused
        await _wait_for(pilot, lambda: moves)
        assert moves == [Step.PREPARE]


async def test_without_presenter_mode_a_finished_step_waits_and_p_is_the_screens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _snapshot_app(False, monkeypatch)
    app.ADVANCE_DELAY = DELAY  # type: ignore[misc]
    async with app.run_test(size=(80, 24)) as pilot:
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        await pilot.pause(DELAY * 4)
        assert isinstance(app.screen, VerifyScreen)
        assert not app.screen.query_one(NarrationPanel).display
        assert "p" not in app.screen.active_bindings
        await pilot.press("p")
        assert not app.presenter_paused


async def test_the_palette_command_turns_presenter_mode_on(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _snapshot_app(False, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Presenter mode: on" in titles
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Presenter mode: on")
        command.callback()
        await pilot.pause()
        assert app.presenting
        assert app.screen.query_one(NarrationPanel).display


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_verify_with_the_narration(
    snap_compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    app = _presenting(monkeypatch, paused=True)  # paused: the picture stays on Verify
    assert snap_compare(app, terminal_size=size, run_before=app._snapshot_setup)  # type: ignore[attr-defined]
