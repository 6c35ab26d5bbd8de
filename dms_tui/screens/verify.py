"""Verify: a live checklist that proves every hop of the PrivateLink path before any data moves.

The checks run in a thread worker (dms_tui.steps.verify.run_verify); their typed events come back as messages and
this screen only renders them: rows spin, then settle with their mark and time; the detail pane and the equivalent
command follow the highlighted row.
"""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.worker import Worker, WorkerState

from dms_tui.checks.result import VerifyReport
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.verify import (
    CheckFinished,
    ChecksPlanned,
    CheckStarted,
    VerifyDone,
    VerifyEvent,
    run_verify,
    verify_command_line,
)
from dms_tui.widgets.checklist import MARKS, Checklist
from dms_tui.widgets.command_hint import CommandHint

JOB = "job:verify"


class VerifyEventArrived(Message):
    """A step event from the worker thread (posted, so events keep their order)."""

    def __init__(self, event: VerifyEvent) -> None:
        super().__init__()
        self.event = event


class VerifyScreen(WizardScreen):
    STEP = Step.VERIFY
    TITLE = "Verify · every hop from the bastion and from DMS to both databases"
    BINDINGS = [
        Binding("r", "run_again", "Run again"),
        Binding("f5", "next", "Next"),
    ]

    def __init__(self, journey: Journey) -> None:
        super().__init__(journey)
        self.report: VerifyReport | None = None
        self._cancel = threading.Event()
        self._started: float | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="verify-body"):
            yield Checklist(id="verify-checklist")
            with VerticalScroll(id="verify-detail") as detail:
                detail.border_title = "details"
                yield Static("", id="verify-detail-text")
        with Horizontal(classes="nav-row", id="verify-nav"):
            yield Static("", id="verify-summary")
            yield Button("Run again (r)", id="rerun", disabled=True)
            yield Button("Next: prepare ›", id="next", variant="primary", disabled=True)

    def equivalent_command(self) -> str:
        environment = self.wizard.environment
        return verify_command_line(environment) if environment is not None else "dms-tui verify"

    def on_mount(self) -> None:
        self.query_one(CommandHint).hold_height = True  # each check's command, the longest a psql one: whole
        self.set_interval(0.125, self._tick)
        self.query_one(Checklist).focus()
        self.start_run()

    def on_unmount(self) -> None:
        self._cancel.set()  # abandoned checks stop at their own deadlines; nothing waits for them

    # -- the run ---------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return any(w.group == JOB and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers)

    def start_run(self) -> None:
        self._cancel = threading.Event()
        self.report = None
        self._started = time.monotonic()
        self.query_one("#rerun", Button).disabled = True
        self.query_one("#next", Button).disabled = True
        self.run_checks(self.wizard.environment, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group=JOB)
    def run_checks(self, environment: Environment | None, cancel: threading.Event) -> None:
        if environment is None:
            raise StepError("The environment is not ready yet.", "", "Go back to the Welcome screen and wait for it.")
        services = self.wizard.services
        steps = run_verify(
            environment,
            self.journey,
            options=services.options.get("verify_options"),
            runner=services.options.get("verify_runner"),
            cancel=cancel,
        )
        for event in steps:
            self.post_message(VerifyEventArrived(event))

    def on_verify_event_arrived(self, message: VerifyEventArrived) -> None:
        event = message.event
        if isinstance(event, VerifyDone):
            self._finished(event.report)
            return
        checklist = self.query_one(Checklist)
        if isinstance(event, ChecksPlanned):
            checklist.plan(event.checks)
        elif isinstance(event, CheckStarted):
            checklist.start(event.id)
        elif isinstance(event, CheckFinished):
            checklist.finish(event.result)
            if event.result.id == checklist.highlighted_id:
                self.show_detail(event.result.id)
        self._update_summary()

    def _finished(self, report: VerifyReport) -> None:
        self.report = report
        self.query_one("#rerun", Button).disabled = False
        self.query_one("#next", Button).disabled = not report.passed
        if report.passed:
            self.query_one("#next", Button).focus()
        self._update_summary()
        checklist = self.query_one(Checklist)
        failed = [r.id for r in report.results if r.status == "fail"]
        current = checklist.result(checklist.highlighted_id or "")
        if failed and (current is None or current.status != "fail"):
            # Bring the first failure into view: that is what the person has to read next.
            checklist.highlighted = checklist.get_option_index(failed[0])
        highlighted = checklist.highlighted_id
        if highlighted:
            self.show_detail(highlighted)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == JOB and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#rerun", Button).disabled = False
            self._started = None
            self._summary(Text("Nothing was verified: press r to try again.", style="red"))
        if event.state == WorkerState.ERROR:
            # Worker.StateChanged does not bubble: hand it to the app's one handler (the error modal).
            self.wizard.on_worker_state_changed(event)

    # -- rendering -------------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.report is None and self._started is not None and self.running:
            self.query_one(Checklist).tick()
            self._update_summary()
            highlighted = self.query_one(Checklist).highlighted_id
            if highlighted and self.query_one(Checklist).running_for(highlighted) is not None:
                self.show_detail(highlighted)

    def _update_summary(self) -> None:
        checklist = self.query_one(Checklist)
        settled = checklist.settled()
        counts = {status: sum(1 for r in settled if r.status == status) for status in MARKS}
        text = Text()
        for status in ("ok", "warn", "fail", "skipped"):
            mark, style = MARKS[status]
            if counts[status] or status == "ok":
                text.append(f"{mark} {counts[status]}  ", style=style)
        if self.report is not None:
            text.append(f"in {self.report.seconds:.1f} s", style="bold")
            if not self.report.passed:
                text.append("\nfix the ✗ rows, then r", style="red")
            elif counts["warn"]:
                text.append("\nwarnings do not block", style="yellow")
        elif self._started is not None:
            text.append(f"running… {time.monotonic() - self._started:.1f} s", style="yellow")
        self._summary(text)

    def _summary(self, text: Text) -> None:
        self.query_one("#verify-summary", Static).update(text)

    def show_detail(self, check_id: str) -> None:
        """Render the highlighted check in the detail pane and make its command the equivalent command."""
        checklist = self.query_one(Checklist)
        info = checklist.info(check_id)
        if info is None:
            return
        result = checklist.result(check_id)
        text = Text()
        text.append(f"{info.title}\n", style="bold")
        text.append(f"{'general' if info.side == 'environment' else info.side} · ", style="dim")
        if result is None:
            running = checklist.running_for(check_id)
            if running is None:
                text.append("waiting for the checks it needs", style="dim")
            else:
                text.append(f"running for {running:.1f} s…", style="yellow")
            self.query_one("#verify-detail-text", Static).update(text)
            self.set_command(self.equivalent_command())
            return
        mark, style = MARKS[result.status]
        text.append(f"{mark} {result.status}", style=style)
        if result.status != "skipped":
            text.append(f" in {result.duration:.2f} s", style="dim")
        text.append("\n\n")
        text.append(result.detail)  # outside text (AWS errors, server messages): plain, never markup
        if result.remedy and result.status != "ok":
            text.append("\n\nwhat to do\n", style=f"bold {style}")
            text.append(result.remedy)
        self.query_one("#verify-detail-text", Static).update(text)
        self.set_command(result.command or self.equivalent_command())

    @on(OptionList.OptionHighlighted, "#verify-checklist")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and not event.option.disabled:
            self.show_detail(event.option.id)

    # -- keys ------------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#rerun")
    def action_run_again(self) -> None:
        if self.running:
            self.notify("The checks are still running.", timeout=2)
            return
        self.start_run()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.report is None or not self.report.passed:
            self.notify("Next is enabled once every check passes (warnings are fine).", severity="warning")
            return
        self.wizard.step_done(Step.VERIFY)  # the step recorded the run already
