"""The journey across the top of every screen: done / current / blocked steps."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from dms_tui.journey import STEPS, Step, WizardState


class StepBar(Static):
    """Configure → Provision → … → Diff → Cutover → Cleanup, with each step's state."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    state: reactive[WizardState | None] = reactive(None)

    def __init__(self, state: WizardState | None = None, *, showing: Step | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.showing = showing
        self.set_reactive(StepBar.state, state)

    def render(self) -> Text:
        state = self.state
        text = Text(no_wrap=True, overflow="ellipsis")
        # Full names when they fit (each step's mark takes two cells), else four letters each, then tighter arrows.
        room = self.size.width - 2 if self.size.width else 10**6
        full = sum(len(step.title) + 2 for step in STEPS) + 3 * (len(STEPS) - 1)
        short = 6 * len(STEPS) + 3 * (len(STEPS) - 1)
        compact = room < full
        separator = " › " if room >= short else "›"
        for index, step in enumerate(STEPS):
            if index:
                text.append(separator, style="dim")  # one cell: no double-width glyphs
            label = step.title if not compact else step.title[:4]
            if step is self.showing:
                text.append(f"● {label}", style="bold reverse")
            elif state is not None and state.is_done(step):
                text.append(f"✓ {label}", style="green")
            elif state is not None and state.blocked(step):
                text.append(label, style="dim")
            else:
                text.append(label)
        return text
