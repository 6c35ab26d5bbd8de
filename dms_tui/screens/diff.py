"""Diff: prove the migration row by row, or show exactly which rows differ, side by side.

The comparison is the Diff step (dms_tui.steps.diff), run in a thread worker; its typed events are handed to this
screen, which only renders them: a summary row per table, live progress (buckets scanned, rows/s), and for the
selected table the differing rows, source beside target. A failure goes to the app's error modal.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dms_tui.data.diff.export import ExportFormat, write_export
from dms_tui.data.diff.lines import ALL_KINDS, DifferenceKind, kind_counts
from dms_tui.data.diff.result import DiffReport, TableDiff
from dms_tui.domain.units import format_rate
from dms_tui.journey import Journey, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.diff import (
    BucketsScanned,
    DiffDone,
    DiffInputs,
    DiffStepEvent,
    EndpointsResolved,
    Rechecking,
    TableCompared,
    TableStarted,
    diff_command_line,
    run_diff,
    summarize,
)
from dms_tui.widgets.side_by_side import MARKS, SideBySide

JOB = "job:diff"

_FILTER_KEYS: dict[str, DifferenceKind] = {
    "1": DifferenceKind.MISSING,
    "2": DifferenceKind.EXTRA,
    "3": DifferenceKind.CHANGED,
}


@dataclass
class _Live:
    """The running table's latest progress (coalesced: the screen redraws it at most four times a second)."""

    table: str = ""
    position: int = 0
    total: int = 0
    buckets: int = 0
    rows: int = 0
    rows_per_second: float = 0.0
    rechecking: int = 0


def table_result(table: TableDiff) -> Text:
    """The summary table's result cell for a compared table."""
    if table.identical:
        return Text("✓ identical", style="green")
    count = table.row_differences + len(table.schema_drift)
    more = "+" if table.truncated else ""
    noun = "difference" if count == 1 and not more else "differences"
    return Text(f"✗ {count}{more} {noun}", style="bold red")


