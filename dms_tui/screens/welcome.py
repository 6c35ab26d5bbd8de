"""Welcome: the mode (AWS account or sandbox), who and where, and the environment to create or resume."""

from __future__ import annotations

import time
from dataclasses import replace
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
from dms_tui.journey import Journey, Step
from dms_tui.steps.provision import last_run
from dms_tui.steps.resume import ResumeCheck, check_resume, what_still_runs
from dms_tui.widgets.narration import NarrationPanel
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
            yield NarrationPanel("welcome", 0, len(Step), id="narration")
            yield Static(INTRO, id="welcome-intro", markup=False)
            mode = self.wizard.request.label
            yield Static(Text.assemble(("Mode        ", "bold"), mode), id="welcome-mode")
            yield Static(self._environment_line(), id="welcome-env")
            yield Static("", id="welcome-setback")
            yield Static(Text.assemble(("Identity    ", "bold"), ("looking…", "dim")), id="welcome-identity")
            yield LoadingIndicator(id="welcome-loading")
            yield Static("", id="welcome-progress")
            with Horizontal(classes="nav-row"):
                yield Button("Start over", id="start-over", disabled=True)
                yield Button("Re-attach", id="reattach", variant="warning", disabled=True)
                yield Button("Tunnel via bastion", id="tunnel")  # shown on AWS once there are endpoints
                yield Button("Start ›", id="start", variant="primary", disabled=True)
        yield Footer()

    @property
    def wizard(self) -> DmsTuiApp:
        return cast("DmsTuiApp", self.app)

    def _environment_line(self, check: ResumeCheck | None = None) -> Text:
        if check is not None and (check.fell_back or check.unchecked):
            where = check.summary
        elif self.journey.state.setback is not None:
            where = f"back at {self.journey.state.current.title}"
        elif self.journey.resumed:
            where = f"resuming at {self.journey.state.current.title}"
        else:
            where = "new environment"
        return Text.assemble(("Environment ", "bold"), f"{self.journey.env} · {where}")

    def _show_setback(self) -> None:
        from dms_tui.screens.review import render_setback

        setback = self.journey.state.setback
        box = self.query_one("#welcome-setback", Static)
        box.display = setback is not None
        if setback is not None:
            box.update(render_setback(setback))
        self.query_one(StepBar).state = self.journey.state
        start_over = self.query_one("#start-over", Button)
        start_over.display = self.journey.state.finished or setback is not None

    def on_mount(self) -> None:
        self.query_one(NarrationPanel).set_class(self.wizard.presenting, "presenting")
        self.progress_lines: list[str] = []
        self.resume_check: ResumeCheck | None = None
        self.query_one("#tunnel", Button).display = False
        self._show_setback()
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
        services = self.wizard.services
        ready = services.open_environment(self.wizard.request, lambda p: self.app.call_from_thread(self._progress, p))
        if self.journey.resumed:
            # A checkpoint says what was done; the environment says whether its results still exist.
            self.app.call_from_thread(self._progress, EnvironmentProgress("Checking what the journey left…"))
            environment = ready.environment
            self.resume_check = check_resume(environment, self.journey, dms=services.dms_client(environment))
        return ready

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
            self.query_one("#welcome-env", Static).update(self._environment_line(self.resume_check))
            self._show_setback()
            self.query_one("#start-over", Button).disabled = False
            self.query_one("#welcome-mode", Static).update(
                Text.assemble(("Mode        ", "bold"), self.wizard.request.label)
            )
            # From a laptop the databases answer only through the bastion: offer the tunnels (dms-tui --tunnel).
            self.query_one("#tunnel", Button).display = not ready.environment.emulated and not (
                self.wizard.request.tunnel or known is None
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
            self._label_start()
            start.focus()
            self.wizard.advance_when_shown(self, start.press)  # presenter mode: on to the journey by itself
        elif event.state is WorkerState.ERROR:
            event.prevent_default()  # shown here, in the identity line, rather than in the app's error modal
            self.query_one("#welcome-loading").display = False
            message = str(event.worker.error) or type(event.worker.error).__name__
            self.query_one("#welcome-identity", Static).update(
                Text.assemble(("Identity    ", "bold"), (message, "red"))
            )

    def on_screen_resume(self) -> None:
        """Back on Welcome (Escape from a step): say where the journey is now, which may have moved."""
        if self.ready is not None:
            self.query_one("#welcome-env", Static).update(self._environment_line(self.resume_check))
            self._show_setback()
            if not self.query_one("#reattach", Button).display:
                self._label_start()

    @on(Button.Pressed, "#tunnel")
    def tunnel(self) -> None:
        """Open the environment again as `dms-tui --tunnel` would: one Session Manager tunnel per endpoint."""
        if self.ready is None:
            return
        self.ready = None
        self.wizard.request = replace(self.wizard.request, tunnel=True)
        self.query_one("#tunnel", Button).display = False
        self.query_one("#start", Button).disabled = True
        self.query_one("#welcome-loading").display = True
        self.get_ready()

    @on(Button.Pressed, "#reattach")
    def reattach(self) -> None:
        if self.ready is None or self.run_record is None:
            return
        from dms_tui.screens.provision import ProvisionScreen

        self.app.push_screen(ProvisionScreen(self.journey, attach=self.run_record))

    def _replans(self) -> bool:
        """Continue leads to Review (plan again), not to Provision: the last apply failed or what it made is gone."""
        state = self.journey.state
        return (
            state.current is Step.CONFIGURE
            and state.setback is not None
            and state.setback.step is Step.PROVISION
            and self.journey.config_path.is_file()
        )

    def _label_start(self) -> None:
        start = self.query_one("#start", Button)
        current = self.journey.state.current
        start.label = "Continue: Review (plan again) ›" if self._replans() else f"Continue: {current.title} ›"
        start.refresh(layout=True)  # the label grew: let the button grow with it

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.ready is None:
            return
        if self._replans():
            self.wizard.goto_review()
            return
        self.wizard.goto(self.journey.state.current)

    @on(Button.Pressed, "#start-over")
    def start_over(self) -> None:
        """Forget the journey's progress (the configuration is kept), after saying what still exists or runs."""
        if self.ready is None:
            return
        from dms_tui.app import ConfirmScreen

        still = what_still_runs(self.journey, self.ready.environment)
        question = "Start over from Configure? The journey's progress is forgotten; the configuration is kept."
        if still:
            question += (
                "\n\nStill there (starting over keeps it; Provision finds it again, Cleanup removes it):\n"
                + "\n".join(f"• {item}" for item in still)
            )

        def answer(yes: bool | None) -> None:
            if yes:
                self.journey.reset()
                self.resume_check = None
                self.query_one("#welcome-env", Static).update(self._environment_line())
                self._show_setback()
                self._label_start()
                self.query_one("#start", Button).focus()
                self.notify("Starting over: Continue begins at Configure.", timeout=4)

        self.app.push_screen(ConfirmScreen(question, yes="Start over", no="Cancel"), answer)
