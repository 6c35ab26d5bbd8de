"""Databases: the source and target Aurora clusters, the DMS replication instance, and the bastion."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from dms_tui.config import MIGRATION_TYPES, ConfigError, Problem, WizardConfig, validate
from dms_tui.journey import Journey, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.screens.network import _input_id

DB_FIELDS = (
    ("cluster_name", "Cluster"),
    ("engine_version", "Engine version"),
    ("instance_class", "Instance class"),
    ("database_name", "Database"),
    ("master_username", "Master user"),
    ("port", "Port"),
)
OTHER_FIELDS = (
    ("dms_replication_instance_class", "DMS instance class"),
    ("dms_allocated_storage", "DMS storage (GiB)"),
    ("bastion_instance_type", "Bastion type"),
)
# Two to a row, so the migration type fits below them at 80x24 without scrolling.
OTHER_ROWS = (OTHER_FIELDS[:2], OTHER_FIELDS[2:])
INTEGER_FIELDS = {"port", "dms_allocated_storage"}
TYPE_PREFIX = "cfg-type-"


def migration_type_hint(migration_type: str, journey: Journey) -> str:
    """What the chosen type does to the source before the task exists: rds.logical_replication, chosen now because
    changing it later means applying again and rebooting the source writer."""
    captures = migration_type != "full-load"
    said = (
        "turns rds.logical_replication on in the source's parameter group (DMS reads changes through it)"
        if captures
        else "leaves rds.logical_replication off on the source (a full load reads tables only)"
    )
    provisioned = journey.state.is_done(Step.PROVISION)
    later = (
        "Already provisioned: a change takes effect at the next apply once the source writer reboots."
        if provisioned
        else "Chosen before Provision: changing it later means applying again and rebooting the source writer."
    )
    return f"{migration_type} {said}; it is also the Migrate step's default. {later}"


def _typed(path: str, text: str) -> Any:
    text = text.strip()
    if path.rsplit(".", 1)[-1] in INTEGER_FIELDS:
        try:
            return int(text)
        except ValueError:
            return text  # validate() names the field and says a whole number is needed
    return text


class DatabasesScreen(WizardScreen):
    STEP = Step.CONFIGURE
    TITLE = "Configure · Databases, DMS and bastion"
    AUTO_FOCUS = "#next"
    ADVANCES_WHEN_ENABLED = ()  # a form: the presenter's Enter accepts it
    BINDINGS = [Binding("f5", "next", "Next")]

    def compose_body(self) -> ComposeResult:
        config = self.journey.config
        with VerticalScroll(id="databases-body"):
            with Horizontal(id="db-panels"):
                for role, title in (("source_db", "Source (on-premises stand-in)"), ("target_db", "Aurora target")):
                    db = getattr(config, role)
                    with Vertical(classes="vpc-panel", id=f"panel-{role}") as panel:
                        panel.border_title = title
                        for field, label in DB_FIELDS:
                            with Horizontal(classes="field-row"):
                                yield Label(label, classes="field-label")
                                yield Input(str(getattr(db, field)), id=_input_id(f"{role}.{field}"), compact=True)
                        yield Static("", classes="problems", id=f"problems-{role}")
            with Vertical(classes="vpc-panel", id="panel-other") as panel:
                panel.border_title = "DMS, bastion and migration type"
                # In the border, not a line of its own: the fields below keep the room at 80x24.
                panel.border_subtitle = "passwords: generated into Secrets Manager, never typed or stored"
                for row in OTHER_ROWS:
                    with Horizontal(classes="field-row"):
                        for index, (field, label) in enumerate(row):
                            yield Label(label, classes="field-label" + (" second-label" if index else ""))
                            yield Input(str(getattr(config, field)), id=_input_id(field), compact=True)
                with Horizontal(classes="field-row", id="migration-type-row"):
                    yield Label("Migration type", classes="field-label")
                    with RadioSet(id="config-migration-type", compact=True):
                        for kind in MIGRATION_TYPES:
                            yield RadioButton(
                                kind, value=kind == config.migration_type, id=f"{TYPE_PREFIX}{kind}", compact=True
                            )
                yield Static("", classes="hint", id="migration-type-hint")
                yield Static(
                    "The account-wide DMS roles (dms-vpc-role, dms-cloudwatch-logs-role) are looked up before the "
                    "plan: reused when present, created when absent.",
                    classes="hint",
                    id="roles-hint",
                )
                yield Static("", classes="problems", id="problems-other")
        # Outside the scrolled body: focusing it never scrolls the fields a person came to edit out of view.
        with Horizontal(classes="nav-row"):
            yield Button("‹ Back", id="back")
            yield Button("Next: review ›", id="next", variant="primary")

    def on_mount(self) -> None:
        self.revalidate()

    def current_config(self) -> tuple[WizardConfig, list[Problem]]:
        config = self.journey.config
        paths = [f"{role}.{field}" for role in ("source_db", "target_db") for field, _ in DB_FIELDS]
        paths += [field for field, _ in OTHER_FIELDS]
        try:
            for path in paths:
                config = config.with_value(path, _typed(path, self.query_one(f"#{_input_id(path)}", Input).value))
            pressed = self.query_one("#config-migration-type", RadioSet).pressed_button
            if pressed is not None and pressed.id:
                config = config.with_value("migration_type", pressed.id.removeprefix(TYPE_PREFIX))
        except (ValueError, KeyError, TypeError) as exc:
            return self.journey.config, [Problem("databases", str(exc))]
        problems = [p for p in validate(config) if not p.field.startswith(("vpcs.", "aws_region"))]
        return config, problems

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(RadioSet.Changed)
    def revalidate(self) -> None:
        config, problems = self.current_config()
        self.query_one("#migration-type-hint", Static).update(
            Text(migration_type_hint(config.migration_type, self.journey))
        )
        groups = {"source_db": [], "target_db": [], "other": []}  # type: dict[str, list[Problem]]
        for problem in problems:
            head = problem.field.split(".", 1)[0]
            groups[head if head in groups else "other"].append(problem)
        for group, mine in groups.items():
            text = Text()
            for problem in mine:
                text.append("✗ ", style="bold red")
                text.append(f"{problem.field}: {problem.message}\n")
            box = self.query_one(f"#problems-{group}", Static)
            box.update(text)
            box.display = bool(mine)
        self.query_one("#next", Button).disabled = bool(problems)

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        config, problems = self.current_config()
        if problems:
            self.notify(f"Fix {len(problems)} problem(s) first: {problems[0]}", severity="error")
            return
        try:
            self.journey.save_config(config)
        except ConfigError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        from dms_tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.journey))
