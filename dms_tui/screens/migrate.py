"""Migrate: define the DMS task in a form with live validation, then create, start and watch it live.

Two panes. Before the task exists: the task settings a person decides (migration type, TargetTablePrepMode,
MaxFullLoadSubTasks), the table mappings JSON with messages naming rule id and field, the preview of which source tables
are selected and what they become, and the settings JSON as DMS will get it. Once the task exists: its header, overall
progress, counters, a per-table table, a throughput sparkline and an event strip, with keys to stop, resume, reload a
table, open the diff for a table and delete the task. A change-capturing task (full-load-and-cdc, cdc) adds its phase
(full load → applying cached changes → ongoing replication), source and target latency read from CloudWatch with a
sparkline, captured and applied changes per table, and, in the sandbox, a key (w) that starts and stops a demo
workload on the source so changes visibly flow. Its prerequisites are read when the type is chosen and shown under
the form, each with its fix.

All AWS and database work is the Migrate step's (:mod:`dms_tui.steps.migrate`), run in thread workers; this screen
renders the typed events they post. Events for the strip come from :mod:`dms_tui.aws.task_events`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import (
    Button,
    ContentSwitcher,
    DataTable,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    RichLog,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, WorkerState

from dms_tui.aws.cdc_metrics import CdcLatency, CdcMetricsEvent, CdcMetricsUnavailable
from dms_tui.aws.dms import DmsResult, ReplicationTaskState
from dms_tui.aws.task_events import (
    TableCompleted,
    TableFailed,
    TaskActivity,
    TaskFailed,
    TaskStarted,
    TaskStopped,
    activity_between,
    describe_activity,
    elapsed_seconds,
    format_elapsed,
    qualified_name,
    table_rates,
    throughput,
)
from dms_tui.aws.task_poller import PollEvent, PollFailed, ReplicationTaskSnapshot, TableStatistics, TaskGone
from dms_tui.dmstask.mappings import TableMappings
from dms_tui.dmstask.migration import DEFAULT_TASK_ID, DraftCheck, TaskDraft
from dms_tui.dmstask.preview import SourceTable, plan_tables
from dms_tui.dmstask.settings import MAX_FULL_LOAD_SUBTASKS, TargetTablePrepMode
from dms_tui.domain.dms import ENDED_STATUSES, MigrationType, TableState, TaskStatus
from dms_tui.domain.units import abbreviate, format_rate
from dms_tui.errors import StepError
from dms_tui.journey import Step
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.cdc_prerequisites import CdcPrerequisites, PrerequisitesChecked, summary_lines
from dms_tui.steps.cdc_watch import (
    DEMO_WORKLOAD_RATE,
    PHASES,
    CdcPhase,
    WorkloadProgress,
    captures_changes,
    cdc_metrics_reader,
    cdc_phase,
    run_demo_workload,
)
from dms_tui.steps.migrate import (
    CLOUDWATCH_CLIENT,
    METRICS_CLOCK,
    METRICS_INTERVAL,
    WATCH_AGAIN_STATUSES,
    CommandIssued,
    LaunchEvent,
    MigrateStep,
    OldTaskRemoved,
    TaskAction,
    TaskCreated,
    TaskLaunched,
    TaskStatusSeen,
    all_tables_completed,
    start_type_for,
)
from dms_tui.widgets.narration import NarrationPanel

LAUNCH_JOB = "job:create and start the DMS task"  # a long job: quitting during it asks first
THROUGHPUT_POINTS = 60  # samples kept for the sparkline (two minutes at the running poll interval)

STATUS_STYLE: dict[str, str] = {
    TaskStatus.CREATING: "cyan",
    TaskStatus.READY: "cyan",
    TaskStatus.STARTING: "yellow",
    TaskStatus.RUNNING: "bold green",
    TaskStatus.STOPPING: "yellow",
    TaskStatus.STOPPED: "bold",
    TaskStatus.FAILED: "bold red",
    TaskStatus.DELETING: "yellow",
    TaskStatus.MODIFYING: "yellow",
}

TABLE_STATE_STYLE: dict[str, str] = {
    TableState.COMPLETED: "green",
    TableState.BEFORE_LOAD: "dim",
    TableState.FULL_LOAD: "yellow",
    TableState.LOADING: "yellow",
    TableState.ERROR: "bold red",
    TableState.ERROR_SHORT: "bold red",
    TableState.CANCELLED: "yellow",
}

ACTIVITY_STYLE: dict[type, str] = {
    TaskStarted: "green",
    TaskStopped: "bold",
    TaskFailed: "bold red",
    TableCompleted: "green",
    TableFailed: "red",
}

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("table", "table"),
    ("state", "state"),
    ("rows", "rows"),
    ("ins/upd/del", "iud"),
    ("valid.", "validation"),
    ("rows/s", "rate"),
)
COLUMN_WIDTHS = {"state": 15, "rows": 7, "iud": 11, "validation": 8, "rate": 6}
# A change-capturing task: captured (Inserts/Updates/Deletes) and applied (AppliedInserts/...) instead of the load rate.
CDC_TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("table", "table"),
    ("state", "state"),
    ("rows", "rows"),
    ("captured", "iud"),  # inserts/updates/deletes read from the source
    ("applied", "applied"),  # ... and applied on the target
)
CDC_COLUMN_WIDTHS = {"state": 15, "rows": 7, "iud": 10, "applied": 10}
LATENCY_POINTS = 60


class TaskEventArrived(Message):
    """A launch or poll event from a worker (the only way worker results reach the screen)."""

    def __init__(self, event: LaunchEvent | PollEvent) -> None:
        super().__init__()
        self.event = event


class CdcMetricsArrived(Message):
    """A CloudWatch read of the task's CDC metrics (from the metrics worker)."""

    def __init__(self, event: CdcMetricsEvent) -> None:
        super().__init__()
        self.event = event


class WorkloadTicked(Message):
    """The demo workload's progress, about once a second."""

    def __init__(self, progress: WorkloadProgress) -> None:
        super().__init__()
        self.progress = progress


class PrerequisitesRead(Message):
    def __init__(self, report: CdcPrerequisites) -> None:
        super().__init__()
        self.report = report


class SourceTablesRead(Message):
    def __init__(self, tables: Sequence[SourceTable]) -> None:
        super().__init__()
        self.tables = tables


class ExistingTaskFound(Message):
    """A task with the form's identifier already exists (an earlier run, or one whose ARN was never recorded)."""

    def __init__(self, task: ReplicationTaskState) -> None:
        super().__init__()
        self.task = task


class ValidationFailuresRead(Message):
    """The newest rows of the target's validation failures table (or why they could not be read)."""

    def __init__(self, failures: Sequence[Any], error: str | None = None) -> None:
        super().__init__()
        self.failures, self.error = failures, error


