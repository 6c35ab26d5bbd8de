"""The environment: the one object that differs between an AWS account and the embedded sandbox.

Built in one place (:func:`open_environment`, from the same ``--sandbox/--env/--profile/--region`` flags every command
and the wizard accept), it owns every difference between the two modes: which boto3 client to build (the sandbox
points every client at its moto server), where a hostname really is (the sandbox maps each interface endpoint DNS
name to a local TCP forwarder standing in for NLB + PrivateLink), the CA that database TLS is verified against
(the RDS bundle, or the sandbox's own CA), what the emulator does not report, the timeouts, and the flags that make a printed command mean the same environment. Outside this module and the
``sandbox`` package no code asks which mode it is in: it asks this object a question about the environment.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dms_tui import exit_codes
from dms_tui.errors import StepError

if TYPE_CHECKING:
    import boto3

    from dms_tui.aws.ssm_tunnels import SsmTunnels
    from dms_tui.config import WizardConfig
    from dms_tui.provision.outputs import EnvironmentOutputs

Mode = Literal["aws", "sandbox"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
DEFAULT_ENV = "dev"
DEFAULT_REGION = "us-east-1"

#: Where the RDS CA bundle is looked for on AWS (the variable, else ``rds-global-bundle.pem`` in the state dir).
RDS_CA_BUNDLE_ENV = "DMS_TUI_RDS_CA_BUNDLE"
RDS_CA_BUNDLE_FILE = "rds-global-bundle.pem"
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

SANDBOX_ACCESS_KEY = "testing"
SANDBOX_SECRET_KEY = "testing"  # moto accepts any key; not a secret


@dataclass(frozen=True)
class EnvironmentRequest:
    """What a person asked for on the command line (or the wizard's start-up flags)."""

    sandbox: bool = False
    env: str = DEFAULT_ENV
    profile: str | None = None
    region: str | None = None
    tunnel: bool = False  # reach the databases through Session Manager tunnels via the bastion (from a laptop)
    present: bool = False  # the wizard's presenter mode (narration, steps move on by themselves); not a mode of its own

    @property
    def mode(self) -> Mode:
        return "sandbox" if self.sandbox else "aws"

    @property
    def label(self) -> str:
        if self.sandbox:
            return "Embedded sandbox — no AWS account needed"
        return "AWS account · databases through Session Manager tunnels" if self.tunnel else "AWS account"

    def cli_flags(self) -> list[str]:
        """The flags that make another `dms-tui` command mean this same environment."""
        flags = ["--sandbox"] if self.sandbox else []
        if self.env != DEFAULT_ENV:
            flags += ["--env", self.env]
        if self.profile and not self.sandbox:
            flags += ["--profile", self.profile]
        if self.region and not self.sandbox:
            flags += ["--region", self.region]
        if self.tunnel and not self.sandbox:
            flags += ["--tunnel"]
        return flags


@dataclass(frozen=True)
class VerifyTimeouts:
    """How long reachability checks wait: the sandbox answers in milliseconds, AWS can take a while."""

    api: float = 15.0
    network: float = 10.0
    dms: float = 120.0
    dms_poll_interval: float = 3.0


@dataclass(frozen=True)
class DatabaseTls:
    """How every client here (checks, seed, diff, the psql commands shown) secures its database sessions: always
    TLS, and the server's certificate verified against ``root_cert`` when the CA that signed it is on this machine.

    ``verify-ca`` rather than ``verify-full``: clients reach Aurora through the interface endpoint's DNS name, which is
    not a name in Aurora's certificate, so only the chain can be verified (see dms_tui/sandbox/tls.py)."""

    sslmode: SslMode
    root_cert: Path | None = None
    unverified_reason: str = ""  # why the certificate is not verified ("" when it is)

    def libpq_params(self) -> dict[str, str]:
        """``sslmode`` and, when verifying, ``sslrootcert``: the keywords a connection string carries."""
        params = {"sslmode": str(self.sslmode)}
        if self.root_cert is not None:
            params["sslrootcert"] = str(self.root_cert)
        return params

    @property
    def summary(self) -> str:
        """One phrase for a check's detail: what the session's TLS proves."""
        if self.root_cert is not None:
            return f"TLS in use, the server's certificate verified against {self.root_cert} (sslmode={self.sslmode})"
        return (
            f"TLS in use (sslmode={self.sslmode}); the server's certificate is not verified: {self.unverified_reason}"
        )


def rds_ca_bundle() -> Path | None:
    """The RDS CA bundle on this machine, when a person put it there (it cannot be downloaded from a private VPC)."""
    from dms_tui import paths

    configured = os.environ.get(RDS_CA_BUNDLE_ENV)
    candidate = Path(configured) if configured else paths.state_dir() / RDS_CA_BUNDLE_FILE
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class Environment:
    """How this run reaches AWS APIs and database endpoints, and what it can expect of them."""

    mode: Mode
    region: str
    env: str = DEFAULT_ENV
    aws_endpoint_url: str | None = None
    host_map: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    terraform_override: str | None = None  # contents of a standard *_override.tf for the working copy
    profile: str | None = None
    workdir: Path | None = None
    outputs: EnvironmentOutputs | None = None  # what provisioning created, when known
    tunnel: bool = False  # --tunnel: endpoint names map to Session Manager tunnels (once there are outputs)
    # The running tunnels this environment owns (host_map points at them); close() ends them.
    tunnels: SsmTunnels | None = field(default=None, compare=False, repr=False)
    # The CA that signs the database servers' certificates: the RDS CA bundle on AWS, the sandbox's own CA there.
    database_ca: Path | None = None

    # -- who and where ---------------------------------------------------------------------------------------------

    @property
    def request(self) -> EnvironmentRequest:
        return EnvironmentRequest(
            sandbox=self.mode == "sandbox", env=self.env, profile=self.profile, tunnel=self.tunnel
        )

    @property
    def label(self) -> str:
        if self.emulated:
            return "sandbox (no AWS account)"
        return f"AWS account · {self.region}" + (" · tunnels through the bastion" if self.tunnels else "")

    @property
    def emulated(self) -> bool:
        """True for the embedded sandbox: an emulator that omits some fields AWS always sends."""
        return self.mode == "sandbox"

    def cli_flags(self) -> list[str]:
        return self.request.cli_flags()

    def aws_cli_flags(self) -> list[str]:
        """Flags that point a printed `aws` command at this environment (moto's URL in the sandbox)."""
        flags = ["--region", self.region]
        if self.aws_endpoint_url:
            flags += ["--endpoint-url", self.aws_endpoint_url]
        if self.profile:
            flags += ["--profile", self.profile]
        return flags

    def aws_cli_environment(self) -> dict[str, str]:
        """Variables a printed `aws` command needs here (the sandbox's dummy keys; nothing on AWS)."""
        if not self.emulated:
            return {}
        return {"AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_KEY}

    # -- AWS APIs --------------------------------------------------------------------------------------------------

    def session(self) -> boto3.Session:
        import boto3

        if self.emulated:
            return boto3.Session(
                aws_access_key_id=SANDBOX_ACCESS_KEY,
                aws_secret_access_key=SANDBOX_SECRET_KEY,
                region_name=self.region,
            )
        return boto3.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` here (adaptive retries; moto's URL in the sandbox)."""
        from botocore.config import Config

        # Adaptive retry mode: botocore slows itself down on throttling, so pollers back off without their own logic.
        retry = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30)
        config = kwargs.pop("config", None)
        merged = retry.merge(config) if config is not None else retry
        if self.aws_endpoint_url:
            kwargs.setdefault("endpoint_url", self.aws_endpoint_url)
        return self.session().client(service, config=merged, **kwargs)  # type: ignore[call-overload]

    @property
    def reports_endpoint_service_state(self) -> bool:
        """AWS always reports a VPC endpoint service's ServiceState; moto does not."""
        return not self.emulated

    @property
    def reports_task_ready(self) -> bool:
        """AWS moves a new replication task from ``creating`` to ``ready``; moto never does (it accepts a start from
        ``creating``), so on the emulator ``creating`` counts as ready."""
        return not self.emulated

    @property
    def sends_date_header(self) -> bool:
        """AWS answers with a Date header (clock skew is measurable); moto's server does not."""
        return not self.emulated

    def emulator_gap(self, operation: str) -> EmulatorGap | None:
        """Why ``operation`` (``service:Action``) gets no truthful answer here: the sandbox's emulator lacks it or
        answers from a fixed catalogue; None on AWS and for every call the emulator answers as AWS does."""
        return _SANDBOX_GAPS.get(operation) if self.emulated else None

    @property
    def emulator_note(self) -> str:
        return "the sandbox's emulator" if self.emulated else "AWS"

    # -- databases -------------------------------------------------------------------------------------------------

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection to ``host:port`` really goes (a forwarder in the sandbox; unchanged on AWS)."""
        return self.host_map.get(host.lower().rstrip("."), (host, port))

    @property
    def resolves_locally(self) -> bool:
        """Endpoint DNS names are mapped here (sandbox forwarders, SSM tunnels) rather than looked up in DNS."""
        return bool(self.host_map) or self.emulated

    @property
    def local_route(self) -> str:
        """What stands at a mapped endpoint name's local address, for messages ("" when names are not mapped)."""
        if self.tunnels is not None:
            return f"a Session Manager port-forwarding tunnel through the bastion {self.tunnels.bastion_instance_id}"
        if self.resolves_locally:
            return "a local TCP forwarder standing in for the NLB and PrivateLink"
        return ""

    def close(self) -> None:
        """End what this environment opened on this machine (its tunnels); safe to call twice."""
        if self.tunnels is not None:
            self.tunnels.close()

    @property
    def database_tls(self) -> DatabaseTls:
        """TLS for every database session, the same in both modes: ``verify-ca`` against :attr:`database_ca`
        (the RDS bundle on AWS, the sandbox's CA there), ``require`` (encrypted, unverified) when it is absent."""
        if self.database_ca is not None:
            return DatabaseTls("verify-ca", self.database_ca)
        if self.emulated:
            reason = "no CA file was given for this environment's servers"
        else:
            reason = (
                f"the RDS CA bundle is not on this machine (download {RDS_CA_BUNDLE_URL} to "
                f"{RDS_CA_BUNDLE_FILE} in the state directory, or point {RDS_CA_BUNDLE_ENV} at it, to verify)"
            )
        return DatabaseTls("require", None, reason)

    @property
    def only_the_tool_writes(self) -> bool:
        """In the sandbox nothing but the tool's demo workload writes to the source; on AWS applications the tool
        cannot see do, so the Cutover step asks a person to confirm they stopped."""
        return self.emulated

    @property
    def verify_timeouts(self) -> VerifyTimeouts:
        if self.emulated:
            return VerifyTimeouts(api=10.0, network=5.0, dms=30.0, dms_poll_interval=0.25)
        return VerifyTimeouts()

    # -- terraform ---------------------------------------------------------------------------------------------------

    def terraform_process_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment terraform runs with here (never a real profile in the sandbox)."""
        env = dict(base)
        env["AWS_REGION"] = self.region
        if self.emulated:
            env.pop("AWS_PROFILE", None)
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        elif self.profile:
            env["AWS_PROFILE"] = self.profile
        return env

    @property
    def provisions_without_terraform(self) -> bool:
        """Without terraform, the sandbox creates what later steps need itself (boto3); AWS needs terraform."""
        return self.emulated

    def terraform_unavailable_reason(self) -> str | None:
        """Why the Provision step creates this environment's objects without terraform (the sandbox, when terraform
        or its provider cannot run here, or when it was started with ``--provision api``); None: terraform runs."""
        if not self.emulated:
            return None
        from dms_tui.sandbox.environment import terraform_unavailable_reason

        return terraform_unavailable_reason(self)

    def provision_without_terraform(
        self, config: WizardConfig | None = None, on_progress: Callable[[str], None] | None = None
    ) -> Environment:
        """The sandbox's boto3 path: the objects later steps need, created once (reused when they exist) and named
        after ``config``; the environment to use from then on. AWS always needs terraform (StepError)."""
        if not self.emulated:
            raise StepError(
                "terraform is needed to provision an AWS account.",
                "Only the sandbox can create its objects without terraform.",
                "Install terraform 1.11 or newer, then run the step again.",
                exit_code=exit_codes.NOT_RUN,
            )
        from dms_tui.sandbox.environment import provision_without_terraform

        return provision_without_terraform(self, config, on_progress)

    # -- outputs -----------------------------------------------------------------------------------------------------

    def with_outputs(self, outputs: EnvironmentOutputs | None) -> Environment:
        return replace(self, outputs=outputs)

    def after_apply(self, outputs: EnvironmentOutputs) -> Environment:
        """The environment once terraform has created ``outputs``. In the sandbox the databases and forwarders are
        re-bound to what terraform created (secrets, endpoint DNS names); on AWS the outputs change, and with
        --tunnel the tunnels to the new endpoints open (when none were open yet)."""
        if self.emulated:
            from dms_tui.sandbox.environment import adopt_outputs

            return adopt_outputs(self, outputs)
        if self.tunnel and self.tunnels is None:
            return open_tunnels(self.with_outputs(outputs))
        return self.with_outputs(outputs)

    def require_outputs(self) -> EnvironmentOutputs:
        """What provisioning created; raises a StepError that says how to get it."""
        if self.outputs is None:
            raise StepError(
                f"Environment {self.env} has not been provisioned.",
                "No terraform outputs are recorded for it.",
                f"Run `{' '.join(['dms-tui', 'provision', 'apply', *self.cli_flags()])}` first, or pass --outputs "
                "FILE (from `terraform output -json`).",
                exit_code=exit_codes.NOT_RUN,
            )
        return self.outputs

    # -- cleanup -----------------------------------------------------------------------------------------------------

    @property
    def bills_by_the_hour(self) -> bool:
        """AWS charges for what terraform created while it exists; the sandbox costs nothing."""
        return not self.emulated

    @property
    def local_pieces(self) -> LocalPieces | None:
        """What runs on this machine for the environment and goes last at cleanup (the sandbox); None on AWS."""
        if not self.emulated:
            return None
        return LocalPieces(
            f"environment {self.env} in the local sandbox: its AWS objects left in moto, two PostgreSQL clusters "
            "and their data, forwarders, terraform state; the sandbox daemon too when no other environment uses it",
            ("dms-tui", "sandbox", "down"),
        )

    def remove_local_pieces(self, *, keep_terraform_state: bool = False) -> str:
        """Stop and delete this environment's local pieces (by pid), and the sandbox when no other environment is
        provisioned in it; what was done. Raises StepError naming what is left and how to finish by hand.
        ``keep_terraform_state``: after a failed destroy the state still tracks objects (unless the whole sandbox
        goes, taking them along)."""
        if not self.emulated:
            return "nothing runs on this machine"
        from dms_tui.sandbox.environment import remove_environment
        from dms_tui.sandbox.lifecycle import SandboxError

        try:
            summary, problems, leftovers = remove_environment(self, keep_terraform_state=keep_terraform_state)
        except SandboxError as exc:
            raise StepError("The sandbox did not stop.", str(exc), "Run `dms-tui sandbox down`.") from exc
        if problems:
            raise StepError(
                f"Some of environment {self.env}'s sandbox objects could not be removed.",
                "; ".join(problems),
                "`dms-tui sandbox down` removes the whole sandbox (every environment in it).",
            )
        if leftovers:
            pids = " ".join(str(pid) for pid in leftovers)
            raise StepError("Some sandbox processes are still running.", f"pids {pids}", f"Stop them: `kill {pids}`.")
        return summary


@dataclass(frozen=True)
class EmulatorGap:
    """An AWS call the sandbox's emulator (moto) cannot answer as AWS would."""

    reason: str
    answers: bool  # False: not implemented (do not call it); True: it answers, but a "no" proves nothing


# The calls (the account preflight's, the assessment run's) that moto (5.2) cannot answer as AWS would.
_SANDBOX_GAPS: dict[str, EmulatorGap] = {
    "iam:SimulatePrincipalPolicy": EmulatorGap("the sandbox's emulator does not implement it", answers=False),
    "dms:DescribeOrderableReplicationInstances": EmulatorGap(
        "the sandbox's emulator does not implement it", answers=False
    ),
    "rds:DescribeOrderableDBInstanceOptions": EmulatorGap(
        "the sandbox's emulator answers from a fixed catalogue that ends at Aurora PostgreSQL 15.2", answers=True
    ),
    "servicequotas:GetServiceQuota": EmulatorGap(
        "the sandbox's emulator reports AWS's default quotas but never enforces them", answers=True
    ),
    # The premigration assessment run (and its two Describe calls): moto raises NotImplementedError for all three.
    "dms:StartReplicationTaskAssessmentRun": EmulatorGap(
        "the sandbox's emulator does not implement premigration assessment runs", answers=False
    ),
}


@dataclass(frozen=True)
class LocalPieces:
    """What an environment runs on this machine, and the command that removes it by hand."""

    what: str
    command: tuple[str, ...]


def aws_environment(
    region: str, env: str = DEFAULT_ENV, profile: str | None = None, outputs: EnvironmentOutputs | None = None
) -> Environment:
    return Environment(
        mode="aws", region=region, env=env, profile=profile, outputs=outputs, database_ca=rds_ca_bundle()
    )


# -- building it -------------------------------------------------------------------------------------------------------


def add_environment_options(parser: argparse.ArgumentParser) -> None:
    """--sandbox, --env, --profile, --region: accepted before or after a subcommand, meaning the same everywhere."""
    parser.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the embedded sandbox (moto + local PostgreSQL) instead of an AWS account",
    )
    parser.add_argument("--env", default=argparse.SUPPRESS, help=f"environment name (default: {DEFAULT_ENV})")
    parser.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile (default: boto3's default chain)")
    parser.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: the profile's, then tfvars)")
    parser.add_argument(
        "--tunnel",
        action="store_true",
        default=argparse.SUPPRESS,
        help="from a laptop: reach the databases through Session Manager tunnels via the bastion (needs the aws CLI "
        "and the Session Manager plugin)",
    )


def request_from_args(args: argparse.Namespace) -> EnvironmentRequest:
    return EnvironmentRequest(
        sandbox=bool(getattr(args, "sandbox", False)),
        env=str(getattr(args, "env", None) or DEFAULT_ENV),
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        tunnel=bool(getattr(args, "tunnel", False)),
        present=bool(getattr(args, "present", False)),
    )


@dataclass(frozen=True)
class EnvironmentProgress:
    """One line of progress while the environment gets ready (a sandbox piece started, the identity found...)."""

    text: str


@dataclass(frozen=True)
class OpenedEnvironment:
    environment: Environment
    identity: str  # who and where, for the Welcome screen and the headless commands' first line
    note: str = ""  # e.g. why the sandbox chose its provisioning path


def _configured_region(env: str) -> str | None:
    """The region of the environment's tfvars (the wizard's configuration), when it has one."""
    from dms_tui import paths

    var_file = paths.environment_dir(env) / "terraform" / "variables" / env / "common.tfvars.json"
    try:
        region = json.loads(var_file.read_text(encoding="utf-8")).get("aws_region")
    except (OSError, ValueError, AttributeError):
        return None
    return str(region) if region else None


def _recorded_outputs(env: str, mode: Mode) -> EnvironmentOutputs | None:
    from dms_tui.journey import load_checkpoint
    from dms_tui.provision.outputs import EnvironmentOutputs

    state = load_checkpoint(env, mode)
    if state is None or not state.outputs:
        return None
    return EnvironmentOutputs.from_json(state.outputs)


def open_environment(
    request: EnvironmentRequest,
    *,
    start_sandbox: bool = False,
    on_progress: Callable[[EnvironmentProgress], None] | None = None,
    outputs_file: Path | None = None,
) -> OpenedEnvironment:
    """The environment ``request`` names, ready to use. Raises StepError (what, why, what to do) when it is not.

    In the sandbox, ``start_sandbox`` brings it up (the wizard); otherwise it must be running (headless commands).
    On AWS the identity comes from boto3's default chain; the outputs from ``outputs_file`` or the checkpoint.
    """
    report = on_progress or (lambda _: None)
    if request.sandbox and request.tunnel:
        raise StepError(
            "--tunnel and --sandbox do not go together.",
            "Tunnels reach an AWS account's databases through its bastion; the sandbox's databases are on this "
            "machine already (its forwarders stand in for PrivateLink).",
            "Drop --tunnel for the sandbox, or --sandbox to use the AWS account.",
            exit_code=exit_codes.NOT_RUN,
        )
    if request.sandbox:
        from dms_tui.sandbox.environment import open_sandbox

        return open_sandbox(request, start=start_sandbox, on_progress=report)
    from dms_tui.aws.session_info import discover_session_info

    report(EnvironmentProgress("Looking up the AWS identity (sts get-caller-identity)…"))
    region = request.region
    session = discover_session_info(request.profile, region=region, fallback_region=_configured_region(request.env))
    if not session.ok:
        raise StepError(
            "No usable AWS identity.",
            session.problem or "",
            "Fix the credentials, or start with --sandbox, which needs no AWS account.",
            exit_code=exit_codes.NOT_RUN,
        )
    outputs = _outputs_from_file(outputs_file) if outputs_file else _recorded_outputs(request.env, "aws")
    environment = aws_environment(
        session.region or region or DEFAULT_REGION, env=request.env, profile=session.profile, outputs=outputs
    )
    identity = f"{session.arn} · account {session.account} · {environment.region} ({session.credential_source})"
    note = ""
    if request.tunnel:
        environment = replace(environment, tunnel=True)
        if outputs is None:
            note = "no tunnels yet: the environment is not provisioned (they open after the Provision step)"
        else:
            environment = open_tunnels(environment, report)
    return OpenedEnvironment(environment, identity, note=note)


def open_tunnels(
    environment: Environment,
    on_progress: Callable[[EnvironmentProgress], None] | None = None,
    *,
    aws_command: tuple[str, ...] = ("aws",),
) -> Environment:
    """``environment`` with one Session Manager tunnel per interface endpoint open through the bastion, and each
    endpoint DNS name mapped to its tunnel (the same host map the sandbox fills with its forwarders). The tunnels
    are watched and re-opened when they drop; ``Environment.close()`` (or the process's exit) ends them. Raises
    StepError when the aws CLI or the Session Manager plugin is missing, or a tunnel does not open."""
    from dms_tui import paths
    from dms_tui.aws.ssm_tunnels import SsmTunnels, TunnelEndpoint, describe

    outputs = environment.require_outputs()
    report = on_progress or (lambda _: None)
    endpoints = [
        TunnelEndpoint(name, side.endpoint_dns_name, side.port)
        for name, side in (("source", outputs.source), ("target", outputs.target))
    ]
    tunnels = SsmTunnels(
        outputs.bastion_instance_id,
        endpoints,
        aws_flags=environment.aws_cli_flags(),
        aws_command=aws_command,
        on_event=lambda event: report(EnvironmentProgress(describe(event))),
        records=paths.environment_dir(environment.env) / "ssm-tunnels",
    )
    report(EnvironmentProgress(f"Opening Session Manager tunnels through the bastion {outputs.bastion_instance_id}…"))
    tunnels.open()
    tunnels.on_event = None  # from now on, drops and re-opens go to the app log
    host_map = {**environment.host_map, **tunnels.host_map}
    return replace(environment, tunnel=True, host_map=host_map, tunnels=tunnels)


def _outputs_from_file(path: Path) -> EnvironmentOutputs:
    from dms_tui.provision.outputs import EnvironmentOutputs, OutputsError

    try:
        return EnvironmentOutputs.from_terraform(json.loads(path.read_text()))
    except OSError as exc:
        raise StepError(
            f"Cannot read {path}.",
            exc.strerror or str(exc),
            "Give the file `terraform output -json` wrote.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    except (ValueError, OutputsError) as exc:
        raise StepError(
            f"{path} is not usable terraform output.",
            str(exc),
            "Write it with `terraform output -json > FILE`.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
