"""The environment for a running sandbox: the one object every later step is given.

Every boto3 client points at the daemon's moto endpoint, every interface endpoint DNS name resolves to its local
forwarder, and terraform (when it runs) gets a provider override pointing at the same endpoint.
"""

from __future__ import annotations

from collections.abc import Callable

from dms_tui import exit_codes
from dms_tui.environment import Environment, EnvironmentProgress, EnvironmentRequest, OpenedEnvironment
from dms_tui.errors import StepError
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.lifecycle import Sandbox, SandboxError, SandboxInfo
from dms_tui.sandbox.provisioner import terraform_override_for

SANDBOX_ACCOUNT = "123456789012"


def sandbox_environment(info: SandboxInfo) -> Environment:
    """The Environment for the sandbox ``info`` describes."""
    return Environment(
        mode="sandbox",
        region=info.region,
        env=info.env,
        aws_endpoint_url=info.aws_endpoint_url,
        host_map=dict(info.host_map),
        terraform_override=terraform_override_for(info.aws_endpoint_url, info.region),
        workdir=info.workdir,
        outputs=info.outputs,
    )


def open_sandbox(
    request: EnvironmentRequest, *, start: bool, on_progress: Callable[[EnvironmentProgress], None]
) -> OpenedEnvironment:
    """Bring the sandbox up (``start``) or find the running one; raises StepError saying what to run."""
    from dms_tui.environment import _configured_region

    region = request.region or _configured_region(request.env) or "us-east-1"
    try:
        if start:
            info = Sandbox(region=region, env=request.env).up(
                lambda event: on_progress(EnvironmentProgress(describe(event)))
            )
        else:
            info = Sandbox().info()
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
    if request.env != info.env:
        environment = Environment(**{**environment.__dict__, "env": request.env})
    identity = f"sandbox account {SANDBOX_ACCOUNT} · {info.region} · moto at {info.aws_endpoint_url}"
    return OpenedEnvironment(environment, identity, note=info.provision_reason)


def adopt_outputs(environment: Environment, outputs: EnvironmentOutputs) -> Environment:
    """After an apply: bind the sandbox's databases and forwarders to what terraform created (secrets, endpoint
    DNS names) and return the refreshed environment."""
    info = Sandbox(region=environment.region, env=environment.env).adopt_outputs(outputs)
    refreshed = sandbox_environment(info)
    return Environment(**{**refreshed.__dict__, "env": environment.env})


def describe(event: object) -> str:
    """One calm line per sandbox event."""
    from dms_tui.sandbox.lifecycle import PieceRestarted, PieceReused, PieceStarted, ProvisionPathChosen
    from dms_tui.sandbox.provisioner import ForwarderBound, ResourceCreated

    if isinstance(event, PieceStarted):
        return f"started {event.piece}: {event.detail}"
    if isinstance(event, PieceReused):
        return f"reusing {event.piece}: {event.detail}"
    if isinstance(event, PieceRestarted):
        return f"restarted {event.piece}: {event.reason}"
    if isinstance(event, ProvisionPathChosen):
        return event.reason
    if isinstance(event, ResourceCreated):
        return f"created {event.kind} {event.identifier.rsplit(':', 1)[-1].rsplit('/', 1)[-1]}"
    if isinstance(event, ForwarderBound):
        return f"{event.side} endpoint {event.dns_name} → forwarder :{event.listen_port} → PostgreSQL :{event.cluster_port}"
    return type(event).__name__


def running_sandbox() -> tuple[Environment, EnvironmentOutputs]:
    """The running sandbox's environment and outputs (raises SandboxError with what to run when none is up)."""
    environment = sandbox_environment(Sandbox().info())
    return environment, environment.require_outputs()