class AssessmentRead(Message):
    """Our premigration findings for the draft (or why they could not be made)."""

    def __init__(self, findings: Sequence[Any], error: str | None = None) -> None:
        super().__init__()
        self.findings, self.error = findings, error


class DmsAssessmentEvent(Message):
    """An event of DMS's premigration assessment run (AWS), or why it stopped."""

    def __init__(self, event: Any, error: str | None = None) -> None:
        super().__init__()
        self.event, self.error = event, error


class TaskActionDone(Message):
    """stop / start / reload / delete answered."""

    def __init__(self, action: TaskAction, result: DmsResult) -> None:
        super().__init__()
        self.action, self.result = action, result


def status_text(status: str) -> Text:
    return Text(status or "unknown", style=STATUS_STYLE.get(status, ""))


def table_row(table: TableStatistics, rate: float) -> tuple[Text, ...]:
    """One row of the per-table DataTable (names from DMS are plain text, never markup)."""
    validation = table.validation_state or "–"
    validation = "off" if validation.lower() == "not enabled" else validation  # fits the 8-column cell
    if table.validation_failed_records:
        validation += f" ({table.validation_failed_records} failed)"
    return (
        Text(qualified_name(table)),
        Text(table.table_state, style=TABLE_STATE_STYLE.get(table.table_state, "")),
        Text(abbreviate(table.full_load_rows), justify="right"),
        Text(f"{table.inserts}/{table.updates}/{table.deletes}", justify="right"),
        Text(validation, style="dim" if validation == "–" else ""),
        Text(abbreviate(rate), justify="right"),
    )


def cdc_table_row(table: TableStatistics) -> tuple[Text, ...]:
    """One row for a change-capturing task: captured and applied inserts/updates/deletes side by side."""
    applied = f"{table.applied_inserts}/{table.applied_updates}/{table.applied_deletes}"
    captured = table.inserts + table.updates + table.deletes
    done = table.applied_inserts + table.applied_updates + table.applied_deletes
    return (
        Text(qualified_name(table)),
        Text(table.table_state, style=TABLE_STATE_STYLE.get(table.table_state, "")),
        Text(f"{table.full_load_rows:,}", justify="right"),
        Text(f"{table.inserts}/{table.updates}/{table.deletes}", justify="right"),
        Text(applied, justify="right", style="green" if done and done == captured else ""),
    )


def phase_text(phase: CdcPhase | None, migration_type: str) -> Text:
    """full load › applying cached changes › ongoing replication, the current one bold (a cdc task has one)."""
    shown = (CdcPhase.ONGOING,) if migration_type == MigrationType.CDC else PHASES
    text = Text("phase ", style="dim")
    for i, each in enumerate(shown):
        if i:
            text.append(" › ", style="dim")
        current = each is phase
        text.append(("▶ " if current else "") + each.value, style="bold green" if current else "dim")
    return text


def latency_text(latency: CdcLatency | None, note: str = "") -> Text:
    """Source and target latency (seconds) and incoming changes, as CloudWatch last reported them."""

    def seconds(value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:.2f} s" if value < 10 else f"{value:,.0f} s"

    text = Text("latency ", style="dim")
    if latency is None or not latency.has_data:
        text.append(note or "waiting for CloudWatch…", style="dim")
        return text
    text.append("source ", style="dim")
    text.append(seconds(latency.source_s))
    text.append("  target ", style="dim")
    text.append(seconds(latency.target_s), style="bold")
    if latency.incoming_changes is not None:
        text.append("  incoming ", style="dim")
        text.append(f"{latency.incoming_changes:,.0f}")
    if latency.throughput_target is not None:
        text.append("  applied ", style="dim")
        text.append(f"{latency.throughput_target:,.0f}/s")
    if note:
        text.append(f"  {note}", style="yellow")
    return text


def header_text(snapshot: ReplicationTaskSnapshot) -> Text:
    """Task id, migration type, status in colour and elapsed time; then why it stopped or failed."""
    text = Text.assemble(
        ("task ", "dim"),
        (snapshot.identifier, "bold"),
        ("  ·  ", "dim"),
        snapshot.migration_type,
        ("  ·  ", "dim"),
        status_text(snapshot.status),
        ("  ·  elapsed ", "dim"),
        format_elapsed(elapsed_seconds(snapshot)),
    )
    if snapshot.last_failure_message:
        text.append("\n")
        text.append(f"failure: {snapshot.last_failure_message}", style="red")
    elif snapshot.stop_reason:
        text.append("\n")
        text.append(f"stop reason: {snapshot.stop_reason}", style="dim")
    if snapshot.table_statistics_error:
        text.append("\n")
        text.append(f"table statistics unavailable: {snapshot.table_statistics_error}", style="yellow")
    return text


def counters_text(snapshot: ReplicationTaskSnapshot) -> Text:
    s = snapshot.stats
    return Text.assemble(
        ("  loaded ", "dim"),
        (str(s.tables_loaded), "green" if s.tables_loaded else ""),
        ("  loading ", "dim"),
        str(s.tables_loading),
        ("  queued ", "dim"),
        str(s.tables_queued),
        ("  errored ", "dim"),
        (str(s.tables_errored), "bold red" if s.tables_errored else ""),
    )


