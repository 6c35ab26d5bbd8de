"""Databases: the source and target Aurora clusters, the DMS replication instance, and the bastion."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from dms_tui.config import ConfigError, Problem, WizardConfig, validate
from dms_tui.journey import Step
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
INTEGER_FIELDS = {"port", "dms_allocated_storage"}


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
                panel.border_title = "DMS and bastion"
                yield Static(
                    "Passwords are generated into Secrets Manager: never typed, never stored.",
                    classes="hint",
                    id="passwords-hint",
                )
                for field, label in OTHER_FIELDS:
                    with Horizontal(classes="field-row"):
                        yield Label(label, classes="field-label")
                        yield Input(str(getattr(config, field)), id=_input_id(field), compact=True)
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
        except (ValueError, KeyError, TypeError) as exc:
            return self.journey.config, [Problem("databases", str(exc))]
        problems = [p for p in validate(config) if not p.field.startswith(("vpcs.", "aws_region"))]
        return config, problems

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def revalidate(self) -> None:
        _, problems = self.current_config()
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
