"""Cleanup: what will be removed and what keeping it costs, then remove it in order, with partial failures explained."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from dms_tui.cleanup import (
    CleanupPlan,
    CleanupStepFinished,
    CleanupStepStarted,
    CleanupTerraformEvent,
    plan_cleanup,
    run_cleanup,
)
from dms_tui.journey import Step
from dms_tui.provision.events import CommandStarted
from dms_tui.provision.progress import ProvisionProgress, reduce_event
from dms_tui.screens.base import WizardScreen


class CleanupScreen(WizardScreen):
    STEP = Step.CLEANUP
    TITLE = "Cleanup · remove everything this environment created"
    BINDINGS = [Binding("d", "remove", "Remove all")]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cleanup-body"):
            yield Static("", id="cleanup-table")
            yield Static("", id="cleanup-cost")
            yield Static("", id="cleanup-log")
        with Horizontal(classes="nav-row"):
            yield Button("‹ Back", id="back")
            yield Button("Remove all (d)", id="remove", variant="error")

    def on_mount(self) -> None:
        self.plan: CleanupPlan = plan_cleanup(self.journey)
        self.statuses: dict[str, Text] = {item.key: Text("will be removed", style="dim") for item in self.plan.items}
        self._render_table()
        self.query_one("#cleanup-cost", Static).update(
            Text(
                f"Keeping it all running costs roughly ${self.plan.rough_hourly_usd:.2f} per hour "
                "(rough on-demand list prices, us-east-1; storage and data transfer extra).",
                style="yellow" if self.plan.rough_hourly_usd else "dim",
            )
        )
        self.log_lines: list[Text] = []
        if self.plan.items:
            self.set_command(self.plan.items[0].command)

    def equivalent_command(self) -> str:
        return "dms-tui cleanup" + (" --sandbox" if self.journey.mode == "sandbox" else "") + " --yes"

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#remove")
    def action_remove(self) -> None:
        if "cleanup" in self.wizard.busy:
            return
        from dms_tui.app import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.query_one("#remove", Button).disabled = True
                self.remove_all()

        self.app.push_screen(
            ConfirmScreen("Remove everything listed? This cannot be undone.", yes="Remove", no="Keep"), answer
        )

    def _render_table(self) -> None:
        table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False)
        table.add_column("what will be removed", ratio=1)
        table.add_column("≈ USD/h", justify="right", width=8)
        table.add_column("status", width=16)
        for item in self.plan.items:
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

    @work(exclusive=True, exit_on_error=False, group="cleanup")
    async def remove_all(self) -> None:
        target = self.wizard.environment
        assert target is not None
        self.wizard.busy.add("cleanup")
        progress = ProvisionProgress()
        results: list[CleanupStepFinished] = []
        try:
            async for event in run_cleanup(self.journey, target, self.plan):
                if isinstance(event, CleanupStepStarted):
                    self._status(event.key, Text("removing…", style="yellow"))
                elif isinstance(event, CleanupTerraformEvent):
                    progress = reduce_event(progress, event.event)
                    if isinstance(event.event, CommandStarted):
                        self.set_command(event.event.command_line)
                    if progress.planned:
                        self._status(
                            "terraform", Text(f"destroying {progress.done}/{progress.planned}", style="yellow")
                        )
                elif isinstance(event, CleanupStepFinished):
                    results.append(event)
                    self._status(
                        event.key,
                        Text("✓ removed" if event.ok else "✗ failed", style="green" if event.ok else "bold red"),
                    )
                    line = Text(
                        f"{'✓' if event.ok else '✗'} {event.key}: {event.message}", style="green" if event.ok else "red"
                    )
                    if event.manual_command:
                        line.append(f"\n   finish by hand: {event.manual_command}", style="")
                    self._log(line)
        finally:
            self.wizard.busy.discard("cleanup")
        if all(r.ok for r in results):
            self.journey.complete(Step.CLEANUP)
            self._log(Text("Everything is removed. Press q to quit.", style="bold green"))
        else:
            self.query_one("#remove", Button).disabled = False
