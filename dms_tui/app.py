"""The Textual application: the journey's screens, global keys, and the one target environment chosen at start-up."""

from __future__ import annotations

import signal
import weakref
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Static, TextArea
from textual.worker import Worker, WorkerState

from dms_tui import __version__
from dms_tui.applog import log_exception
from dms_tui.environment import Environment, EnvironmentRequest
from dms_tui.errors import StepError
from dms_tui.journey import STEPS, Journey, Step
from dms_tui.resources import stylesheet_path
from dms_tui.steps.services import StepServices

# Workers in groups named "job:<what>" are long jobs a person must be asked about before quitting.
JOB_GROUP_PREFIX = "job:"


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; Enter/y confirms, Escape/n cancels."""

    BINDINGS = [
        Binding("y", "continue", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self.question, markup=False, id="confirm-question")
            with Horizontal(classes="nav-row"):
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_continue(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorScreen(ModalScreen[None]):
    """What failed, why, and what to do next; the log's path for the rest. Enter or Escape closes it."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, error: StepError, log_path: str) -> None:
        super().__init__()
        self.error, self.log_path = error, log_path

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self.error.what + "\n", style="bold red")
        if self.error.why:
            text.append(self.error.why + "\n")
        if self.error.next_step:
            text.append("\n→ " + self.error.next_step + "\n", style="bold")
        text.append(f"\nlog: {self.log_path}", style="dim")
        with Vertical(id="error-dialog"):
            yield Static(text, id="error-text")
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


