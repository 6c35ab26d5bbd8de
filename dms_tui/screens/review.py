"""Review: the tfvars that were written, the account preflight (one line per finding; Enter opens one in full),
then `terraform plan` — counts and resources by module — then apply."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, OptionList, Static, Tree
from textual.widgets.option_list import Option

from dms_tui.errors import StepError
from dms_tui.journey import Setback, Step
from dms_tui.screens.base import WizardScreen
from dms_tui.screens.finding import FindingScreen
from dms_tui.screens.provision import render_failure
from dms_tui.steps import preflight
from dms_tui.steps import provision as step


def render_setback(setback: Setback, then: str = "") -> Text:
    """A failure as a person reads it: the headline, its cause, what to do."""
    text = Text(setback.headline + "\n", style="bold red")
    if setback.cause:
        text.append(setback.cause + "\n")
    if then or setback.next_step:
        text.append("→ " + (then or setback.next_step), style="bold")
    return text


_SEVERITY_ORDER = {"blocks": 0, "warn": 1, "info": 2, "skipped": 3, "ok": 4}


class ReviewScreen(WizardScreen):
    STEP = Step.CONFIGURE
    TITLE = "Configure · Review the variables, then the plan"
    AUTO_FOCUS = "#plan"
    BINDINGS = [
        Binding("a", "preflight", "Check account"),
        Binding("p", "plan", "Plan"),
        Binding("f5", "apply", "Apply"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="review-body"):
            with VerticalScroll(id="review-tfvars") as scroll:
                scroll.border_title = str(self.journey.config_path.name)
                yield Static(Syntax(self.journey.config.to_json(), "json", theme="ansi_dark", word_wrap=True))
            with Vertical(id="review-right"):
                with Vertical(id="review-preflight") as box:
                    box.border_title = "account preflight"
                    yield Static(
                        Text("Press a to check the account: quotas, classes, roles, permissions, cost.", style="dim"),
                        id="preflight-summary",
                    )
                    yield OptionList(id="preflight-findings")
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
        self.findings: list[preflight.Finding] = []
        self.query_one("#preflight-findings", OptionList).display = False
        if self.wizard.services.options.get("review_preflight", True):
            self.action_preflight()  # before the first plan: cheap (a few API calls), and it saves a failed apply
        setback = self.journey.state.setback
        if setback is not None and setback.step is Step.PROVISION:
            # Back here after a failed apply (or resources found gone): say what happened; the plan is made again.
            self.query_one("#plan-summary", Static).update(render_setback(setback, "Press p to plan again."))

    # -- the account preflight ---------------------------------------------------------------------------------------

    def action_preflight(self) -> None:
        if any(worker.group == "preflight" and worker.is_running for worker in self.workers):
            return
        self.findings = []
        self.query_one("#preflight-findings", OptionList).clear_options()
        self.query_one("#preflight-summary", Static).update(Text("Checking the account…", style="yellow"))
        self.run_preflight()

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight")
    def run_preflight(self) -> None:
        environment = self.wizard.environment
        assert environment is not None, "the Welcome screen sets the environment before any step"
        try:
            for event in preflight.run_preflight(environment, self.journey.config):
                self.app.call_from_thread(self.show_preflight_event, event)
        except StepError as err:
            self.app.call_from_thread(self.show_preflight_error, err)

    def show_preflight_event(self, event: preflight.PreflightEvent) -> None:
        findings = self.query_one("#preflight-findings", OptionList)
        if isinstance(event, preflight.FindingMade):
            # Most severe first, so the lines a small terminal shows are the ones that matter.
            self.findings = sorted([*self.findings, event.finding], key=lambda f: _SEVERITY_ORDER[f.severity])
            findings.clear_options()
            for finding in self.findings:
                mark, style = preflight.SEVERITY_MARKS[finding.severity]
                line = Text.assemble((f"{mark} ", style), finding.title, no_wrap=True, overflow="ellipsis")
                findings.add_option(Option(line, id=finding.key))
            findings.display = True
            self.query_one("#review-preflight").border_subtitle = "Enter: details"
        elif isinstance(event, preflight.PreflightDone):
            self.query_one("#preflight-summary", Static).update(
                Text(event.summary, style="bold red" if event.blocked else "green")
            )

    def show_preflight_error(self, err: StepError) -> None:
        text = Text(err.what + "\n", style="bold red")
        text.append(err.why)
        if err.next_step:
            text.append("\n→ " + err.next_step, style="bold")
        self.query_one("#preflight-summary", Static).update(text)

    @on(OptionList.OptionHighlighted, "#preflight-findings")
    def show_finding_command(self, event: OptionList.OptionHighlighted) -> None:
        self.show_highlighted_command()

    def show_highlighted_command(self) -> None:
        """While the findings have focus, the command hint shows the highlighted one's `aws` command."""
        findings = self.query_one("#preflight-findings", OptionList)
        if findings.highlighted is None or not findings.has_focus:
            return
        key = findings.get_option_at_index(findings.highlighted).id
        finding = next((f for f in self.findings if f.key == key), None)
        if finding is not None:
            self.set_command(finding.command or preflight.preflight_command_line(self.wizard.environment))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "preflight-findings":
            findings = self.query_one("#preflight-findings", OptionList)
            if findings.highlighted is None and findings.option_count:
                findings.highlighted = 0  # its OptionHighlighted shows the command
            self.show_highlighted_command()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "preflight-findings":
            self.set_command(self.equivalent_command())

    @on(OptionList.OptionSelected, "#preflight-findings")
    def open_finding(self, event: OptionList.OptionSelected) -> None:
        finding = next((f for f in self.findings if f.key == event.option.id), None)
        if finding is not None:
            self.app.push_screen(FindingScreen(finding))

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
