"""A live checklist: one row per check, grouped by side; a row spins while its check runs, then settles with its mark
and time. It renders the checks' typed events and knows nothing about how checks run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from dms_tui.checks.result import CheckInfo, CheckResult

#: Checklist groups in the order they are shown, with their labels ("environment" checks are about the bastion
#: and the DMS instance, not one side).
GROUPS: tuple[tuple[str, str], ...] = (("source", "source"), ("target", "target"), ("environment", "general"))

MARKS: dict[str, tuple[str, str]] = {
    "ok": ("✓", "green"),
    "warn": ("!", "yellow"),
    "fail": ("✗", "bold red"),
    "skipped": ("–", "dim"),
}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_HEADER_PREFIX = "group:"


@dataclass
class _Row:
    info: CheckInfo
    started: float | None = None
    result: CheckResult | None = None


class Checklist(OptionList):
    """Rows are options whose id is the check id; group headers are disabled options the cursor skips."""

    DEFAULT_CSS = """
    Checklist {
        height: 1fr;
        border: round $primary 40%;
        border-title-color: $text-muted;
        padding: 0;
    }
    Checklist > .option-list--option-disabled { color: $text-accent; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "checks"
        self._rows: dict[str, _Row] = {}
        self._frame = 0

    # -- events --------------------------------------------------------------------------------------------------

    def plan(self, checks: tuple[CheckInfo, ...]) -> None:
        """Show every planned check as waiting, grouped by side, keeping the highlighted row where it was."""
        keep = self.highlighted_id
        self._rows = {info.id: _Row(info) for info in checks}
        options: list[Option] = []
        for side, label in GROUPS:
            members = [info for info in checks if info.side == side]
            if not members:
                continue
            options.append(Option(Text(label, style="bold"), id=_HEADER_PREFIX + side, disabled=True))
            options += [Option(self._prompt(self._rows[info.id]), id=info.id) for info in members]
        self.set_options(options)
        ids = [o.id for o in options if not o.disabled and o.id is not None]
        if ids:
            self.highlighted = self.get_option_index(keep if keep is not None and keep in ids else ids[0])

    def start(self, check_id: str) -> None:
        row = self._rows.get(check_id)
        if row is not None:
            row.started = time.monotonic()
            self._redraw(row)

    def finish(self, result: CheckResult) -> None:
        row = self._rows.get(result.id)
        if row is not None:
            row.result = result
            self._redraw(row)

    def tick(self) -> None:
        """Advance the spinner of running rows (called a few times a second while checks run)."""
        self._frame = (self._frame + 1) % len(SPINNER)
        for row in self._rows.values():
            if row.started is not None and row.result is None:
                self._redraw(row)

    # -- queries -------------------------------------------------------------------------------------------------

    @property
    def highlighted_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None and not option.disabled else None

    def info(self, check_id: str) -> CheckInfo | None:
        row = self._rows.get(check_id)
        return row.info if row else None

    def result(self, check_id: str) -> CheckResult | None:
        row = self._rows.get(check_id)
        return row.result if row else None

    def running_for(self, check_id: str) -> float | None:
        """Seconds a still-running check has been running, None when it is waiting or settled."""
        row = self._rows.get(check_id)
        if row is None or row.started is None or row.result is not None:
            return None
        return time.monotonic() - row.started

    def settled(self) -> list[CheckResult]:
        return [row.result for row in self._rows.values() if row.result is not None]

    # -- rendering -----------------------------------------------------------------------------------------------

    def _redraw(self, row: _Row) -> None:
        self.replace_option_prompt(row.info.id, self._prompt(row))

    def _prompt(self, row: _Row) -> RenderableType:
        if row.result is not None:
            mark, style = MARKS[row.result.status]
            when = Text("" if row.result.status == "skipped" else f"{row.result.duration:5.2f}s", style="dim")
            title_style = "red" if row.result.status == "fail" else ""
        elif row.started is not None:
            mark, style = SPINNER[self._frame], "yellow"
            when = Text(f"{time.monotonic() - row.started:5.1f}s", style="yellow")
            title_style = ""
        else:
            mark, style = "·", "dim"
            when = Text("", style="dim")
            title_style = "dim"
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(width=6, justify="right")
        # Titles come from the checks (plain text), never parsed as markup.
        grid.add_row(Text(mark, style=style), Text(row.info.title, style=title_style), when)
        return grid
