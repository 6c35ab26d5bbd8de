"""Provision: terraform apply of the reviewed plan, with progress a person can trust and explain to a customer."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Collapsible, DataTable, ProgressBar, RichLog, Static
from textual.worker import Worker, WorkerState

from dms_tui.journey import Journey, Setback, Step
from dms_tui.provision.architecture import BOXES, box_states
from dms_tui.provision.detached import DetachedRun, RunRecord
from dms_tui.provision.events import CommandStarted, Diagnostic, LogLine, TerraformEvent
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.provision.progress import ProvisionProgress
from dms_tui.screens.base import WizardScreen
from dms_tui.steps import provision as step
from dms_tui.widgets.architecture import ArchitectureDiagram
from dms_tui.widgets.step_bar import StepBar

LOG_LINES = 500  # the raw log on screen; the whole run is in the log file

_STATE_STYLE = {
    "pending": "dim",
    "creating": "yellow",
    "updating": "yellow",
    "destroying": "yellow",
    "reading": "yellow",
    "created": "green",
    "updated": "green",
    "destroyed": "green",
    "read": "green",
    "failed": "bold red",
}


_LINE_STYLE = {"error": "bold red", "warning": "bold yellow", "where": "dim", "code": "cyan", "detail": ""}


def render_diagnostic(diagnostic: Diagnostic) -> Text:
    """The step's diagnostic lines, styled (terraform's text is never parsed as markup)."""
    text = Text()
    for line in step.diagnostic_lines(diagnostic):
        text.append(line.text + "\n", style=_LINE_STYLE[line.kind])
    return text


def render_failure(failure: step.RunFailed) -> Text:
    text = Text(failure.headline + "\n", style="yellow" if failure.interrupted else "bold red")
    if failure.interrupted:
        text.append("Apply again to continue from where it stopped.\n", style="yellow")
    for diagnostic in failure.errors:
        text.append_text(render_diagnostic(diagnostic))
    if failure.log_path:
        text.append(f"log: {failure.log_path}", style="dim")
    return text


def render_outputs(outputs: EnvironmentOutputs) -> Text:
    text = Text()
    for label, side in (("source", outputs.source), ("target", outputs.target)):
        text.append(f"{label:<7}", style="bold")
        text.append(f"endpoint {side.endpoint_dns_name}\n")
        text.append(" " * 7 + f"secret   {side.secret_arn}  (value never shown)\n", style="dim")
    text.append("DMS    ", style="bold")
    text.append(outputs.dms_replication_instance_arn + "\n")
    return text


class ProvisionScreen(WizardScreen):
    STEP = Step.PROVISION
    TITLE = "Provision · terraform apply of the reviewed plan"
    BINDINGS = [
        Binding("x", "cancel_run", "Cancel run"),
        Binding("l", "toggle_log", "Log"),
        Binding("a", "toggle_diagram", "Diagram"),
        Binding("f5", "next", "Next"),
        Binding("r", "retry", "Retry", show=False),
    ]

    def __init__(self, journey: Journey, *, attach: RunRecord | None = None) -> None:
        super().__init__(journey)
        self.attach = attach  # a detached run to follow (re-attach after a dropped terminal)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="provision-top"):
            yield ProgressBar(total=None, show_eta=False, id="provision-bar")
            yield Static("", id="provision-counts")
        with Horizontal(id="provision-body"):
            table: DataTable[Text] = DataTable(id="provision-table", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="provision-side"):
                yield ArchitectureDiagram(id="provision-diagram")
                yield Static("", id="provision-result")
        with Collapsible(title="raw terraform log", collapsed=True, id="provision-log-box"):
            yield RichLog(id="provision-log", max_lines=LOG_LINES, markup=False, wrap=False)
        with Horizontal(classes="nav-row"):
            # After a failure: the ways back (hidden until then).
            yield Button("‹ Back to Review", id="back-review", classes="way-back")
            yield Button("Edit in Configure", id="edit-config", classes="way-back")
            yield Button("Retry (r)", id="retry", variant="warning", classes="way-back")
            yield Button("Cancel run (x)", id="cancel", variant="error", disabled=True)
            yield Button("Next: verify ›", id="next", variant="primary", disabled=True)

    def equivalent_command(self) -> str:
        return step.terraform_command_line(self.journey, "apply")

    def on_mount(self) -> None:
        self.progress = ProvisionProgress()
        self._rendered_progress: ProvisionProgress | None = None  # the progress whose resources the table shows
        self.job: step.ProvisionJob | None = None
        self.outputs: EnvironmentOutputs | None = None
        self._dirty = False
        self._log_backlog: deque[Text] = deque(maxlen=LOG_LINES)
        table = self.query_one("#provision-table", DataTable)
        # State first: at 80 columns a long address is what gets cut, never "still creating 6m10s" or "failed".
        table.add_column("state", key="state", width=22)
        table.add_column("resource", key="address")
        self.failed: Setback | None = None
        self._show_ways_back(False)
        self.set_interval(0.25, self._refresh_if_dirty)
        self.set_interval(1.0, self._tick)
        self.run_apply()

    @property
    def process(self) -> DetachedRun | None:
        """The detached terraform run being followed, while there is one."""
        return self.job.run if self.job is not None else None

    # -- the run ------------------------------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="job:terraform apply")
    async def run_apply(self) -> None:
        environment = self.wizard.environment
        assert environment is not None, "the Welcome screen sets the environment before any step"
        if self.attach is not None:
            self.job = step.attach(environment, self.journey, self.attach)
        else:
            self.job = step.apply(environment, self.journey)
        self.query_one("#cancel", Button).disabled = False
        try:
            turn = time.perf_counter()
            async for event in self.job:
                if isinstance(event, TerraformEvent):
                    self.on_terraform_event(event)
                else:
                    self.on_step_event(event)
                if time.perf_counter() - turn > 0.02:
                    # Re-attaching replays a long log as fast as it can be read: give keys and redraws a turn.
                    await asyncio.sleep(0.005)
                    turn = time.perf_counter()
        finally:
            self.query_one("#cancel", Button).disabled = True
            self.progress = self.job.progress
            self.render_progress()

    def on_step_event(self, event: step.StepEvent) -> None:
        """What the step says between terraform's own events (a detached run started, the outputs...)."""
        if isinstance(event, step.PlanReviewed):
            self._result(Text(f"No reviewed plan was saved: planned now ({event.review.summary}); applying it…"))
        elif isinstance(event, step.RunStarted):
            self._result(
                Text(
                    f"terraform {event.record.label} runs detached (pid {event.record.pid}): quitting leaves it "
                    "running, and the next start of dms-tui re-attaches.",
                    style="dim",
                )
            )
        elif isinstance(event, step.RunAttached):
            self._result(Text(f"Re-attached to {event.record.command_line}", style="yellow"))
        elif isinstance(event, step.PlanStale):
            self._result(Text(event.reason, style="yellow"))
        elif isinstance(event, step.ReadingOutputs):
            self._result(Text("Apply complete. Reading outputs…", style="green"))
        elif isinstance(event, step.ApplyFinished):
            self.wizard.environment = event.environment
            self.outputs = event.outputs
            self._result(
                Text.assemble(
                    ("✓ Apply complete.\n", "bold green"), render_outputs(event.outputs) if event.outputs else ""
                )
            )
            self._ready()
        elif isinstance(event, step.ProvisionedWithoutTerraform):
            if event.environment is not None:  # the sandbox bound to the objects it created
                self.wizard.environment = event.environment
            self.outputs = event.outputs
            self._result(
                Text.assemble(
                    (
                        "terraform is not available, so the sandbox created the AWS objects later steps need with "
                        "boto3 instead of applying the bundle.\n",
                        "yellow",
                    ),
                    render_outputs(event.outputs),
                )
            )
            self.query_one(ArchitectureDiagram).states = {box.id: "ready" for box in BOXES}
            self._ready()
        elif isinstance(event, step.DestroyFinished):
            self._result(Text("✓ Destroy complete: nothing of this environment is left.", style="green"))
        elif isinstance(event, step.RunFailed):
            self._result(render_failure(event))
            self._failed(step.failure_setback(event))

    def _ready(self) -> None:
        button = self.query_one("#next", Button)
        button.disabled = False
        button.focus()

    def on_terraform_event(self, event: TerraformEvent) -> None:
        assert self.job is not None
        self.progress = self.job.progress
        # The raw log keeps only the latest lines (the whole run is in the log file) and is written in batches,
        # and only while it is open: a closed RichLog would queue every write and render them all at once later.
        if isinstance(event, CommandStarted):
            self.set_command(event.command_line)
            self._log_backlog.append(Text(event.message, style="bold"))
        elif isinstance(event, LogLine):
            self._log_backlog.append(Text(event.text))
        elif event.message:
            self._log_backlog.append(Text(event.message))
        self._dirty = True  # coalesce: a flood of events redraws at most four times a second

    def _flush_log(self) -> None:
        if self._log_backlog and not self.query_one("#provision-log-box", Collapsible).collapsed:
            self.query_one("#provision-log", RichLog).write(Text("\n").join(self._log_backlog))
            self._log_backlog.clear()

    def _result(self, text: Text) -> None:
        self.query_one("#provision-result", Static).update(text)

    # -- rendering ----------------------------------------------------------------------------------------------

    def _refresh_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.render_progress()
            self._flush_log()

    def _tick(self) -> None:
        if self.progress.running:
            self.render_progress()  # "still creating 6m10s" keeps counting between terraform's progress lines

    def render_progress(self) -> None:
        progress, now = self.progress, time.time()
        bar = self.query_one("#provision-bar", ProgressBar)
        if progress.planned:
            bar.update(total=progress.planned, progress=progress.done)
        counts = Text(f" {progress.done}/{progress.planned} resources")
        if progress.failed:
            counts.append(f" · {progress.failed} failed", style="red")
            # What failed, without opening the log: the first failed resource and terraform's first error about it.
            first = next(address for address, r in progress.resources.items() if r.state == "failed")
            error = next((d for d in progress.errors if d.address == first), None) or next(iter(progress.errors), None)
            counts.append(f": {first}" + (f" — {error.summary}" if error is not None else ""), style="red")
        self.query_one("#provision-counts", Static).update(counts)
        table = self.query_one("#provision-table", DataTable)
        if progress is not self._rendered_progress:
            # A new run's progress (the apply after a plan the step made first): rows of the earlier one must go,
            # or a plan's resources that a tick drew would stay in the apply's table.
            table.clear()
            self._rendered_progress = progress
        for address, resource in progress.resources.items():
            state = Text(resource.describe(now), style=_STATE_STYLE.get(resource.state, ""))
            if address in table.rows:
                table.update_cell(address, "state", state)
            else:
                table.add_row(state, Text(address), key=address)
        self.query_one(ArchitectureDiagram).states = box_states(progress)

    # -- keys ---------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#cancel")
    def action_cancel_run(self) -> None:
        job = self.job
        if job is None or not job.running:
            return
        from dms_tui.app import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes and job.running:
                self.run_worker(job.interrupt(), group="interrupt")
                self._result(Text("Stopping terraform gracefully (SIGINT)…", style="yellow"))

        self.app.push_screen(
            ConfirmScreen(
                "Cancel the apply? Terraform stops gracefully; re-run later to finish.",
                yes="Cancel run",
                no="Keep going",
            ),
            answer,
        )

    def action_toggle_diagram(self) -> None:
        """At 80 columns the diagram and the table share the space: `a` swaps them."""
        self.toggle_class("show-diagram")

    def action_toggle_log(self) -> None:
        box = self.query_one("#provision-log-box", Collapsible)
        box.collapsed = not box.collapsed
        self._flush_log()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.outputs is None:
            return
        if not self.journey.state.is_done(Step.CONFIGURE):  # a retry after a failure took the journey back
            self.journey.complete(Step.CONFIGURE)
        self.wizard.step_done(Step.PROVISION, outputs=self.outputs.to_json())

    # -- after a failure: the ways back ---------------------------------------------------------------------------

    def _failed(self, setback: Setback) -> None:
        """The apply did not finish: the saved plan no longer holds, so the journey goes back to Review (a later
        Continue plans again instead of re-applying), and this screen offers the ways back."""
        self.failed = setback  # the step has already sent the journey back before Review, saying why
        self.query_one(StepBar).state = self.journey.state
        self._show_ways_back(True)
        self.query_one("#back-review", Button).focus()

    def _show_ways_back(self, show: bool) -> None:
        for button in self.query(".way-back"):
            button.display = show
        self.query_one("#cancel", Button).display = not show
        self.query_one("#next", Button).display = not show

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "job:terraform apply" and event.state is WorkerState.ERROR:
            error = event.worker.error
            what = getattr(error, "what", "") or "terraform apply did not run."
            self._result(Text(what, style="bold red"))
            self._failed(
                Setback(Step.PROVISION, what, getattr(error, "why", "") or str(error), getattr(error, "next_step", ""))
            )
        super().on_worker_state_changed(event)

    @on(Button.Pressed, "#back-review")
    def back_to_review(self) -> None:
        self.wizard.goto_review()

    @on(Button.Pressed, "#edit-config")
    def edit_in_configure(self) -> None:
        self.wizard.goto(Step.CONFIGURE)

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        if self.failed is None or (self.job is not None and self.job.running):
            return
        self.failed = None
        self.attach = None
        self._show_ways_back(False)
        self._result(Text("Applying again (a plan terraform calls stale is planned again first)…", style="yellow"))
        self.run_apply()
