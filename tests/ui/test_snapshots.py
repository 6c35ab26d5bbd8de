"""SVG snapshots of each screen at 80x24 and 160x48, with clocks and cursors frozen (pytest-textual-snapshot).

Update after an intended change with: scripts/test tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from dms_tui.app import DmsTuiApp
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step
from tests.ui.conftest import instant_services

# A fixed home so the paths the screens print are the same on every machine and run.
SNAPSHOT_HOME = Path("/tmp/dms-tui-snapshot-home")
# A fresh Session Manager terminal, and a large one: the extra space shows more, not bigger boxes.
SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def fixed_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    return SNAPSHOT_HOME


def _app() -> DmsTuiApp:
    journey = Journey.resume_or_start("dev", "sandbox")
    target = Environment(mode="sandbox", region="us-east-1", env="dev")
    return DmsTuiApp(journey, services=instant_services(target))


async def freeze(pilot: Pilot) -> None:  # type: ignore[type-arg]
    """Wait for workers, stop cursors blinking."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def _goto(step_screen: Callable[[DmsTuiApp], None]) -> Callable[[Pilot], object]:  # type: ignore[type-arg]
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await freeze(pilot)
        step_screen(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await freeze(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_welcome(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=freeze)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_network(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(), terminal_size=size, run_before=_goto(lambda app: app.goto(Step.CONFIGURE)))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_network_with_an_invalid_cidr(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await freeze(pilot)
        pilot.app.goto(Step.CONFIGURE)  # type: ignore[attr-defined]
        await pilot.pause()
        pilot.app.screen.query_one("#f-vpcs-source-cidr", Input).value = "10.0.0.7/16"
        await freeze(pilot)

    assert snap_compare(_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_databases(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    from dms_tui.screens.databases import DatabasesScreen

    assert snap_compare(
        _app(), terminal_size=size, run_before=_goto(lambda app: app.push_screen(DatabasesScreen(app.journey)))
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    from dms_tui.screens.review import ReviewScreen

    assert snap_compare(
        _app(), terminal_size=size, run_before=_goto(lambda app: app.push_screen(ReviewScreen(app.journey)))
    )
