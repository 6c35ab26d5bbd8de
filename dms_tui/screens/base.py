"""The frame every wizard step shares: the journey bar, a title, the body, the equivalent command, the keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from dms_tui.journey import Journey, Step
from dms_tui.widgets.command_hint import CommandHint
from dms_tui.widgets.step_bar import StepBar

if TYPE_CHECKING:
    from dms_tui.app import DmsTuiApp

NARROW_WIDTH = 100


class WizardScreen(Screen[None]):
    """A step of the journey. Subclasses set STEP and TITLE and implement compose_body()."""

    STEP: Step = Step.CONFIGURE
    TITLE: str = ""
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "copy_command", "Copy cmd", show=False),
    ]

    def __init__(self, journey: Journey) -> None:
        super().__init__()
        self.journey = journey

    @property
    def wizard(self) -> DmsTuiApp:
        return cast("DmsTuiApp", self.app)

    def compose(self) -> ComposeResult:
        yield StepBar(self.journey.state, showing=self.STEP, id="step-bar")
        with Vertical(id="frame"):
            yield Static(self.TITLE, id="screen-title", markup=False)
            yield from self.compose_body()
            yield CommandHint(self.equivalent_command(), id="command-hint")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def equivalent_command(self) -> str:
        import shlex

        # Until Review writes the tfvars there is no file to check: show the configuration instead (runs as printed).
        if self.journey.config_path.is_file():
            return shlex.join(["dms-tui", "config", "check", str(self.journey.config_path)])
        env = [] if self.journey.env == "dev" else ["--env", self.journey.env]
        return shlex.join(["dms-tui", "config", "show", *env])

    def set_command(self, command: str) -> None:
        self.query_one(CommandHint).command = command

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker.StateChanged does not bubble in Textual: hand every failed worker of a step screen to the app's
        one error handler (a screen that shows a failure inline calls ``event.prevent_default()``)."""
        if event.state is WorkerState.ERROR:
            self.wizard.on_worker_state_changed(event)

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def on_screen_resume(self) -> None:
        self.query_one(StepBar).state = self.journey.state
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def action_copy_command(self) -> None:
        command = self.query_one(CommandHint).command
        if command:
            self.app.copy_to_clipboard(command)  # OSC 52: works through SSH and Session Manager
            self.notify("Command copied to the clipboard", timeout=2)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
