"""Prepare: the seed's source table and rows (or many more), and the target database DMS needs.

The screen shows the DDL, lets the person choose the rows (the seed's four or N generated server-side), whether to add
the primary key the seed lacks, and — when the table already exists, with what is there — whether to keep, truncate
or recreate it. The work is the Prepare step's (dms_tui.steps.prepare), run in a thread worker; this screen renders
its events.
"""

from __future__ import annotations

import time

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, ProgressBar, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from dms_tui.data.demo_databases import MAX_GENERATED_ROWS, DemoDatabases, DemoSnapshot, SideSnapshot
from dms_tui.data.prepare import IF_EXISTS_CHOICES, PRIMARY_KEY_EXPLANATION, DemoTable, ddl_text
from dms_tui.domain.units import format_duration, format_rate
from dms_tui.errors import StepError
from dms_tui.journey import Step
from dms_tui.screens.base import WizardScreen
from dms_tui.steps.prepare import (
    ExistingTableFound,
    PrepareChoice,
    Prepared,
    PrepareStep,
    PrepareStepEvent,
    RowsProgress,
    inspect_sides,
    run_prepare,
    seed_command,
)

DEFAULT_GENERATED_ROWS = 100_000

_POLICY_HELP = {
    "keep": "keep: leave the rows as they are (nothing is loaded)",
    "truncate": "truncate: empty the table, then load",
    "recreate": "recreate: drop and create it again, then load",
}


class SidesInspected(Message):
    def __init__(self, databases: DemoDatabases, snapshot: DemoSnapshot) -> None:
        super().__init__()
        self.databases, self.snapshot = databases, snapshot


class PrepareEventArrived(Message):
    def __init__(self, event: PrepareStepEvent) -> None:
        super().__init__()
        self.event = event


#: Columns of the details table: \dt+'s (schema.name, owner, persistence, access method, size) plus rows and key.
DETAIL_COLUMNS = ("side", "database", "table", "rows", "size", "owner", "persistence", "access method", "primary key")
_NONE = tuple(Text("–", style="dim") for _ in DETAIL_COLUMNS[3:])


def side_row(snapshot: SideSnapshot) -> tuple[Text, ...]:
    """A \\dt+-like row for one side (values from the database are plain text)."""
    side = Text(snapshot.side, style="bold")
    if not snapshot.database_exists:
        return side, Text(snapshot.database), Text("database missing (Prepare creates it)", style="yellow"), *_NONE
    table = snapshot.table
    if table is None:
        note = "no table yet (the DMS task creates it)" if snapshot.side == "target" else "no table yet"
        return side, Text(snapshot.database), Text(note, style="dim"), *_NONE
    return (
        side,
        Text(snapshot.database),
        Text(f"{table.schema}.{table.name}"),
        Text(f"{table.rows:,}", justify="right"),
        Text(table.size),
        Text(table.owner),
        Text(table.persistence),
        Text(table.access_method),
        Text("yes" if table.has_primary_key else "no", style="" if table.has_primary_key else "yellow"),
    )