class DiffScreen(WizardScreen):
    STEP = Step.DIFF
    TITLE = "Diff · prove that target rows match the source"
    BINDINGS = [
        Binding("r", "run", "Run again"),
        Binding("t", "transpose", "Transpose"),
        Binding("1,m", "only('1')", "Missing", show=False),
        Binding("2,e", "only('2')", "Extra", show=False),
        Binding("3", "only('3')", "Changed", show=False),
        Binding("a,0", "show_all", "All", show=False),
        Binding("x", "export('json')", "JSON"),
        Binding("X", "export('csv')", "CSV"),
        Binding("f5", "next", "Next"),
    ]

    def __init__(self, journey: Journey, select_table: str | None = None, *, inputs: DiffInputs | None = None) -> None:
        """``select_table`` is shown first (the Migrate step opens the table it was looking at); ``inputs`` are the
        step's (default: the environment's databases, the task's tables)."""
        super().__init__(journey)
        self.select_table = select_table
        self.inputs = inputs or DiffInputs()
        self.report: DiffReport | None = None
        self.tables: dict[str, TableDiff | None] = {}  # by source table, in comparison order; None while running
        self.kinds: frozenset[DifferenceKind] = ALL_KINDS
        self.live = _Live()
        self.running = False
        self.exported: list[str] = []
        self.stopped = False  # the last run ended without a result (the app's error modal said why)
        self._dirty = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="diff-headline")
        summary: DataTable[Text] = DataTable(id="diff-tables", cursor_type="row", zebra_stripes=True)
        yield summary
        yield Static("", id="diff-filter")
        yield SideBySide(id="diff-sides")

    def equivalent_command(self) -> str:
        return diff_command_line(self.wizard.environment, self.inputs)

    def on_mount(self) -> None:
        summary = self.query_one("#diff-tables", DataTable)
        summary.add_column("table", key="table")
        summary.add_column("result", key="result", width=16)
        summary.add_column("source", key="source")
        summary.add_column("target", key="target")
        summary.add_column("time", key="time")
        self.set_interval(0.25, self._refresh_if_dirty)
        self.action_run()
        self._render_filter()

    # -- the run -------------------------------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.running:
            return
        self.running, self.stopped, self.report = True, False, None
        self.tables.clear()
        self.query_one("#diff-tables", DataTable).clear()
        self.live = _Live()
        self.query_one(SideBySide).show(None, self.kinds, empty_message="Connecting to both databases…")
        self._render_headline()
        self.compare()

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB)
    def compare(self) -> None:
        run = self.wizard.services.options.get("diff_run", run_diff)  # tests: a prepared result
        for event in run(self.wizard.environment, self.journey, self.inputs):
            self.app.call_from_thread(self.show_event, event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != JOB or event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.running, self.stopped = False, True
        self.query_one(SideBySide).show(None, self.kinds, empty_message="Nothing compared. Press r to try again.")
        self._render_headline()
        if event.state is WorkerState.ERROR:
            # Worker.StateChanged does not bubble: the app's one handler shows what failed, why, what to do.
            self.wizard.on_worker_state_changed(event)

    def show_event(self, event: DiffStepEvent) -> None:
        """Render one event of the step."""
        if isinstance(event, EndpointsResolved):
            self.set_command(event.command)
        elif isinstance(event, TableStarted):
            self.live = _Live(event.source_table, event.position, event.total)
            self._put_table(event.source_table, None)
        elif isinstance(event, BucketsScanned):
            self.live.buckets, self.live.rows = event.buckets, event.rows
            self.live.rows_per_second = event.rows_per_second
        elif isinstance(event, Rechecking):
            self.live.rechecking = event.differences
        elif isinstance(event, TableCompared):
            self._put_table(event.diff.source_table, event.diff)
        elif isinstance(event, DiffDone):
            self.running = False
            self._show_report(event.report)
            if event.report.identical:  # differences stay on screen for the presenter to explain
                self.step_finished()
        self._dirty = True

    def _show_report(self, report: DiffReport) -> None:
        self.report = report
        for table in report.tables:
            self._put_table(table.source_table, table)
        self._select_requested_table()
        self._render_headline()
        self._show_selected()

    # -- rendering -----------------------------------------------------------------------------------------------

    def _put_table(self, name: str, table: TableDiff | None) -> None:
        summary = self.query_one("#diff-tables", DataTable)
        self.tables[name] = table
        label = Text(name if table is None or table.target_table == name else f"{name} → {table.target_table}")
        if table is None:
            cells = [label, Text("comparing…", style="yellow"), Text(""), Text(""), Text("")]
        else:
            cells = [
                label,
                table_result(table),
                Text(f"{table.source_rows:,}", justify="right"),
                Text(f"{table.target_rows:,}", justify="right"),
                Text(f"{table.elapsed_seconds:.2f}s", justify="right", style="dim"),
            ]
        if name in summary.rows:
            for column, cell in zip(("table", "result", "source", "target", "time"), cells, strict=True):
                summary.update_cell(name, column, cell)
        else:
            summary.add_row(*cells, key=name)
        if table is not None and self._selected_name() == name:
            self._show_selected()

    def _select_requested_table(self) -> None:
        wanted = self.select_table
        if not wanted:
            return
        names = list(self.tables)
        for index, name in enumerate(names):
            table = self.tables[name]
            candidates = {name, name.split(".", 1)[-1]}
            if table is not None:
                candidates |= {table.target_table, table.target_table.split(".", 1)[-1]}
            if wanted in candidates:
                self.query_one("#diff-tables", DataTable).move_cursor(row=index)
                return

    def _selected_name(self) -> str | None:
        summary = self.query_one("#diff-tables", DataTable)
        if not summary.row_count:
            return None
        return str(summary.coordinate_to_cell_key(summary.cursor_coordinate).row_key.value)

    def _show_selected(self) -> None:
        name = self._selected_name()
        table = self.tables.get(name) if name is not None else None
        message = f"Comparing {name}…" if name is not None else "Comparing…"
        self.query_one(SideBySide).show(table, self.kinds, empty_message=message)
        self._render_filter()

    @on(DataTable.RowHighlighted, "#diff-tables")
    def _table_highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.RowSelected, "#diff-tables")
    def _table_chosen(self) -> None:
        self.query_one(SideBySide).focus_rows()

    def _refresh_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self._render_headline()

    def _render_headline(self) -> None:
        text = Text()
        if self.stopped:
            text.append("✗ Nothing compared", style="bold red")
            text.append(" · press r to try again")
        elif self.report is not None:
            headline = summarize(self.report)
            tables = len(self.report.tables)
            if self.report.identical:
                text.append("✓ Identical", style="bold green")
                text.append(f" · {tables} table{'s' if tables != 1 else ''}, every row matches")
            else:
                differing = sum(1 for table in self.report.tables if not table.identical)
                text.append(f"✗ {headline.differences} differences", style="bold red")
                text.append(f" in {differing} of {tables} table{'s' if tables != 1 else ''}")
            text.append(f" · {self.report.elapsed_seconds:.2f}s", style="dim")
        elif self.running:
            live = self.live
            if not live.table:
                text.append("Connecting to both databases…", style="yellow")
            else:
                text.append(f"Comparing {live.table} ({live.position}/{live.total})", style="yellow")
                text.append(f" · {live.buckets:,} buckets · {live.rows:,} rows · {format_rate(live.rows_per_second)}")
                if live.rechecking:
                    text.append(f" · re-checking {live.rechecking} differences", style="yellow")
        for path in self.exported[-1:]:
            text.append("\nexported ", style="dim")
            text.append(path)
        self.query_one("#diff-headline", Static).update(text)

    def _render_filter(self) -> None:
        name = self._selected_name()
        table = self.tables.get(name) if name is not None else None
        counts = kind_counts(table) if table is not None else dict.fromkeys(DifferenceKind, 0)
        text = Text("show ", style="dim")
        for key, kind in _FILTER_KEYS.items():
            symbol, style = MARKS[kind]
            active = kind in self.kinds
            text.append(f"{key} ", style="bold" if active else "dim")
            text.append(symbol, style=style if active else "dim")
            text.append(f" {kind.label} {counts[kind]}", style="" if active else "dim strike")
            text.append("  ")
        text.append("a ", style="bold")
        text.append("all", style="" if self.kinds == ALL_KINDS else "dim")
        sides = self.query_one(SideBySide)
        text.append(f"   t {'side by side' if sides.transposed else 'transpose'}", style="dim")
        self.query_one("#diff-filter", Static).update(text)

    # -- keys ----------------------------------------------------------------------------------------------------

    def action_only(self, key: str) -> None:
        """Show only one kind of difference; pressing it again shows every kind."""
        kind = _FILTER_KEYS[key]
        self.kinds = ALL_KINDS if self.kinds == frozenset({kind}) else frozenset({kind})
        self._show_selected()

    def action_show_all(self) -> None:
        self.kinds = ALL_KINDS
        self._show_selected()

    def action_transpose(self) -> None:
        sides = self.query_one(SideBySide)
        keep_keyboard = sides.has_focus_within
        sides.transposed = not sides.transposed
        if keep_keyboard:
            sides.focus_rows()
        self._render_filter()

    def action_export(self, fmt: ExportFormat) -> None:
        if self.report is None:
            self.notify("Nothing to export yet: the comparison has not finished.", severity="warning")
            return
        try:
            path = write_export(self.report, fmt)
        except OSError as exc:
            self.notify(f"Could not write the export: {exc}. Check free space and permissions.", severity="error")
            return
        self.exported.append(str(path))
        self._render_headline()
        self.notify(f"Exported {fmt.upper()} to {path}", markup=False, timeout=4)

    def action_next(self) -> None:
        if self.report is None:
            self.notify("The comparison has not finished yet.", severity="warning")
            return
        self.wizard.step_done(Step.DIFF, diff=summarize(self.report))
