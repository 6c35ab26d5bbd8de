"""The journey across the top of every screen: done / current / blocked steps."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from dms_tui.journey import STEPS, Step, WizardState


class StepBar(Static):
    """Configure → Provision → Verify → Prepare → Migrate → Diff → Cleanup, with each step's state."""

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
        compact = bool(self.size.width) and self.size.width < 72
        for index, step in enumerate(STEPS):
            if index:
                text.append(" › " if not compact else "›", style="dim")  # one cell: no double-width glyphs
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
