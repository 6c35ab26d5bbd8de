"""The Cutover screen renders the Cutover step's events: the items with what each found, the write-freeze timer, the
summary a presenter shows, the command of the item that runs; Next is offered only after a clean cutover. The
events are those of a recorded sandbox run (fixed times, so the snapshot is the same on every run); the screen
driving the real step against a sandbox is tests/cdc/test_cutover.py's."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from dms_tui.app import DmsTuiApp
from dms_tui.environment import Environment
from dms_tui.journey import CutoverRecord, Journey, Step
from dms_tui.steps.cutover import (
    CutoverDone,
    CutoverEvent,
    CutoverPlanned,
    ItemFinished,
    ItemProgress,
    ItemStarted,
    WritesFrozen,
)
from tests.ui.conftest import instant_services
from tests.ui.test_snapshots import fixed_home, freeze  # noqa: F401 - fixed_home is a fixture

TARGET = "vpce-0target.vpce-svc-0b.us-east-1.vpce.amazonaws.com:5432/demo_db"
CONNECT = "psql 'host=127.0.0.1 port=40123 user=dbadmin dbname=demo_db sslmode=prefer' -c 'SELECT current_database()'"
FINISHED = (
    ("writes", "Stop writes", "stopped the demo workload (pid 4242)", 0.1, ("kill 4242",)),
    ("drain", "Drain changes", "0/3A1F2B8 applied; CDC latency 0 s", 2.4, ()),
    ("diff", "Final row diff", "3 table(s) identical", 0.3, ("dms-tui diff --sandbox",)),
    ("sequences", "Set sequences", "1 set to the source's values", 0.1, ()),
    ("task", "Stop the task", "stopped (NORMAL)", 1.2, ()),
    ("switch", "Switch the app", TARGET, 0.0, (CONNECT,)),
)


def recorded_run(*, ok: bool = True) -> list[CutoverEvent]:
    events: list[CutoverEvent] = [CutoverPlanned("dms-tui-demo-task", "arn:task", "running", "full-load-and-cdc", None)]
    finished = []
    for key, title, detail, seconds, commands in FINISHED:
        events.append(ItemStarted(key, title, commands))
        if key == "drain":
            events.append(ItemProgress(key, "latency source 0.0 s · target 0.0 s · applied 0/3A1F2B8 of 0/3A1F2B8"))
        item = ItemFinished(key, title, ok or key != "diff", detail, seconds, commands)
        finished.append(item)
        events.append(item)
        if key == "writes":
            events.append(WritesFrozen(0.0))
    record = CutoverRecord(
        ok=ok,
        freeze_seconds=4.2,
        diff_identical=ok,
        sequences_set=1,
        task_status="stopped",
        target_endpoint=TARGET,
        finished_at="2026-12-07T20:00:00+00:00",
    )
    events.append(CutoverDone(record, tuple(finished), TARGET, CONNECT))
    return events


def _app() -> DmsTuiApp:
    journey = Journey.resume_or_start("dev", "sandbox")
    return DmsTuiApp(journey, services=instant_services(Environment(mode="sandbox", region="us-east-1")))


async def _show_recorded_run(pilot: Pilot, *, ok: bool = True) -> None:  # type: ignore[type-arg]
    from dms_tui.screens.cutover import CutoverScreen

    await freeze(pilot)
    app: DmsTuiApp = pilot.app  # type: ignore[assignment]
    app.goto(Step.CUTOVER)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CutoverScreen)
    for event in recorded_run(ok=ok):
        screen.show_event(event)
    await pilot.pause()
    await freeze(pilot)


async def test_a_clean_cutover_shows_every_item_the_summary_and_offers_next(fixed_home: Path) -> None:  # noqa: F811
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _show_recorded_run(pilot)
        screen = app.screen
        summary = str(screen.query_one("#cutover-summary").render())
        assert "writes frozen 4.2 s" in summary and TARGET in summary.replace("\n", "")
        assert "write freeze: 4.2 s" in str(screen.query_one("#cutover-timer").render())
        assert screen.query_one("#command-hint").command == CONNECT  # type: ignore[attr-defined]
        assert screen.query_one("#next").display
        await pilot.press("f5")
        await pilot.pause()
        assert type(app.screen).__name__ == "CleanupScreen"
        assert app.journey.state.is_done(Step.CUTOVER)
        assert app.journey.state.cutover is not None and app.journey.state.cutover.freeze_seconds == 4.2


async def test_a_cutover_with_a_failed_item_does_not_move_on(fixed_home: Path) -> None:  # noqa: F811
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _show_recorded_run(pilot, ok=False)
        screen = app.screen
        assert not screen.query_one("#next").display
        await pilot.press("f5")  # asks whether to go on to Cleanup without a clean cutover
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        await pilot.pause()
        assert type(app.screen).__name__ == "CutoverScreen"
        assert not app.journey.state.is_done(Step.CUTOVER)
        await pilot.press("f5", "y")  # a full-load journey goes on this way
        await pilot.pause()
        assert type(app.screen).__name__ == "CleanupScreen"
        assert not app.journey.state.is_done(Step.CUTOVER)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_a_clean_cutover(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert snap_compare(_app(), terminal_size=size, run_before=_show_recorded_run)
