"""Network: the three VPCs side by side (stacked when narrow), live validation, and why overlap is fine here."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from dms_tui.config import OVERLAPPING_VPCS_EXPLANATION, Problem, WizardConfig, overlapping_vpcs, validate
from dms_tui.journey import Step
from dms_tui.screens.base import WizardScreen

VPC_TITLES = {
    "source": "On-premises source VPC",
    "dms": "DMS VPC",
    "target": "Aurora target VPC",
}
LIST_FIELDS = ("azs", "private_subnets")


def _input_id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def config_with_inputs(config: WizardConfig, values: dict[str, str]) -> WizardConfig:
    """The configuration with each field path set from its input's text (lists are comma separated)."""
    for path, text in values.items():
        value: Any = split_list(text) if path.rsplit(".", 1)[-1] in LIST_FIELDS else text.strip()
        config = config.with_value(path, value)
    return config


def network_diagram(config: WizardConfig) -> Text:
    """A small picture of the PrivateLink hops: nothing routes between the VPCs, so their CIDRs may overlap."""
    src, dms, tgt = config.vpcs.source, config.vpcs.dms, config.vpcs.target
    text = Text()
    text.append(f"[{src.cidr}] source", style="bold")
    text.append(" Aurora ← NLB ← endpoint service\n", style="")
    text.append("        ⇡ PrivateLink (no routing, no peering)\n", style="cyan")
    text.append(f"[{dms.cidr}] DMS", style="bold")
    text.append("    interface endpoints ← DMS replication instance\n")
    text.append("        ⇣ PrivateLink\n", style="cyan")
    text.append(f"[{tgt.cidr}] target", style="bold")
    text.append(" Aurora ← NLB ← endpoint service")
    return text


EXPLAIN_LINE = "Only PrivateLink joins the VPCs: overlapping CIDRs are fine.  (e explains)"


class NetworkScreen(WizardScreen):
    STEP = Step.CONFIGURE
    TITLE = "Configure · Network: three VPCs, joined only by PrivateLink"
    AUTO_FOCUS = "#next"  # Enter accepts the defaults; Tab reaches the fields
    ADVANCES_WHEN_ENABLED = ()  # a form: the presenter's Enter accepts it
    BINDINGS = [Binding("f5", "next", "Next"), Binding("e", "explain", "Explain")]

    def compose_body(self) -> ComposeResult:
        config = self.journey.config
        with VerticalScroll(id="network-body"):
            with Horizontal(id="region-row"):
                yield Label("Region", classes="field-label")
                yield Input(config.aws_region, id=_input_id("aws_region"), compact=True)
            with Horizontal(id="vpcs"):
                for role, vpc in config.vpcs.items():
                    with Vertical(classes="vpc-panel", id=f"vpc-{role}") as panel:
                        panel.border_title = VPC_TITLES[role]
                        for field, label, value in (
                            ("name", "Name", vpc.name),
                            ("cidr", "CIDR", vpc.cidr),
                            ("azs", "AZs", ", ".join(vpc.azs)),
                            ("private_subnets", "Subnets", ", ".join(vpc.private_subnets)),
                        ):
                            with Horizontal(classes="field-row"):
                                yield Label(label, classes="field-label")
                                yield Input(value, id=_input_id(f"vpcs.{role}.{field}"), compact=True)
                        yield Static("", classes="problems", id=f"problems-{role}")
            # At 80 columns the explanation is one line (e shows it whole); wider screens show it at once.
            yield Static(EXPLAIN_LINE, id="network-explain-line", markup=False)
            with Horizontal(id="network-explain"):
                yield Static(network_diagram(config), id="network-diagram")
                yield Static(OVERLAPPING_VPCS_EXPLANATION, id="overlap-note", markup=False)
            yield Static("", id="network-status")
        # Outside the scrolled body: focusing it never scrolls the fields a person came to edit out of view.
        with Horizontal(classes="nav-row"):
            yield Button("Next: databases ›", id="next", variant="primary")

    def on_mount(self) -> None:
        self.revalidate()
        if self.journey.config_error is not None:
            # The saved file is kept: the form starts from the defaults and Review's save moves the file aside.
            self.notify(
                f"The saved configuration {self.journey.config_path} is invalid ({self.journey.config_error}). "
                "The form shows the defaults; saving at Review keeps the old file as *.invalid-<time>.",
                severity="warning",
                timeout=15,
            )

    def _values(self) -> dict[str, str]:
        values = {"aws_region": self.query_one(f"#{_input_id('aws_region')}", Input).value}
        for role in VPC_TITLES:
            for field in ("name", "cidr", "azs", "private_subnets"):
                path = f"vpcs.{role}.{field}"
                values[path] = self.query_one(f"#{_input_id(path)}", Input).value
        return values

    def current_config(self) -> tuple[WizardConfig, list[Problem]]:
        try:
            config = config_with_inputs(self.journey.config, self._values())
        except (ValueError, KeyError, TypeError) as exc:  # with_value refuses an impossible path/value
            return self.journey.config, [Problem("network", str(exc))]
        problems = [p for p in validate(config) if p.field.startswith(("vpcs.", "aws_region"))]
        return config, problems

    @on(Input.Changed)
    def revalidate(self) -> None:
        config, problems = self.current_config()
        for role in VPC_TITLES:
            mine = [p for p in problems if p.field.startswith(f"vpcs.{role}.")]
            text = Text()
            for problem in mine:
                text.append("✗ ", style="bold red")
                text.append(f"{problem.field.split('.', 2)[-1]}: {problem.message}\n")
            box = self.query_one(f"#problems-{role}", Static)
            box.update(text)
            box.display = bool(mine)
            self.query_one(f"#vpc-{role}").set_class(bool(mine), "invalid")
        status = Text()
        region_problems = [p for p in problems if p.field.startswith("aws_region")]
        for problem in region_problems:
            status.append(f"✗ {problem}\n", style="red")
        overlaps = overlapping_vpcs(config)
        if overlaps and not problems:
            pairs = ", ".join(f"{a}/{b}" for a, b in overlaps)
            status.append(f"✓ Valid. Overlapping VPC CIDRs ({pairs}) are fine: PrivateLink, no routing.", style="green")
        elif not problems:
            status.append("✓ Valid.", style="green")
        self.query_one("#network-status", Static).update(status)
        self.query_one("#network-diagram", Static).update(network_diagram(config))
        self.query_one("#next", Button).disabled = bool(problems)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.has_class("narrow") if action == "explain" else True  # wider, it is all shown already

    def action_explain(self) -> None:
        self.toggle_class("explained")
        if self.has_class("explained"):
            self.call_after_refresh(self.query_one("#network-explain").scroll_visible, animate=False)
        else:
            self.query_one("#network-body").scroll_home(animate=False)

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        config, problems = self.current_config()
        if problems:
            self.notify(f"Fix {len(problems)} problem(s) first: {problems[0]}", severity="error")
            return
        self.journey.config = config  # written to disk after the databases screen, in one validated save
        from dms_tui.screens.databases import DatabasesScreen

        self.app.push_screen(DatabasesScreen(self.journey))
