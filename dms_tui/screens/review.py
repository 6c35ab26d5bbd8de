"""Review: the tfvars that were written, then `terraform plan` — counts and resources by module — then apply."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static, Tree

from dms_tui.journey import Setback, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.screens.provision import render_failure
from dms_tui.steps import provision as step


def render_setback(setback: Setback, then: str = "") -> Text:
    """A failure as a person reads it: the headline, its cause, what to do."""
    text = Text(setback.headline + "\n", style="bold red")
    if setback.cause:
        text.append(setback.cause + "\n")
    if then or setback.next_step:
        text.append("→ " + (then or setback.next_step), style="bold")
    return text


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
        return step.terraform_command_line(self.journey, "plan")

    def on_mount(self) -> None:
        self.query_one("#plan-tree", Tree).display = False
        self.review: step.PlanReview | None = None
        self.job: step.ProvisionJob | None = None
        self.roles_note = ""  # whether the account's DMS service roles are reused or created, once planned
        setback = self.journey.state.setback
        if setback is not None and setback.step is Step.PROVISION:
            # Back here after a failed apply (or resources found gone): say what happened; the plan is made again.
            self.query_one("#plan-summary", Static).update(render_setback(setback, "Press p to plan again."))

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        if self.job is not None and not self.job.done and self.job.failure is None:
            return  # a plan is running
        self.query_one("#plan-summary", Static).update(Text("Planning… (terraform init + plan)", style="yellow"))
        self.query_one("#apply", Button).disabled = True
        self.review = None
        self.plan()

    @work(exclusive=True, exit_on_error=False, group="job:terraform plan")
    async def plan(self) -> None:
        environment = self.wizard.environment
        assert environment is not None, "the Welcome screen sets the environment before any step"
        self.job = step.plan(environment, self.journey)
        async for event in self.job:
            if isinstance(event, step.ServiceRolesDecided):
                self.roles_note = event.reason
            elif isinstance(event, step.PlanReviewed):
                self.show_review(event.review)
            elif isinstance(event, step.RunFailed):
                self.query_one("#plan-summary", Static).update(render_failure(event))

    def show_review(self, review: step.PlanReview) -> None:
        self.review = review
        summary = Text()
        summary.append(f"+{review.add} to add", style="green")
        summary.append(f"  ~{review.change} to change", style="yellow")
        summary.append(f"  -{review.remove} to destroy", style="red")
        if self.roles_note:
            summary.append(f"\n{self.roles_note}", style="dim")
        self.query_one("#plan-summary", Static).update(summary)
        tree = self.query_one("#plan-tree", Tree)
        tree.clear()
        tree.root.expand()
        for module, addresses in review.by_module.items():
            node = tree.root.add(f"{module} ({len(addresses)})")
            for address, action in addresses:
                node.add_leaf(Text(f"{action:>7} {address}"))
        tree.display = True
        apply = self.query_one("#apply", Button)
        apply.disabled = False
        apply.focus()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.review is None:
            self.notify("Run the plan first (p); apply uses exactly the reviewed plan.", severity="warning")
            return
        self.wizard.step_done(Step.CONFIGURE)
