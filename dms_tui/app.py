"""The Textual application: the journey's screens, global keys, and the one target environment chosen at start-up."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from dms_tui import __version__
from dms_tui.journey import Journey, Step
from dms_tui.modes import prepare_mode
from dms_tui.resources import stylesheet_path
from dms_tui.target import TargetEnvironment


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


HELP_TEXT = """\
dms-tui walks you through: Configure → Provision → Verify → Prepare → Migrate → Diff → Cleanup.

Keys (all work over Session Manager):
  Tab / Shift+Tab, arrows   move between fields and rows
  Enter                     press the focused button / select
  Escape                    go back (where safe)
  F1                        this help           F5  next step
  Ctrl+P                    command palette     c   copy the equivalent command (OSC 52)
  q                         quit (asks when work is running)

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


def _step_screen(step: Step) -> Callable[[Journey], Screen[Any]]:
    """The screen class for a step (imported lazily: each screen module holds one screen)."""
    import importlib

    module_name, class_name = STEP_SCREENS[step]
    module = importlib.import_module(f"dms_tui.screens.{module_name}")
    return getattr(module, class_name)  # type: ignore[no-any-return]


STEP_SCREENS: dict[Step, tuple[str, str]] = {
    Step.CONFIGURE: ("network", "NetworkScreen"),
    Step.PROVISION: ("provision", "ProvisionScreen"),
    Step.VERIFY: ("verify", "VerifyScreen"),
    Step.PREPARE: ("prepare", "PrepareScreen"),
    Step.MIGRATE: ("migrate", "MigrateScreen"),
    Step.DIFF: ("diff", "DiffScreen"),
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
    ]

    def __init__(
        self,
        journey: Journey,
        *,
        target: TargetEnvironment | None = None,
        mode_preparer: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__()
        self.journey = journey
        self.target = target  # set by the Welcome screen once the mode is ready (sandbox up / AWS identity)
        # How the Welcome screen gets the mode ready; tests swap in a preparer for their own sandbox or moto.
        self.mode_preparer = mode_preparer or prepare_mode
        self.busy: set[str] = set()  # names of running jobs; quitting asks while any is running

    @property
    def sandbox(self) -> bool:
        return self.journey.mode == "sandbox"

    def on_mount(self) -> None:
        from dms_tui.screens.welcome import WelcomeScreen

        self._install_signal_handlers()
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

    def _terminal_lost(self, sig: int) -> None:
        self.journey.checkpoint()
        self.exit(128 + int(sig))

    def goto(self, step: Step) -> None:
        """Show ``step``'s screen on top of the Welcome screen (the journey's home)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(_step_screen(step)(self.journey))

    def step_done(self, step: Step, **updates: Any) -> None:
        """Record a finished step (checkpointed), then move on to the next one."""
        state = self.journey.complete(step, **updates)
        self.goto(state.current)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        if not self.busy:
            self.journey.checkpoint()
            self.exit(0)
            return

        def answer(quit_now: bool | None) -> None:
            if quit_now:
                self.journey.checkpoint()
                self.exit(0)

        running = ", ".join(sorted(self.busy))
        self.push_screen(
            ConfirmScreen(
                f"{running} is still running. Quit anyway? (a terraform run keeps going and can be re-attached)",
                yes="Quit",
                no="Stay",
            ),
            answer,
        )


def build_app(*, sandbox: bool, env: str) -> DmsTuiApp:
    """The app for this run: the journey is resumed from its checkpoint when there is one."""
    return DmsTuiApp(Journey.resume_or_start(env, "sandbox" if sandbox else "aws"))


def run_wizard(*, sandbox: bool, env: str) -> int:
    """Start the wizard; returns the process exit code."""
    result = build_app(sandbox=sandbox, env=env).run()
    return int(result or 0)
