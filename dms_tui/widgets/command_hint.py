"""The equivalent command a person could type by hand, shown under every step, copyable over SSH/SSM (OSC 52)."""

from __future__ import annotations

from rich.text import Text
from textual.css.scalar import Unit
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
        # A screen whose commands differ in length from one moment to the next (Verify's, per highlighted check)
        # keeps the box as tall as the longest it has shown, so moving through them does not make the layout jump.
        self.hold_height = False
        self._held_lines = 0

    def render(self) -> Text:
        if not self.command:
            return Text("—", style="dim")
        return Text("$ ") + Text(self.command)  # never markup: paths and ARNs come from outside

    def lines_needed(self, width: int) -> int:
        """How many lines the command takes when wrapped at ``width`` columns."""
        return len(self.render().wrap(self.app.console, max(1, width)))

    def watch_command(self) -> None:
        self._hold()
        self._mark_cut()

    def on_resize(self) -> None:
        self._held_lines = 0  # another width: the longest so far wraps differently
        self._hold()
        self._mark_cut()

    @property
    def cut(self) -> bool:
        """Whether the box shows less than the whole command (a long one at 80x24: a task's mappings JSON).

        Worked out from the width and the box's max-height rather than its drawn height, so that it is settled in the
        same refresh as the command (a screenshot never catches the mark a frame late)."""
        width = self.content_size.width
        if not self.command or width <= 0:
            return False
        limit = self.styles.max_height
        if limit is None or limit.unit != Unit.CELLS:
            return False  # no fixed ceiling: the box grows to the whole command
        return self.lines_needed(width) > int(limit.value) - self.styles.gutter.height

    def _mark_cut(self) -> None:
        # Said where the eye ends, on the box's lower border: a cut command must never pass for the whole one.
        self.border_subtitle = "cut here · c copies it whole" if self.cut else ""

    def _hold(self) -> None:
        width = self.content_size.width
        if not self.hold_height or not width:
            return
        self._held_lines = max(self._held_lines, self.lines_needed(width))
        self.styles.min_height = self._held_lines + self.styles.gutter.height
