"""Story: after the migration, the person opens the Diff step and sees proof that the target's rows match the
source's — or exactly which rows differ, source beside target — and can filter, transpose and export them.

The screen runs the real diff engine against the real pg_source / pg_target clusters.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from dms_tui.app import DmsTuiApp, ErrorScreen
from dms_tui.journey import DiffRecord, Step
from dms_tui.screens.diff import DiffScreen
from dms_tui.steps.diff import DiffInputs
from dms_tui.widgets.side_by_side import SideBySide


class SecretUrl(str):
    """A URL holding a password: its repr (what pytest prints on failure) hides it."""

    def __repr__(self) -> str:
        return "<database URL, password hidden>"


def run_sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


ORDERS = """
    create table public.orders (id int primary key, customer text, status text, note text);
    insert into public.orders values
        (1, 'Ann', 'paid', 'fragile'), (2, 'Bob', 'shipped', null), (3, 'Cy', 'paid', 'NULL'),
        (4, 'Dana', 'new', ''), (5, 'Eve', 'paid', 'x');
"""
EVENTS = """
    create table public.events (kind text, payload text);
    insert into public.events values ('click', 'a'), ('click', 'a'), ('view', 'b');
"""


@pytest.fixture(scope="module")
def identical_dbs(pg_source, pg_target) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    urls = SecretUrl(pg_source.fresh_database("ui_diff_same")), SecretUrl(pg_target.fresh_database("ui_diff_same"))
    for url in urls:
        run_sql(url, ORDERS, EVENTS)
    return urls


@pytest.fixture(scope="module")
def different_dbs(pg_source, pg_target) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """orders: 4 missing in target, 9 extra, 2 NULL -> '', 3 'NULL' -> NULL, 1 trailing spaces; events: one
    duplicate 'click' row lost (2x in source, 1x in target)."""
    source = SecretUrl(pg_source.fresh_database("ui_diff_other"))
    target = SecretUrl(pg_target.fresh_database("ui_diff_other"))
    run_sql(source, ORDERS, EVENTS)
    run_sql(
        target,
        ORDERS,
        EVENTS,
        "delete from public.orders where id = 4",
        "insert into public.orders values (9, 'Zed', 'new', null)",
        "update public.orders set note = '' where id = 2",
        "update public.orders set note = null where id = 3",
        "update public.orders set customer = 'Ann  ' where id = 1",
        "delete from public.events where ctid = (select min(ctid) from public.events where kind = 'click')",
    )
    return source, target


async def open_diff(
    app: DmsTuiApp,
    pilot: Pilot,  # type: ignore[type-arg]
    sources: tuple[str, str] | None = None,
    select_table: str | None = None,
) -> DiffScreen:
    """Open the Diff screen on two databases given by URL (``sources``), else on the environment's."""
    await app.workers.wait_for_complete()
    inputs = DiffInputs(source_url=sources[0], target_url=sources[1]) if sources else None
    screen = DiffScreen(app.journey, select_table, inputs=inputs)
    app.push_screen(screen)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)
    return screen


def headline(screen: DiffScreen) -> str:
    return str(screen.query_one("#diff-headline", Static).render())


def summary_cells(screen: DiffScreen) -> dict[str, str]:
    table = screen.query_one("#diff-tables", DataTable)
    return {str(key.value): str(table.get_cell(key, "result")) for key in table.rows}


def grid_rows(screen: DiffScreen, side: str) -> list[list[str]]:
    grid = screen.query_one(f"#sbs-{side}", DataTable)
    return [[str(cell) for cell in grid.get_row_at(index)] for index in range(grid.row_count)]


