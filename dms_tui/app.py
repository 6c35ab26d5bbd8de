"""The Textual application: screens, global keys and the one target environment chosen at start-up."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from dms_tui import __version__
from dms_tui.resources import stylesheet_path
from dms_tui.screens.welcome import WelcomeScreen


class DmsTuiApp(App[int]):
    """dms-tui: configure → provision → verify → prepare → migrate → diff → clean up."""

    TITLE = "dms-tui"
    SUB_TITLE = f"PostgreSQL → Aurora through PrivateLink · v{__version__}"
    CSS_PATH = str(stylesheet_path())
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, *, sandbox: bool = False, env: str = "dev") -> None:
        super().__init__()
        self.sandbox = sandbox
        self.env_name = env

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen(sandbox=self.sandbox, env=self.env_name))

    def action_help(self) -> None:
        self.notify("Arrows/Tab move · Enter selects · Escape goes back · F1 help · q quits", title="Keys")


def run_wizard(*, sandbox: bool, env: str) -> int:
    """Start the wizard; returns the process exit code."""
    result = DmsTuiApp(sandbox=sandbox, env=env).run()
    return int(result or 0)
