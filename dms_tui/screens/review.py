"""Review: the tfvars that were written, then `terraform plan` — counts and resources by module — then apply."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static, Tree

from dms_tui.journey import Step
from dms_tui.provision.flow import PlanReview, plan_command_line, run_plan
from dms_tui.screens.base import WizardScreen


class ReviewScreen(WizardScreen):
    STEP = Step.CONFIGURE
    TITLE = "Configure · Review the variables, then the plan"
    AUTO_FOCUS = "#plan"
    BINDINGS = [Binding("p", "plan", "Plan"), Binding("f5", "apply", "Apply")]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="review-body"):
            with VerticalScroll(id="review-tfvars") as scroll:
                scroll.border_title = str(self.journey.config_path.name)
                yield Static(Syntax(self.journey.config.to_json(), "json", theme="ansi_dark", word_wrap=True))
            with VerticalScroll(id="review-plan") as scroll:
                scroll.border_title = "terraform plan"
                yield Static(
                    Text("Press p (or Plan) to see what terraform will create.", style="dim"), id="plan-summary"
                )
                yield Tree("resources by module", id="plan-tree")
        with Horizontal(classes="nav-row"):
            yield Button("‹ Back", id="back")
            yield Button("Plan", id="plan")
            yield Button("Apply ›", id="apply", variant="primary", disabled=True)

    def equivalent_command(self) -> str:
        return plan_command_line(self.journey)

    def on_mount(self) -> None:
        self.query_one("#plan-tree", Tree).display = False
        self.review: PlanReview | None = None

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        if "terraform plan" in self.wizard.busy:
            return
        self.query_one("#plan-summary", Static).update(Text("Planning… (terraform init + plan)", style="yellow"))
        self.query_one("#apply", Button).disabled = True
        self.plan()

    @work(exclusive=True, exit_on_error=False, group="plan")
    async def plan(self) -> None:
        self.wizard.busy.add("terraform plan")
        try:
            assert self.wizard.environment is not None
            review = await run_plan(self.journey, self.wizard.environment)
        except Exception as exc:  # shown on this screen; the log file holds terraform's full output
            self.query_one("#plan-summary", Static).update(Text(f"✗ {exc}", style="red"))
            return
        finally:
            self.wizard.busy.discard("terraform plan")
        self.show_review(review)

    def show_review(self, review: PlanReview) -> None:
        self.review = review
        summary = Text()
        if review.errors:
            for diagnostic in review.errors:
                summary.append(f"✗ {diagnostic.summary}\n", style="bold red")
                if diagnostic.detail:
                    summary.append(f"  {diagnostic.detail}\n")
        else:
            summary.append(f"+{review.add} to add", style="green")
            summary.append(f"  ~{review.change} to change", style="yellow")
            summary.append(f"  -{review.remove} to destroy", style="red")
        self.query_one("#plan-summary", Static).update(summary)
        tree = self.query_one("#plan-tree", Tree)
        tree.clear()
        tree.root.expand()
        for module, addresses in review.by_module.items():
            node = tree.root.add(f"{module or 'root'} ({len(addresses)})")
            for address, action in addresses:
                node.add_leaf(Text(f"{action:>7} {address}"))
        tree.display = True
        apply = self.query_one("#apply", Button)
        apply.disabled = bool(review.errors)
        if not review.errors:
            apply.focus()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.review is None or self.review.errors:
            self.notify("Run the plan first (p); apply uses exactly the reviewed plan.", severity="warning")
            return
        self.wizard.step_done(Step.CONFIGURE)
