"""The target environment for a running sandbox: the one object every later step is given.

Every boto3 client points at the daemon's moto endpoint, every interface endpoint DNS name resolves to its local
forwarder, and terraform (when it runs) gets a provider override pointing at the same endpoint.
"""

from __future__ import annotations

from pathlib import Path

from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.lifecycle import Sandbox, SandboxInfo
from dms_tui.sandbox.provisioner import terraform_override_for
from dms_tui.target import TargetEnvironment


def sandbox_target(info: SandboxInfo) -> TargetEnvironment:
    """The TargetEnvironment for the sandbox ``info`` describes."""
    return TargetEnvironment(
        mode="sandbox",
        region=info.region,
        env=info.env,
        aws_endpoint_url=info.aws_endpoint_url,
        host_map=dict(info.host_map),
        terraform_override=terraform_override_for(info.aws_endpoint_url, info.region),
        workdir=info.workdir,
    )


def running_sandbox(workdir: Path | None = None) -> tuple[TargetEnvironment, EnvironmentOutputs]:
    """The running sandbox's target environment and outputs, for headless commands given ``--sandbox``.

    Raises ``SandboxError`` (with what to run) when no sandbox is up.
    """
    info = Sandbox(workdir).info()
    return sandbox_target(info), info.outputs