class PrepareScreen(WizardScreen):
    STEP = Step.PREPARE
    TITLE = "Prepare · the seed's source table and rows, and the target database"
    BINDINGS = [
        Binding("p", "prepare", "Prepare"),
        Binding("f5", "next", "Next"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="prepare-body"):
            with Horizontal(id="prepare-top"):
                with Vertical(id="prepare-choices") as choices:
                    choices.border_title = "choices"
                    # Asked first when the table already holds rows: it decides whether anything is loaded at all.
                    with Vertical(id="existing-box"):
                        yield Static("", id="existing-text")
                        with RadioSet(id="if-exists"):
                            for policy in IF_EXISTS_CHOICES:
                                yield RadioButton(_POLICY_HELP[policy], id=f"if-exists-{policy}")
                    with RadioSet(id="rows-choice"):
                        yield RadioButton("the seed's 4 rows", value=True, id="rows-seed")
                        yield RadioButton("N generated rows:", id="rows-generated")
                    yield Input(
                        str(DEFAULT_GENERATED_ROWS),
                        type="integer",
                        id="rows-count",
                        disabled=True,
                        tooltip=f"up to {MAX_GENERATED_ROWS:,}",
                    )
                    yield Checkbox("add a primary key (accountnumber)", id="primary-key")
                    yield Static(PRIMARY_KEY_EXPLANATION, id="pk-explanation", markup=False)
                with VerticalScroll(id="prepare-ddl") as ddl:
                    ddl.border_title = "source DDL"
                    yield Static(self._ddl(False), id="prepare-ddl-text")
            with Horizontal(id="prepare-progress"):
                yield ProgressBar(total=None, show_eta=False, id="prepare-bar")
                yield Static("", id="prepare-rate")
            yield Static(Text("Looking at both databases…", style="dim"), id="prepare-status")
            yield DataTable(id="prepare-details", cursor_type="none", zebra_stripes=True)
        with Horizontal(classes="nav-row"):
            yield Button("Prepare (p)", id="prepare", variant="warning", disabled=True)
            yield Button("Next: migrate ›", id="next", variant="primary", disabled=True)

    def equivalent_command(self) -> str:
        return seed_command(self._flags(), PrepareChoice())

    def _flags(self) -> list[str]:
        environment = self.wizard.environment
        return environment.cli_flags() if environment is not None else self.wizard.request.cli_flags()

    def on_mount(self) -> None:
        self.databases: DemoDatabases | None = None
        self.snapshot: DemoSnapshot | None = None
        self.prepared: Prepared | None = None
        self._rows_started: float | None = None
        table = self.query_one("#prepare-details", DataTable)
        for label in DETAIL_COLUMNS:
            table.add_column(label, key=label)
        self.query_one("#existing-box").display = False
        self.query_one("#prepare-progress").display = False
        if self.wizard.presenting:
            # Presenter mode goes on to live changes (CDC), which apply updates and deletes only to a table with a
            # primary key: the presenter's Enter prepares the seed with one (the DDL shows it).
            self.query_one("#primary-key", Checkbox).value = True
        self.inspect()

    # -- looking before changing ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare-inspect")
    def inspect(self) -> None:
        environment = self.wizard.environment
        if environment is None:
            raise StepError("The environment is not ready yet.", "", "Go back to the Welcome screen and wait for it.")
        self.post_message(SidesInspected(*inspect_sides(environment)))

    def on_sides_inspected(self, message: SidesInspected) -> None:
        self.databases, self.snapshot = message.databases, message.snapshot
        self.show_snapshot(message.snapshot)
        source = message.snapshot.source
        box = self.query_one("#existing-box")
        if source.table is not None:
            details = source.table
            self.query_one("#existing-text", Static).update(
                Text.assemble(
                    (f"{details.schema}.{details.name} already exists on the source\n", "bold yellow"),
                    f"{details.rows:,} rows, {details.size}, primary key {'yes' if details.has_primary_key else 'no'}."
                    " What should Prepare do with it?",
                )
            )
            box.display = True
        else:
            box.display = False
        self._status(Text("Choose the rows, then Prepare (p).", style="dim"))
        self.query_one("#prepare", Button).disabled = False
        if not box.display:
            self.query_one("#prepare", Button).focus()  # nothing to decide: Enter prepares the seed's rows
        self._refresh_choice()

    def show_snapshot(self, snapshot: DemoSnapshot) -> None:
        table = self.query_one("#prepare-details", DataTable)
        table.clear()
        for side in (snapshot.source, snapshot.target):
            table.add_row(*side_row(side), key=side.side)

    # -- choices ---------------------------------------------------------------------------------------------------

    def current_choice(self) -> PrepareChoice:
        """The person's choices; raises ValueError with what to fix."""
        generated = self.query_one("#rows-generated", RadioButton).value
        rows: int | None = None
        if generated:
            raw = self.query_one("#rows-count", Input).value.strip()
            if not raw.isdigit():
                raise ValueError(f"Type the number of rows to generate (0 to {MAX_GENERATED_ROWS:,}).")
            rows = int(raw)
        pressed = self.query_one("#if-exists", RadioSet).pressed_button
        policy = (pressed.id or "").removeprefix("if-exists-") if pressed is not None else "keep"
        return PrepareChoice(
            rows=rows,
            if_exists=policy,  # type: ignore[arg-type]  # ids are built from IF_EXISTS_CHOICES
            primary_key=self.query_one("#primary-key", Checkbox).value,
        )

    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    @on(Input.Changed)
    def _choice_changed(self) -> None:
        self._refresh_choice()

    def _refresh_choice(self) -> None:
        self.query_one("#rows-count", Input).disabled = not self.query_one("#rows-generated", RadioButton).value
        primary_key = self.query_one("#primary-key", Checkbox).value
        self.query_one("#prepare-ddl-text", Static).update(self._ddl(primary_key))
        try:
            choice = self.current_choice()
        except ValueError:
            return
        self.set_command(seed_command(self._flags(), choice))

    def _ddl(self, primary_key: bool) -> Syntax:
        databases: DemoDatabases | None = getattr(self, "databases", None)  # None until both sides were read
        table = databases.source_table if databases is not None else self._configured_table()
        return Syntax(ddl_text(table, primary_key=primary_key), "sql", theme="ansi_dark", word_wrap=True)

    def _configured_table(self) -> DemoTable:
        environment = self.wizard.environment
        outputs = environment.outputs if environment is not None else None
        return DemoTable(database=outputs.source.database_name) if outputs is not None else DemoTable()

    # -- preparing -------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#prepare")
    def action_prepare(self) -> None:
        if self.databases is None or "prepare" in self.wizard.running_jobs:
            return
        try:
            choice = self.current_choice()
        except ValueError as exc:
            self._status(Text(str(exc), style="red"))
            self.query_one("#rows-count", Input).focus()
            return
        existing = self.snapshot.source.table if self.snapshot else None
        if existing is not None and self.query_one("#if-exists", RadioSet).pressed_button is None:
            self._status(
                Text(
                    f"{existing.schema}.{existing.name} already holds {existing.rows:,} rows: choose keep, truncate "
                    "or recreate first.",
                    style="yellow",
                )
            )
            self.query_one("#if-exists", RadioSet).focus()
            return
        self.query_one("#prepare", Button).disabled = True
        self.query_one("#next", Button).disabled = True
        self._rows_started = None
        self.query_one("#prepare-progress").display = choice.rows is not None
        self.query_one("#prepare-bar", ProgressBar).update(total=choice.rows or None, progress=0)
        self.query_one("#prepare-rate", Static).update("")
        self._status(Text("Preparing…", style="yellow"), reveal=True)
        self.run_prepare(self.databases, choice)

    @work(thread=True, exclusive=True, exit_on_error=False, group="job:prepare")
    def run_prepare(self, databases: DemoDatabases, choice: PrepareChoice) -> None:
        environment = self.wizard.environment
        assert environment is not None  # the sides were inspected through it
        for event in run_prepare(environment, choice, self.journey, databases=databases):
            self.post_message(PrepareEventArrived(event))

    def on_prepare_event_arrived(self, message: PrepareEventArrived) -> None:
        event = message.event
        if isinstance(event, Prepared):
            self.show_prepared(event)
        elif isinstance(event, RowsProgress) and event.total:
            now = time.monotonic()
            if self._rows_started is None:
                self._rows_started = now
            elapsed = now - self._rows_started
            self.query_one("#prepare-bar", ProgressBar).update(total=event.total, progress=event.inserted)
            rate = f" · {format_rate(event.inserted / elapsed)}" if elapsed > 0 and event.inserted else ""
            self.query_one("#prepare-rate", Static).update(f" {event.inserted:,}/{event.total:,} rows{rate}")
        elif isinstance(event, PrepareStep):
            self._status(Text(f"{event.side}: {event.action}", style="yellow"))
        elif isinstance(event, ExistingTableFound):
            self._status(Text(f"{event.side}: {event.table} has {event.rows:,} rows; {event.policy}", style="yellow"))

    def show_prepared(self, prepared: Prepared) -> None:
        self.prepared = prepared
        done = prepared.preparation
        self.snapshot = done.after
        self.show_snapshot(done.after)
        source = done.source
        text = Text("✓ Prepared. ", style="bold green")
        text.append(f"source: {source.rows_inserted:,} rows inserted in {format_duration(source.seconds)}")
        if source.rows_inserted >= 1000 and source.seconds > 0:  # a rate of four rows says nothing
            text.append(f" ({format_rate(source.rows_inserted / source.seconds)})", style="dim")
        text.append(f"; now {source.details.rows:,}. ")
        created = done.target_database_created
        text.append(f"target: database {done.after.target.database} {'created' if created else 'already there'}.")
        for note in source.notes:
            if note != PRIMARY_KEY_EXPLANATION:  # already on screen next to the checkbox
                text.append(f"\n{note}", style="yellow")
        self._status(text, reveal=True)
        self.query_one("#existing-box").display = False
        self.query_one("#prepare", Button).disabled = False
        self.query_one("#next", Button).disabled = False
        self.query_one("#next", Button).focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.group not in ("job:prepare", "prepare-inspect"):
            return
        if not isinstance(event.worker.error, StepError):
            return  # not one a person can act on here: the app's error modal shows it
        self.query_one("#prepare", Button).disabled = self.databases is None
        self._status(Text(f"✗ {event.worker.error}", style="red"), reveal=True)  # the step's StepError says what to do
        event.stop()
        event.prevent_default()  # shown inline, where it happened; not also in the error modal

    def _status(self, text: Text, *, reveal: bool = False) -> None:
        status = self.query_one("#prepare-status", Static)
        status.update(text)
        if reveal:  # at 80x24 the choices fill the screen: bring the outcome (and the tables below it) into view
            status.call_after_refresh(status.scroll_visible, top=True, animate=False)

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.prepared is None:
            self.notify("Prepare the databases first (p).", severity="warning")
            return
        self.wizard.step_done(Step.PREPARE, prepare=self.prepared.record)
