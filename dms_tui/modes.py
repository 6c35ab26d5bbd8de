"""Getting the chosen mode ready: the AWS identity from boto3's default chain, or the embedded sandbox brought up.

Both return the TargetEnvironment every later step uses; screens never ask which mode they are in except to label it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dms_tui.journey import Journey
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.target import TargetEnvironment, aws_target


@dataclass(frozen=True)
class ModeProgress:
    """One line of progress while the mode gets ready (a sandbox piece started, the identity found...)."""

    text: str


@dataclass(frozen=True)
class ModeReady:
    target: TargetEnvironment
    identity: str  # who and where, for the Welcome screen
    outputs: EnvironmentOutputs | None  # known already (sandbox objects, or a resumed journey)
    note: str = ""


def prepare_mode(journey: Journey, on_progress: Callable[[ModeProgress], None]) -> ModeReady:
    """Bring up the sandbox or find the AWS identity. Raises an error whose message says what to do."""
    region = journey.config.aws_region
    if journey.mode == "sandbox":
        from dms_tui.sandbox.environment import sandbox_target
        from dms_tui.sandbox.lifecycle import Sandbox

        def relay(event: object) -> None:
            on_progress(ModeProgress(_describe(event)))

        info = Sandbox(region=region, env=journey.env).up(relay)
        return ModeReady(
            target=sandbox_target(info),
            identity=f"sandbox account 123456789012 · {region} · moto at {info.aws_endpoint_url}",
            outputs=info.outputs,
            note=info.provision_reason,
        )
    from dms_tui.aws.session_info import discover_session_info

    on_progress(ModeProgress("Looking up the AWS identity (sts get-caller-identity)…"))
    session = discover_session_info()
    if not session.ok:
        raise RuntimeError(session.problem)
    outputs = EnvironmentOutputs.from_json(journey.state.outputs) if journey.state.outputs else None
    return ModeReady(
        target=aws_target(session.region or region, env=journey.env, profile=session.profile),
        identity=f"{session.arn} · account {session.account} · {session.region} ({session.credential_source})",
        outputs=outputs,
    )


def _describe(event: object) -> str:
    """One calm line per sandbox event for the Welcome screen."""
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


def adopt_provisioned(journey: Journey, target: TargetEnvironment, outputs: EnvironmentOutputs) -> TargetEnvironment:
    """After an apply: in the sandbox, bind the databases and forwarders to what terraform created (secrets,
    endpoint DNS names) and return the refreshed target; on AWS nothing changes."""
    if journey.mode != "sandbox":
        return target
    from dms_tui.sandbox.environment import sandbox_target
    from dms_tui.sandbox.lifecycle import Sandbox

    info = Sandbox(region=target.region, env=journey.env).adopt_outputs(outputs)
    return sandbox_target(info)


def terraform_available() -> str | None:
    """None when a usable terraform is installed, else the reason (which says how to install it)."""
    from dms_tui.provision.workspace import WorkspaceError, find_terraform

    try:
        find_terraform()
    except WorkspaceError as exc:
        return str(exc)
    return None
