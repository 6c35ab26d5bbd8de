"""Presenter mode's panel: where the journey is (a bar across the screen), what this step proves, and why the hop
exists — in words for a customer, from dms_tui.domain.narration."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from dms_tui.domain.narration import narration_for


class NarrationPanel(Static):
    """Shown only in presenter mode; ``paused`` says whether finished steps still move on by themselves."""

    DEFAULT_CSS = """
    NarrationPanel {
        display: none;
        height: auto;
        background: $boost;
        border-left: thick $accent;
        padding: 0 1;
    }
    NarrationPanel.presenting { display: block; }
    """

    paused: reactive[bool] = reactive(False)
    # Which words: the step's own, or a later moment of it (``NARRATION``'s "migrate-cdc").
    topic: reactive[str] = reactive("", layout=True)

    def __init__(self, step: str, position: int, total: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step, self.position, self.total = step, position, total

    def render(self) -> Text:
        narration = narration_for(self.topic or self.step)
        width = max(20, self.content_size.width or 60)
        label = f" STEP {self.position} OF {self.total} · {self.step.upper()} " if self.position else " WELCOME "
        # The bar, then the state on the same line: the panel costs as few of 24 rows as it can.
        state, state_style = ("‖ paused · p resumes", "bold yellow") if self.paused else ("▶ auto · p pauses", "dim")
        room = max(0, width - len(label) - len(state) - 2)
        done = round(room * max(0, self.position - 1) / max(1, self.total - 1))
        text = Text()
        text.append(label, style="bold reverse")
        text.append(" ")
        text.append("━" * done, style="bold cyan")
        text.append("━" * (room - done), style="dim")
        text.append(" ")
        text.append(state, style=state_style)
        text.append("\n")
        text.append(narration.headline, style="bold")
        if narration.proves:
            text.append(" — " + narration.proves)
        if narration.why and width >= 96:  # at 80 columns the why waits for a wider screen
            text.append("\n")
            text.append(narration.why, style="italic")
        return text
