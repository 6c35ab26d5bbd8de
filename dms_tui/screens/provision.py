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

from dms_tui.journey import Journey, Step
from dms_tui.modes import terraform_available
from dms_tui.provision import flow
from dms_tui.provision.architecture import BOXES, box_states
from dms_tui.provision.detached import DetachedRun, RunRecord, forget_record
from dms_tui.provision.events import CommandFinished, CommandStarted, Diagnostic, LogLine, TerraformEvent
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.provision.progress import ProvisionProgress, reduce_event
from dms_tui.screens.base import WizardScreen
from dms_tui.widgets.architecture import ArchitectureDiagram

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


def render_diagnostic(diagnostic: Diagnostic) -> Text:
    """summary, detail, and the file:line snippet terraform pointed at (never parsed as markup)."""
    text = Text()
    text.append(f"✗ {diagnostic.summary}\n", style="bold red" if diagnostic.is_error else "bold yellow")
    if diagnostic.detail:
        text.append(diagnostic.detail.strip() + "\n")
    if diagnostic.location:
        text.append(f"  at {diagnostic.location}\n", style="dim")
    if diagnostic.snippet is not None:
        text.append(f"  {diagnostic.snippet.start_line} │ {diagnostic.snippet.code}\n", style="cyan")
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
            yield Button("Cancel run (x)", id="cancel", variant="error", disabled=True)
            yield Button("Next: verify ›", id="next", variant="primary", disabled=True)

    def equivalent_command(self) -> str:
        return flow.apply_command_line(self.journey)

    def on_mount(self) -> None:
        self.progress = ProvisionProgress()
        self.process: DetachedRun | None = None
        self.outputs: EnvironmentOutputs | None = None
        self._dirty = False
        self._log_backlog: deque[Text] = deque(maxlen=LOG_LINES)
        table = self.query_one("#provision-table", DataTable)
        table.add_column("resource", key="address")
        table.add_column("state", key="state", width=22)
        self.set_interval(0.25, self._refresh_if_dirty)
        self.set_interval(1.0, self._tick)
        self.run_apply()

    # -- the run ------------------------------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="apply")
    async def run_apply(self) -> None:
        target = self.wizard.environment
        assert target is not None, "the Welcome screen sets the target environment before any step"
        # `terraform version` is a subprocess: keep it off the event loop so the screen draws at once.
        missing = None if self.attach is not None else await asyncio.to_thread(terraform_available)
        if missing is not None:
            self.without_terraform(missing)
            return
        self.wizard.busy.add("terraform apply")
        try:
            if self.attach is not None:
                self._result(Text(f"Re-attached to {self.attach.command_line}", style="yellow"))
                self.process = DetachedRun(self.attach)
            elif not (self.journey.workdir / "provisioning" / flow.PLAN_FILE).exists():
                self._result(Text("No reviewed plan found: planning first…", style="yellow"))
                review = await flow.run_plan(self.journey, target)
                if review.errors:
                    self._result(Text.assemble(*[render_diagnostic(d) for d in review.errors]))
                    return
            if self.process is None:
                self.process = await asyncio.to_thread(flow.apply_process, self.journey, target)
            self.query_one("#cancel", Button).disabled = False
            turn = time.perf_counter()
            async for event in self.process:
                self.on_terraform_event(event)
                if time.perf_counter() - turn > 0.02:
                    # Re-attaching replays a long log as fast as it can be read: give keys and redraws a turn.
                    await asyncio.sleep(0.005)
                    turn = time.perf_counter()
            finished = self.progress.finished
            forget_record(self.journey.env)  # seen through to its end: nothing left to re-attach to
            if finished is None or not finished.ok:
                self._finished_badly(finished)
                return
            self._result(Text("Apply complete. Reading outputs…", style="green"))
            outputs = await flow.read_outputs(self.journey, target)
            self.wizard.environment = await asyncio.to_thread(target.after_apply, outputs)
            self.outputs = outputs
            self.journey.update(outputs=outputs.to_json())
            self._result(Text.assemble(("✓ Apply complete.\n", "bold green"), render_outputs(outputs)))
            self.query_one("#next", Button).disabled = False
            self.query_one("#next", Button).focus()
        except Exception as exc:  # the message is for a person; terraform's own output is in the log file
            self._result(Text(f"✗ {exc}", style="red"))
        finally:
            self.wizard.busy.discard("terraform apply")
            self.query_one("#cancel", Button).disabled = True

    def without_terraform(self, reason: str) -> None:
        """No terraform here: the sandbox already created the objects with boto3; AWS needs terraform."""
        if self.journey.mode == "sandbox" and self.journey.state.outputs:
            self.outputs = EnvironmentOutputs.from_json(self.journey.state.outputs)
            self._result(
                Text.assemble(
                    (
                        "terraform is not available, so the sandbox created the AWS objects later steps need with "
                        "boto3 instead of applying the bundle.\n",
                        "yellow",
                    ),
                    render_outputs(self.outputs),
                )
            )
            self.query_one(ArchitectureDiagram).states = {box.id: "ready" for box in BOXES}
            self.query_one("#next", Button).disabled = False
            self.query_one("#next", Button).focus()
        else:
            self._result(Text(f"✗ {reason}", style="red"))

    def on_terraform_event(self, event: TerraformEvent) -> None:
        self.progress = reduce_event(self.progress, event)
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

    def _finished_badly(self, finished: CommandFinished | None) -> None:
        text = Text()
        if finished is not None and finished.interrupted:
            text.append(
                "Run cancelled. Terraform stopped gracefully; state is consistent. Re-run to continue.\n",
                style="yellow",
            )
        for diagnostic in self.progress.errors:
            text.append_text(render_diagnostic(diagnostic))
        if finished is not None:
            text.append(f"log: {finished.log_path}", style="dim")
        self._result(text)

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
        self.query_one("#provision-counts", Static).update(counts)
        table = self.query_one("#provision-table", DataTable)
        for address, resource in progress.resources.items():
            state = Text(resource.describe(now), style=_STATE_STYLE.get(resource.state, ""))
            if address in table.rows:
                table.update_cell(address, "state", state)
            else:
                table.add_row(Text(address), state, key=address)
        self.query_one(ArchitectureDiagram).states = box_states(progress)

    # -- keys ---------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#cancel")
    def action_cancel_run(self) -> None:
        process = self.process
        if process is None or not process.running:
            return
        from dms_tui.app import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes and process.running:
                self.run_worker(process.interrupt(), group="interrupt")
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
        self.wizard.step_done(Step.PROVISION, outputs=self.outputs.to_json())
