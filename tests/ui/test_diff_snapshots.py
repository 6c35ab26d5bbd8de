"""SVG snapshots of the Diff screen at 80x24 and 160x48: identical, and with each kind of difference.

The screen is given a prepared result (tests/ui/diff_reports.py) so times are fixed and the pictures deterministic.
Update after an intended change with: scripts/test tests/ui/test_diff_snapshots.py --snapshot-update
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dms_tui.app import DmsTuiApp
from dms_tui.data.diff import DiffReport
from dms_tui.environment import Environment
from dms_tui.journey import Journey
from dms_tui.screens.diff import DiffScreen
from dms_tui.steps.diff import DiffDone, DiffStepEvent, EndpointsResolved, diff_command_line, summarize
from tests.ui.conftest import instant_services
from tests.ui.diff_reports import differences_report, identical_report

SNAPSHOT_HOME = Path("/tmp/dms-tui-snapshot-home-diff")
# Shown in the equivalent command; no password, and no database is contacted (the result is prepared).
SOURCES = (
    "postgresql://dms_admin@source-db.vpce.example:5432/sales?sslmode=require",
    "postgresql://dms_admin@target-db.vpce.example:5432/sales?sslmode=require",
)
SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def fixed_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.rmtree(SNAPSHOT_HOME, ignore_errors=True)
    monkeypatch.setenv("DMS_TUI_HOME", str(SNAPSHOT_HOME))
    return SNAPSHOT_HOME


def prepared_run(report: Callable[[], DiffReport]) -> Callable[..., Iterator[DiffStepEvent]]:
    """A stand-in for the Diff step that yields a prepared result (the "diff_run" option of StepServices)."""

    def run(environment: Environment | None, journey: object, inputs: object) -> Iterator[DiffStepEvent]:
        result = report()
        command = diff_command_line(environment, inputs)  # type: ignore[arg-type]
        yield EndpointsResolved(*SOURCES, command)
        yield DiffDone(result, summarize(result), command)

    return run


def _app(report: Callable[[], DiffReport]) -> DmsTuiApp:
    journey = Journey.resume_or_start("dev", "sandbox")
    services = instant_services(Environment(mode="sandbox", region="us-east-1"))
    services.options["diff_run"] = prepared_run(report)
    return DmsTuiApp(journey, services=services)


def _open(select: str | None = None, keys: Sequence[str] = ()) -> Callable[[Pilot], object]:  # type: ignore[type-arg]
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        pilot.app.push_screen(DiffScreen(pilot.app.journey, select))  # type: ignore[attr-defined]
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_identical(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(identical_report), terminal_size=size, run_before=_open("orders"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_missing_extra_and_changed_rows(snap_compare, fixed_home: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(differences_report), terminal_size=size, run_before=_open("public.orders"))


def test_long_value_shown_whole_on_select(snap_compare, fixed_home: Path) -> None:  # type: ignore[no-untyped-def]
    keys = ["enter", "down", "down", "down", "down", "right", "right", "right", "right"]
    assert snap_compare(_app(differences_report), terminal_size=(160, 48), run_before=_open("orders", keys))


def test_changed_only_transposed(snap_compare, fixed_home: Path) -> None:  # type: ignore[no-untyped-def]
    keys = ["enter", "3", "t", "down", "down", "down"]
    assert snap_compare(_app(differences_report), terminal_size=(80, 24), run_before=_open("orders", keys))


def test_keyless_table_with_duplicates(snap_compare, fixed_home: Path) -> None:  # type: ignore[no-untyped-def]
    run_before = _open("demo_schema.demo_table")
    assert snap_compare(_app(differences_report), terminal_size=(80, 24), run_before=run_before)


def test_schema_drift_of_a_renamed_table(snap_compare, fixed_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(differences_report), terminal_size=(80, 24), run_before=_open("sales.items"))