class MigrateScreen(WizardScreen):
    STEP = Step.MIGRATE
    AUTO_FOCUS = "#create-task"  # Enter creates and starts the task with the reviewed defaults
    TITLE = "Migrate · define the DMS task, run it and watch it live"
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("x", "stop_task", "Stop"),
        Binding("r", "reload_table", "Reload"),
        Binding("d", "diff_table", "Diff"),
        Binding("delete", "delete_task", "Delete"),
        Binding("w", "toggle_workload", "Workload"),
        # Not in the footer: the preview's assessment section offers it where it applies (AWS).
        Binding("a", "assessment_run", "DMS assessment", show=False),
        Binding("f5", "next", "Next"),
    ]

    # Presenter mode tells the change-data-capture story: once a change-capturing task has loaded every table, the
    # demo workload writes for WORKLOAD_SHOW_S seconds on screen, then stops, and the last changes get DRAIN_S
    # seconds to reach the target before the Diff.
    WORKLOAD_SHOW_S: ClassVar[float] = 30.0
    DRAIN_S: ClassVar[float] = 5.0

    def __init__(self, journey: Any) -> None:
        super().__init__(journey)
        self.presenter_story = ""  # presenter mode's CDC part: "" not begun, "writing", then "told"
        self.step: MigrateStep | None = None  # once the environment is known (on mount)
        self.arn: str | None = journey.state.task_arn
        self.last: ReplicationTaskSnapshot | None = None
        self.check: DraftCheck | None = None
        self.draft = TaskDraft()  # what the form held at the last change
        self._own_assessment = Text()  # our findings, shown above the DMS run's lines
        self.source_tables: Sequence[SourceTable] | None = None
        self.throughput_history: list[float] = []
        self._watch_stop: threading.Event | None = None
        self._launching = False
        self._cdc_columns = False  # the per-table columns are the change-capturing set
        self._metrics_stop: threading.Event | None = None
        self.latency: CdcLatency | None = None
        self.latency_history: list[float] = []
        self.phase: CdcPhase | None = None
        self._workload_stop: threading.Event | None = None
        self.prerequisites: CdcPrerequisites | None = None
        self._unapplied_noted: set[str] = set()

    # -- layout --------------------------------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        draft = self._initial_draft()
        with ContentSwitcher(initial="migrate-define", id="migrate-switcher"):
            with Vertical(id="migrate-define"):
                with TabbedContent(id="migrate-tabs"):
                    with TabPane("task", id="tab-task"), VerticalScroll(id="migrate-form"):
                        with Horizontal(classes="field-row"):
                            yield Label("task identifier", classes="field-label")
                            yield Input(draft.identifier, id="task-id", classes="migrate-input")
                        with Horizontal(classes="field-row"):
                            yield Label("MaxFullLoadSubTasks", classes="field-label")
                            yield Input(
                                draft.max_subtasks,
                                id="max-subtasks",
                                classes="migrate-input",
                                tooltip=f"MaxFullLoadSubTasks: tables loaded in parallel, 1 to {MAX_FULL_LOAD_SUBTASKS}",
                            )
                        with Horizontal(id="migrate-choices"):
                            with Vertical(classes="migrate-choice") as types:
                                types.border_title = "migration type"
                                with RadioSet(id="migration-type"):
                                    for kind in MigrationType:
                                        yield RadioButton(
                                            kind.value, value=kind.value == draft.migration_type, id=f"type-{kind}"
                                        )
                                yield Static("", id="migration-type-help", classes="migrate-help")
                            with Vertical(classes="migrate-choice") as modes:
                                modes.border_title = "TargetTablePrepMode"
                                with RadioSet(id="prep-mode"):
                                    for mode in TargetTablePrepMode:
                                        yield RadioButton(
                                            mode.value, value=mode.value == draft.prep_mode, id=f"prep-{mode}"
                                        )
                                yield Static("", id="prep-mode-help", classes="migrate-help")
                        yield Static("", id="cdc-prerequisites")
                    with TabPane("table mappings", id="tab-mappings"):
                        yield TextArea(draft.mappings_text, id="mappings-json", show_line_numbers=True, soft_wrap=False)
                    with TabPane("preview", id="tab-preview"):
                        yield Static(Text("Reading the source catalog…", style="dim"), id="preview-status")
                        yield Static("", id="assessment")
                        yield DataTable(id="preview-table", cursor_type="row", zebra_stripes=True)
                    with TabPane("settings JSON", id="tab-settings"):
                        yield TextArea("", id="settings-json", read_only=True, show_line_numbers=True, soft_wrap=False)
                with Horizontal(id="migrate-define-bar"):
                    yield Static("", id="draft-problems")
                    yield Button("Create and start (s)", id="create-task", variant="primary")
            with Vertical(id="migrate-watch"):
                yield Static(Text("Looking for the task…", style="dim"), id="task-header")
                with Horizontal(id="task-progress-row"):
                    yield ProgressBar(total=100, show_eta=False, id="task-progress")
                    yield Static("", id="task-counters")
                with Vertical(id="cdc-panel"):
                    yield Static("", id="cdc-phase")
                    with Horizontal(id="cdc-latency-row"):
                        yield Static("", id="cdc-latency-label")
                        yield Sparkline([], id="cdc-latency")
                with Horizontal(id="task-body"):
                    yield DataTable(id="task-tables", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="task-side"):
                        yield Static("", id="throughput-label")
                        yield Sparkline([], id="task-throughput")
                        yield RichLog(id="task-events", max_lines=200, markup=False, wrap=True, min_width=20)
                        yield Button("Next: diff ›", id="next", variant="primary", disabled=True, compact=True)

    def equivalent_command(self) -> str:
        return "aws dms create-replication-task …"

    def _initial_draft(self) -> TaskDraft:
        """The form's starting point: the mappings saved by an earlier visit, else the seed's; the migration type the
        environment was configured (and provisioned) for."""
        task = self.journey.state.task
        saved = task.table_mappings if task else None
        draft = TaskDraft(identifier=(task.identifier if task and task.identifier else DEFAULT_TASK_ID))
        return TaskDraft(
            identifier=draft.identifier,
            migration_type=self.journey.config.migration_type,
            mappings_text=saved if isinstance(saved, str) else draft.mappings_text,
        )

    def on_mount(self) -> None:
        tables = self.query_one("#task-tables", DataTable)
        for label, key in TABLE_COLUMNS:
            # Fixed widths: a column sized by its first value ("Before load") would cut "Table completed" later.
            tables.add_column(label, key=key, width=COLUMN_WIDTHS.get(key))
        preview = self.query_one("#preview-table", DataTable)
        for label in ("source table", "on the target", "columns", "est. rows"):
            preview.add_column(label, key=label)
        self.query_one("#task-events", RichLog).border_title = "events"
        self.query_one("#cdc-panel").display = False
        self.query_one("#cdc-prerequisites").display = False
        environment = self.wizard.environment
        if environment is not None:
            self.step = MigrateStep(environment, self.wizard.services, self.journey)
        self._choose_cdc_for_the_presenter()
        self.draft_changed()
        if self.arn is not None:
            self._show_pane("migrate-watch")
            self.set_command(self._command_text(TaskAction.DESCRIBE))
            self.start_watching()
            return
        if self.step is not None:
            self.find_existing(self.query_one("#task-id", Input).value.strip())
        if self.step is not None and self.step.outputs is not None:
            self.read_catalog()
        else:
            self._preview_status(
                Text("No terraform outputs are recorded: go back (Escape) and provision first.", "red")
            )

    # -- defining the task ---------------------------------------------------------------------------------------------

    def current_draft(self) -> TaskDraft:
        def pressed(radio_id: str, prefix: str, fallback: str) -> str:
            button = self.query_one(f"#{radio_id}", RadioSet).pressed_button
            return (button.id or "").removeprefix(prefix) if button is not None else fallback

        return TaskDraft(
            identifier=self.query_one("#task-id", Input).value,
            migration_type=pressed("migration-type", "type-", MigrationType.FULL_LOAD.value),
            prep_mode=pressed("prep-mode", "prep-", TargetTablePrepMode.TRUNCATE_BEFORE_LOAD.value),
            max_subtasks=self.query_one("#max-subtasks", Input).value,
            mappings_text=self.query_one("#mappings-json", TextArea).text,
        )

    @on(Input.Changed, "#task-id, #max-subtasks")
    @on(RadioSet.Changed)
    @on(TextArea.Changed, "#mappings-json")
    def draft_changed(self) -> None:
        """Live validation: every problem names the rule id or settings field; the preview follows valid mappings."""
        draft = self.draft = self.current_draft()
        check = self.check = draft.check()
        problems = self.query_one("#draft-problems", Static)
        if check.problems:
            text = Text()
            for problem in check.problems:
                text.append(f"✗ {problem}\n", style="red")
            text.rstrip()
            problems.update(text)
        else:
            problems.update(Text("✓ settings and mappings are valid", style="green"))
        self.query_one("#create-task", Button).disabled = not check.ok or self._launching
        self.query_one("#settings-json", TextArea).text = check.settings.to_json()
        kind = MigrationType(draft.migration_type) if draft.migration_type in set(MigrationType) else None
        help_text = Text()
        if kind is not None:
            help_text.append(kind.summary + "\n")
            for need in kind.needs:
                help_text.append(f"• {need}\n", style="dim")
        help_text.rstrip()
        self.query_one("#migration-type-help", Static).update(help_text)
        mode = check.settings.prep_mode
        self.query_one("#prep-mode-help", Static).update(Text(mode.explanation if mode else ""))
        if check.mappings is not None:
            self._render_preview(check.mappings)
        if self.arn is None:
            self.set_command(self._create_command_text())
        self._prerequisites_for(draft, check)
        self.refresh_bindings()  # the workload key follows the chosen type

    def _prerequisites_for(self, draft: TaskDraft, check: DraftCheck) -> None:
        """Read the CDC prerequisites when a change-capturing type is chosen (once per type and mappings)."""
        panel = self.query_one("#cdc-prerequisites", Static)
        if not captures_changes(draft.migration_type) or check.definition is None:
            self.prerequisites = None
            panel.update("")
            panel.display = False
            return
        key = (check.definition.migration_type.value, check.definition.table_mappings)
        if getattr(self, "_prerequisites_key", None) == key:
            return
        self._prerequisites_key = key
        if self.step is None or self.step.outputs is None:
            return
        panel.display = True
        panel.update(Text("Checking the CDC prerequisites on both databases…", style="dim"))
        self.read_prerequisites(draft)

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-prerequisites")
    def read_prerequisites(self, draft: TaskDraft) -> None:
        assert self.step is not None
        self.post_message(PrerequisitesRead(self.step.prerequisites(draft)))

    def on_prerequisites_read(self, message: PrerequisitesRead) -> None:
        self.show_prerequisites(message.report)

    def show_prerequisites(self, report: CdcPrerequisites) -> None:
        """✓ / ✗ / ! per finding, the fix under each that did not pass (database text is plain text)."""
        self.prerequisites = report
        if not captures_changes(self.draft.migration_type):
            return
        verdict = (
            ("CDC prerequisites met", "bold green")
            if report.ok and not report.warnings
            else ("CDC prerequisites met, with warnings", "bold yellow")
            if report.ok
            else ("CDC prerequisites NOT met: the task would not start", "bold red")
        )
        text = Text(verdict[0], style=verdict[1])
        styles = {"✓": "green", "✗": "bold red", "!": "yellow"}
        for mark, line in summary_lines(report):
            text.append(f"\n{mark} ", style=styles[mark])
            text.append(line, style="" if mark != "✓" else "dim")
        panel = self.query_one("#cdc-prerequisites", Static)
        panel.update(text)
        panel.display = True

    def _create_command_text(self) -> str:
        check = self.check
        command = None
        if self.step is not None and check is not None and check.definition is not None:
            command = self.step.create_command(check.definition)
        return (
            command.text if command is not None else "aws dms create-replication-task …  (fix the problems above first)"
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-catalog")
    def read_catalog(self) -> None:
        assert self.step is not None
        self.post_message(SourceTablesRead(self.step.source_tables()))

    def on_source_tables_read(self, message: SourceTablesRead) -> None:
        self.source_tables = message.tables
        self._render_preview_if_valid()

    def _render_preview_if_valid(self) -> None:
        if self.check is not None and self.check.mappings is not None:
            self._render_preview(self.check.mappings)

    def _render_preview(self, mappings: TableMappings) -> None:
        if self.source_tables is None:
            return
        plans = plan_tables(self.source_tables, mappings)
        table = self.query_one("#preview-table", DataTable)
        table.clear()
        for plan in plans:
            target = Text(str(plan.target), style="bold yellow" if plan.source != plan.target else "")
            columns = Text(f"{len(plan.columns)}")
            if plan.columns_removed:
                columns.append(f" (−{', '.join(plan.columns_removed)})", style="yellow")
            rows = plan.table.estimated_rows
            table.add_row(Text(str(plan.source)), target, columns, Text("?" if rows < 0 else f"{rows:,}"))
        renamed = sum(1 for p in plans if p.renamed)
        summary = Text(f"{len(plans)} of {len(self.source_tables)} source tables selected", style="bold")
        if renamed:
            summary.append(f"; {renamed} renamed on the target", style="yellow")
        if not plans:
            summary.append(" — the mappings select nothing: check the schema-name and table-name", style="red")
        self._preview_status(summary)

    def _preview_status(self, text: Text) -> None:
        self.query_one("#preview-status", Static).update(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-find")
    def find_existing(self, identifier: str) -> None:
        assert self.step is not None
        found = self.step.find(identifier)
        if found is not None:
            self.post_message(ExistingTaskFound(found))

    def on_existing_task_found(self, message: ExistingTaskFound) -> None:
        """A moving task is watched again (its ARN was lost with a dropped terminal); an idle one is only mentioned."""
        task = message.task
        if self.arn is not None or self._launching:
            return
        if task.status in WATCH_AGAIN_STATUSES:
            self.arn = task.arn
            self._show_pane("migrate-watch")
            self.query_one("#task-events", RichLog).write(
                Text(f"· found the {task.status} task {task.identifier} again")
            )
            self.set_command(self._command_text(TaskAction.DESCRIBE))
            self.start_watching()
        else:
            self.notify(
                f"A task named {task.identifier} already exists ({task.status}); Create and start replaces it.",
                timeout=8,
                markup=False,  # the name and status come from AWS
            )

    # -- launching -----------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#create-task")
    def create_task(self) -> None:
        check = self.check
        if self.step is None or self.step.outputs is None:
            self.notify("There is no environment to run in: go back and provision first.", severity="error")
            return
        if check is None or check.definition is None:
            self.notify("Fix the problems listed under the form first.", severity="warning")
            return
        if self._launching:
            return
        self.remember_draft()
        self._launching = True
        self.query_one("#create-task", Button).disabled = True
        self.query_one("#draft-problems", Static).update(Text("Creating the task…", style="yellow"))
        self.launch(self.draft)

    @work(thread=True, exclusive=True, exit_on_error=False, group=LAUNCH_JOB)
    def launch(self, draft: TaskDraft) -> None:
        assert self.step is not None
        for event in self.step.launch(draft):
            self.post_message(TaskEventArrived(event))  # post_message is thread-safe

    # -- watching ------------------------------------------------------------------------------------------------------

    def start_watching(self) -> None:
        if self.arn is None or self.step is None:
            return
        self.stop_watching()
        self._watch_stop = threading.Event()
        self.watch_task(self.arn, self._watch_stop)

    def stop_watching(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
            self._watch_stop = None
        self.stop_metrics()

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-watch")
    def watch_task(self, arn: str, stop: threading.Event) -> None:
        assert self.step is not None
        for event in self.step.watch(arn, stop):
            if stop.is_set():
                return
            self.post_message(TaskEventArrived(event))

    def on_screen_suspend(self) -> None:
        self.stop_watching()  # a modal on top or another step: nobody looks, so nothing polls
        self.remember_draft()

    def on_screen_resume(self) -> None:
        if self.arn is not None and self._watch_stop is None and (self.last is None or not self.last.ended):
            self.start_watching()

    def on_unmount(self) -> None:
        self.stop_watching()
        self.stop_workload()  # a thread of this screen: it must not outlive it
        self.remember_draft()

    def remember_draft(self) -> None:
        """Keep valid mappings (and the identifier) in the checkpoint, so Escape or a dropped terminal loses nothing."""
        check = self.check
        if check is None or check.mappings is None or check.mappings_problems:
            return
        remembered = {"table_mappings": check.mappings.to_json(), "identifier": self.draft.identifier.strip()}
        task = self.journey.state.task
        if task is None or any(getattr(task, key) != value for key, value in remembered.items()):
            self.journey.update_task(**remembered)

    def on_task_event_arrived(self, message: TaskEventArrived) -> None:
        self.show_event(message.event)

    def show_event(self, event: LaunchEvent | PollEvent) -> None:
        """Render one event from the launch or the watch (also how tests inject snapshots)."""
        log = self.query_one("#task-events", RichLog)
        if isinstance(event, ReplicationTaskSnapshot):
            self.show_snapshot(event)
        elif isinstance(event, CommandIssued):
            self.set_command(event.command.text)
        elif isinstance(event, TaskCreated):
            self.arn = event.arn  # the step has recorded it: a dropped terminal finds the task again
            self._show_pane("migrate-watch")
            self.query_one("#task-header", Static).update(Text(f"task {event.identifier} created", style="cyan"))
            log.write(Text(f"· task {event.identifier} created"))
        elif isinstance(event, PrerequisitesChecked):
            self.show_prerequisites(event.report)
            report = event.report
            summary = f"· CDC prerequisites: {len(report.findings) - len(report.blockers) - len(report.warnings)} met"
            if report.warnings:
                summary += f", {len(report.warnings)} warning(s)"
            if report.blockers:
                summary += f", {len(report.blockers)} not met"
            log.write(Text(summary, style="red" if report.blockers else ("yellow" if report.warnings else "")))
            for warning in report.warnings:
                log.write(Text(f"  ! {warning.title}: {warning.detail}", style="yellow"))
        elif isinstance(event, OldTaskRemoved):
            log.write(Text(f"· replaced the task {event.identifier} an earlier run left ({event.status})"))
        elif isinstance(event, TaskStatusSeen):
            self.query_one("#task-header", Static).update(
                Text(f"waiting for the task to be ready: {event.status} after {event.waited_s:.0f} s", style="cyan")
            )
        elif isinstance(event, TaskLaunched):
            self._launch_finished()
            log.write(Text(f"· task {event.task.identifier} {event.task.status}"))
            self.start_watching()
        elif isinstance(event, PollFailed):
            note = "throttled" if event.throttled else "no answer"
            log.write(Text(f"· poll {note}: {event.message}; retrying in {event.retry_in_s:.0f} s", style="yellow"))
        elif isinstance(event, TaskGone):
            self._task_gone("The task no longer exists (deleted elsewhere?). Define it again and start it.")

    def show_snapshot(self, snapshot: ReplicationTaskSnapshot) -> None:
        previous, self.last = self.last, snapshot
        self._show_pane("migrate-watch")
        log = self.query_one("#task-events", RichLog)
        for activity in activity_between(previous, snapshot):
            log.write(self._activity_line(activity))
        self.query_one("#task-header", Static).update(header_text(snapshot))
        self.query_one("#task-progress", ProgressBar).update(progress=snapshot.stats.full_load_progress_percent)
        self.query_one("#task-counters", Static).update(counters_text(snapshot))
        rates = table_rates(previous, snapshot)
        table = self.query_one("#task-tables", DataTable)
        cdc = captures_changes(snapshot.migration_type)
        if cdc and not self._cdc_columns:
            self._use_cdc_columns(table)
        columns = CDC_TABLE_COLUMNS if self._cdc_columns else TABLE_COLUMNS
        for stats in snapshot.tables:
            key = qualified_name(stats)
            cells = cdc_table_row(stats) if self._cdc_columns else table_row(stats, rates.get(key, 0.0))
            if key in table.rows:
                for (_, column), cell in zip(columns, cells, strict=True):
                    table.update_cell(key, column, cell)
            else:
                table.add_row(*cells, key=key)
        if cdc:
            self._show_cdc(snapshot)
            self._note_unapplied(snapshot)
        failed = sum(t.validation_failed_records for t in snapshot.tables)
        if failed > (sum(t.validation_failed_records for t in previous.tables) if previous else 0):
            self.read_validation_failures(snapshot.identifier, snapshot.task_arn)
        if previous is not None:
            self.throughput_history = [*self.throughput_history, throughput(previous, snapshot)][-THROUGHPUT_POINTS:]
        self.query_one("#task-throughput", Sparkline).data = self.throughput_history or [0.0]
        self.query_one("#throughput-label", Static).update(self._throughput_line())
        if all_tables_completed(snapshot):
            self.query_one("#task-events", RichLog).border_subtitle = "all tables completed · F5 next"
            next_button = self.query_one("#next", Button)
            if next_button.disabled:
                next_button.disabled = False
                next_button.focus()  # Enter moves on: the journey works with Enter and arrows alone
        self.refresh_bindings()

    def _use_cdc_columns(self, table: DataTable[Any]) -> None:
        self._cdc_columns = True
        table.clear(columns=True)
        for label, key in CDC_TABLE_COLUMNS:
            table.add_column(label, key=key, width=CDC_COLUMN_WIDTHS.get(key))

    # -- change data capture -------------------------------------------------------------------------------------------

    def _show_cdc(self, snapshot: ReplicationTaskSnapshot) -> None:
        """Phase, latency and the metrics reader of a change-capturing task."""
        self.query_one("#cdc-panel").display = True
        self._update_phase(snapshot)
        if snapshot.status == TaskStatus.RUNNING:
            self.start_metrics()
        elif snapshot.ended:
            self.stop_metrics()
        self._render_latency()

    def _note_unapplied(self, snapshot: ReplicationTaskSnapshot) -> None:
        """Once per table: updates or deletes captured, none applied, while its inserts apply: what DMS does for a
        table it cannot find rows in (no primary key or unique index), said in the events."""
        for stats in snapshot.tables:
            name = qualified_name(stats)
            captured = stats.updates + stats.deletes
            if name in self._unapplied_noted or not captured or stats.applied_updates + stats.applied_deletes:
                continue
            if not stats.applied_inserts and stats.inserts:
                continue  # nothing applied yet at all: the apply may simply be behind
            self._unapplied_noted.add(name)
            self.query_one("#task-events", RichLog).write(
                Text(
                    f"! {name}: {captured} updates/deletes captured, none applied: DMS applies them only to a "
                    "table with a primary key or unique index (inserts still apply)",
                    style="yellow",
                )
            )

    def _update_phase(self, snapshot: ReplicationTaskSnapshot | None) -> None:
        if snapshot is None:
            return
        phase = cdc_phase(snapshot, self.latency, self.phase)
        if phase is not None and phase is not self.phase and self.phase is not None:
            stamp = snapshot.taken_at.strftime("%H:%M:%S")
            self.query_one("#task-events", RichLog).write(
                Text.assemble((stamp + " ", "dim"), (f"phase: {phase.value}", "cyan"))
            )
        if phase is not None or snapshot.ended:
            self.phase = phase
        self.query_one("#cdc-phase", Static).update(self._phase_line(snapshot.migration_type))

    def _phase_line(self, migration_type: str) -> Text:
        return phase_text(self.phase, migration_type)

    def _throughput_line(self) -> Text:
        """Throughput now and at its peak; while the demo workload writes, its rate and what it wrote."""
        now = self.throughput_history[-1] if self.throughput_history else 0.0
        peak = max(self.throughput_history, default=0.0)
        text = Text.assemble(("throughput ", "dim"), format_rate(now), ("  peak ", "dim"), abbreviate(peak))
        if self._workload_stop is not None:
            text.append(f"   workload {DEMO_WORKLOAD_RATE:,.0f} changes/s", style="magenta")
            written = getattr(self, "_workload_written", 0)
            if written:
                text.append(f" · {written:,} written", style="magenta")
        return text

    def _render_latency(self, note: str = "") -> None:
        self.query_one("#cdc-latency-label", Static).update(latency_text(self.latency, note))
        self.query_one("#cdc-latency", Sparkline).data = self.latency_history or [0.0]

    def start_metrics(self) -> None:
        if self._metrics_stop is not None or self.arn is None or self.step is None:
            return
        self._metrics_stop = threading.Event()
        self.read_metrics(self.arn, self._metrics_stop)

    def stop_metrics(self) -> None:
        if self._metrics_stop is not None:
            self._metrics_stop.set()
            self._metrics_stop = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-cdc-metrics")
    def read_metrics(self, arn: str, stop: threading.Event) -> None:
        """GetMetricData every few seconds, the next read only after the answer (never two in flight)."""
        step = self.step
        assert step is not None
        options = self.wizard.services.options
        reader = cdc_metrics_reader(
            step.environment,
            step.client,
            arn,
            step.require_outputs().dms_replication_instance_arn,
            cloudwatch_client=options.get(CLOUDWATCH_CLIENT),
            interval_s=float(options.get(METRICS_INTERVAL, 5.0)),
            now=options.get(METRICS_CLOCK),
        )
        self.app.call_from_thread(self.set_command, reader.command().text)
        for event in reader.events(stop):
            if stop.is_set():
                return
            self.post_message(CdcMetricsArrived(event))

    def on_cdc_metrics_arrived(self, message: CdcMetricsArrived) -> None:
        event = message.event
        if isinstance(event, CdcMetricsUnavailable):
            self._render_latency(f"CloudWatch: {event.message}; retrying in {event.retry_in_s:.0f} s")
            return
        if not event.has_data and self.latency is not None:
            return
        self.latency = event
        if event.has_data:
            value = event.target_s if event.target_s is not None else event.source_s or 0.0
            self.latency_history = [*self.latency_history, value][-LATENCY_POINTS:]
        self._update_phase(self.last)
        self._render_latency()

    # -- presenter mode: the change-data-capture story -----------------------------------------------------------------

    def _choose_cdc_for_the_presenter(self) -> None:
        """Presenter mode: a new task is full-load-and-cdc, so the story goes on to live changes and the cutover
        (the form still shows the choice; the presenter's Enter creates it)."""
        if self.wizard.presenting and self.arn is None:
            self.query_one(f"#type-{MigrationType.FULL_LOAD_AND_CDC}", RadioButton).value = True

    def step_finished(self, press: Any = None, *, hold: float | None = None) -> None:
        """Every table loaded. A change-capturing task in presenter mode shows its live changes first (the workload
        writing, then the drain); everything else moves on to the Diff as every finished step does."""
        last = self.last
        if self.wizard.presenting and not self.presenter_story and last and captures_changes(last.migration_type):
            self.wizard.advance_when_shown(self, self._present_live_changes)
            return
        super().step_finished(press, hold=hold)

    def _present_live_changes(self) -> None:
        self.presenter_story = "writing"
        self.query_one(NarrationPanel).topic = "migrate-cdc"
        if self._workload_stop is None and self.check_action("toggle_workload", ()):
            self.action_toggle_workload()  # the sandbox's demo writes; on AWS the application's own writes flow
        self.wizard.advance_when_shown(self, self._present_the_drain, hold=self.WORKLOAD_SHOW_S)

    def _present_the_drain(self) -> None:
        self.presenter_story = "told"
        if self._workload_stop is not None:
            self.action_toggle_workload()  # stops it
        self.query_one("#task-events", RichLog).write(
            Text("· the last changes reach the target; then the diff compares both sides", style="magenta")
        )
        self.wizard.advance_when_shown(self, self.query_one("#next", Button).press, hold=self.DRAIN_S)

    # -- the demo workload (sandbox) -----------------------------------------------------------------------------------

    def action_toggle_workload(self) -> None:
        if self._workload_stop is not None:
            self._workload_stop.set()
            self._workload_stop = None
            self.query_one("#task-events", RichLog).write(Text("· workload stopped", style="magenta"))
        else:
            step = self.step
            if step is None or step.outputs is None:
                self.notify("There is no environment to write to: provision first.", severity="warning")
                return
            self._workload_stop = threading.Event()
            self._workload_written = 0
            self.query_one("#task-events", RichLog).write(
                Text(f"· workload started: {DEMO_WORKLOAD_RATE:,.0f} changes/s on the source (w stops it)", "magenta")
            )
            self.run_workload(self._workload_stop, self._workload_tables())
        self.query_one("#throughput-label", Static).update(self._throughput_line())
        self.refresh_bindings()

    def _workload_tables(self) -> list[str] | None:
        """The source tables the task's mappings select (None: every table)."""
        check = self.check
        if check is None or check.mappings is None or not self.source_tables:
            return None
        return [str(plan.source) for plan in plan_tables(self.source_tables, check.mappings)] or None

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-workload")
    def run_workload(self, stop: threading.Event, tables: list[str] | None) -> None:
        assert self.step is not None
        outputs = self.step.outputs
        assert outputs is not None

        def progress(event: WorkloadProgress) -> None:
            self.post_message(WorkloadTicked(event))

        run_demo_workload(self.step.environment, outputs, stop, tables=tables, on_progress=progress)

    def on_workload_ticked(self, message: WorkloadTicked) -> None:
        if self._workload_stop is None:
            return
        self._workload_written = message.progress.changes
        self.query_one("#throughput-label", Static).update(self._throughput_line())

    def stop_workload(self) -> None:
        if self._workload_stop is not None:
            self._workload_stop.set()
            self._workload_stop = None

    @on(TabbedContent.TabActivated, "#migrate-tabs")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The preview tab: also assess the (valid) draft against both databases, before any task exists."""
        check = self.check
        if event.pane.id == "tab-preview" and self.step is not None and check is not None and check.definition:
            self.query_one("#assessment", Static).update(Text("Assessing both databases…", style="dim"))
            self.run_assessment(check.definition)

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-assessment")
    def run_assessment(self, definition: Any) -> None:
        assert self.step is not None
        try:
            self.post_message(AssessmentRead(self.step.assess(definition)))
        except StepError as exc:
            self.post_message(AssessmentRead([], str(exc)))

    def on_assessment_read(self, message: AssessmentRead) -> None:
        text = Text()
        if message.error:
            text.append(f"premigration assessment unavailable: {message.error}", style="yellow")
        else:
            count = len(message.findings)
            text.append(f"premigration assessment: {count or 'no'} finding{'s' if count != 1 else ''}", style="bold")
            for finding in message.findings[:4]:
                mark, style = ("✗", "red") if finding.severity == "error" else ("!", "yellow")
                text.append(f"\n{mark} {finding.subject}: {finding.what}", style=style)
                text.append(f" → {finding.consequence} Fix: {finding.fix}", style="dim")
            if count > 4:
                text.append(f"\n… and {count - 4} more (the headless task check with --assess lists all)", style="dim")
        text.append_text(self._dms_run_line())
        self._own_assessment = text
        self.query_one("#assessment", Static).update(text)

    def _dms_run_line(self) -> Text:
        """Below our findings: that the DMS run exists only on AWS (sandbox), or how to start it (AWS)."""
        from dms_tui.steps.assessment_run import dms_run_gap

        if self.step is None:
            return Text()
        gap = dms_run_gap(self.step.environment)
        if gap is not None:
            return Text(f"\n{gap}", style="dim")
        identifier = self.query_one("#task-id", Input).value.strip()
        return Text(
            f"\nDMS premigration assessment run: press a to run it on task {identifier} "
            "(created if missing, not started; its results go to the environment's assessment bucket)",
            style="dim",
        )

    def action_assessment_run(self) -> None:
        """AWS: DMS's premigration assessment run of the draft's task, shown in the preview's assessment section."""
        from dms_tui.steps.assessment_run import dms_run_gap

        check = self.check
        if self.step is None or check is None or not check.definition or dms_run_gap(self.step.environment):
            return
        self.query_one("#migrate-tabs").active = "tab-preview"  # type: ignore[attr-defined]
        self.run_dms_assessment(self.current_draft())

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-dms-assessment")
    def run_dms_assessment(self, draft: Any) -> None:
        from dms_tui.steps.assessment_run import AssessmentRunStep

        assert self.step is not None
        step = AssessmentRunStep(self.step.environment, self.wizard.services, self.journey)
        try:
            for event in step.run(draft):
                self.post_message(DmsAssessmentEvent(event))
        except StepError as exc:
            self.post_message(DmsAssessmentEvent(None, str(exc)))

    def on_dms_assessment_event(self, message: DmsAssessmentEvent) -> None:
        from dms_tui.steps.assessment_run import (
            AssessmentRunFinished,
            AssessmentRunProgress,
            AssessmentRunStarted,
            OwnAssessment,
            TaskReady,
        )

        event = message.event
        if isinstance(event, OwnAssessment):
            self.on_assessment_read(AssessmentRead(list(event.findings)))
            return
        text = Text()
        text.append_text(self._own_assessment)
        if message.error:
            text.append(f"\nDMS premigration assessment run: {message.error}", style="yellow")
        elif isinstance(event, TaskReady):
            how = "created, not started" if event.created else event.status
            text.append(f"\nDMS premigration assessment run: task {event.identifier} ({how}); starting…", style="dim")
        elif isinstance(event, AssessmentRunStarted):
            self.set_command(event.command.text)
            text.append(f"\nDMS premigration assessment run {event.run.name}: {event.run.status}", style="dim")
        elif isinstance(event, AssessmentRunProgress):
            run = event.run
            text.append(
                f"\nDMS premigration assessment run {run.name}: {run.status}, {run.completed}/{run.assessments} done",
                style="dim",
            )
        elif isinstance(event, AssessmentRunFinished):
            run = event.run
            style = "green" if event.ok else "red"
            text.append(f"\nDMS premigration assessment run {run.name}: {run.status}", style=f"bold {style}")
            for result in event.results:
                if result.status == "passed":
                    continue
                mark, style = ("✗", "red") if result.status in ("failed", "error") else ("!", "yellow")
                text.append(f"\n{mark} {result.name}: {result.consequence}", style=style)
                text.append(f" Fix: {result.fix}", style="dim")
            passed = sum(1 for r in event.results if r.status == "passed")
            text.append(f"\n{passed} of {len(event.results)} assessments passed", style="dim")
        else:
            return
        self.query_one("#assessment", Static).update(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-validation")
    def read_validation_failures(self, identifier: str, arn: str) -> None:
        """Validation found failing records: read them from the target's awsdms_validation_failures_v1."""
        assert self.step is not None
        try:
            self.post_message(ValidationFailuresRead(self.step.validation_failures(identifier, arn, limit=10)))
        except StepError as exc:
            self.post_message(ValidationFailuresRead([], str(exc)))

    def on_validation_failures_read(self, message: ValidationFailuresRead) -> None:
        log = self.query_one("#task-events", RichLog)
        if message.error:
            log.write(Text(f"· validation failures unreadable: {message.error}", style="yellow"))
        for failure in message.failures:
            log.write(
                Text.assemble(
                    ("✗ validation ", "red"),
                    f"{failure.failure_type} {failure.table} {failure.key}",
                    (f" {failure.details}" if failure.details else "", "dim"),
                )
            )

    def _activity_line(self, activity: TaskActivity) -> Text:
        stamp = activity.at.strftime("%H:%M:%S")
        return Text.assemble(
            (stamp + " ", "dim"), (describe_activity(activity), ACTIVITY_STYLE.get(type(activity), ""))
        )

    def _show_pane(self, pane: str) -> None:
        switcher = self.query_one("#migrate-switcher", ContentSwitcher)
        if switcher.current != pane:
            switcher.current = pane
            self.refresh_bindings()

    def _launch_finished(self) -> None:
        self._launching = False

    def _task_gone(self, message: str) -> None:
        self.stop_watching()
        self.arn, self.last = None, None  # the step has forgotten the ARN in the journey
        self.throughput_history = []
        self.latency, self.latency_history, self.phase = None, [], None
        self.query_one("#cdc-panel").display = False
        self.query_one("#task-tables", DataTable).clear()
        self._show_pane("migrate-define")
        self.query_one("#draft-problems", Static).update(Text(message, style="yellow"))
        self.query_one("#create-task", Button).disabled = not (self.check and self.check.ok)
        self.set_command(self._create_command_text())
        if self.source_tables is None and self.step is not None and self.step.outputs is not None:
            self.read_catalog()

    # -- actions on the task -------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that act on the task are hidden while there is none (80 columns leave no room for dead keys)."""
        watching = self.arn is not None
        if action in ("stop_task", "delete_task"):
            return watching
        if action in ("reload_table", "diff_table"):
            return watching and self.last is not None and bool(self.last.tables)
        if action == "next":
            return True if all_tables_completed(self.last) else None  # greyed: shows where the journey goes
        if action == "toggle_workload":  # the sandbox's demo writes; on AWS the application writes
            environment = self.wizard.environment
            kind = self.last.migration_type if self.last is not None else self.draft.migration_type
            return environment is not None and environment.emulated and captures_changes(kind)
        return True

    def _selected_table(self) -> tuple[str, str] | None:
        if self.last is None or not self.last.tables:
            return None
        table = self.query_one("#task-tables", DataTable)
        row = table.cursor_row
        if row < 0 or row >= table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value or ""
        for stats in self.last.tables:
            if qualified_name(stats) == key:
                return stats.schema_name, stats.table_name
        return None

    def action_start(self) -> None:
        if self.arn is None:
            self.create_task()
            return
        if self.step is None:
            return
        last = self.last
        status = last.status if last is not None else ""
        if status not in ENDED_STATUSES and status not in (TaskStatus.READY, TaskStatus.CREATING, ""):
            self.notify(
                f"The task is {status}; stop it (x) before starting it again.", severity="warning", markup=False
            )
            return
        start_type = start_type_for(status, completed=all_tables_completed(last))
        self.set_command(self._command_text(TaskAction.START, start_type=start_type))
        self.act_on_task(TaskAction.START, start_type)

    def action_stop_task(self) -> None:
        if self.arn is None:
            return
        from dms_tui.app import ConfirmScreen

        self.set_command(self._command_text(TaskAction.STOP))

        def answer(yes: bool | None) -> None:
            if yes:
                self.act_on_task(TaskAction.STOP)

        self.app.push_screen(
            ConfirmScreen("Stop the task? Tables not yet loaded stay incomplete until you resume (s).", yes="Stop"),
            answer,
        )

    def action_reload_table(self) -> None:
        selected = self._selected_table()
        if self.arn is None or selected is None:
            self.notify("Select a table in the list first.", severity="warning")
            return
        schema, table = selected
        self.set_command(self._command_text(TaskAction.RELOAD, tables=[(schema, table)]))
        self.act_on_task(TaskAction.RELOAD, schema, table)

    def action_diff_table(self) -> None:
        selected = self._selected_table()
        if selected is None:
            self.notify("Select a table in the list first.", severity="warning")
            return
        try:
            from dms_tui.screens.diff import DiffScreen  # another step's screen: loaded only when asked for
        except ImportError:
            self.notify("The Diff screen is not available in this build.", severity="error")
            return
        self.app.push_screen(DiffScreen(self.journey, select_table=".".join(selected)))

    def action_delete_task(self) -> None:
        if self.arn is None:
            return
        from dms_tui.app import ConfirmScreen

        self.set_command(self._command_text(TaskAction.DELETE))

        def answer(yes: bool | None) -> None:
            if yes:
                self.act_on_task(TaskAction.DELETE)

        self.app.push_screen(
            ConfirmScreen(
                "Delete the replication task? A running task is stopped first. The target tables keep their rows.",
                yes="Delete",
            ),
            answer,
        )

    def _command_text(self, action: TaskAction, **values: Any) -> str:
        step, arn = self.step, self.arn
        if step is None or arn is None:
            return ""
        return step.command(action, arn=arn, **values).text

    @work(thread=True, exclusive=True, exit_on_error=False, group="migrate-action")
    def act_on_task(self, action: TaskAction, *args: Any) -> None:
        step, arn = self.step, self.arn
        assert step is not None and arn is not None
        match action:
            case TaskAction.START:
                result = step.start(arn, args[0])
            case TaskAction.STOP:
                result = step.stop(arn)
            case TaskAction.RELOAD:
                result = step.reload(arn, [(args[0], args[1])])
            case _:
                result = step.delete(arn)
        self.post_message(TaskActionDone(action, result))

    def on_task_action_done(self, message: TaskActionDone) -> None:
        log = self.query_one("#task-events", RichLog)
        self.set_command(message.result.command.text)
        if message.action == TaskAction.DELETE:
            log.write(Text("· task deleted"))
            self._task_gone("The task was deleted. Define it again, or go back.")
            return
        state = message.result.task
        log.write(Text(f"· {message.action}: task {state.status if state else '?'}"))
        if message.action == TaskAction.START or self._watch_stop is None:
            self.start_watching()  # the watcher ended with the task; a start or a resume needs a new one

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Inline where inline is better (the preview, the form); anything else goes to the app's error modal."""
        group = event.worker.group
        if event.state != WorkerState.ERROR:
            return
        if group == LAUNCH_JOB:
            self._launch_finished()
        if group not in ("migrate-catalog", "migrate-find", LAUNCH_JOB) or (group == LAUNCH_JOB and self.arn):
            # Worker.StateChanged does not bubble: hand it to the app's one handler (the error modal).
            self.wizard.on_worker_state_changed(event)
            return
        message = Text(f"✗ {event.worker.error}", style="red")  # a StepError: what, why, what to do
        if group == "migrate-catalog":
            self._preview_status(message)
        elif group == "migrate-find":  # only a courtesy: creating the task looks again and says what it finds
            self.notify(f"Could not look for an earlier task: {event.worker.error}", severity="warning", markup=False)
        else:
            self.query_one("#draft-problems", Static).update(message)
            self.query_one("#create-task", Button).disabled = not (self.check and self.check.ok)

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        last = self.last
        if not all_tables_completed(last) or self.step is None:
            self.notify("Wait until every table is completed.", severity="warning")
            return
        assert last is not None
        self.stop_watching()
        self.step.record_outcome(last)
        self.wizard.step_done(Step.MIGRATE)
