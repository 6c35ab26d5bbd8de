"""The equivalent command a person could type by hand, shown under every step, copyable over SSH/SSM (OSC 52)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class CommandHint(Static):
    """Shows ``$ command`` in a calm box; the app's `c` key copies it through the terminal (OSC 52)."""

    DEFAULT_CSS = """
    CommandHint {
        height: auto;
        max-height: 4;
        border: round $primary 40%;
        border-title-color: $text-muted;
        padding: 0 1;
        color: $text-muted;
    }
    """

    command: reactive[str] = reactive("", layout=True)

    def __init__(self, command: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "equivalent command · c copies"
        self.set_reactive(CommandHint.command, command)

    def render(self) -> Text:
        if not self.command:
            return Text("—", style="dim")
        return Text("$ ") + Text(self.command)  # never markup: paths and ARNs come from outside