@pytest.fixture
def app(make_app: Callable[..., DmsTuiApp]) -> Iterator[DmsTuiApp]:
    yield make_app()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_identical_databases_are_proven_equal_and_next_goes_to_cleanup(
    app: DmsTuiApp, identical_dbs: tuple[str, str], size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        screen = await open_diff(app, pilot, sources=identical_dbs)
        assert "Identical" in headline(screen) and "2 tables" in headline(screen)
        assert summary_cells(screen) == {"public.orders": "✓ identical", "public.events": "✓ identical"}
        assert app.journey.state.diff is None  # two databases given by URL are not the journey's
        # the equivalent command names both databases but never the password
        command = screen.equivalent_command()
        # quoted for the shell: the URLs carry sslmode=verify-ca&sslrootcert=… (the test clusters' CA)
        assert (
            command.startswith("dms-tui diff --source 'postgresql://") and "sslmode=verify-ca&sslrootcert=" in command
        )
        assert pg_password_free(command, identical_dbs)
        await pilot.press("f5")
        await pilot.pause()
        assert app.journey.state.is_done(Step.DIFF)
        assert app.journey.state.diff == DiffRecord(identical=True, tables=2, differences=0)
        assert app.journey.state.current is Step.CUTOVER
        assert type(app.screen).__name__ in ("CutoverScreen", "CleanupScreen")  # Cleanup while Cutover has no screen


def pg_password_free(text: str, urls: tuple[str, str]) -> bool:
    passwords = {psycopg.conninfo.conninfo_to_dict(url).get("password") for url in urls}
    return not any(p and p in text for p in passwords)


async def test_each_kind_of_difference_is_shown_side_by_side(app: DmsTuiApp, different_dbs: tuple[str, str]) -> None:
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_diff(app, pilot, sources=different_dbs, select_table="orders")
        assert summary_cells(screen) == {"public.orders": "✗ 5 differences", "public.events": "✗ 1 difference"}
        assert "6 differences" in headline(screen) and "2 of 2 tables" in headline(screen)
        source, target = grid_rows(screen, "source"), grid_rows(screen, "target")
        # columns: marker, id (pinned key), customer, status, note
        by_key = {row[1]: (row, other) for row, other in zip(source, target, strict=True)}
        assert by_key["4"][0][0] == "−" and by_key["4"][1][2] == "╌╌"  # missing in target: absent on the right
        assert by_key["9"][0][0] == "+" and by_key["9"][0][2] == "╌╌" and by_key["9"][1][2] == "Zed"
        assert by_key["2"][0][4] == "∅ NULL" and by_key["2"][1][4] == "''"  # NULL vs empty string
        assert by_key["3"][0][4] == "NULL" and by_key["3"][1][4] == "∅ NULL"  # the text 'NULL' vs SQL NULL
        assert by_key["1"][0][2] == "Ann" and by_key["1"][1][2] == "Ann··"  # trailing spaces made visible
        assert screen.query_one("#sbs-source", DataTable).fixed_columns == 2  # marker + key stay pinned

        # filters: 1 missing, 2 extra, 3 changed; pressing again (or a) shows all
        sides = screen.query_one(SideBySide)
        sides.focus_rows()
        for key, marker, count in (("1", "−", 1), ("2", "+", 1), ("3", "~", 3)):
            await pilot.press(key)
            assert [row[0] for row in grid_rows(screen, "source")] == [marker] * count
        await pilot.press("3")
        assert len(grid_rows(screen, "source")) == 5
        await pilot.press("e", "a")
        assert len(grid_rows(screen, "source")) == 5

        # the highlighted cell's full value shows below the grid
        await pilot.press("down", "down", "down", "right", "right", "right", "right")
        line, column = sides.selected()
        assert line is not None and column == "note"
        detail = str(screen.query_one("#sbs-detail", Static).render())
        assert "note" in detail and "source:" in detail and "target:" in detail

        # transposed: one line per column, both sides' values beside each other
        await pilot.press("t")
        transposed = screen.query_one("#sbs-transposed", DataTable)
        assert transposed.display and not screen.query_one("#sbs-sides").display
        assert transposed.row_count == 5 * (1 + 4)  # a header line per row, then its four columns
        assert transposed.has_focus

        # the key-less table: duplicates counted on each side
        await pilot.press("t")
        summary = screen.query_one("#diff-tables", DataTable)
        summary.focus()
        keys = [str(k.value) for k in summary.rows]
        assert keys[summary.cursor_row] == "public.orders"  # opened from Migrate with "orders" selected
        await pilot.press("down" if keys.index("public.events") > summary.cursor_row else "up")
        await pilot.pause()
        rows = grid_rows(screen, "source")
        assert len(rows) == 1 and rows[0][0] == "− 2×/1×" and rows[0][1:] == ["click", "a"]
        assert grid_rows(screen, "target") == [["− 2×/1×", "click", "a"]]  # still there once in the target


async def test_exports_write_json_and_csv_under_the_state_dir(
    app: DmsTuiApp, different_dbs: tuple[str, str], dms_home: Path
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(app, pilot, sources=different_dbs)
        await pilot.press("x")
        await pilot.pause()
        json_path = Path(screen.exported[-1])
        assert json_path.is_relative_to(dms_home / "state") and json_path.suffix == ".json"
        assert str(json_path) in headline(screen).replace("\n", "")
        assert screen.report is not None
        assert json.loads(json_path.read_text())["tables"] == screen.report.to_json()["tables"]
        await pilot.press("X")
        await pilot.pause()
        csv_path = Path(screen.exported[-1])
        assert csv_path.suffix == ".csv"
        records = list(csv.DictReader(io.StringIO(csv_path.read_text())))
        note_2 = next(r for r in records if r["key"] == '{"id": "2"}' and r["column"] == "note")
        assert (note_2["source_is_null"], note_2["target_is_null"], note_2["target"]) == ("true", "false", "")
        for path in (json_path, csv_path):
            assert pg_password_free(path.read_text(), different_dbs)


async def test_an_unreachable_database_is_explained_without_the_password(
    app: DmsTuiApp,
    pg_source,  # type: ignore[no-untyped-def]
) -> None:
    good = SecretUrl(pg_source.url("postgres"))
    params = psycopg.conninfo.conninfo_to_dict(good)
    bad = SecretUrl(psycopg.conninfo.make_conninfo(good, port=1))  # nothing listens on port 1
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(app, pilot, sources=(good, bad))
        await pilot.pause(0.2)
        assert isinstance(app.screen, ErrorScreen)  # the app's one error modal: what, why, what to do
        shown = f"{app.screen.error.what} {app.screen.error.why}"
        assert "Could not connect to the target database" in shown
        assert params["password"] not in shown
        await pilot.press("escape")
        assert "Nothing compared" in headline(screen) and not app.running_jobs
        assert app.journey.state.diff is None
        await pilot.press("f5")  # nothing to record yet: the step stays open
        assert isinstance(app.screen, DiffScreen)


async def test_without_provisioning_outputs_the_modal_says_what_to_do(app: DmsTuiApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_diff(app, pilot)
        await pilot.pause(0.2)
        assert isinstance(app.screen, ErrorScreen)
        assert "has not been provisioned" in app.screen.error.what
        assert "dms-tui provision apply --sandbox" in app.screen.error.next_step


async def test_progress_shows_buckets_scanned_and_rows_per_second(app: DmsTuiApp) -> None:
    from dms_tui.data.diff import BucketsScanned, Rechecking, TableStarted
    from tests.ui.diff_reports import identical_report
    from tests.ui.test_diff_snapshots import prepared_run

    app.services.options["diff_run"] = prepared_run(identical_report)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(app, pilot)
        screen.running, screen.report = True, None  # as if a run were under way
        screen.show_event(TableStarted("public.big", "public.big", 2, 3))
        screen.show_event(BucketsScanned("public.big", 40, 0, 120_000, 0.1))
        await pilot.pause(0.4)  # the headline redraws on its coalescing timer
        assert "Comparing public.big (2/3) · 40 buckets · 120,000 rows · 1.2M rows/s" in headline(screen)
        assert summary_cells(screen)["public.big"] == "comparing…"
        screen.show_event(Rechecking("public.big", 3, 0.5))
        await pilot.pause(0.4)
        assert "re-checking 3 differences" in headline(screen)
