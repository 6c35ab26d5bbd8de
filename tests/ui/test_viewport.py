"""At 80x24 (a fresh Session Manager terminal) every screen shows, on arrival and without scrolling, its primary action
and the inputs a person came to edit; Enter (or the focused primary button) moves the journey on.

These are region checks on the laid-out widgets, not pictures: a widget counts as shown only when the whole of it lies
inside the screen and inside every scrolling container around it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Input, RadioSet

from dms_tui.app import DmsTuiApp
from dms_tui.journey import Journey, Step
from tests.checks.moto_environment import MotoWorld
from tests.ui.conftest import instant_services
from tests.ui.test_journey_snapshots import recorded_terraform_home
from tests.ui.test_prepare_screen import environment  # noqa: F401 - the fixture (real PostgreSQL, moto)
from tests.ui.test_snapshots import _app as configure_app
from tests.ui.test_snapshots import fixed_home, freeze  # noqa: F401 - fixed_home is a fixture

SIZE = (80, 24)


def displayed(widget: Widget) -> bool:
    """Neither the widget nor a container around it is hidden (a choice shown only in some states)."""
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))


def shown_whole(widget: Widget) -> bool:
    """The widget is displayed and every cell of it is inside the screen and inside each scrolled container."""
    screen = widget.screen
    try:
        geometry = screen.find_widget(widget)
    except Exception:  # NoWidget: not laid out at all (hidden, or in a container that is not displayed)
        return False
    region = geometry.region
    return region.area > 0 and geometry.visible_region == region and screen.region.contains_region(region)


def assert_shown(widgets: list[Widget], what: str) -> None:
    hidden = [f"#{w.id or type(w).__name__} at {w.region}" for w in widgets if not shown_whole(w)]
    assert not hidden, f"{what} not inside the 80x24 viewport on arrival: {', '.join(hidden)}"


def assert_arrival(app: DmsTuiApp, primary: str, *, inputs: bool = True, focused: bool = True) -> Button:
    """The primary button and every editable input are on screen; the primary button has the focus."""
    screen = app.screen
    button = screen.query_one(primary, Button)
    assert_shown([button], f"the primary action {primary}")
    if inputs:
        editable: list[Widget] = [w for w in screen.query(Input) if displayed(w) and not w.disabled]
        editable += [w for w in screen.query(RadioSet) if displayed(w) and not w.disabled]
        assert_shown(editable, "the editable inputs")
    if focused:
        assert app.focused is button, f"focus is on {app.focused!r}, not the primary button {primary}"
    return button


async def _arrive(app: DmsTuiApp, setup: Callable[[Pilot[Any]], Awaitable[None]], check: Callable[..., Any]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await setup(pilot)
        await check(pilot)


# -- Configure ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fixed_home")
async def test_welcome_shows_start_focused_and_enter_goes_to_configure() -> None:
    app = configure_app()
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        assert_arrival(app, "#start", inputs=False)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "NetworkScreen"


@pytest.mark.usefixtures("fixed_home")
async def test_network_opens_at_the_top_with_every_field_and_next_in_view() -> None:
    app = configure_app()
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        app.goto(Step.CONFIGURE)
        await freeze(pilot)
        assert app.screen.query_one("#network-body").scroll_y == 0
        assert_arrival(app, "#next")
        # The explanation is one line; e shows it whole, and the fields stay where they were.
        line = app.screen.query_one("#network-explain-line")
        assert_shown([line], "the one-line explanation")
        await pilot.press("e")
        await pilot.pause()
        assert_shown([app.screen.query_one("#overlap-note")], "the explanation, once expanded")
        await pilot.press("e")
        await pilot.pause()
        assert_arrival(app, "#next", focused=True)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DatabasesScreen"


@pytest.mark.usefixtures("fixed_home")
async def test_databases_shows_every_field_and_next() -> None:
    from dms_tui.screens.databases import DatabasesScreen

    app = configure_app()
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        app.goto(Step.CONFIGURE)
        await pilot.pause()
        await app.push_screen(DatabasesScreen(app.journey))
        await freeze(pilot)
        assert_arrival(app, "#next")
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReviewScreen"


@pytest.mark.usefixtures("fixed_home")
async def test_review_shows_plan_focused_then_apply_focused_once_planned() -> None:
    from dms_tui.screens.review import ReviewScreen

    app = configure_app()
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        await app.push_screen(ReviewScreen(app.journey))
        await freeze(pilot)
        assert_arrival(app, "#plan", inputs=False)
        assert_shown([app.screen.query_one("#apply", Button)], "Apply")


# -- Provision and Cleanup (a recorded terraform run; AWS mode, nothing to list) --------------------------------


@pytest.fixture
def journey_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return recorded_terraform_home(monkeypatch, tmp_path)


async def test_provision_finished_shows_next_focused(journey_home: Path) -> None:
    from dms_tui.screens.provision import ProvisionScreen
    from tests.ui.test_journey_snapshots import _app, _finished_run

    app = _app("aws")
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        app.push_screen(ProvisionScreen(app.journey, attach=_finished_run(app.journey)))
        await pilot.pause()
        await freeze(pilot)
        await pilot.pause(0.5)
        assert_arrival(app, "#next", inputs=False)
        assert_shown([app.screen.query_one("#provision-table")], "the resource table")


async def test_cleanup_shows_its_buttons(journey_home: Path) -> None:
    from tests.ui.test_journey_snapshots import _app

    app = _app("aws")
    async with app.run_test(size=SIZE) as pilot:
        await freeze(pilot)
        app.journey.update_task(arn="arn:aws:dms:us-east-1:123456789012:task:DEMO")
        app.goto(Step.CLEANUP)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await freeze(pilot)
        assert_arrival(app, "#remove", inputs=False)


# -- Verify, Prepare, Migrate, Diff ------------------------------------------------------------------------------


async def test_verify_passing_shows_next_focused(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui.test_verify_screen import _snapshot_app

    app = _snapshot_app(False, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await app._snapshot_setup(pilot)  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert_arrival(app, "#next", inputs=False)
        await pilot.press("enter")
        await pilot.pause()
        assert app.journey.state.is_done(Step.VERIFY)


async def test_migrate_form_shows_create_focused_and_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    from dms_tui.screens.migrate import MigrateScreen
    from tests.ui.scripted_dms import ScriptedDms
    from tests.ui.test_migrate_screen import _snapshot_app

    app = _snapshot_app(monkeypatch, ScriptedDms([]))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await app.push_screen(MigrateScreen(app.journey))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert_arrival(app, "#create-task")


async def test_migrate_finished_run_shows_next_focused(monkeypatch: pytest.MonkeyPatch) -> None:
    from dms_tui.screens.migrate import MigrateScreen
    from tests.ui.scripted_dms import ScriptedDms
    from tests.ui.test_migrate_screen import (
        ARN,
        CLOCK,
        SALES_MAPPINGS,
        FixedClock,
        _snapshot_app,
        loading_script,
        until,
    )

    client = ScriptedDms(loading_script())
    app = _snapshot_app(monkeypatch, client, **{CLOCK: FixedClock()})
    client.create_replication_task(
        ReplicationTaskIdentifier="dms-tui-demo-task",
        SourceEndpointArn="arn:s",
        TargetEndpointArn="arn:t",
        ReplicationInstanceArn="arn:r",
        MigrationType="full-load",
        TableMappings=json.dumps(SALES_MAPPINGS),
    )
    client.start_replication_task(ReplicationTaskArn=ARN, StartReplicationTaskType="start-replication")
    app.journey.update_task(arn=ARN)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        screen = MigrateScreen(app.journey)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.last is not None and screen.last.ended)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert_arrival(app, "#next", inputs=False)
        assert_shown([screen.query_one("#task-tables")], "the per-table view")


async def test_diff_shows_its_tables_and_f5_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tests.ui.diff_reports import identical_report
    from tests.ui.test_diff_snapshots import SNAPSHOT_HOME, _app, _open

    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    app = _app(identical_report)
    async with app.run_test(size=SIZE) as pilot:
        await _open("orders")(pilot)  # type: ignore[misc]
        screen = app.screen
        assert_shown([screen.query_one("#diff-headline"), screen.query_one("#diff-tables")], "the diff summary")
        # The Diff screen has no button: its primary action is F5 (shown in the footer), as on every step.
        assert any(b.key == "f5" for b in screen.active_bindings.values() for b in [b.binding])
        await pilot.press("f5")
        await pilot.pause()
        assert app.journey.state.is_done(Step.DIFF)


async def test_prepare_shows_its_choices_and_prepare_focused(request: pytest.FixtureRequest) -> None:
    from tests.ui.test_prepare_screen import _open_prepare

    world: MotoWorld = request.getfixturevalue("environment")  # real PostgreSQL behind moto's secrets
    app = DmsTuiApp(Journey.resume_or_start("dev", "sandbox"), services=instant_services(world.target))
    async with app.run_test(size=SIZE) as pilot:
        await _open_prepare(app, pilot, world)
        assert_arrival(app, "#prepare")
        assert_shown([app.screen.query_one("#rows-count", Input)], "the row count")
        assert_shown([app.screen.query_one("#next", Button)], "Next")
        # Enter prepares; the outcome (below the choices, out of view on arrival) is brought into view with it.
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        await pilot.pause()
        status = app.screen.query_one("#prepare-status")
        assert "✓ Prepared" in str(status.render())
        assert_shown([status], "the Prepared outcome")
        assert_shown([app.screen.query_one("#next", Button)], "Next, focused after Prepare")
