"""One preflight finding in full: what was found, what fails later, what to change now, and the command."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from dms_tui.steps.preflight import SEVERITY_MARKS, Finding


class FindingScreen(ModalScreen[None]):
    """A finding of the account preflight, opened from its one line on Review. Enter or Escape closes it."""

    BINDINGS = [Binding("escape,enter", "close", "Close"), Binding("c", "copy_command", "Copy cmd", show=False)]

    def __init__(self, finding: Finding) -> None:
        super().__init__()
        self.finding = finding

    def compose(self) -> ComposeResult:
        finding = self.finding
        mark, style = SEVERITY_MARKS[finding.severity]
        text = Text(f"{mark} {finding.title}\n\n", style=f"bold {style}")
        text.append(finding.detail)  # outside text (AWS errors, ARNs): plain, never markup
        if finding.remedy:
            text.append("\n\n→ ", style=f"bold {style}")
            text.append(finding.remedy)
        if finding.command:
            text.append("\n\n$ ", style="dim")
            text.append(finding.command, style="dim")
            text.append("\n(c copies it)", style="dim")
        with VerticalScroll(id="finding-dialog"):
            yield Static(text, id="finding-text")
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus(scroll_visible=False)  # the title stays in view

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_command(self) -> None:
        if self.finding.command:
            self.app.copy_to_clipboard(self.finding.command)  # OSC 52: works through SSH and Session Manager
            self.notify("Command copied to the clipboard", timeout=2)