HELP_TEXT = """\
dms-tui walks you through: Configure → Provision → Verify → Prepare → Migrate → Diff → Cutover → Cleanup.

Keys (all work over Session Manager):
  Tab / Shift+Tab, arrows   move between fields and rows
  Enter                     press the focused button / select
  Escape                    go back (where safe)
  F1                        this help           F5  next step
  Ctrl+P                    command palette     c   copy the equivalent command (OSC 52)
  q                         quit (asks when work is running)
  p (presenter mode)        pause / resume the steps moving on by themselves

Every step shows the aws / terraform / psql command you could type instead.
Long runs (terraform apply) survive a dropped terminal: start dms-tui again to re-attach.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(HELP_TEXT, markup=False)
            yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


def _step_screen(step: Step) -> Callable[[Journey], Screen[Any]] | None:
    """The screen class for a step (imported lazily: each screen module holds one screen); None while a step's
    screen module is not part of this build (the step is then passed over)."""
    import importlib

    module_name, class_name = STEP_SCREENS[step]
    try:
        module = importlib.import_module(f"dms_tui.screens.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"dms_tui.screens.{module_name}":
            raise
        return None
    return getattr(module, class_name)  # type: ignore[no-any-return]


STEP_SCREENS: dict[Step, tuple[str, str]] = {
    Step.CONFIGURE: ("network", "NetworkScreen"),
    Step.PROVISION: ("provision", "ProvisionScreen"),
    Step.VERIFY: ("verify", "VerifyScreen"),
    Step.PREPARE: ("prepare", "PrepareScreen"),
    Step.MIGRATE: ("migrate", "MigrateScreen"),
    Step.DIFF: ("diff", "DiffScreen"),
    Step.CUTOVER: ("cutover", "CutoverScreen"),  # screens/cutover.py: the CDC helper's (issue 13)
    Step.CLEANUP: ("cleanup", "CleanupScreen"),
}


class DmsTuiApp(App[int]):
    """dms-tui: configure → provision → verify → prepare → migrate → diff → clean up."""

    TITLE = "dms-tui"
    SUB_TITLE = f"PostgreSQL → Aurora through PrivateLink · v{__version__}"
    CSS_PATH = str(stylesheet_path())
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("q", "request_quit", "Quit"),
        # Only in presenter mode (elsewhere the key falls through to the screen's own p).
        Binding("p", "toggle_pause", "Pause", priority=True),
    ]
    # Presenter mode: how long a finished step stays on screen before the app presses its primary action.
    ADVANCE_DELAY = 3.0

    def __init__(
        self,
        journey: Journey,
        request: EnvironmentRequest | None = None,
        *,
        services: StepServices | None = None,
    ) -> None:
        super().__init__()
        self.journey = journey
        self.request = request or EnvironmentRequest(sandbox=journey.mode == "sandbox", env=journey.env)
        self.services = services or StepServices()
        self.environment: Environment | None = None  # set by the Welcome screen once it is ready
        self.presenting = self.request.present  # presenter mode: narration, and finished steps move on by themselves
        self.presenter_paused = False
        # What moves on when the pause ends: the screen, its primary action, and how long it stays on screen first.
        self._advance: tuple[Screen[Any], Callable[[], object], float] | None = None
        self._advance_timer: Timer | None = None
        self._errors_shown: weakref.WeakSet[Worker[Any]] = weakref.WeakSet()

    @property
    def running_jobs(self) -> list[str]:
        """Long jobs running now (workers in "job:" groups), for the quit question."""
        jobs = {
            str(w.group)[len(JOB_GROUP_PREFIX) :]
            for w in self.workers
            if str(w.group).startswith(JOB_GROUP_PREFIX) and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        }
        return sorted(jobs)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes something a person sees: an error modal (traceback in the log)."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        if event.worker in self._errors_shown:  # a screen and its base class may both hand the same failure over
            return
        self._errors_shown.add(event.worker)
        self.show_error(event.worker.error, context=f"worker {event.worker.name or event.worker.group}")

    def show_error(self, exc: BaseException, *, context: str = "") -> StepError:
        """Show ``exc`` in the error modal (a StepError as it is; anything else as a bug) and log its traceback."""
        error = (
            exc
            if isinstance(exc, StepError)
            else StepError(
                "Something went wrong.", f"{type(exc).__name__}: {exc}", "See the log; retry the step, or report it."
            )
        )
        path = log_exception(context or "error", exc)
        self.push_screen(ErrorScreen(error, str(path)))
        return error

    def on_mount(self) -> None:
        from dms_tui.screens.welcome import WelcomeScreen

        self._install_signal_handlers()
        self._exit_when_the_browser_server_goes()
        self.push_screen(WelcomeScreen(self.journey))

    def _install_signal_handlers(self) -> None:
        # The terminal going away (SSM session dropped) must checkpoint and exit, never leave a process spinning.
        import asyncio

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._terminal_lost, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def _exit_when_the_browser_server_goes(self) -> None:
        # Under `dms-tui serve` (textual-serve's web driver) the browser's keys arrive on stdin from the server. A
        # server stopped while a tab was open may never send its "quit": stdin just ends, and nobody can drive or see
        # this wizard any more. Checkpoint and exit then, rather than linger as an orphan (Dolphie's issue 101).
        # The driver's input thread is private to Textual; it ends exactly when that stream does.
        from textual.drivers.web_driver import WebDriver

        driver = self._driver
        if not isinstance(driver, WebDriver):
            return

        def check() -> None:
            reader = driver._key_thread
            if reader.ident is not None and not reader.is_alive():
                timer.stop()
                self._terminal_lost(signal.SIGHUP)

        timer = self.set_interval(1.0, check)

    def _terminal_lost(self, sig: int) -> None:
        self.journey.checkpoint()
        self.exit(128 + int(sig))

    def goto(self, step: Step) -> None:
        """Show ``step``'s screen on top of the Welcome screen (the journey's home)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        screen = _step_screen(step)
        while screen is None and step is not STEPS[-1]:
            step = STEPS[STEPS.index(step) + 1]
            screen = _step_screen(step)
        assert screen is not None, "the last step's screen is always there"
        self.push_screen(screen(self.journey))

    def goto_review(self) -> None:
        """Configure's Review screen (to plan again), with Network and Databases beneath it for Back."""
        from dms_tui.screens.databases import DatabasesScreen
        from dms_tui.screens.review import ReviewScreen

        self.goto(Step.CONFIGURE)
        self.push_screen(DatabasesScreen(self.journey))
        self.push_screen(ReviewScreen(self.journey))

    def start_afresh(self) -> None:
        """A new Welcome screen for the (reset) journey: the environment is made ready again (after Cleanup the
        sandbox is brought up anew), then Continue starts at Configure."""
        from dms_tui.screens.welcome import WelcomeScreen

        self.environment = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(WelcomeScreen(self.journey))

    def step_done(self, step: Step, **updates: Any) -> None:
        """Record a finished step (checkpointed), then move on to the next one."""
        state = self.journey.complete(step, **updates)
        self.goto(state.current)

    # -- presenter mode ------------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Presenter mode: " + ("off" if self.presenting else "on"),
            "Narration for a customer beside each step; finished steps move on by themselves (p pauses)",
            self.action_toggle_presenter,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_pause":
            return self.presenting  # off: neither shown nor taken, so a screen's own p (Plan, Prepare) works
        return True

    def action_toggle_presenter(self) -> None:
        self.set_presenting(not self.presenting)

    def set_presenting(self, on: bool) -> None:
        self.presenting, self.presenter_paused = on, False
        if not on:
            self._cancel_advance()
        self._show_presenter_state()
        self.notify("Presenter mode on: p pauses" if on else "Presenter mode off", timeout=3)

    def action_toggle_pause(self) -> None:
        if not self.presenting or isinstance(self.focused, Input | TextArea):
            raise SkipAction()  # the key is the screen's (Review's Plan, Prepare's Prepare) or the field's
        self.presenter_paused = not self.presenter_paused
        if self.presenter_paused:
            if self._advance_timer is not None:
                self._advance_timer.stop()
        elif self._advance is not None:
            self._schedule_advance()
        self._show_presenter_state()

    def _show_presenter_state(self) -> None:
        from dms_tui.widgets.narration import NarrationPanel

        for screen in self.screen_stack:
            for panel in screen.query(NarrationPanel):
                panel.set_class(self.presenting, "presenting")
                panel.paused = self.presenter_paused

    def advance_when_shown(
        self, screen: Screen[Any], press: Callable[[], object], *, hold: float | None = None
    ) -> None:
        """Presenter mode: a step's done-event arrived; after a short pause (``hold`` seconds when given; unless
        paused) ``press`` its primary action, as a presenter pressing Enter would."""
        if not self.presenting:
            return
        self._advance = (screen, press, self.ADVANCE_DELAY if hold is None else hold)
        if not self.presenter_paused:
            self._schedule_advance()

    def _schedule_advance(self) -> None:
        if self._advance_timer is not None:
            self._advance_timer.stop()
        hold = self._advance[2] if self._advance is not None else self.ADVANCE_DELAY
        self._advance_timer = self.set_timer(hold, self._advance_now)

    def _cancel_advance(self) -> None:
        self._advance = None
        if self._advance_timer is not None:
            self._advance_timer.stop()

    def _advance_now(self) -> None:
        pending, self._advance = self._advance, None
        if pending is None or not self.presenting or self.presenter_paused:
            self._advance = pending
            return
        screen, press, _ = pending
        if self.screen is screen:  # a person moved elsewhere meanwhile: their choice stands
            press()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        if not self.running_jobs:
            self.journey.checkpoint()
            self.exit(0)
            return

        def answer(quit_now: bool | None) -> None:
            if quit_now:
                self.journey.checkpoint()
                self.exit(0)

        running = ", ".join(self.running_jobs)
        self.push_screen(
            ConfirmScreen(
                f"{running} is still running. Quit anyway? (a terraform run keeps going and can be re-attached)",
                yes="Quit",
                no="Stay",
            ),
            answer,
        )


def build_app(request: EnvironmentRequest, services: StepServices | None = None) -> DmsTuiApp:
    """The app for this run (the one factory `dms-tui` and the tests use): the journey is resumed from its
    checkpoint when there is one; ``services`` replaces the outside world (tests)."""
    return DmsTuiApp(Journey.resume_or_start(request.env, request.mode), request, services=services)


def run_wizard(request: EnvironmentRequest) -> int:
    """Start the wizard; returns the process exit code."""
    result = build_app(request).run()
    return int(result or 0)
