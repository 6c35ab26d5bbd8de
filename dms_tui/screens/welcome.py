"""Welcome: the mode (AWS account or sandbox), who and where, and the environment to create or resume."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from dms_tui.environment import EnvironmentProgress, OpenedEnvironment
from dms_tui.journey import Journey
from dms_tui.steps.provision import last_run
from dms_tui.widgets.step_bar import StepBar

if TYPE_CHECKING:
    from dms_tui.app import DmsTuiApp

INTRO = (
    "Migrate an on-premises PostgreSQL to Amazon Aurora PostgreSQL when the networks cannot be peered: three VPCs "
    "(their CIDRs may overlap), two Network Load Balancers and endpoint services, interface endpoints (AWS "
    "PrivateLink), two Aurora clusters, Secrets Manager, and an AWS DMS replication instance."
)


class WelcomeScreen(Screen[None]):
    BINDINGS = [Binding("enter,f5", "start", "Start", priority=False)]

    def __init__(self, journey: Journey) -> None:
        super().__init__()
        self.journey = journey
        self.ready: OpenedEnvironment | None = None

    def compose(self) -> ComposeResult:
        yield StepBar(self.journey.state, id="step-bar")
        with Vertical(id="welcome"):
            yield Static("dms-tui · on-premises PostgreSQL → Aurora PostgreSQL through PrivateLink", id="welcome-title")
            yield Static(INTRO, id="welcome-intro", markup=False)
            mode = self.wizard.request.label
            yield Static(Text.assemble(("Mode        ", "bold"), mode), id="welcome-mode")
            resume = f"resuming at {self.journey.state.current.title}" if self.journey.resumed else "new environment"
            yield Static(Text.assemble(("Environment ", "bold"), f"{self.journey.env} · {resume}"), id="welcome-env")
            yield Static(Text.assemble(("Identity    ", "bold"), ("looking…", "dim")), id="welcome-identity")
            yield LoadingIndicator(id="welcome-loading")
            yield Static("", id="welcome-progress")
            with Horizontal(classes="nav-row"):
                yield Button("Re-attach", id="reattach", variant="warning", disabled=True)
                yield Button("Start ›", id="start", variant="primary", disabled=True)
        yield Footer()

    @property
    def wizard(self) -> DmsTuiApp:
        return cast("DmsTuiApp", self.app)

    def on_mount(self) -> None:
        self.progress_lines: list[str] = []
        self.run_record = last_run(self.journey.env)
        reattach = self.query_one("#reattach", Button)
        reattach.display = self.run_record is not None and self.run_record.label == "apply"
        if self.run_record is not None and reattach.display:
            since = time.strftime("%H:%M", time.localtime(self.run_record.started_at))
            state = (
                "running since" if self.run_record.finished() is None and self.run_record.alive() else "ended, started"
            )
            reattach.label = f"Re-attach: terraform {self.run_record.label} ({state} {since})"
            reattach.refresh(layout=True)
        self.get_ready()

    @work(thread=True, exclusive=True, exit_on_error=False, group="mode")
    def get_ready(self) -> OpenedEnvironment:
        return self.wizard.services.open_environment(
            self.wizard.request, lambda p: self.app.call_from_thread(self._progress, p)
        )

    def _progress(self, progress: EnvironmentProgress) -> None:
        self.progress_lines = (self.progress_lines + [progress.text])[-4:]
        self.query_one("#welcome-progress", Static).update(Text("\n".join(self.progress_lines), style="dim"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "mode":
            return
        if event.state is WorkerState.SUCCESS:
            ready = cast(OpenedEnvironment, event.worker.result)
            self.ready = ready
            self.wizard.environment = ready.environment
            known = ready.environment.outputs
            if known is not None and self.journey.state.outputs is None:
                self.journey.update(outputs=known.to_json())
            self.query_one("#welcome-identity", Static).update(
                Text.assemble(("Identity    ", "bold"), (ready.identity, "green"))
            )
            if ready.note:
                self._progress(EnvironmentProgress(ready.note))
            self.query_one("#welcome-loading").display = False
            start = self.query_one("#start", Button)
            start.disabled = False
            reattach = self.query_one("#reattach", Button)
            reattach.disabled = False
            if reattach.display:
                reattach.focus()
                self._progress(
                    EnvironmentProgress(
                        "A terraform run of this environment can be re-attached (its progress is rebuilt from its log)."
                    )
                )
                return
            start.label = f"Continue: {self.journey.state.current.title} ›"
            start.refresh(layout=True)  # the label grew: let the button grow with it
            start.focus()
        elif event.state is WorkerState.ERROR:
            event.prevent_default()  # shown here, in the identity line, rather than in the app's error modal
            self.query_one("#welcome-loading").display = False
            message = str(event.worker.error) or type(event.worker.error).__name__
            self.query_one("#welcome-identity", Static).update(
                Text.assemble(("Identity    ", "bold"), (message, "red"))
            )

    @on(Button.Pressed, "#reattach")
    def reattach(self) -> None:
        if self.ready is None or self.run_record is None:
            return
        from dms_tui.screens.provision import ProvisionScreen

        self.app.push_screen(ProvisionScreen(self.journey, attach=self.run_record))

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.ready is None:
            return
        self.wizard.goto(self.journey.state.current)
