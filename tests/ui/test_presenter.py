"""Presenter mode: a narration panel for a customer beside each step, and finished steps moving on by themselves
(the app presses the primary action a moment after the step's done-event), with p to pause and resume.

Update the picture after an intended change with: scripts/test tests/ui/test_presenter.py --snapshot-update
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, RadioButton

from dms_tui.app import DmsTuiApp
from dms_tui.cli import build_parser
from dms_tui.data.workload import WorkloadStats
from dms_tui.domain.dms import MigrationType
from dms_tui.domain.narration import NARRATION
from dms_tui.environment import request_from_args
from dms_tui.journey import STEPS, Step
from dms_tui.screens.migrate import MigrateScreen
from dms_tui.screens.verify import VerifyScreen
from dms_tui.steps.cdc_prerequisites import CdcPrerequisites
from dms_tui.steps.cdc_watch import DEMO_WORKLOAD_RATE, WorkloadProgress
from dms_tui.steps.migrate import PREREQUISITES
from dms_tui.widgets.command_hint import CommandHint
from dms_tui.widgets.narration import NarrationPanel
from tests.checks.moto_environment import MotoWorld
from tests.ui.scripted_dms import ScriptedDms
from tests.ui.test_cutover_screen import _app as cutover_app
from tests.ui.test_cutover_screen import recorded_run
from tests.ui.test_migrate_cdc_screen import cdc_options, cdc_script, cloudwatch, started_cdc_task  # noqa: F401 - a fixture
from tests.ui.test_migrate_screen import ARN, events_of, fake_outputs, migrate_app, text_of, until
from tests.ui.test_prepare_screen import environment  # noqa: F401 - the fixture (real PostgreSQL, moto)
from tests.ui.test_snapshots import fixed_home, freeze  # noqa: F401 - fixed_home is a fixture
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


# -- the change-data-capture part of the story: live changes on Migrate, then the cutover -----------------------------


class _Writes:
    """Stands in for the demo workload's writer (tests/cdc runs the real one against PostgreSQL): it ticks until the
    screen's stop event is set, as the real one does, and says when it started and stopped."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()

    def __call__(self, _environment: Any, _outputs: Any, stop: threading.Event, **kwargs: Any) -> WorkloadStats:
        self.started.set()
        on_progress, changes = kwargs.get("on_progress"), 0
        while not stop.wait(0.02):
            changes += 1
            if on_progress is not None:
                on_progress(WorkloadProgress(DEMO_WORKLOAD_RATE, changes, changes, 0, 0, changes * 0.02))
        self.stopped.set()
        return WorkloadStats(inserts=changes)


def _cdc_app(monkeypatch: pytest.MonkeyPatch, metrics: Any, client: ScriptedDms) -> tuple[DmsTuiApp, _Writes]:
    writes = _Writes()
    monkeypatch.setattr("dms_tui.screens.migrate.run_demo_workload", writes)
    monkeypatch.setattr(MigrateScreen, "WORKLOAD_SHOW_S", 3.0)
    monkeypatch.setattr(MigrateScreen, "DRAIN_S", DELAY)
    no_blockers = CdcPrerequisites("full-load-and-cdc", ())
    app = migrate_app(client, **cdc_options(metrics), **{PREREQUISITES: lambda *_args: no_blockers})
    app.ADVANCE_DELAY = DELAY  # type: ignore[misc]
    return app, writes


