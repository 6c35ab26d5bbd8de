"""The live architecture diagram: each part lights up as its Terraform resources complete."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from dms_tui.provision.architecture import BOX_BY_ID, BoxState

_STYLE: dict[BoxState, str] = {
    "idle": "dim",
    "building": "bold yellow",
    "ready": "bold green",
    "failed": "bold white on red",
}
_MARK: dict[BoxState, str] = {"idle": "·", "building": "◐", "ready": "●", "failed": "✗"}

# Three columns: source VPC, DMS VPC, target VPC; rows follow the data path.
_LAYOUT: tuple[tuple[str, str, str], ...] = (
    ("vpc-source", "vpc-dms", "vpc-target"),
    ("aurora-source", "dms", "aurora-target"),
    ("secret-source", "bastion", "secret-target"),
    ("nlb-source", "vpce-source", "nlb-target"),
    ("svc-source", "vpce-target", "svc-target"),
)


class ArchitectureDiagram(Static):
    DEFAULT_CSS = """
    ArchitectureDiagram {
        height: auto;
        border: round $primary 40%;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    """

    states: reactive[dict[str, BoxState]] = reactive(dict, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "architecture"

    def render(self) -> Text:
        width = max(14, min(22, (self.size.width - 4) // 3 or 22))
        text = Text(no_wrap=True, overflow="ellipsis")
        for row_index, row in enumerate(_LAYOUT):
            if row_index:
                text.append("\n")
            for col, box_id in enumerate(row):
                state = self.states.get(box_id, "idle")
                label = f"{_MARK[state]} {BOX_BY_ID[box_id].label}"
                text.append(label[:width].ljust(width), style=_STYLE[state])
                if col < 2:
                    text.append(" ⇢ " if row_index == 3 and col == 0 else "   ", style="cyan")
        return text
