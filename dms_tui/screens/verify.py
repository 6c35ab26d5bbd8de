"""Verify: a live checklist that proves every hop of the PrivateLink path before any data moves.

The checks run in a thread worker (dms_tui.checks.plan.verify); their typed events come back as messages and this
screen only renders them: rows spin, then settle with their mark and time; the detail pane and the equivalent
command follow the highlighted row.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.worker import Worker, WorkerState

from dms_tui.checks.plan import VerifyOptions, verify
from dms_tui.checks.result import CheckEvent, CheckFinished, ChecksPlanned, CheckStarted, VerifyReport
from dms_tui.checks.runner import EventSink
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step, VerifyRecord
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.screens.base import WizardScreen
from dms_tui.widgets.checklist import MARKS, Checklist

#: How a run of the checklist is started: (target, outputs, event sink, cancel) -> report. Tests inject their own.
Verifier = Callable[[Environment, EnvironmentOutputs, EventSink, threading.Event], VerifyReport]


class CheckEventArrived(Message):
    """A check event from the worker thread (posted, so events keep their order)."""

    def __init__(self, event: CheckEvent) -> None:
        super().__init__()
        self.event = event


class VerifyFinished(Message):
    def __init__(self, report: VerifyReport) -> None:
        super().__init__()
        self.report = report


def verify_command_line(journey: Journey) -> str:
    argv = ["dms-tui", "verify"]
    if journey.mode == "sandbox":
        argv.append("--sandbox")
    if journey.env != "dev":
        argv += ["--env", journey.env]
    return shlex.join(argv)


class VerifyScreen(WizardScreen):
    STEP = Step.VERIFY
    TITLE = "Verify · every hop from the bastion and from DMS to both databases"
    BINDINGS = [
        Binding("r", "run_again", "Run again"),
        Binding("f5", "next", "Next"),
    ]

    def __init__(
        self, journey: Journey, *, options: VerifyOptions | None = None, verifier: Verifier | None = None
    ) -> None:
        super().__init__(journey)
        self.options = options
        self.verifier = verifier or self._verify
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
        return verify_command_line(self.journey)

    def on_mount(self) -> None:
        self.set_interval(0.125, self._tick)
        self.query_one(Checklist).focus()
        self.start_run()

    def on_unmount(self) -> None:
        self._cancel.set()  # abandoned checks stop at their own deadlines; nothing waits for them

    # -- the run ---------------------------------------------------------------------------------------------------

    def start_run(self) -> None:
        target = self.wizard.environment
        if target is None or not self.journey.state.outputs:
            self._summary(
                Text(
                    "Nothing to verify yet: no terraform outputs are recorded. Go back (Escape) and provision first.",
                    style="red",
                )
            )
            return
        outputs = EnvironmentOutputs.from_json(self.journey.state.outputs)
        self._cancel = threading.Event()
        self.report = None
        self._started = time.monotonic()
        self.query_one("#rerun", Button).disabled = True
        self.query_one("#next", Button).disabled = True
        self.wizard.busy.add("verify")
        self.run_checks(target, outputs, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def run_checks(self, target: Environment, outputs: EnvironmentOutputs, cancel: threading.Event) -> None:
        def on_event(event: CheckEvent) -> None:
            self.post_message(CheckEventArrived(event))

        report = self.verifier(target, outputs, on_event, cancel)
        self.post_message(VerifyFinished(report))

    def _verify(
        self, target: Environment, outputs: EnvironmentOutputs, on_event: EventSink, cancel: threading.Event
    ) -> VerifyReport:
        return verify(target, outputs, options=self.options, on_event=on_event, cancel=cancel)

    def on_check_event_arrived(self, message: CheckEventArrived) -> None:
        checklist = self.query_one(Checklist)
        event = message.event
        if isinstance(event, ChecksPlanned):
            checklist.plan(event.checks)
        elif isinstance(event, CheckStarted):
            checklist.start(event.id)
        elif isinstance(event, CheckFinished):
            checklist.finish(event.result)
            if event.result.id == checklist.highlighted_id:
                self.show_detail(event.result.id)
        self._update_summary()

    def on_verify_finished(self, message: VerifyFinished) -> None:
        self.report = message.report
        self.wizard.busy.discard("verify")
        self.query_one("#rerun", Button).disabled = False
        self.query_one("#next", Button).disabled = not message.report.passed
        if message.report.passed:
            self.query_one("#next", Button).focus()
        self._update_summary()
        checklist = self.query_one(Checklist)
        failed = [r.id for r in message.report.results if r.status == "fail"]
        current = checklist.result(checklist.highlighted_id or "")
        if failed and (current is None or current.status != "fail"):
            # Bring the first failure into view: that is what the person has to read next.
            checklist.highlighted = checklist.get_option_index(failed[0])
        highlighted = checklist.highlighted_id
        if highlighted:
            self.show_detail(highlighted)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "verify" and event.state == WorkerState.ERROR:
            self.wizard.busy.discard("verify")
            self.query_one("#rerun", Button).disabled = False
            error = event.worker.error
            self._summary(Text(f"✗ The checks could not run: {error}. Press r to try again.", style="red"))

    # -- rendering -------------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.report is None and self._started is not None and "verify" in self.wizard.busy:
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
        if "verify" in self.wizard.busy:
            self.notify("The checks are still running.", timeout=2)
            return
        self.start_run()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.report is None or not self.report.passed:
            self.notify("Next is enabled once every check passes (warnings are fine).", severity="warning")
            return
        summary: dict[str, Any] = {"passed": True, "counts": self.report.counts(), "seconds": self.report.seconds}
        self.wizard.step_done(Step.VERIFY, verify=VerifyRecord(**summary))
