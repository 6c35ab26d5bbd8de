"""The environment for a running sandbox: the one object every later step is given.

Every boto3 client points at the daemon's moto endpoint, every interface endpoint DNS name of the environment
resolves to its local forwarder, and terraform (when it runs) gets a provider override pointing at the same endpoint.
Several environments (``--env``) share one sandbox, each with its own clusters, forwarders and AWS objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from dms_tui import exit_codes
from dms_tui.environment import Environment, EnvironmentProgress, EnvironmentRequest, OpenedEnvironment
from dms_tui.errors import StepError
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.lifecycle import Sandbox, SandboxError, SandboxInfo
from dms_tui.sandbox.provisioner import terraform_override_for

if TYPE_CHECKING:
    from dms_tui.config import WizardConfig

SANDBOX_ACCOUNT = "123456789012"


def sandbox_environment(info: SandboxInfo) -> Environment:
    """The Environment for the sandbox ``info`` describes (its outputs None until the environment is provisioned)."""
    return Environment(
        mode="sandbox",
        region=info.region,
        env=info.env,
        aws_endpoint_url=info.aws_endpoint_url,
        host_map=dict(info.host_map),
        terraform_override=terraform_override_for(info.aws_endpoint_url, info.region),
        workdir=info.workdir,
        outputs=info.outputs,
        database_ca=info.ca_cert,  # where AWS would use the RDS CA bundle
    )


def open_sandbox(
    request: EnvironmentRequest, *, start: bool, on_progress: Callable[[EnvironmentProgress], None]
) -> OpenedEnvironment:
    """Bring the sandbox up (``start``: daemon and the environment's clusters, no AWS object) or find the running
    one; raises StepError saying what to run."""
    from dms_tui.environment import _configured_region

    region = request.region or _configured_region(request.env) or "us-east-1"
    try:
        if start:
            info = Sandbox(region=region, env=request.env).up(
                lambda event: on_progress(EnvironmentProgress(describe(event)))
            )
        else:
            info = Sandbox(env=request.env).info()
    except SandboxError as exc:
        raise StepError(
            "The sandbox is not available." if not start else "The sandbox could not start.",
            str(exc),
            "Run `dms-tui sandbox up` (or `dms-tui --sandbox` for the wizard), then try again."
            if not start
            else "See `dms-tui sandbox status` and the log it names; `dms-tui sandbox down` resets it.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    environment = sandbox_environment(info)
    identity = f"sandbox account {SANDBOX_ACCOUNT} · {info.region} · moto at {info.aws_endpoint_url}"
    note = info.provision_reason or (
        ""
        if info.outputs is not None
        else f"environment {info.env} is not provisioned yet (the Provision step does it)"
    )
    return OpenedEnvironment(environment, identity, note=note)


def adopt_outputs(environment: Environment, outputs: EnvironmentOutputs) -> Environment:
    """After an apply: bind the environment's databases and forwarders to what terraform created (secrets,
    endpoint DNS names) and return the refreshed environment."""
    info = Sandbox(region=environment.region, env=environment.env).adopt_outputs(outputs)
    return replace(sandbox_environment(info), profile=environment.profile)


def terraform_unavailable_reason(environment: Environment) -> str | None:
    """Why the Provision step creates this sandbox's objects with boto3 (None: it applies the bundle)."""
    return Sandbox(region=environment.region, env=environment.env).terraform_problem()


def provision_without_terraform(
    environment: Environment, config: WizardConfig | None, on_progress: Callable[[str], None] | None = None
) -> Environment:
    """The boto3 path: the environment's AWS objects created once (reused when they exist), databases bound."""
    report = on_progress or (lambda _: None)
    try:
        info = Sandbox(region=environment.region, env=environment.env).provision_api(
            config, lambda event: report(describe(event))
        )
    except SandboxError as exc:
        raise StepError(
            "The sandbox could not create the AWS objects.",
            str(exc),
            "See `dms-tui sandbox status`; `dms-tui sandbox up` starts what is missing.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    return sandbox_environment(info)


def remove_environment(
    environment: Environment, *, keep_terraform_state: bool = False
) -> tuple[str, list[str], list[int]]:
    """Cleanup's last step in the sandbox: (what was done, what could not be removed, pids still running)."""
    sandbox = Sandbox(environment.workdir, region=environment.region, env=environment.env)
    report = sandbox.remove_environment(keep_terraform_state=keep_terraform_state)
    return report.summary, list(report.problems), list(report.leftover_pids)


def describe(event: object) -> str:
    """One calm line per sandbox event."""
    from dms_tui.sandbox.lifecycle import (
        EnvironmentForgotten,
        PieceRestarted,
        PieceReused,
        PieceStarted,
        ProvisionPathChosen,
    )
    from dms_tui.sandbox.provisioner import ForwarderBound, ResourceCreated, ResourceRemoved

    if isinstance(event, PieceStarted):
        return f"started {event.piece}: {event.detail}"
    if isinstance(event, PieceReused):
        return f"reusing {event.piece}: {event.detail}"
    if isinstance(event, PieceRestarted):
        return f"restarted {event.piece}: {event.reason}"
    if isinstance(event, ProvisionPathChosen):
        return event.reason
    if isinstance(event, EnvironmentForgotten):
        return f"environment {event.env}: {event.reason}"
    if isinstance(event, ResourceCreated):
        return f"created {event.kind} {event.identifier.rsplit(':', 1)[-1].rsplit('/', 1)[-1]}"
    if isinstance(event, ResourceRemoved):
        return f"{'already gone' if event.already else 'deleted'}: {event.kind} {event.identifier}"
    if isinstance(event, ForwarderBound):
        return f"{event.side} endpoint {event.dns_name} → forwarder :{event.listen_port} → PostgreSQL :{event.cluster_port}"
    return type(event).__name__


def running_sandbox(env: str = "dev") -> tuple[Environment, EnvironmentOutputs]:
    """The running sandbox's environment and outputs (raises when none is up or ``env`` is not provisioned)."""
    environment = sandbox_environment(Sandbox(env=env).info())
    return environment, environment.require_outputs()
