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

    # Ways to draw the bar, roomiest first: (separator, space after a step's mark, letters per name). The first one
    # whose width fits is used, so 80 columns still show every step's whole name (a presenter's bar, not "Veri").
    LAYOUTS = ((" › ", " ", None), ("›", " ", None), ("›", "", None), ("›", "", 4))

    def _parts(self) -> list[tuple[str, str]]:
        """(mark, style) per step, in order: ● showing, ✓ done, none otherwise."""
        state = self.state
        parts: list[tuple[str, str]] = []
        for step in STEPS:
            if step is self.showing:
                parts.append(("●", "bold reverse"))
            elif state is not None and state.is_done(step):
                parts.append(("✓", "green"))
            elif state is not None and state.blocked(step):
                parts.append(("", "dim"))
            else:
                parts.append(("", ""))
        return parts

    def render(self) -> Text:
        parts = self._parts()
        room = self.size.width - 2 if self.size.width else 10**6

        def label(step: Step, mark: str, gap: str, letters: int | None) -> str:
            name = step.title if letters is None else step.title[:letters]
            return f"{mark}{gap}{name}" if mark else name

        layout = self.LAYOUTS[-1]
        for candidate in self.LAYOUTS:
            separator, gap, letters = candidate
            width = sum(len(label(s, m, gap, letters)) for s, (m, _) in zip(STEPS, parts, strict=True))
            if width + len(separator) * (len(STEPS) - 1) <= room:
                layout = candidate
                break
        separator, gap, letters = layout
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, (step, (mark, style)) in enumerate(zip(STEPS, parts, strict=True)):
            if index:
                text.append(separator, style="dim")  # one cell: no double-width glyphs
            text.append(label(step, mark, gap, letters), style=style)
        return text
