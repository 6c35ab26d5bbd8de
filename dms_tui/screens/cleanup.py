"""Cleanup: what will be removed and what keeping it costs, then remove it in order, with partial failures explained.

The plan and the removal are dms_tui.steps.cleanup's; this screen renders the plan as a table and the removal's
events as each row's status and a short log.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Step
from dms_tui.provision.events import CommandStarted
from dms_tui.provision.progress import ProvisionProgress, reduce_event
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.cleanup import (
    CleanupDone,
    CleanupEvent,
    CleanupPlan,
    CleanupStepFinished,
    CleanupStepStarted,
    CleanupTerraformEvent,
    cleanup_command_line,
    plan_cleanup,
    run_cleanup,
)

JOB = "job:cleanup"
PLAN = "cleanup-plan"


class CleanupScreen(WizardScreen):
    STEP = Step.CLEANUP
    TITLE = "Cleanup · remove everything this environment created"
    BINDINGS = [Binding("d", "remove", "Remove all")]

    plan: CleanupPlan | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cleanup-body"):
            yield Static("", id="cleanup-table")
            yield Static("", id="cleanup-cost")
            yield Static("", id="cleanup-log")
        with Horizontal(classes="nav-row"):
            yield Button("‹ Back", id="back")
            yield Button("Remove all (d)", id="remove", variant="error", disabled=True)
            yield Button("Start over ›", id="start-over", variant="primary")

    def on_mount(self) -> None:
        self.statuses: dict[str, Text] = {}
        self.log_lines: list[Text] = []
        self.progress = ProvisionProgress()
        self.query_one("#start-over", Button).display = False
        self.make_plan(self.wizard.environment)

    def equivalent_command(self) -> str:
        environment = self.wizard.environment
        return cleanup_command_line(environment) if environment is not None else "dms-tui cleanup --yes"

    # -- the plan ----------------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=PLAN)
    def make_plan(self, environment: Environment | None) -> None:
        environment = _ready(environment)
        plan = plan_cleanup(environment, self.journey, self.wizard.services.dms_client(environment))
        self.app.call_from_thread(self.show_plan, plan)

    def show_plan(self, plan: CleanupPlan) -> None:
        self.plan = plan
        self.statuses = {item.key: Text("will be removed", style="dim") for item in plan.items}
        self._render_table()
        self.query_one("#cleanup-cost", Static).update(
            Text(
                f"Keeping it all running costs roughly ${plan.rough_hourly_usd:.2f} per hour "
                "(rough on-demand list prices, us-east-1; storage and data transfer extra).",
                style="yellow" if plan.rough_hourly_usd else "dim",
            )
        )
        if plan.items:
            self.set_command(plan.items[0].command)
        remove = self.query_one("#remove", Button)
        remove.disabled = False
        remove.focus()  # Enter asks (the question's default is No) before anything is removed

    # -- the removal -------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#remove")
    def action_remove(self) -> None:
        if self.plan is None:
            self.notify("Still listing what there is to remove; press d again in a moment.", timeout=3)
            return
        if self.query_one("#remove", Button).disabled:
            return
        from dms_tui.app import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes and self.plan is not None:
                self.query_one("#remove", Button).disabled = True
                self.remove_all(self.wizard.environment, self.plan)

        self.app.push_screen(
            ConfirmScreen("Remove everything listed? This cannot be undone.", yes="Remove", no="Keep"), answer
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB)
    def remove_all(self, environment: Environment | None, plan: CleanupPlan) -> None:
        environment = _ready(environment)
        dms = self.wizard.services.dms_client(environment) if plan.item("task") else None
        for event in run_cleanup(environment, self.journey, plan, dms):
            self.app.call_from_thread(self.show_event, event)

    def show_event(self, event: CleanupEvent) -> None:
        if isinstance(event, CleanupStepStarted):
            self._status(event.key, Text("removing…", style="yellow"))
        elif isinstance(event, CleanupTerraformEvent):
            self.progress = reduce_event(self.progress, event.event)  # type: ignore[arg-type]
            if isinstance(event.event, CommandStarted):
                self.set_command(event.event.command_line)
            if self.progress.planned:
                done, planned = self.progress.done, self.progress.planned
                self._status("terraform", Text(f"destroying {done}/{planned}", style="yellow"))
        elif isinstance(event, CleanupStepFinished):
            self._status(
                event.key, Text("✓ removed" if event.ok else "✗ failed", style="green" if event.ok else "bold red")
            )
            line = Text(
                f"{'✓' if event.ok else '✗'} {event.key}: {event.message}", style="green" if event.ok else "red"
            )
            if event.manual_command:
                line.append(f"\n   finish by hand: {event.manual_command}", style="")
            self._log(line)
        elif isinstance(event, CleanupDone):
            if event.ok:
                # The step reset the journey (the configuration is kept): the next walk is a fresh one.
                self._log(
                    Text("Everything is removed. Start over (Enter) walks it again; q quits.", style="bold green")
                )
                self.query_one("#remove", Button).display = False
                start_over = self.query_one("#start-over", Button)
                start_over.display = True
                start_over.focus()
            else:
                self.query_one("#remove", Button).disabled = False

    @on(Button.Pressed, "#start-over")
    def start_over(self) -> None:
        self.wizard.start_afresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == JOB and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#remove", Button).disabled = False
        if event.state == WorkerState.ERROR:
            # Worker.StateChanged does not bubble: hand it to the app's one handler (the error modal).
            self.wizard.on_worker_state_changed(event)

    # -- rendering ---------------------------------------------------------------------------------------------------

    def _render_table(self) -> None:
        table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False)
        table.add_column("what will be removed", ratio=1)
        table.add_column("≈ USD/h", justify="right", width=8)
        table.add_column("status", width=16)
        for item in self.plan.items if self.plan else ():
            cost = "—" if item.hourly_usd is None else f"{item.hourly_usd:.2f}"
            table.add_row(Text(item.what), cost, self.statuses[item.key])
        self.query_one("#cleanup-table", Static).update(table)

    def _status(self, key: str, text: Text) -> None:
        if key in self.statuses:
            self.statuses[key] = text
            self._render_table()

    def _log(self, text: Text) -> None:
        self.log_lines = (self.log_lines + [text])[-12:]
        self.query_one("#cleanup-log", Static).update(Text("\n").join(self.log_lines))


def _ready(environment: Environment | None) -> Environment:
    if environment is None:
        raise StepError("The environment is not ready yet.", "", "Go back to the Welcome screen and wait for it.")
    return environment
