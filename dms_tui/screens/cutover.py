"""Cutover: stop the writes, drain CDC, final diff, sequences, stop the task, switch, with a write-freeze timer.

The work is dms_tui.steps.cutover's, run in a thread worker; this screen renders its events: one row per item (its
status and what it found), the latest progress line, the timer of the write-freeze window, and at the end a summary
a presenter can show. The equivalent command follows the item that runs. Where a person must confirm that the
application stopped writing (AWS), the step asks through a yes/no modal.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.cutover import (
    ITEMS,
    CutoverDone,
    CutoverEvent,
    CutoverPlanned,
    ItemFinished,
    ItemProgress,
    ItemStarted,
    WritesFrozen,
    cutover_command,
    run_cutover,
)

JOB = "job:cutover"
INTRO = (
    "Writes stop, DMS applies the last change, a final diff proves both sides equal, the target's sequences take "
    "the source's values, the task stops, and the application moves to the target. Press u to cut over."
)


class CutoverScreen(WizardScreen):
    STEP = Step.CUTOVER
    TITLE = "Cutover · switch the application to the target"
    BINDINGS = [Binding("u", "cutover", "Cut over"), Binding("f5", "next", "Next")]
    # Presenter mode: how long the summary of a clean cutover stays on screen before the journey moves on to Cleanup.
    SUMMARY_HOLD_S: ClassVar[float] = 12.0

    def __init__(self, journey: Journey) -> None:
        super().__init__(journey)
        self.statuses: dict[str, Text] = {key: Text("·", style="dim") for key, _ in ITEMS}
        self.details: dict[str, Text] = {key: Text("") for key, _ in ITEMS}
        self.seconds: dict[str, Text] = {key: Text("") for key, _ in ITEMS}
        self.progress = Text("")
        self.frozen_at: float | None = None
        self.freeze_seconds: float | None = None  # the window's length once it closed
        self.done: CutoverDone | None = None
        self.cutover_running = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cutover-body"):
            yield Static(Text(INTRO, style="dim"), id="cutover-intro")
            yield Static("", id="cutover-timer")
            yield Static("", id="cutover-items")
            yield Static("", id="cutover-progress")
            yield Static("", id="cutover-summary")
        with Horizontal(classes="nav-row"):
            yield Button("‹ Back", id="back")
            yield Button("Cut over (u)", id="cutover", variant="warning")
            yield Button("Next ›", id="next", variant="primary")

    def equivalent_command(self) -> str:
        return cutover_command(self.wizard.environment)

    def on_mount(self) -> None:
        self.query_one("#next", Button).display = False
        previous = self.journey.state.cutover
        if previous is not None:
            verdict = "cleanly" if previous.ok else "with problems"
            self.progress = Text(
                f"An earlier cutover finished {verdict} at {previous.finished_at} (writes frozen "
                f"{previous.freeze_seconds:.1f} s). Running it again says what each item finds."
            )
        self._show_items()
        self.set_interval(0.5, self._render_timer)
        if self.wizard.presenting:
            self.query_one("#cutover", Button).focus()  # the presenter's Enter cuts over (it changes something)

    # -- running -----------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#cutover")
    def action_cutover(self) -> None:
        if self.cutover_running:
            return
        self.cutover_running = True
        self.done = None
        self.frozen_at = self.freeze_seconds = None
        self.statuses = {key: Text("·", style="dim") for key, _ in ITEMS}
        self.details = {key: Text("") for key, _ in ITEMS}
        self.seconds = {key: Text("") for key, _ in ITEMS}
        self.query_one("#cutover", Button).disabled = True
        self.query_one("#cutover-summary", Static).update("")
        self.query_one("#cutover-intro", Static).display = False
        self.cut_over(self.wizard.environment)

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB)
    def cut_over(self, environment: Environment | None) -> None:
        if environment is None:
            raise StepError("The environment is not ready yet.", "", "Go back to the Welcome screen and wait for it.")
        for event in run_cutover(environment, self.journey, self.wizard.services, confirm=self._confirm):
            self.app.call_from_thread(self.show_event, event)

    def _confirm(self, question: str) -> bool:
        """Asked from the worker thread: a yes/no modal on the UI thread, waited for here."""
        from dms_tui.app import ConfirmScreen

        answered = threading.Event()
        answer: list[bool] = []

        def done(yes: bool | None) -> None:
            answer.append(bool(yes))
            answered.set()

        worker = get_current_worker()
        self.app.call_from_thread(
            self.app.push_screen, ConfirmScreen(question, yes="Writes stopped", no="Not yet"), done
        )
        while not answered.wait(0.25):
            if worker.is_cancelled:  # the app is closing: nobody will answer
                return False
        return answer[0]

    def show_event(self, event: CutoverEvent) -> None:
        self.query_one("#cutover-intro", Static).display = False
        if isinstance(event, CutoverPlanned):
            self.progress = Text.assemble(
                "task ", (event.identifier, "bold"), f" ({event.migration_type}, {event.status})"
            )
        elif isinstance(event, ItemStarted):
            self.statuses[event.key] = Text("…", style="yellow")
            if event.commands:
                self.set_command(event.commands[0])
        elif isinstance(event, ItemProgress):
            self.progress = Text(event.text)
        elif isinstance(event, WritesFrozen):
            self.frozen_at = event.started_at
        elif isinstance(event, ItemFinished):
            self.statuses[event.key] = Text("✓", style="green") if event.ok else Text("✗", style="bold red")
            self.details[event.key] = Text(event.detail)
            self.seconds[event.key] = Text(f"{event.seconds:.1f} s", style="dim")
        elif isinstance(event, CutoverDone):
            self.done = event
            self.freeze_seconds = event.record.freeze_seconds
            self.set_command(event.connect_command)
            self.progress = Text("")
            self.query_one("#cutover-summary", Static).update(
                Text("\n".join(event.summary()), style="bold green" if event.ok else "bold red")
            )
            self.call_after_refresh(self.query_one("#cutover-summary", Static).scroll_visible)
            self.query_one("#next", Button).display = event.ok
            if event.ok:
                self.query_one("#next", Button).focus()
                # Presenter mode: the summary stays a while for the presenter to talk over, then on to Cleanup.
                self.step_finished(self.query_one("#next", Button).press, hold=self.SUMMARY_HOLD_S)
        self._show_items()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == JOB and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.cutover_running = False
            self.query_one("#cutover", Button).disabled = False
            if self.frozen_at is not None and self.freeze_seconds is None:
                self.freeze_seconds = time.monotonic() - self.frozen_at  # the window stays open: say how long so far
            self._show_items()
        if event.state == WorkerState.ERROR:
            self.wizard.on_worker_state_changed(event)

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        """Next after a clean cutover; otherwise (a full-load migration has nothing to cut over) Cleanup, once asked."""
        if self.done is not None and self.done.ok:
            self.wizard.step_done(Step.CUTOVER, cutover=self.done.record)
            return
        if self.cutover_running:
            self.notify("The cutover is running: Next opens once every item passed.", timeout=3)
            return
        from dms_tui.app import ConfirmScreen

        def answer(skip: bool | None) -> None:
            if skip:
                self.wizard.goto(Step.CLEANUP)

        self.app.push_screen(
            ConfirmScreen(
                "No clean cutover yet. Go on to Cleanup without one? (A full-load migration has nothing to cut over.)",
                yes="To Cleanup",
                no="Stay",
            ),
            answer,
        )

    # -- rendering ---------------------------------------------------------------------------------------------------

    def _show_items(self) -> None:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold dim")
        table.add_column("", width=1)
        table.add_column("item", width=14, no_wrap=True)
        table.add_column("what it found", ratio=1, overflow="fold")
        table.add_column("time", width=7, justify="right")
        for key, title in ITEMS:
            table.add_row(self.statuses[key], title, self.details[key], self.seconds[key])
        self.query_one("#cutover-items", Static).update(table)
        progress = self.query_one("#cutover-progress", Static)
        progress.update(self.progress)
        progress.display = bool(self.progress.plain)
        self._render_timer()

    def _render_timer(self) -> None:
        if self.frozen_at is None and self.freeze_seconds is None:
            text = Text("write freeze: not started", style="dim")
        elif self.freeze_seconds is not None:
            text = Text(f"write freeze: {self.freeze_seconds:.1f} s", style="bold")
        else:
            assert self.frozen_at is not None
            text = Text(f"write freeze: {time.monotonic() - self.frozen_at:.1f} s and counting", style="bold yellow")
        self.query_one("#cutover-timer", Static).update(text)