async def _open_presenting(app: DmsTuiApp, pilot: Pilot, *, arn: str | None) -> MigrateScreen:  # type: ignore[type-arg]
    await app.workers.wait_for_complete()  # Welcome ready (not presenting yet: it stays where it is)
    app.presenting = True
    app.journey.update(outputs=fake_outputs().to_json())
    if arn is not None:
        app.journey.update_task(arn=arn)
    screen = MigrateScreen(app.journey)
    await app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_presenter_mode_defines_a_full_load_and_cdc_task_and_enter_creates_it(
    monkeypatch: pytest.MonkeyPatch,
    cloudwatch: Any,  # noqa: F811 - the fixture
) -> None:
    app, _ = _cdc_app(monkeypatch, cloudwatch, ScriptedDms([]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_presenting(app, pilot, arn=None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one(f"#type-{MigrationType.FULL_LOAD_AND_CDC}", RadioButton).value
        assert screen.draft.migration_type == MigrationType.FULL_LOAD_AND_CDC
        assert app.focused is screen.query_one("#create-task"), "the presenter's Enter creates and starts it"
        assert "--migration-type full-load-and-cdc" in screen.query_one(CommandHint).command


async def test_without_presenter_mode_the_migrate_form_keeps_its_own_type(
    monkeypatch: pytest.MonkeyPatch,
    cloudwatch: Any,  # noqa: F811 - the fixture
) -> None:
    app, _ = _cdc_app(monkeypatch, cloudwatch, ScriptedDms([]))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.journey.update(outputs=fake_outputs().to_json())
        screen = MigrateScreen(app.journey)
        await app.push_screen(screen)
        await pilot.pause()
        assert not screen.query_one(f"#type-{MigrationType.FULL_LOAD_AND_CDC}", RadioButton).value


async def test_a_loaded_cdc_task_shows_the_workload_writing_then_drains_and_moves_on_to_the_diff(
    monkeypatch: pytest.MonkeyPatch,
    cloudwatch: Any,  # noqa: F811 - the fixture
) -> None:
    client = ScriptedDms(cdc_script())
    started_cdc_task(client)
    app, writes = _cdc_app(monkeypatch, cloudwatch, client)
    moves = _record_moves(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_presenting(app, pilot, arn=ARN)
        # every table loaded: nobody pressed anything, and the workload writes while the changes flow
        await until(pilot, writes.started.is_set)
        panel = screen.query_one(NarrationPanel)
        assert panel.topic == "migrate-cdc"
        assert NARRATION["migrate-cdc"].headline in str(panel.render())
        assert not moves, "the live changes are shown before the Diff"
        await until(pilot, lambda: bool(moves))
        assert moves == [Step.DIFF]
        assert writes.stopped.is_set(), "the writes stopped before the Diff"
        events = events_of(screen)
        assert events.index("workload started") < events.index("workload stopped") < events.index("last changes")
        assert app.journey.state.is_done(Step.MIGRATE)


async def test_p_holds_the_story_before_and_during_the_live_changes_and_p_again_goes_on(
    monkeypatch: pytest.MonkeyPatch,
    cloudwatch: Any,  # noqa: F811 - the fixture
) -> None:
    client = ScriptedDms(cdc_script())
    started_cdc_task(client)
    app, writes = _cdc_app(monkeypatch, cloudwatch, client)
    moves = _record_moves(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        app.presenter_paused = True  # paused before the full load even finished
        screen = await _open_presenting(app, pilot, arn=ARN)
        await until(pilot, lambda: not screen.query_one("#next").disabled)  # every table loaded
        await pilot.pause(DELAY * 4)
        assert not writes.started.is_set() and not moves, "paused: the workload waits for the presenter too"
        await pilot.press("p")
        await until(pilot, writes.started.is_set)
        await pilot.press("p")  # paused while the workload writes: it goes on writing, and nothing moves on
        await until(pilot, lambda: "written" in text_of(screen, "#throughput-label"))
        await pilot.pause(MigrateScreen.WORKLOAD_SHOW_S * 1.5)
        assert not moves and not writes.stopped.is_set(), "paused: the writes go on and nothing moves"
        assert "paused" in str(screen.query_one(NarrationPanel).render())
        await pilot.press("p")
        await until(pilot, lambda: bool(moves))
        assert moves == [Step.DIFF] and writes.stopped.is_set()


async def test_presenter_cutover_waits_for_enter_holds_its_summary_while_paused_then_goes_to_cleanup(
    fixed_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dms_tui.screens.cutover import CutoverScreen

    monkeypatch.setattr("dms_tui.screens.cutover.run_cutover", lambda *_args, **_kwargs: iter(recorded_run()))
    monkeypatch.setattr(CutoverScreen, "SUMMARY_HOLD_S", DELAY)
    app = cutover_app()
    app.ADVANCE_DELAY = DELAY  # type: ignore[misc]
    async with app.run_test(size=(80, 24)) as pilot:
        await freeze(pilot)
        app.presenting = True
        app.goto(Step.CUTOVER)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CutoverScreen)
        assert app.focused is screen.query_one("#cutover"), "the presenter's Enter cuts over"
        await pilot.pause(DELAY * 4)
        assert screen.done is None, "cutting over changes something: it waits for Enter"
        await pilot.press("p")  # paused from here on: the summary stays until p again
        await pilot.press("enter")
        await _wait_for(pilot, lambda: screen.done is not None)
        assert screen.done is not None and screen.done.ok
        summary = str(screen.query_one("#cutover-summary").render())
        assert "✓ Cut over: writes frozen 4.2 s · rows identical · 1 sequence set" in summary
        await pilot.pause(DELAY * 4)
        assert app.screen is screen, "paused: the summary stays on screen"
        await pilot.press("p")
        await _wait_for(pilot, lambda: type(app.screen).__name__ == "CleanupScreen")
        assert type(app.screen).__name__ == "CleanupScreen"
        assert app.journey.state.is_done(Step.CUTOVER)


async def test_presenter_prepare_adds_the_primary_key_that_live_changes_need(
    make_app: Callable[..., DmsTuiApp],
    environment: MotoWorld,  # noqa: F811 - the fixture: moto and the session's real PostgreSQL servers
) -> None:
    from dms_tui.screens.prepare import PrepareScreen

    app = make_app(target=environment.target)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.presenting, app.presenter_paused = True, True  # paused: the test reads the screen before it moves on
        app.journey.update(outputs=environment.outputs.to_json(), done=(Step.CONFIGURE, Step.PROVISION, Step.VERIFY))
        screen = PrepareScreen(app.journey)
        await app.push_screen(screen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#primary-key", Checkbox).value
        assert screen.query_one(CommandHint).command == "dms-tui seed --sandbox --primary-key"
        assert app.focused is screen.query_one("#prepare"), "the presenter's Enter prepares"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        source = [str(cell) for cell in screen.query_one("#prepare-details", DataTable).get_row("source")]
        assert source[2] == "demo_schema.demo_accounts" and source[-1] == "yes", source
