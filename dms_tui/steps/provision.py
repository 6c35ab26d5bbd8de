"""Provision: the bundled Terraform, planned for review, applied exactly as reviewed, detached from the terminal.

The only place provisioning logic lives; the Review and Provision screens and `dms-tui provision` render its events.

- :func:`plan` — ``terraform init`` then ``plan -out=tfplan`` (the saved plan file), summarised as a
  :class:`PlanReview`.
- :func:`apply` — ``terraform apply tfplan`` (exactly that plan) under the supervisor, out of the terminal's session
  (an AWS apply takes 15-20 minutes and Session Manager connections drop): following its log gives the events, and
  stopping the iteration only stops *following*. A plan terraform calls stale (the state changed after it was
  made) is planned again and that fresh plan applied once. Then the outputs are read, handed to
  ``environment.after_apply`` and recorded in the journey.
- :func:`destroy` — init, then ``terraform destroy`` detached the same way.
- :func:`attach` — follow a running (or finished) detached run from the start of its log, then finish what it began.

Each returns a :class:`ProvisionJob`: iterate it once for the events (terraform's own, from
:mod:`dms_tui.provision.events`, plus this step's: :class:`PlanReviewed`, :class:`RunStarted`,
:class:`RunAttached`, :class:`PlanStale`, :class:`ApplyFinished`, :class:`DestroyFinished`, :class:`RunFailed`...);
the job keeps the tallies both faces show (progress of the command being watched, the commands run, the review, the
outputs). Anything a person must act on before terraform can run is a :class:`~dms_tui.errors.StepError`.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dms_tui import exit_codes
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import Journey, Setback, Step
from dms_tui.provision.detached import DetachedRun, RunLocked, RunRecord, forget_record, load_record, start_detached
from dms_tui.provision.events import CommandFinished, CommandStarted, Diagnostic, TerraformEvent
from dms_tui.provision.outputs import EnvironmentOutputs, OutputsError
from dms_tui.provision.progress import ProvisionProgress, reduce_event
from dms_tui.provision.runner import TerraformError, TerraformProcess, TerraformRunner
from dms_tui.provision.workspace import TerraformBinary, WorkspaceError, find_terraform, prepare_workspace

PLAN_FILE = "tfplan"
#: terraform's diagnostic when a saved plan no longer matches the state (another run changed it after the plan).
STALE_PLAN_SUMMARY = "Saved plan is stale"

Action = Literal["plan", "apply", "destroy", "attach"]


# -- the equivalent commands -------------------------------------------------------------------------------------------


def terraform_command_line(journey: Journey, action: Literal["plan", "apply", "destroy"]) -> str:
    """What a person would type to run this step's terraform by hand, in the environment's working copy."""
    root = f"-chdir={journey.workdir / 'provisioning'}"
    var_file = f"-var-file={journey.config_path}"
    if action == "plan":
        return shlex.join(["terraform", root, "plan", f"-out={PLAN_FILE}", var_file])
    if action == "apply":
        return shlex.join(["terraform", root, "apply", PLAN_FILE])
    return shlex.join(["terraform", root, "destroy", var_file])


def dms_tui_command_line(environment: Environment, action: str, *extra: str) -> str:
    """`dms-tui provision <action>` for this same environment."""
    return shlex.join(["dms-tui", "provision", action, *environment.cli_flags(), *extra])


# -- what a review and a failure show ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanReview:
    """What `terraform plan` proposes: the counts and each resource (address, action) grouped by module."""

    add: int = 0
    change: int = 0
    remove: int = 0
    by_module: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    plan_file: str = ""
    log_path: str = ""
    errors: tuple[Diagnostic, ...] = ()  # a plan that saved a file reported none; kept for readers that check

    @property
    def planned(self) -> int:
        return self.add + self.change + self.remove

    @property
    def summary(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.remove} to destroy"


LineKind = Literal["error", "warning", "where", "code", "detail"]


@dataclass(frozen=True)
class DiagnosticLine:
    """One line of a diagnostic as a person reads it; ``kind`` is what a renderer styles it by."""

    text: str
    kind: LineKind


def diagnostic_lines(diagnostic: Diagnostic) -> list[DiagnosticLine]:
    """A terraform diagnostic as lines: the headline, the resource and file:line it points at, the code, the detail.

    Warnings stay short (headline and place; terraform's full text is in the log)."""
    if diagnostic.is_error:
        lines = [DiagnosticLine(f"✗ Error: {diagnostic.summary}", "error")]
    else:
        lines = [DiagnosticLine(f"! {diagnostic.severity.capitalize()}: {diagnostic.summary}", "warning")]
    if diagnostic.address:
        lines.append(DiagnosticLine(f"  resource: {diagnostic.address}", "where"))
    if diagnostic.location:
        lines.append(DiagnosticLine(f"  at {diagnostic.location}", "where"))
    if diagnostic.snippet is not None:
        lines.append(DiagnosticLine(f"  {diagnostic.snippet.start_line} │ {diagnostic.snippet.code}", "code"))
    if diagnostic.detail and diagnostic.is_error:
        lines += [DiagnosticLine(f"  {line}", "detail") for line in diagnostic.detail.strip().splitlines()]
    return lines


# -- events ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanReviewed:
    """The plan succeeded and is saved: what applying it will do."""

    review: PlanReview


@dataclass(frozen=True)
class ServiceRolesDecided:
    """Before the plan: whether the account already has the DMS service roles (reused) or the plan creates them.
    The bundle's ``create_dms_service_roles`` was set from this in the environment's variables file."""

    create: bool
    reason: str


@dataclass(frozen=True)
class ServiceRolesKept:
    """Before a destroy: the account-wide DMS roles this environment created were taken out of its state, so the
    destroy leaves them for every other environment in the account (``manual_command`` deletes them by hand)."""

    addresses: tuple[str, ...]
    manual_command: str


@dataclass(frozen=True)
class GoneResourcesForgotten:
    """terraform destroy met objects that were already gone (e.g. InvalidPermission.NotFound, TargetGroupNotFound):
    they were removed from the state (``terraform state rm``), counted as destroyed, and the destroy ran again."""

    addresses: tuple[str, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class RunStarted:
    """A detached terraform run began (it goes on if this process ends; `dms-tui provision attach` follows it)."""

    record: RunRecord
    attach_command: str


@dataclass(frozen=True)
class RunAttached:
    """Following an existing detached run from the start of its log (``running``: it has not ended yet)."""

    record: RunRecord
    running: bool


@dataclass(frozen=True)
class PlanStale:
    """terraform refused the saved plan because the state changed after it was made: planning again."""

    reason: str


@dataclass(frozen=True)
class ReadingOutputs:
    """The apply succeeded; reading `terraform output -json`."""


@dataclass(frozen=True)
class ApplyFinished:
    """The apply succeeded. ``outputs`` (None for a root module that is not the bundle) is recorded in the journey;
    ``public_outputs`` is every output with sensitive values dropped; ``environment`` is the one to use from now on."""

    outputs: EnvironmentOutputs | None
    public_outputs: dict[str, Any]
    environment: Environment


@dataclass(frozen=True)
class DestroyFinished:
    """Everything the bundle created is gone; the journey no longer records outputs."""

    environment: Environment


@dataclass(frozen=True)
class ProvisionedWithoutTerraform:
    """No terraform here, and the environment created what later steps need itself (the sandbox, with boto3);
    ``environment`` is the one to use from now on (its databases bound to the new objects)."""

    outputs: EnvironmentOutputs
    reason: str
    environment: Environment | None = None


@dataclass(frozen=True)
class RunFailed:
    """A terraform command failed or was interrupted: its errors, the resources that failed, where the log is."""

    label: str  # "init" | "plan" | "apply" | "destroy" | ...
    returncode: int
    interrupted: bool
    errors: tuple[Diagnostic, ...]
    failed_resources: tuple[str, ...]
    log_path: str

    @property
    def headline(self) -> str:
        if self.interrupted:
            return f"terraform {self.label} was cancelled: terraform stopped gracefully; its state is consistent."
        return f"terraform {self.label} failed (exit {self.returncode})."


def failure_setback(failure: RunFailed) -> Setback:
    """What the Welcome and Review screens (and the next `provision apply`) say about a failed apply: the
    headline, its first error, what to do."""
    first = next((d for d in failure.errors if d.is_error), None)
    if first is not None:
        cause = first.summary + (f" ({first.address})" if first.address else "")
    else:
        cause = f"see the log: {failure.log_path}" if failure.log_path else ""
    return Setback(
        Step.PROVISION,
        failure.headline,
        cause,
        "Plan again on Review (the saved plan no longer holds), edit the configuration, or retry the apply.",
    )


StepEvent = (
    PlanReviewed
    | ServiceRolesDecided
    | ServiceRolesKept
    | GoneResourcesForgotten
    | RunStarted
    | RunAttached
    | PlanStale
    | ReadingOutputs
    | ApplyFinished
    | DestroyFinished
    | ProvisionedWithoutTerraform
    | RunFailed
)
ProvisionEvent = TerraformEvent | StepEvent


# -- where terraform runs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerraformSite:
    """The root module terraform runs in, the binary, and its process environment."""

    root_module: Path
    binary: TerraformBinary
    process_env: dict[str, str] = field(repr=False)
    var_file: Path | None
    label: str
    bundle: bool  # the environment's working copy of the bundle, whose outputs later steps rely on

    @property
    def plan_path(self) -> Path:
        return self.root_module / PLAN_FILE

    def runner(self) -> TerraformRunner:
        return TerraformRunner(
            self.root_module,
            terraform=str(self.binary.path),
            env=self.process_env,
            var_file=self.var_file,
            log_label=self.label,
        )


class TerraformMissing(StepError):
    """No usable terraform binary (missing, or older than 1.11)."""


def open_site(
    environment: Environment, *, root_module: Path | None = None, terraform: str | None = None
) -> TerraformSite:
    """The environment's working copy (refreshed from the bundle) or ``root_module``; raises StepError. Blocking.

    Raises TerraformMissing, too, where the environment creates its objects without terraform (the sandbox when
    terraform or its provider cannot run here): the plan and apply then take that path."""
    if root_module is None and (reason := environment.terraform_unavailable_reason()):
        raise TerraformMissing(
            "terraform is not used here.",
            reason,
            "Nothing to do: the sandbox creates the objects with boto3 (install terraform and its provider to apply "
            "the real bundle instead).",
            exit_code=exit_codes.NOT_RUN,
        )
    try:
        binary = find_terraform(terraform)
    except WorkspaceError as exc:
        raise TerraformMissing(
            "terraform is not usable here.",
            str(exc),
            "Install terraform 1.11 or newer (or point DMS_TUI_TERRAFORM at it), then run the step again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    if root_module is not None:
        if not root_module.is_dir():
            raise StepError(
                f"{root_module} is not a directory.",
                "--workdir must be a terraform root module.",
                "Give the directory that holds the root module's .tf files.",
                exit_code=exit_codes.NOT_RUN,
            )
        process_env = environment.terraform_process_env(os.environ)
        return TerraformSite(root_module, binary, process_env, None, environment.env, bundle=False)
    try:
        workspace = prepare_workspace(environment.env, environment)
    except WorkspaceError as exc:
        raise StepError(
            "The environment's working copy of the bundle cannot be prepared.",
            str(exc),
            "Fix what the message names, then run the step again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    return TerraformSite(
        workspace.root_module, binary, workspace.env, workspace.var_file, workspace.env_name, bundle=True
    )


def last_run(env: str) -> RunRecord | None:
    """The environment's last detached run, when there is one to re-attach to or to show the result of."""
    return load_record(env)


def public_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` as name → value, sensitive values replaced (the bundle has none; this keeps it so)."""
    result: dict[str, Any] = {}
    for name, entry in raw.items():
        if isinstance(entry, dict):
            result[name] = "(sensitive)" if entry.get("sensitive") else entry.get("value")
    return result


def start_run(environment: Environment, site: TerraformSite, label: str, process: TerraformProcess) -> RunRecord:
    """``process``'s exact argv and environment, started under the supervisor out of the terminal's session."""
    try:
        return start_detached(environment.env, label, process.argv, cwd=site.root_module, process_env=process.env)
    except RunLocked as exc:
        raise StepError(
            "Another terraform run holds this environment's working copy.",
            str(exc),
            f"Follow it with `{dms_tui_command_line(environment, 'attach')}` (or Re-attach on the wizard's Welcome "
            "screen), or wait for it to end.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc


# -- the job -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandRun:
    """One terraform command this job ran (or followed): the line, its exit code, its log."""

    command: str
    exit_code: int
    log: str


class ProvisionJob:
    """One provision action. Iterate once for its events; the attributes follow along for the renderers."""

    def __init__(
        self,
        action: Action,
        environment: Environment,
        journey: Journey,
        body: Callable[[ProvisionJob], AsyncIterator[ProvisionEvent]],
        *,
        site: TerraformSite | None = None,
        root_module: Path | None = None,
        terraform: str | None = None,
    ) -> None:
        self.action = action
        self.environment = environment  # replaced by the apply's (after_apply) when it succeeds
        self.journey = journey
        self.site = site
        self._root_module, self._terraform = root_module, terraform
        self._body = body
        self._iterated = False
        self.progress = ProvisionProgress()  # of the terraform command being watched
        self.commands: list[CommandRun] = []
        self.review: PlanReview | None = None
        self.outputs: EnvironmentOutputs | None = None
        self.public_outputs: dict[str, Any] | None = None
        self.failure: RunFailed | None = None
        self.done = False  # the job reached its result (success)
        self.current: TerraformProcess | DetachedRun | None = None  # what interrupt() stops

    def __aiter__(self) -> AsyncIterator[ProvisionEvent]:
        if self._iterated:
            raise RuntimeError("a ProvisionJob can be iterated only once")
        self._iterated = True
        return self._events()

    @property
    def ok(self) -> bool:
        return self.done and self.failure is None

    @property
    def run(self) -> DetachedRun | None:
        """The detached run being followed, if that is what runs now."""
        return self.current if isinstance(self.current, DetachedRun) else None

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.running

    async def interrupt(self) -> None:
        """Stop terraform gracefully (SIGINT, as Ctrl+C in its own terminal would; SIGTERM/SIGKILL after a grace)."""
        if self.current is not None:
            await self.current.interrupt()

    async def _events(self) -> AsyncIterator[ProvisionEvent]:
        async for event in self._body(self):
            self._observe(event)
            yield event

    def _observe(self, event: ProvisionEvent) -> None:
        if isinstance(event, CommandStarted):
            self.progress = ProvisionProgress()  # counts are those of the command the person is watching
        if isinstance(event, TerraformEvent):
            self.progress = reduce_event(self.progress, event)
        if isinstance(event, CommandFinished):
            self.commands.append(CommandRun(" ".join(event.argv), event.returncode, event.log_path))
        elif isinstance(event, PlanReviewed):
            self.review = event.review
            self.done = self.action == "plan"
        elif isinstance(event, ApplyFinished):
            self.outputs, self.public_outputs, self.environment = event.outputs, event.public_outputs, event.environment
            self.done = True
        elif isinstance(event, ProvisionedWithoutTerraform):
            self.outputs = event.outputs
            if event.environment is not None:
                self.environment = event.environment
            self.done = True
        elif isinstance(event, DestroyFinished):
            self.environment = event.environment
            self.done = True
        elif isinstance(event, RunFailed):
            self.failure = event
            if self.action in ("apply", "attach") and event.label != "destroy":
                # An apply that did not finish: the saved plan no longer holds. The journey goes back before Review
                # (a later Continue plans again instead of re-applying) and says why, whichever face ran it.
                self.journey.fall_back(Step.CONFIGURE, failure_setback(event))

    # -- pieces the bodies share ---------------------------------------------------------------------------------

    async def open_site(self) -> TerraformSite:
        if self.site is None:
            self.site = await asyncio.to_thread(
                open_site, self.environment, root_module=self._root_module, terraform=self._terraform
            )
        return self.site

    async def piped(self, process: TerraformProcess) -> AsyncIterator[TerraformEvent]:
        """A short command (init, plan) run as this process's child: cancelling the iteration stops it gracefully."""
        self.current = process
        try:
            async for event in process:
                yield event
        finally:
            self.current = None

    async def follow(self, record: RunRecord) -> AsyncIterator[TerraformEvent]:
        """A detached run's events from the start of its log; stopping early leaves terraform running."""
        self.current = run = DetachedRun(record)
        try:
            async for event in run:
                yield event
        finally:
            self.current = None
        if load_record(record.env) == record:
            forget_record(record.env)  # seen through to its end: nothing left to re-attach to

    def failed(self, label: str) -> RunFailed | None:
        """The RunFailed for the command just watched, or None when it succeeded."""
        finished = self.progress.finished
        if finished is not None and finished.ok:
            return None
        failed_resources = tuple(r.address for r in self.progress.resources.values() if r.state == "failed")
        return RunFailed(
            label=label,
            returncode=finished.returncode if finished is not None else -1,
            interrupted=finished.interrupted if finished is not None else False,
            errors=self.progress.errors,
            failed_resources=failed_resources,
            log_path=finished.log_path if finished is not None else "",
        )


# -- the bodies --------------------------------------------------------------------------------------------------------


#: What the boto3 path creates (the sandbox without terraform), as the review lists it.
WITHOUT_TERRAFORM_OBJECTS: tuple[str, ...] = (
    "aws_iam_role (dms-vpc-role, dms-cloudwatch-logs-role, when the account lacks them)",
    "aws_vpc × 3 (source, DMS, target) with subnets and security groups",
    "aws_rds_cluster × 2 (source, target)",
    "aws_lb × 2 (NLB) with target groups and listeners",
    "aws_vpc_endpoint_service × 2 and aws_vpc_endpoint × 2 (PrivateLink)",
    "aws_secretsmanager_secret × 2 (generated passwords)",
    "aws_iam_role (DMS secrets access)",
    "aws_dms_replication_instance and aws_dms_endpoint × 2",
    "aws_instance (bastion)",
)


def without_terraform_review(reason: str) -> PlanReview:
    """The review where the environment creates its objects itself: what the boto3 path will create."""
    return PlanReview(
        add=len(WITHOUT_TERRAFORM_OBJECTS),
        by_module={f"boto3, not terraform: {reason}": [(what, "create") for what in WITHOUT_TERRAFORM_OBJECTS]},
    )


async def _decide_service_roles(job: ProvisionJob, site: TerraformSite) -> ServiceRolesDecided | None:
    """IAM GetRole for the account-wide DMS roles, through the environment's client; the decision written into the
    environment's variables file (``create_dms_service_roles``), so the plan and the printed command agree."""
    if not site.bundle or site.var_file is None:
        return None
    from dms_tui.provision import dms_roles

    def decide() -> dms_roles.RolesDecision:
        from botocore.exceptions import BotoCoreError

        try:
            iam = job.environment.client("iam")
        except BotoCoreError as exc:  # e.g. ProfileNotFound: no client, so IAM cannot be asked
            raise dms_roles.RolesLookupError(f"IAM client: {exc}") from exc
        return dms_roles.decide(iam, site.root_module / "terraform.tfstate")

    try:
        decision = await asyncio.to_thread(decide)
    except dms_roles.RolesLookupError as exc:
        raise StepError(
            "Cannot tell whether the account has the DMS service roles.",
            str(exc),
            "Grant the identity iam:GetRole (on dms-vpc-role and dms-cloudwatch-logs-role), then plan again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    if decision.partial:
        missing = decision.absent[0]
        policy = dms_roles.ACCOUNT_ROLES[missing]
        raise StepError(
            "Only one of the two DMS service roles exists in the account.",
            f"{decision.reason}; the bundle creates both or neither.",
            f"Create {missing} by hand (trust dms.amazonaws.com, attach arn:aws:iam::aws:policy/{policy}), then "
            "plan again.",
            exit_code=exit_codes.NOT_RUN,
        )
    await asyncio.to_thread(_set_variable, site.var_file, dms_roles.VARIABLE, decision.create)
    if job.journey.config_path == site.var_file and job.journey.config_error is None:
        job.journey.config = job.journey.config.with_value(dms_roles.VARIABLE, decision.create)
    return ServiceRolesDecided(decision.create, decision.reason)


def _set_variable(var_file: Path, name: str, value: object) -> None:
    """One variable of the tfvars JSON set in place (atomically); the rest of the person's file untouched."""
    import json

    document = json.loads(var_file.read_text(encoding="utf-8")) if var_file.is_file() else {}
    if document.get(name) == value:
        return
    document[name] = value
    tmp = var_file.with_name(f".{var_file.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, var_file)


async def _plan_body(job: ProvisionJob, *, init: bool = True) -> AsyncIterator[ProvisionEvent]:
    try:
        site = await job.open_site()
    except TerraformMissing as missing:
        if not job.environment.provisions_without_terraform:
            raise
        yield PlanReviewed(without_terraform_review(missing.why))
        return
    roles = await _decide_service_roles(job, site)
    if roles is not None:
        yield roles
    runner = site.runner()
    if init:
        async for event in job.piped(runner.init()):
            yield event
        if (failure := job.failed("init")) is not None:
            yield failure
            return
    async for event in job.piped(runner.plan(PLAN_FILE)):
        yield event
    if (failure := job.failed("plan")) is not None:
        yield failure
        return
    progress = job.progress
    summary = progress.plan_summary
    by_module: dict[str, list[tuple[str, str]]] = {}
    for module, resources in progress.by_module().items():
        by_module[module or "root"] = [(r.address, r.planned_action) for r in resources]
    yield PlanReviewed(
        PlanReview(
            add=summary.add if summary else 0,
            change=summary.change if summary else 0,
            remove=summary.remove if summary else 0,
            by_module=by_module,
            plan_file=str(site.plan_path),
            log_path=progress.finished.log_path if progress.finished else "",
        )
    )


async def _apply_body(
    job: ProvisionJob, *, attach: RunRecord | None = None, plan_if_missing: bool = True
) -> AsyncIterator[ProvisionEvent]:
    if attach is None:
        try:
            site = await job.open_site()
        except TerraformMissing as missing:
            if not job.environment.provisions_without_terraform:
                raise
            environment = await asyncio.to_thread(job.environment.provision_without_terraform, job.journey.config)
            outputs = environment.require_outputs()
            job.journey.update(outputs=outputs.to_json())
            yield ProvisionedWithoutTerraform(outputs, missing.why, environment)
            return
        if not site.plan_path.exists():
            if not plan_if_missing:
                raise StepError(
                    "There is no saved plan to apply.",
                    f"{site.plan_path} does not exist.",
                    f"Run `{dms_tui_command_line(job.environment, 'plan')}` (or Review in the wizard) first.",
                    exit_code=exit_codes.NOT_RUN,
                )
            async for event in _plan_body(job):
                yield event
            if job.failure is not None:
                return
    replanned = False
    while True:
        if attach is not None:
            record, attach = attach, None
            yield RunAttached(record, running=record.finished() is None and record.alive())
        else:
            site = await job.open_site()
            record = await asyncio.to_thread(start_run, job.environment, site, "apply", site.runner().apply(PLAN_FILE))
            yield RunStarted(record, dms_tui_command_line(job.environment, "attach"))
        stale = False
        async for event in job.follow(record):
            stale = stale or (isinstance(event, Diagnostic) and event.summary == STALE_PLAN_SUMMARY)
            yield event
        failure = job.failed(record.label)
        if failure is not None and stale and not replanned:
            replanned = True
            yield PlanStale(
                "The saved plan no longer matches the state (another run changed it after the plan was made): "
                "planning again, then applying that fresh plan."
            )
            async for event in _plan_body(job, init=False):
                yield event
            if job.failure is not None:
                return
            continue
        if failure is not None:
            yield failure
            return
        break
    async for event in _after_apply(job):
        yield event


async def _after_apply(job: ProvisionJob) -> AsyncIterator[ProvisionEvent]:
    site = await job.open_site()
    yield ReadingOutputs()
    try:
        raw = await site.runner().output()
    except TerraformError as exc:
        raise StepError(
            "The apply finished, but its outputs could not be read.",
            str(exc),
            f"Run `terraform -chdir={site.root_module} output -json` to see why, then "
            f"`{dms_tui_command_line(job.environment, 'apply')}` again.",
        ) from exc
    try:
        outputs: EnvironmentOutputs | None = EnvironmentOutputs.from_terraform(raw)
    except OutputsError as exc:
        if site.bundle:
            raise StepError("The apply finished, but its outputs are incomplete.", str(exc)) from exc
        outputs = None  # another root module (--workdir): its outputs are reported, not the app's contract
    environment = job.environment
    if outputs is not None:
        try:
            environment = await asyncio.to_thread(environment.after_apply, outputs)
        except (RuntimeError, OSError) as exc:  # e.g. the sandbox could not re-bind its forwarders
            raise StepError.from_exception(
                "The apply finished, but the environment could not take up its outputs.",
                exc,
                f"Check `dms-tui sandbox status`, then run `{dms_tui_command_line(job.environment, 'apply')}` again.",
            ) from exc
        job.journey.update(outputs=outputs.to_json())
    yield ApplyFinished(outputs, public_outputs(raw), environment)


#: How terraform's errors say an object it is deleting is already gone (moto and AWS alike).
GONE_MARKERS: tuple[str, ...] = (
    "NotFound",
    "not found",
    "NoSuchEntity",
    "does not exist",
    "ResourceNotFoundFault",
)
_DESTROY_ATTEMPTS = 3


def _already_gone(diagnostic: Diagnostic) -> bool:
    text = f"{diagnostic.summary} {diagnostic.detail}"
    return diagnostic.is_error and any(marker in text for marker in GONE_MARKERS)


async def _state_rm(
    job: ProvisionJob, site: TerraformSite, addresses: tuple[str, ...]
) -> AsyncIterator[TerraformEvent]:
    async for event in job.piped(site.runner().command("state", "rm", *addresses, json_stream=False)):
        yield event


async def _destroy_body(job: ProvisionJob, *, attach: RunRecord | None = None) -> AsyncIterator[ProvisionEvent]:
    """init; the account-wide DMS roles out of the state (never destroyed: another environment may use them);
    destroy detached. Objects already gone count as destroyed: their addresses leave the state and the destroy
    runs again (at most twice more); any other error ends it with RunFailed."""
    from dms_tui.provision import dms_roles

    site: TerraformSite | None = None
    if attach is not None:
        record = attach
        yield RunAttached(record, running=record.finished() is None and record.alive())
    else:
        site = await job.open_site()
        runner = site.runner()
        async for event in job.piped(runner.init()):
            yield event
        if (failure := job.failed("init")) is not None:
            yield failure
            return
        if site.bundle and (held := dms_roles.managed_addresses(site.root_module / "terraform.tfstate")):
            async for event in _state_rm(job, site, held):
                yield event
            if (failure := job.failed("state rm")) is not None:
                yield failure
                return
            yield ServiceRolesKept(held, dms_roles.manual_delete_command(job.environment.aws_cli_flags()))
        record = await asyncio.to_thread(start_run, job.environment, site, "destroy", runner.destroy())
        yield RunStarted(record, dms_tui_command_line(job.environment, "attach"))
    for attempt in range(1, _DESTROY_ATTEMPTS + 1):
        async for event in job.follow(record):
            yield event
        failure = job.failed(record.label)
        if failure is None:
            break
        gone = [d for d in failure.errors if _already_gone(d)]
        if attempt == _DESTROY_ATTEMPTS or failure.interrupted or not gone or len(gone) < len(failure.errors):
            yield failure
            return
        site = site or await job.open_site()
        addresses = tuple(dict.fromkeys(d.address for d in gone if d.address))
        if addresses:
            async for event in _state_rm(job, site, addresses):
                yield event
        yield GoneResourcesForgotten(addresses, tuple(f"{d.summary}: {d.detail}".strip(": ")[:300] for d in gone))
        record = await asyncio.to_thread(start_run, job.environment, site, "destroy", site.runner().destroy())
        yield RunStarted(record, dms_tui_command_line(job.environment, "attach"))
    job.journey.update(outputs=None)
    yield DestroyFinished(job.environment.with_outputs(None))


async def _follow_body(
    job: ProvisionJob, record: RunRecord, *, interrupt: bool = False
) -> AsyncIterator[ProvisionEvent]:
    yield RunAttached(record, running=record.finished() is None and record.alive())
    stopping: asyncio.Task[None] | None = None
    async for event in job.follow(record):
        if interrupt and stopping is None and job.current is not None:
            stopping = asyncio.get_running_loop().create_task(job.current.interrupt())
        yield event
    if stopping is not None:
        await stopping
    if (failure := job.failed(record.label)) is not None:
        yield failure
    else:
        job.done = True


# -- the step's entry points ---------------------------------------------------------------------------------------------


def plan(
    environment: Environment,
    journey: Journey,
    *,
    site: TerraformSite | None = None,
    root_module: Path | None = None,
    terraform: str | None = None,
) -> ProvisionJob:
    """terraform init, then plan into the saved plan file; the last event is PlanReviewed or RunFailed."""
    return ProvisionJob(
        "plan", environment, journey, _plan_body, site=site, root_module=root_module, terraform=terraform
    )


def apply(
    environment: Environment,
    journey: Journey,
    *,
    site: TerraformSite | None = None,
    root_module: Path | None = None,
    terraform: str | None = None,
    plan_if_missing: bool = True,
) -> ProvisionJob:
    """Apply the saved plan detached (planning first when there is none and ``plan_if_missing``); a stale plan is
    planned again and applied once. The last event is ApplyFinished, ProvisionedWithoutTerraform or RunFailed."""

    def body(job: ProvisionJob) -> AsyncIterator[ProvisionEvent]:
        return _apply_body(job, plan_if_missing=plan_if_missing)

    return ProvisionJob("apply", environment, journey, body, site=site, root_module=root_module, terraform=terraform)


def destroy(
    environment: Environment,
    journey: Journey,
    *,
    site: TerraformSite | None = None,
    root_module: Path | None = None,
    terraform: str | None = None,
) -> ProvisionJob:
    """terraform init, then destroy detached; the last event is DestroyFinished or RunFailed."""
    return ProvisionJob(
        "destroy", environment, journey, _destroy_body, site=site, root_module=root_module, terraform=terraform
    )


def attach(
    environment: Environment,
    journey: Journey,
    record: RunRecord,
    *,
    root_module: Path | None = None,
    terraform: str | None = None,
) -> ProvisionJob:
    """Follow ``record``'s run from the start of its log, then finish what it began (an apply's outputs...)."""

    def body(job: ProvisionJob) -> AsyncIterator[ProvisionEvent]:
        if record.label == "apply":
            return _apply_body(job, attach=record)
        if record.label == "destroy":
            return _destroy_body(job, attach=record)
        return _follow_body(job, record)

    return ProvisionJob("attach", environment, journey, body, root_module=root_module, terraform=terraform)


def cancel(
    environment: Environment,
    journey: Journey,
    record: RunRecord,
    *,
    root_module: Path | None = None,
    terraform: str | None = None,
) -> ProvisionJob:
    """Stop ``record``'s run gracefully (SIGINT to terraform; SIGTERM/SIGKILL after the grace), following it to
    its end; the last event is RunFailed (interrupted) unless it had already ended."""

    def body(job: ProvisionJob) -> AsyncIterator[ProvisionEvent]:
        return _follow_body(job, record, interrupt=True)

    return ProvisionJob("attach", environment, journey, body, root_module=root_module, terraform=terraform)
