"""Side-by-side rows of one table's diff: source on the left, target on the right, the key pinned.

Changed cells are highlighted, missing and extra rows are marked, and SQL NULL, the empty string and the text
'NULL' each look different. Long values are elided in the grid; the full value of the highlighted cell shows below.
A transposed view (one line per column) reads better when rows are wide. The widget renders a :class:`TableDiff`
through :func:`dms_tui.data.diff.lines.diff_lines` and knows nothing about how the diff ran.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.coordinate import Coordinate
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from dms_tui.data.diff.lines import ALL_KINDS, DifferenceKind, DiffLine, diff_lines, display_columns
from dms_tui.data.diff.result import CellText, TableDiff

ELIDE_AT = 24  # characters of a value shown in the grid; the full value is in the detail line

NULL_STYLE = "dim italic"
CHANGED_STYLE = "bold #ffd75f on #4a3c00"
MARKS: dict[DifferenceKind, tuple[str, str]] = {
    DifferenceKind.MISSING: ("−", "bold red"),
    DifferenceKind.EXTRA: ("+", "bold green"),
    DifferenceKind.CHANGED: ("~", "bold yellow"),
}
_INVISIBLES = str.maketrans({"\n": "↵", "\r": "␍", "\t": "→"})


def cell_text(value: CellText, *, elide_at: int | None = ELIDE_AT, changed: bool = False) -> Text:
    """A cell as a person should see it: NULL, '' and 'NULL' distinct, edge spaces visible, long values elided."""
    if value is None:
        text = Text("∅ NULL", style=NULL_STYLE)
    elif value == "":
        text = Text("''", style="dim")
    else:
        shown = value.translate(_INVISIBLES)
        if elide_at is not None and len(shown) > elide_at:
            shown = shown[: elide_at - 1] + "…"
        core = shown.strip(" ")
        lead = len(shown) - len(shown.lstrip(" "))
        trail = len(shown) - len(shown.rstrip(" "))
        # Trailing spaces are a classic migration difference (char(n) vs text): show each one as a dim dot.
        text = Text("·" * lead, style="dim") + Text(core) + Text("·" * trail, style="dim")
    if changed:
        text.stylize(CHANGED_STYLE)
    return text


def mark_text(line: DiffLine) -> Text:
    """The row marker: − missing in target, + extra in target, ~ changed; multiset counts for key-less tables."""
    symbol, style = MARKS[line.kind]
    text = Text(symbol, style=style)
    if line.multiset:
        text.append(f" {line.source_count}×/{line.target_count}×", style="dim")
    return text


def line_key_text(line: DiffLine) -> Text:
    """The marker and the key (``− id='4'``), or the marker and counts for a key-less table."""
    text = mark_text(line)
    if line.key is not None:
        text.append(" " + ", ".join(f"{name}={_plain(value)}" for name, value in line.key.items()), style="bold")
    return text


def line_kind_text(line: DiffLine) -> Text:
    """What happened to the row, in words."""
    if line.multiset:
        return Text(f"{line.source_count}× in source, {line.target_count}× in target", style="dim")
    words = {
        DifferenceKind.MISSING: "missing in target",
        DifferenceKind.EXTRA: "extra in target",
        DifferenceKind.CHANGED: f"changed: {', '.join(sorted(line.changed_columns))}",
    }
    return Text(words[line.kind], style="dim")


def describe_line(line: DiffLine) -> Text:
    """One line naming the row and what happened to it."""
    return line_key_text(line) + Text("  ") + line_kind_text(line)


def _plain(value: CellText) -> str:
    return "NULL" if value is None else repr(value)


class SideBySide(Vertical):
    """The selected table's differing rows, source | target (stacked by the screen's CSS on narrow terminals)."""

    DEFAULT_CSS = """
    SideBySide { height: 1fr; }
    SideBySide #sbs-sides { height: 1fr; layout: horizontal; }
    SideBySide .sbs-side { width: 1fr; height: 1fr; border: round $primary 40%; border-title-color: $text-muted; }
    SideBySide .sbs-side:focus-within { border: round $accent; }
    SideBySide #sbs-transposed { height: 1fr; border: round $primary 40%; border-title-color: $text-muted; }
    SideBySide #sbs-empty { height: 1fr; padding: 1 2; color: $text-muted; }
    SideBySide #sbs-detail { height: auto; max-height: 3; color: $text; }
    """

    transposed: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table: TableDiff | None = None
        self.kinds: frozenset[DifferenceKind] = ALL_KINDS
        self.lines: list[DiffLine] = []
        self.columns: tuple[str, ...] = ()
        self._transposed_rows: list[tuple[DiffLine, str | None]] = []  # (line, column) per row; column None: header
        self._empty_message = "Comparing…"

    def compose(self) -> ComposeResult:
        with Container(id="sbs-sides"):
            yield DataTable(id="sbs-source", classes="sbs-side", cursor_type="cell")
            yield DataTable(id="sbs-target", classes="sbs-side", cursor_type="cell")
        yield DataTable(id="sbs-transposed", cursor_type="row")
        yield Static("", id="sbs-empty")
        yield Static("", id="sbs-detail")

    def on_mount(self) -> None:
        self._render_all()

    # -- what to show --------------------------------------------------------------------------------------------

    def show(
        self,
        table: TableDiff | None,
        kinds: frozenset[DifferenceKind] = ALL_KINDS,
        *,
        empty_message: str = "Comparing…",
    ) -> None:
        """Show ``table``'s differences of ``kinds`` (None: nothing compared yet, ``empty_message`` instead)."""
        self.table, self.kinds, self._empty_message = table, kinds, empty_message
        if self.is_mounted:
            self._render_all()

    def watch_transposed(self) -> None:
        if self.is_mounted:
            self._render_all()

    def focus_rows(self) -> None:
        """Put the keyboard in the grid that is showing."""
        target = "#sbs-transposed" if self.transposed else "#sbs-source"
        if self.lines:
            self.query_one(target, DataTable).focus()

    def _render_all(self) -> None:
        table = self.table
        self.lines = diff_lines(table, self.kinds) if table is not None else []
        self.columns = display_columns(table) if table is not None else ()
        sides = self.query_one("#sbs-sides", Container)
        transposed = self.query_one("#sbs-transposed", DataTable)
        empty = self.query_one("#sbs-empty", Static)
        has_rows = bool(self.lines)
        sides.display = has_rows and not self.transposed
        transposed.display = has_rows and self.transposed
        empty.display = not has_rows
        self.query_one("#sbs-detail", Static).display = has_rows
        if not has_rows:
            empty.update(self._empty_text())
            return
        if self.transposed:
            self._fill_transposed(transposed)
        else:
            self._fill_side(self.query_one("#sbs-source", DataTable), "source")
            self._fill_side(self.query_one("#sbs-target", DataTable), "target")
        self._show_detail()

    def _empty_text(self) -> Text:
        table = self.table
        if table is None:
            return Text(self._empty_message)
        if table.identical:
            return Text.assemble(
                ("✓ identical", "bold green"),
                f" · {table.source_rows:,} rows on each side, nothing differs.",
            )
        if table.schema_drift and not table.row_differences:
            return Text.assemble(("Schema drift only: ", "bold yellow"), "; ".join(table.schema_drift))
        chosen = ", ".join(kind.label for kind in DifferenceKind if kind in self.kinds)
        return Text(f"No {chosen} rows in {table.source_table}. Press a to show every kind.")

    def _key_columns(self) -> tuple[str, ...]:
        return tuple(self.table.key or ()) if self.table is not None else ()

    def _fill_side(self, grid: DataTable[Text], side: str) -> None:
        table = self.table
        assert table is not None
        name = table.source_table if side == "source" else table.target_table
        grid.border_title = f"{side} · {name}"
        # Drift is about the table, not a row: name it on the source frame so it is never lost behind the rows.
        drift = f"schema drift: {'; '.join(table.schema_drift)}" if table.schema_drift and side == "source" else ""
        grid.border_subtitle = drift
        cursor = grid.cursor_coordinate
        grid.clear(columns=True)
        grid.add_column("", key="·mark")
        for column in self.columns:
            grid.add_column(Text(column, style="bold" if column in self._key_columns() else ""), key=column)
        grid.fixed_columns = 1 + len(self._key_columns())  # the key stays in view while scrolling right
        for index, line in enumerate(self.lines):
            grid.add_row(*self._side_cells(line, side), key=str(index))
        if cursor.row < grid.row_count:
            grid.cursor_coordinate = cursor

    def _side_cells(self, line: DiffLine, side: str) -> list[Text]:
        row = line.source if side == "source" else line.target
        cells = [mark_text(line)]
        if row is None:
            # The key still shows on the empty side, so the eye can follow the row across; the rest is a dim rule.
            for column in self.columns:
                if line.key is not None and column in line.key:
                    cells.append(cell_text(line.key[column]))
                else:
                    cells.append(Text("╌╌", style="dim"))
            return cells
        for column in self.columns:
            if column not in row:
                cells.append(Text("(no column)", style="dim"))
            else:
                cells.append(cell_text(row[column], changed=column in line.changed_columns))
        return cells

    def _fill_transposed(self, grid: DataTable[Text]) -> None:
        table = self.table
        assert table is not None
        grid.border_title = f"transposed · {table.source_table} → {table.target_table}"
        cursor_row = grid.cursor_row
        grid.clear(columns=True)
        # Fixed widths so both value columns stay in view however long a value is (the detail line has it whole).
        name_width = min(24, max([len(column) + 2 for column in self.columns] + [10]))
        value_width = max(12, (self.size.width - name_width - 10) // 2)
        grid.add_column("column", key="column", width=name_width)
        grid.add_column("source", key="source", width=value_width)
        grid.add_column("target", key="target", width=value_width)
        self._transposed_rows = []
        for line in self.lines:
            grid.add_row(line_key_text(line), line_kind_text(line), Text(""))
            self._transposed_rows.append((line, None))
            for column in self.columns:
                changed = column in line.changed_columns
                grid.add_row(
                    Text(f"  {column}", style="bold" if changed else ""),
                    self._one_cell(line.source, column, changed, value_width),
                    self._one_cell(line.target, column, changed, value_width),
                )
                self._transposed_rows.append((line, column))
        if cursor_row < grid.row_count:
            grid.move_cursor(row=cursor_row)

    @staticmethod
    def _one_cell(row: dict[str, CellText] | None, column: str, changed: bool, width: int) -> Text:
        if row is None:
            return Text("—", style="dim")
        if column not in row:
            return Text("(no column)", style="dim")
        return cell_text(row[column], elide_at=width, changed=changed)

    # -- the cursor ----------------------------------------------------------------------------------------------

    @on(DataTable.CellHighlighted, ".sbs-side")
    def _follow_cell(self, event: DataTable.CellHighlighted) -> None:
        # Keep both sides on the same cell so the eye can compare across; guard against echoing back.
        other_id = "sbs-target" if event.data_table.id == "sbs-source" else "sbs-source"
        other = self.query_one(f"#{other_id}", DataTable)
        if other.cursor_coordinate != event.coordinate and event.coordinate.row < other.row_count:
            other.cursor_coordinate = Coordinate(event.coordinate.row, event.coordinate.column)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#sbs-transposed")
    def _follow_row(self) -> None:
        self._show_detail()

    def selected(self) -> tuple[DiffLine | None, str | None]:
        """The highlighted row's line and column (column None on the marker or a transposed header)."""
        if not self.lines:
            return None, None
        if self.transposed:
            row = self.query_one("#sbs-transposed", DataTable).cursor_row
            return self._transposed_rows[row] if 0 <= row < len(self._transposed_rows) else (None, None)
        coordinate = self.query_one("#sbs-source", DataTable).cursor_coordinate
        line = self.lines[coordinate.row] if 0 <= coordinate.row < len(self.lines) else None
        column = self.columns[coordinate.column - 1] if 1 <= coordinate.column <= len(self.columns) else None
        return line, column

    def _show_detail(self) -> None:
        line, column = self.selected()
        detail = self.query_one("#sbs-detail", Static)
        if line is None:
            detail.update("")
            return
        if column is None:
            detail.update(describe_line(line))
            return
        text = Text(f"{column}  ", style="bold")
        for label, row in (("source", line.source), ("target", line.target)):
            text.append(f"{label}: ", style="dim")
            if row is None:
                text.append("(no row)", style="dim")
            elif column not in row:
                text.append("(no column)", style="dim")
            else:
                text.append_text(cell_text(row[column], elide_at=None, changed=column in line.changed_columns))
            text.append("   ")
        detail.update(text)
