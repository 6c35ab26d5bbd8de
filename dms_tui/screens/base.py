"""The frame every wizard step shares: the journey bar, a title, the body, the equivalent command, the keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from dms_tui.journey import STEPS, Journey, Step
from dms_tui.widgets.command_hint import CommandHint
from dms_tui.widgets.narration import NarrationPanel
from dms_tui.widgets.step_bar import StepBar

if TYPE_CHECKING:
    from collections.abc import Callable

    from dms_tui.app import DmsTuiApp

NARROW_WIDTH = 100


class WizardScreen(Screen[None]):
    """A step of the journey. Subclasses set STEP and TITLE and implement compose_body()."""

    STEP: Step = Step.CONFIGURE
    TITLE: str = ""
    # Presenter mode presses the first of these buttons when it becomes enabled (the step's work is done);
    # the configuration forms, enabled from the start, wait for the presenter's Enter.
    ADVANCES_WHEN_ENABLED: ClassVar[tuple[str, ...]] = ("#next", "#apply")
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
            yield NarrationPanel(self.STEP.value, STEPS.index(self.STEP) + 1, len(STEPS), id="narration")
            yield from self.compose_body()
            yield CommandHint(self.equivalent_command(), id="command-hint")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        """Presenter mode: the narration panel, and the watch on the primary button (runs after a subclass's own
        on_mount: Textual calls each class's handler)."""
        panel = self.query_one(NarrationPanel)
        panel.set_class(self.wizard.presenting, "presenting")
        panel.paused = self.wizard.presenter_paused
        for selector in self.ADVANCES_WHEN_ENABLED:
            for button in self.query(selector).results(Button):
                self.watch(button, "disabled", self._primary_watcher(button), init=False)

    def _primary_watcher(self, button: Button) -> Callable[[bool], None]:
        def enabled(disabled: bool) -> None:  # one parameter: Textual passes the new value only
            if not disabled and button.display:
                self.step_finished(button.press)

        return enabled

    def step_finished(self, press: Callable[[], object] | None = None, *, hold: float | None = None) -> None:
        """The step's done-event arrived: in presenter mode the app presses ``press`` (the primary action; by
        default F5's next) after a short pause (``hold`` seconds when given)."""
        self.wizard.advance_when_shown(self, press or self.action_next, hold=hold)

    def action_next(self) -> None:
        """Subclasses move the journey on (F5)."""

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
        self.query_one(NarrationPanel).set_class(self.wizard.presenting, "presenting")
        self.set_class(self.size.width < NARROW_WIDTH, "narrow")

    def action_copy_command(self) -> None:
        command = self.query_one(CommandHint).command
        if command:
            self.app.copy_to_clipboard(command)  # OSC 52: works through SSH and Session Manager
            self.notify("Command copied to the clipboard", timeout=2)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
