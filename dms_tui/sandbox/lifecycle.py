"""Bring the embedded sandbox up, report its status, and take it down again — by pid, never by name.

The sandbox is one daemon shared by every environment, and two PostgreSQL clusters per environment, under one working
directory (``dms_tui.paths.sandbox_dir()`` by default):

- ``daemon``: one process (``python -m dms_tui.sandbox.server``) holding moto (one AWS account for all
  environments), the DMS data plane and the TCP forwarders; started in its own session with its output in the log
  directory, its pid and port in ``daemon.json``.
- ``envs/<env>/source`` / ``envs/<env>/target``: the environment's two clusters (``LocalPostgres``), pids in their
  ``postmaster.pid``; "on-premises source" and "Aurora target" of that environment only.
- ``sandbox.json``: what was decided (ports, the provisioning path the Provision step takes here) and, per
  environment, what the Provision step created (its outputs, for which daemon, by which path). No secret: passwords
  live only in moto's memory and in the clusters' catalogs.

``up`` starts (or reuses) the daemon and the clusters and creates no AWS object: the Provision step does, once, by
terraform where it can run, else with boto3 (:meth:`Sandbox.provision_api`), and hands the outputs to
:meth:`Sandbox.adopt_outputs`, which binds the environment's clusters and forwarders to them. A restarted daemon
starts with an empty moto: the environments it held are forgotten (their terraform state moved aside) and reported,
so the journey provisions them again. :meth:`Sandbox.remove_environment` is cleanup's last step: the environment's
objects, forwarders, clusters and terraform state go, and the whole sandbox when no other environment is provisioned.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dms_tui import paths
from dms_tui.environment import Environment
from dms_tui.processes import process_alive
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.postgres import LocalPostgres
from dms_tui.sandbox.provisioner import (
    SIDES,
    ProvisionEvent,
    ProvisionPath,
    ResourceRemoved,
    SandboxLayout,
    Side,
    bind_databases,
    deprovision_with_api,
    provision_with_api,
    terraform_path_problem,
)
from dms_tui.sandbox.server import DAEMON_FILE
from dms_tui.sandbox.tls import SandboxCA, sandbox_ca

if TYPE_CHECKING:
    from dms_tui.config import WizardConfig

STATE_FILE = "sandbox.json"
ENVS_DIR = "envs"
DAEMON_MODULE = "dms_tui.sandbox.server"
_DAEMON_START_TIMEOUT = 60.0
_STOP_GRACE = 10.0

PieceName = Literal["daemon", "source", "target"]


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked; the message says what to do."""


# -- events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PieceStarted:
    piece: PieceName
    detail: str
    env: str = ""  # the environment a cluster belongs to ("" for the shared daemon)


@dataclass(frozen=True)
class PieceReused:
    piece: PieceName
    detail: str
    env: str = ""


@dataclass(frozen=True)
class PieceRestarted:
    """A piece recorded as running had stopped or crashed and was started again."""

    piece: PieceName
    reason: str
    env: str = ""


@dataclass(frozen=True)
class ProvisionPathChosen:
    path: ProvisionPath
    reason: str


@dataclass(frozen=True)
class PieceStopped:
    piece: PieceName
    pid: int | None
    detail: str
    env: str = ""


@dataclass(frozen=True)
class EnvironmentForgotten:
    """An environment's AWS objects were in the memory of a daemon that is gone: it must be provisioned again."""

    env: str
    reason: str


SandboxEvent = (
    PieceStarted
    | PieceReused
    | PieceRestarted
    | ProvisionPathChosen
    | PieceStopped
    | EnvironmentForgotten
    | ProvisionEvent
    | ResourceRemoved
)
SandboxEventSink = Callable[[SandboxEvent], None]


def _ignore(_: SandboxEvent) -> None:
    return None


# -- the daemon's control API ------------------------------------------------------------------------------------


class DaemonControl:
    """Client of the daemon's ``/_dms_tui/`` control API (health and forwarders: create, latency, drop, refuse)."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL built by the sandbox itself
            f"{self.endpoint_url}/_dms_tui/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail)["error"]
            raise SandboxError(f"the sandbox daemon refused {method} {route}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(
                f"the sandbox daemon at {self.endpoint_url} does not answer ({exc}); "
                "run `dms-tui sandbox status` to see what is running, `dms-tui sandbox up` to (re)start it."
            ) from exc

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "health"))

    def forwarders(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "forwarders"))

    def ensure_forwarder(self, name: str, dns_name: str, target_host: str, target_port: int) -> dict[str, Any]:
        body = {"name": name, "dns_name": dns_name, "target_host": target_host, "target_port": target_port}
        return dict(self._call("POST", "forwarders", body))

    def set_latency(self, name: str, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", f"forwarders/{name}/latency", {"seconds": seconds}))

    def drop_connections(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", f"forwarders/{name}/drop", {}))

    def set_refusing(self, name: str, refusing: bool) -> dict[str, Any]:
        return dict(self._call("POST", f"forwarders/{name}/refuse", {"refusing": refusing}))

    def remove_forwarder(self, name: str) -> None:
        self._call("DELETE", f"forwarders/{name}")

    def reset_moto(self) -> None:
        """Empty every moto backend (moto's own /moto-api/reset); forwarders are untouched."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):  # noqa: S310
                pass
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(f"could not reset the sandbox's moto state: {exc}") from exc


# -- processes ---------------------------------------------------------------------------------------------------


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie (no-op for others' processes)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_process(pid: int, marker: str | None = None, grace: float = _STOP_GRACE) -> bool:
    """SIGTERM ``pid``, then SIGKILL after ``grace`` seconds; True when it is gone."""
    if not process_alive(pid, marker):
        _reap(pid)
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not process_alive(pid, marker):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        _reap(pid)
        if not process_alive(pid, marker):
            return True
        time.sleep(0.05)
    return False


# -- state -------------------------------------------------------------------------------------------------------


@dataclass
class EnvironmentRecord:
    """One environment in the sandbox: its clusters' ports, and what the Provision step created for it."""

    cluster_ports: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    provisioned_for_daemon: int | None = None  # pid of the daemon whose moto memory holds the objects
    provision_path: str | None = None  # "terraform" | "api"
    provision_reason: str = ""
    usernames: dict[str, str] = field(default_factory=dict)

    def provisioned_in(self, daemon_pid: int | None) -> bool:
        return self.outputs is not None and daemon_pid is not None and self.provisioned_for_daemon == daemon_pid

    @classmethod
    def from_json(cls, data: Any) -> EnvironmentRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names}) if isinstance(data, dict) else cls()


@dataclass
class SandboxState:
    """What the sandbox decided and holds, persisted in ``sandbox.json`` (no secrets)."""

    region: str
    daemon_port: int | None = None
    provision: str = "auto"  # the path the Provision step takes here: "auto" | "terraform" | "api"
    environments: dict[str, EnvironmentRecord] = field(default_factory=dict)

    def record(self, env: str) -> EnvironmentRecord:
        return self.environments.setdefault(env, EnvironmentRecord())

    @classmethod
    def load(cls, workdir: Path) -> SandboxState | None:
        path = workdir / STATE_FILE
        if not path.is_file():
            return None
        with contextlib.suppress(ValueError, TypeError, AttributeError, KeyError):
            data = json.loads(path.read_text())
            return cls(
                region=str(data["region"]),
                daemon_port=data.get("daemon_port"),
                provision=str(data.get("provision") or "auto"),
                environments={
                    str(name): EnvironmentRecord.from_json(record)
                    for name, record in (data.get("environments") or {}).items()
                },
            )
        return None

    def save(self, workdir: Path) -> None:
        path = workdir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


@dataclass(frozen=True)
class SandboxInfo:
    """A running sandbox as one environment sees it: where the AWS API is, where its databases are reached, and
    what the Provision step created for it (``outputs`` is None until then)."""

    workdir: Path
    region: str
    env: str
    aws_endpoint_url: str
    daemon_pid: int
    cluster_ports: Mapping[str, int]
    host_map: Mapping[str, tuple[str, int]]
    outputs: EnvironmentOutputs | None
    usernames: Mapping[str, str]
    provision_path: str  # how it was provisioned ("terraform" | "api"), else the sandbox's choice ("auto"...)
    provision_reason: str  # "" until provisioned
    ca_cert: Path | None = None  # the sandbox CA's certificate: clients verify the clusters against it

    def database_url(self, side: Side) -> str:
        """libpq URL through the side's forwarder (the PrivateLink hop), TLS verified against the sandbox's CA;
        no password — it is in the secret."""
        if self.outputs is None:
            raise SandboxError(
                f"environment {self.env} is not provisioned in the sandbox; run "
                f"`dms-tui provision apply --sandbox{'' if self.env == 'dev' else ' --env ' + self.env} --yes`."
            )
        side_outputs = self.outputs.source if side == "source" else self.outputs.target
        host, port = self.host_map[side_outputs.endpoint_dns_name]
        user = self.usernames.get(side, "postgres")
        tls = f"?sslmode=verify-ca&sslrootcert={urllib.parse.quote(str(self.ca_cert))}" if self.ca_cert else ""
        return f"postgresql://{user}@{host}:{port}/{side_outputs.database_name}{tls}"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": self.region,
            "env": self.env,
            "workdir": str(self.workdir),
            "daemon_pid": self.daemon_pid,
            "provisioned": self.outputs is not None,
            "provision_path": self.provision_path,
            "provision_reason": self.provision_reason,
            "host_map": {name: f"{host}:{port}" for name, (host, port) in self.host_map.items()},
            "cluster_ports": dict(self.cluster_ports),
            "ca_cert": str(self.ca_cert) if self.ca_cert else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
        }
        if self.outputs is not None:
            document |= {
                "source_url": self.database_url("source"),
                "target_url": self.database_url("target"),
                "source_secret_arn": self.outputs.source.secret_arn,
                "target_secret_arn": self.outputs.target.secret_arn,
            }
        return document


@dataclass(frozen=True)
class PieceStatus:
    piece: PieceName
    state: Literal["running", "stopped", "crashed", "absent"]
    pid: int | None
    detail: str
    env: str = ""


@dataclass(frozen=True)
class SandboxStatus:
    workdir: Path
    pieces: tuple[PieceStatus, ...]
    aws_endpoint_url: str | None
    provision_path: str | None
    forwarders: tuple[Mapping[str, Any], ...] = ()
    environments: Mapping[str, bool] = field(default_factory=dict)  # env -> provisioned in the running daemon

    @property
    def overall(self) -> Literal["running", "degraded", "stopped", "absent"]:
        states = {piece.state for piece in self.pieces}
        if states == {"running"}:
            return "running"
        if states <= {"absent"}:
            return "absent"
        if "running" in states:
            return "degraded"
        return "stopped"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.overall,
            "workdir": str(self.workdir),
            "aws_endpoint_url": self.aws_endpoint_url,
            "provision_path": self.provision_path,
            "environments": dict(self.environments),
            "pieces": [asdict(piece) for piece in self.pieces],
            "forwarders": [dict(f) for f in self.forwarders],
        }


@dataclass(frozen=True)
class DownReport:
    stopped: tuple[PieceStopped, ...]
    data_removed: bool
    leftover_pids: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "stopped": [asdict(event) for event in self.stopped],
            "data": "removed" if self.data_removed else "kept",
            "leftover_pids": list(self.leftover_pids),
        }


@dataclass(frozen=True)
class RemovalReport:
    """What :meth:`Sandbox.remove_environment` did: the objects removed, what could not be, what still runs."""

    env: str
    removed: tuple[ResourceRemoved, ...]
    problems: tuple[str, ...]
    leftover_pids: tuple[int, ...]
    sandbox_stopped: bool  # no other environment was provisioned: the daemon went too
    other_environments: tuple[str, ...]  # still provisioned in the sandbox (kept running)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.leftover_pids

    @property
    def summary(self) -> str:
        gone = sum(1 for r in self.removed if not r.already)
        already = sum(1 for r in self.removed if r.already)
        parts = [f"environment {self.env}: its clusters, forwarders and terraform state removed"]
        if self.removed:
            parts.append(f"{gone} AWS object(s) deleted" + (f", {already} already gone" if already else ""))
        if self.sandbox_stopped:
            parts.append("no other environment is provisioned, so the sandbox daemon stopped too")
        elif self.other_environments:
            parts.append(f"the sandbox keeps running for {', '.join(self.other_environments)}")
        return "; ".join(parts)


def terraform_state_files(env: str) -> list[Path]:
    """The environment's terraform state, its backups and saved plans in its working copy (sandbox runs only)."""
    root = paths.state_dir() / "environments" / env / "terraform" / "provisioning"
    if not root.is_dir():
        return []
    found = [
        p for p in root.iterdir() if p.is_file() and (".tfstate" in p.name or p.name in ("tfplan", "sandbox.tfplan"))
    ]
    return sorted(found)


def _sandbox_working_copy(env: str) -> bool:
    """Whether the environment's working copy was last used against the sandbox (its override file is there)."""
    from dms_tui.provision.workspace import OVERRIDE_FILE_NAME

    return (paths.state_dir() / "environments" / env / "terraform" / "provisioning" / OVERRIDE_FILE_NAME).is_file()


def _set_terraform_state_aside(env: str) -> Path | None:
    """The daemon that held the environment's objects is gone: its state describes nothing; keep it aside."""
    state = paths.state_dir() / "environments" / env / "terraform" / "provisioning" / "terraform.tfstate"
    if not state.is_file() or not _sandbox_working_copy(env):
        return None
    aside = state.with_name(f"terraform.tfstate.stale-{int(time.time())}")
    state.rename(aside)
    state.with_name("tfplan").unlink(missing_ok=True)
    return aside


# -- the sandbox -------------------------------------------------------------------------------------------------


@dataclass
class _DaemonLaunch:
    """A daemon either already running (``ready``) or launched and not yet awaited (``process``)."""

    ready: tuple[int, int] | None = None
    process: subprocess.Popen[bytes] | None = None
    previous_pid: int | None = None
    asked_port: int = 0


ProvisionChoice = Literal["auto", "terraform", "api"]


def choose_provision_path(choice: ProvisionChoice | str = "auto") -> tuple[ProvisionPath, str]:
    """Which path the Provision step takes in a sandbox started with ``choice``, and why (shown to the user)."""
    if choice == "api":
        return "api", "the sandbox was started with --provision api: boto3 creates the AWS objects, not terraform"
    problem = terraform_path_problem()
    if problem is None:
        return "terraform", "terraform and the AWS provider are available: applying the real bundle against the sandbox"
    if choice == "terraform":
        raise SandboxError(f"the terraform path was asked for but cannot run: {problem}.")
    return "api", f"{problem}; the sandbox creates the AWS objects later steps need with boto3 instead"


class Sandbox:
    """The embedded sandbox under ``workdir``, as environment ``env`` uses it: ``up()``, ``status()``, ``down()``."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        region: str = "us-east-1",
        env: str = "dev",
        provision: ProvisionChoice | None = None,
    ) -> None:
        """``provision``: how the Provision step creates the AWS objects in this sandbox — "auto" (terraform when
        terraform and the provider are available, else boto3), "terraform" (the bundle or fail), "api" (boto3, in
        seconds); None keeps what the sandbox recorded (``auto`` for a new one)."""
        self.workdir = Path(workdir) if workdir else paths.sandbox_dir()
        self.region = region
        self.env = env
        self.provision = provision

    # -- pieces ---------------------------------------------------------------------------------------------------

    @property
    def daemon_log(self) -> Path:
        return paths.log_dir() / "sandbox-daemon.log"

    def _daemon_record(self) -> dict[str, Any] | None:
        with contextlib.suppress(OSError, ValueError):
            record = json.loads((self.workdir / DAEMON_FILE).read_text())
            if isinstance(record, dict):
                return record
        return None

    def cluster(self, side: Side, port: int | None = None, *, env: str | None = None) -> LocalPostgres:
        """Environment ``env``'s (default: this one's) cluster for ``side``."""
        root = self.workdir / ENVS_DIR / (env or self.env) / side
        return LocalPostgres(root, port=port, logical_replication=(side == "source"), ca=self.ca)

    @property
    def ca(self) -> SandboxCA:
        """The sandbox's CA, one per working directory, shared by every environment's clusters."""
        return sandbox_ca(self.workdir)

    def environments_on_disk(self) -> list[str]:
        """Every environment with a cluster directory here."""
        root = self.workdir / ENVS_DIR
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One ``up``/``down``/provisioning at a time per working directory (a second caller waits)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _running_daemon(self) -> tuple[int, int] | None:
        """(pid, port) of a live, answering daemon for this workdir, else None."""
        record = self._daemon_record()
        if not record or not process_alive(int(record.get("pid", 0)), DAEMON_MODULE):
            return None
        port = int(record["port"])
        try:
            health = DaemonControl(f"http://127.0.0.1:{port}", timeout=3).health()
        except SandboxError:
            return None
        return (int(record["pid"]), port) if health.get("pid") == record["pid"] else None

    def _launch_daemon(self, port: int) -> subprocess.Popen[bytes]:
        """Start the daemon process in its own session (a Ctrl+C in the terminal that ran `up` must not stop it)."""
        with contextlib.suppress(FileNotFoundError):
            (self.workdir / DAEMON_FILE).unlink()
        with open(self.daemon_log, "ab") as log_file:
            return subprocess.Popen(  # noqa: S603 - our own module, run by our own interpreter
                [
                    sys.executable,
                    "-m",
                    DAEMON_MODULE,
                    "--port",
                    str(port),
                    "--workdir",
                    str(self.workdir),
                    "--region",
                    self.region,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                cwd=self.workdir,
            )

    def _await_daemon(self, process: subprocess.Popen[bytes]) -> tuple[int, int] | None:
        """(pid, port) once the daemon wrote its record; None when its port was taken (exit code 3)."""
        deadline = time.monotonic() + _DAEMON_START_TIMEOUT
        while time.monotonic() < deadline:
            code = process.poll()
            if code == 3:
                return None
            if code is not None:
                raise SandboxError(
                    f"the sandbox daemon exited with code {code} while starting; see {self.daemon_log} "
                    f"(last lines: {_tail(self.daemon_log)})"
                )
            record = self._daemon_record()
            if record and record.get("pid") == process.pid:
                return process.pid, int(record["port"])
            time.sleep(0.05)
        stop_process(process.pid)
        raise SandboxError(
            f"the sandbox daemon did not become ready within {_DAEMON_START_TIMEOUT:.0f}s; see {self.daemon_log}"
        )

    # -- up ------------------------------------------------------------------------------------------------------

    def _load_state(self) -> SandboxState:
        state = SandboxState.load(self.workdir)
        if state is None or state.region != self.region:
            if state is not None and self._running_daemon():
                raise SandboxError(
                    f"a sandbox for region {state.region} is running in {self.workdir}; "
                    "run `dms-tui sandbox down` first to change the region."
                )
            state = SandboxState(region=self.region)
        if self.provision is not None:
            state.provision = self.provision
        return state

    def up(self, on_event: SandboxEventSink = _ignore) -> SandboxInfo:
        """Start (or reuse) the daemon and the clusters; no AWS object is created here (the Provision step does).

        Environments provisioned in this daemon get their clusters and forwarders re-bound (a restarted cluster);
        environments provisioned in a daemon that is gone are forgotten and reported (:class:`EnvironmentForgotten`).
        """
        with self._locked():
            state = self._load_state()
            launch = self._begin_daemon(state, on_event)
            envs = sorted({self.env, *state.environments, *self.environments_on_disk()})
            try:
                clusters = self._up_clusters(envs, state, on_event)
            except BaseException:
                if launch.process is not None:
                    stop_process(launch.process.pid)
                raise
            daemon_pid, daemon_port = self._finish_daemon(launch, state, on_event)
            endpoint_url = f"http://127.0.0.1:{daemon_port}"
            host_map: dict[str, tuple[str, int]] = {}
            for env in envs:
                record = state.record(env)
                if record.outputs is not None and not record.provisioned_in(daemon_pid):
                    self._forget(env, record, "its AWS objects were in the memory of a sandbox daemon that is gone")
                    on_event(
                        EnvironmentForgotten(
                            env,
                            "the sandbox daemon restarted, so this environment's AWS objects are gone; "
                            "provision it again (its terraform state was moved aside)",
                        )
                    )
                elif record.outputs is not None:
                    binding = bind_databases(
                        self._target(env, endpoint_url),
                        EnvironmentOutputs.from_json(record.outputs),
                        clusters[env],
                        DaemonControl(endpoint_url),
                        on_event,
                    )
                    record.usernames = dict(binding.usernames)
                    if env == self.env:
                        host_map = binding.host_map
            state.save(self.workdir)
            return self._info(state, self.env, daemon_pid, endpoint_url, host_map)

    def up_provisioned(self, config: WizardConfig | None = None, on_event: SandboxEventSink = _ignore) -> SandboxInfo:
        """``up``, then this environment's AWS objects by the boto3 path (reused when they exist): for tests and
        benchmarks that need a provisioned sandbox in seconds. The journey itself provisions through its step."""
        self.up(on_event)
        return self.provision_api(config, on_event)

    def _target(self, env: str, endpoint_url: str) -> Environment:
        return Environment(
            mode="sandbox", region=self.region, env=env, aws_endpoint_url=endpoint_url, workdir=self.workdir
        )

    def _forget(self, env: str, record: EnvironmentRecord, why: str) -> None:
        record.outputs, record.provisioned_for_daemon = None, None
        record.provision_path, record.provision_reason, record.usernames = None, why, {}
        _set_terraform_state_aside(env)

    def _info(
        self,
        state: SandboxState,
        env: str,
        daemon_pid: int,
        endpoint_url: str,
        host_map: Mapping[str, tuple[str, int]] | None = None,
    ) -> SandboxInfo:
        record = state.environments.get(env) or EnvironmentRecord()
        provisioned = record.provisioned_in(daemon_pid)
        if host_map is None or not host_map:
            host_map = self._host_map(env, endpoint_url) if provisioned else {}
        path = record.provision_path if provisioned and record.provision_path else state.provision
        reason = record.provision_reason if provisioned else ""
        return SandboxInfo(
            workdir=self.workdir,
            region=state.region,
            env=env,
            aws_endpoint_url=endpoint_url,
            daemon_pid=daemon_pid,
            cluster_ports=dict(record.cluster_ports),
            host_map=dict(host_map),
            outputs=EnvironmentOutputs.from_json(record.outputs) if provisioned and record.outputs else None,
            usernames=dict(record.usernames),
            provision_path=path,
            provision_reason=reason,
            ca_cert=self.ca.cert_path,
        )

    def _host_map(self, env: str, endpoint_url: str) -> dict[str, tuple[str, int]]:
        prefix = f"{env}."
        return {
            str(f["dns_name"]): (str(f["listen_host"]), int(f["listen_port"]))
            for f in DaemonControl(endpoint_url).forwarders()
            if str(f.get("name", "")).startswith(prefix)
        }

    def _running_or_fail(self) -> tuple[SandboxState, int, str]:
        state = SandboxState.load(self.workdir)
        running = self._running_daemon()
        if state is None or running is None:
            raise SandboxError("the sandbox is not running; run `dms-tui sandbox up` first.")
        return state, running[0], f"http://127.0.0.1:{running[1]}"

    def _env_clusters(self, state: SandboxState, on_event: SandboxEventSink) -> dict[Side, LocalPostgres]:
        """This environment's clusters, started when they are not running (an environment provisioned without a
        `sandbox up` of its own)."""
        clusters = {side: self.cluster(side, state.record(self.env).cluster_ports.get(side)) for side in SIDES}
        if all(cluster_running(cluster) and cluster.serves_tls() for cluster in clusters.values()):
            return clusters
        return self._up_clusters([self.env], state, on_event)[self.env]

    def adopt_outputs(
        self,
        outputs: EnvironmentOutputs,
        *,
        path: ProvisionPath = "terraform",
        reason: str = "the Provision step applied the terraform bundle against the sandbox",
        on_event: SandboxEventSink = _ignore,
    ) -> SandboxInfo:
        """Bind this environment's clusters and forwarders to objects the Provision step created (terraform apply
        against the daemon, or :meth:`provision_api`) and record them as the environment's outputs.

        From then on the secrets' passwords are the clusters' passwords and each interface endpoint DNS name in
        ``outputs`` resolves to its forwarder.
        """
        with self._locked():
            return self._adopt(outputs, path, reason, on_event)

    def _adopt(
        self, outputs: EnvironmentOutputs, path: ProvisionPath, reason: str, on_event: SandboxEventSink
    ) -> SandboxInfo:
        state, daemon_pid, endpoint_url = self._running_or_fail()
        clusters = self._env_clusters(state, on_event)
        binding = bind_databases(
            self._target(self.env, endpoint_url), outputs, clusters, DaemonControl(endpoint_url), on_event
        )
        record = state.record(self.env)
        record.outputs, record.provisioned_for_daemon = outputs.to_json(), daemon_pid
        record.provision_path, record.provision_reason = path, reason
        record.usernames = dict(binding.usernames)
        state.save(self.workdir)
        return self._info(state, self.env, daemon_pid, endpoint_url, binding.host_map)

    def provision_api(self, config: WizardConfig | None = None, on_event: SandboxEventSink = _ignore) -> SandboxInfo:
        """This environment's AWS objects by the boto3 path (the Provision step's, where terraform does not run),
        named after ``config`` (the journey's tfvars; the defaults when None); then bound as :meth:`adopt_outputs`.

        Idempotent: objects this path already created in the running daemon are reused, never created twice."""
        with self._locked():
            state, daemon_pid, endpoint_url = self._running_or_fail()
            record = state.record(self.env)
            if record.provisioned_in(daemon_pid):
                if record.provision_path != "api":
                    raise SandboxError(
                        f"environment {self.env} was provisioned with terraform in this sandbox; destroy it first "
                        "(`dms-tui cleanup --sandbox --yes`) to create it with boto3."
                    )
                on_event(ProvisionPathChosen("api", "the objects the boto3 path created earlier exist: reused"))
                return self._adopt(
                    EnvironmentOutputs.from_json(record.outputs or {}), "api", record.provision_reason, on_event
                )
            path, reason = choose_provision_path(state.provision)
            if path != "api":
                reason = "asked for the boto3 path: the sandbox creates the AWS objects without terraform"
            on_event(ProvisionPathChosen("api", reason))
            layout = SandboxLayout.from_config(config) if config is not None else SandboxLayout.for_env(self.env)
            outputs = provision_with_api(self._target(self.env, endpoint_url), layout, on_event)
            return self._adopt(outputs, "api", reason, on_event)

    def terraform_problem(self) -> str | None:
        """Why the Provision step creates this sandbox's objects with boto3 rather than terraform (None: terraform)."""
        state = SandboxState.load(self.workdir)
        try:
            path, reason = choose_provision_path(state.provision if state else "auto")
        except SandboxError:
            return None  # "terraform" asked for: the Provision step runs it and reports why it fails
        return reason if path == "api" else None

    def _up_clusters(
        self, envs: list[str], state: SandboxState, on_event: SandboxEventSink
    ) -> dict[str, dict[Side, LocalPostgres]]:
        """Both clusters of each environment (initdb dominates a cold start, so two at a time); events are
        delivered on the caller's thread."""
        self.ca.ensure()  # once, before the clusters that need it start side by side
        pairs = [(env, side) for env in envs for side in SIDES]
        events: dict[tuple[str, Side], list[SandboxEvent]] = {pair: [] for pair in pairs}
        with ThreadPoolExecutor(max_workers=len(SIDES), thread_name_prefix="cluster") as pool:
            futures = {
                pair: pool.submit(self._up_cluster, pair[0], pair[1], state.record(pair[0]), events[pair].append)
                for pair in pairs
            }
            results = {pair: future.result() for pair, future in futures.items()}
        for pair in pairs:
            for event in events[pair]:
                on_event(event)
        clusters: dict[str, dict[Side, LocalPostgres]] = {}
        for (env, side), cluster in results.items():
            clusters.setdefault(env, {})[side] = cluster
        return clusters

    def _up_cluster(self, env: str, side: Side, record: EnvironmentRecord, on_event: SandboxEventSink) -> LocalPostgres:
        cluster = self.cluster(side, record.cluster_ports.get(side), env=env)
        existed = cluster.initialised
        stale_pid = cluster.pid()
        if cluster_running(cluster) and cluster.serves_tls():
            cluster.init()  # certificate and pg_hba.conf as they must be (a no-op when they are)
            on_event(PieceReused(side, f"{env}: PostgreSQL pid {cluster.pid()} on port {cluster.port}", env))
        elif cluster_running(cluster):
            cluster.start()  # started before the sandbox served TLS: restarted with it, its data kept
            on_event(PieceRestarted(side, f"{env}: PostgreSQL restarted on port {cluster.port} to serve TLS", env))
        else:
            if stale_pid is not None:
                _wait_until_gone(stale_pid)
            cluster.start()
            if stale_pid is not None:
                on_event(
                    PieceRestarted(
                        side,
                        f"{env}: PostgreSQL (pid {stale_pid}) had crashed; restarted on port {cluster.port} with its "
                        "data",
                        env,
                    )
                )
            elif existed:
                on_event(PieceStarted(side, f"{env}: PostgreSQL restarted on port {cluster.port} with its data", env))
            else:
                on_event(PieceStarted(side, f"{env}: new PostgreSQL cluster on port {cluster.port}", env))
        cluster.wait_ready()
        record.cluster_ports[side] = cluster.port
        return cluster

    def _begin_daemon(self, state: SandboxState, on_event: SandboxEventSink) -> _DaemonLaunch:
        """Reuse the running daemon, or launch one now so moto loads while the clusters start."""
        running = self._running_daemon()
        if running:
            on_event(PieceReused("daemon", f"pid {running[0]} at http://127.0.0.1:{running[1]}"))
            return _DaemonLaunch(ready=running)
        record = self._daemon_record()
        previous = int(record["pid"]) if record and record.get("pid") else None
        if previous is not None:
            stop_process(previous, DAEMON_MODULE, grace=2)  # a hung old daemon must not linger
        return _DaemonLaunch(
            process=self._launch_daemon(state.daemon_port or 0),
            previous_pid=previous,
            asked_port=state.daemon_port or 0,
        )

    def _finish_daemon(self, launch: _DaemonLaunch, state: SandboxState, on_event: SandboxEventSink) -> tuple[int, int]:
        if launch.ready is not None:
            return launch.ready
        assert launch.process is not None
        ready = self._await_daemon(launch.process)
        if ready is None and launch.asked_port:
            ready = self._await_daemon(self._launch_daemon(0))  # the old port is taken now: any free port
        if ready is None:
            raise SandboxError(f"the sandbox daemon could not bind a loopback port; see {self.daemon_log}")
        pid, port = ready
        if launch.previous_pid is not None:
            on_event(
                PieceRestarted(
                    "daemon",
                    f"the daemon (pid {launch.previous_pid}) had stopped or hung; "
                    f"restarted as pid {pid} with an empty moto: the environments it held must be provisioned again",
                )
            )
        else:
            on_event(PieceStarted("daemon", f"pid {pid} at http://127.0.0.1:{port}"))
        state.daemon_port = port
        return pid, port

    # -- status --------------------------------------------------------------------------------------------------

    def status(self) -> SandboxStatus:
        """What runs now, for every environment, without starting anything."""
        state = SandboxState.load(self.workdir) if self.workdir.exists() else None
        pieces: list[PieceStatus] = []
        record = self._daemon_record()
        running = self._running_daemon() if record else None
        forwarders: list[dict[str, Any]] = []
        endpoint_url = None
        if running:
            endpoint_url = f"http://127.0.0.1:{running[1]}"
            pieces.append(PieceStatus("daemon", "running", running[0], endpoint_url))
            with contextlib.suppress(SandboxError):
                forwarders = DaemonControl(endpoint_url, timeout=3).forwarders()
        elif record:
            pieces.append(
                PieceStatus(
                    "daemon",
                    "crashed",
                    record.get("pid"),
                    "recorded as running but not answering; `dms-tui sandbox up` restarts it",
                )
            )
        else:
            pieces.append(PieceStatus("daemon", "stopped" if state else "absent", None, ""))
        envs = self.environments_on_disk() if self.workdir.exists() else []
        if not envs:
            pieces += [PieceStatus(side, "absent", None, "no cluster yet", self.env) for side in SIDES]
        for env in envs:
            ports = state.environments[env].cluster_ports if state and env in state.environments else {}
            for side in SIDES:
                if not (self.workdir / ENVS_DIR / env / side / "cluster").exists():
                    pieces.append(PieceStatus(side, "absent", None, "no cluster yet", env))
                    continue
                cluster = self.cluster(side, ports.get(side), env=env)
                if cluster_running(cluster):
                    pieces.append(PieceStatus(side, "running", cluster.pid(), f"{env}: port {cluster.port}", env))
                elif cluster.pid() is not None:
                    pieces.append(
                        PieceStatus(
                            side,
                            "crashed",
                            cluster.pid(),
                            f"{env}: postmaster.pid left behind; `dms-tui sandbox up` restarts it",
                            env,
                        )
                    )
                else:
                    pieces.append(PieceStatus(side, "stopped", None, f"{env}: data kept", env))
        daemon_pid = running[0] if running else None
        return SandboxStatus(
            workdir=self.workdir,
            pieces=tuple(pieces),
            aws_endpoint_url=endpoint_url,
            provision_path=state.provision if state else None,
            forwarders=tuple(forwarders),
            environments={
                name: rec.provisioned_in(daemon_pid) for name, rec in (state.environments if state else {}).items()
            },
        )

    def info(self) -> SandboxInfo:
        """The running sandbox as this environment sees it (outputs None until it is provisioned); changes nothing."""
        state, daemon_pid, endpoint_url = self._running_or_fail()
        return self._info(state, self.env, daemon_pid, endpoint_url)

    # -- removing an environment ---------------------------------------------------------------------------------

    def remove_environment(
        self, on_event: SandboxEventSink = _ignore, *, keep_terraform_state: bool = False
    ) -> RemovalReport:
        """Cleanup's last step for this environment: the objects the boto3 path created (terraform's are gone by
        then), its forwarders, its clusters and their data, its terraform state; then the whole sandbox when no
        other environment is provisioned in it. Objects already gone count as removed. ``keep_terraform_state``
        (after a failed destroy): the state stays while the daemon, and so the objects it tracks, stay."""
        removed: list[ResourceRemoved] = []
        problems: list[str] = []
        leftovers: list[int] = []
        if not self.workdir.exists():
            self._remove_terraform_state()
            return RemovalReport(self.env, (), (), (), True, ())

        def removed_event(event: ResourceRemoved) -> None:
            removed.append(event)
            on_event(event)

        with self._locked():
            state = SandboxState.load(self.workdir) or SandboxState(region=self.region)
            running = self._running_daemon()
            daemon_pid = running[0] if running else None
            record = state.environments.get(self.env) or EnvironmentRecord()
            endpoint_url = f"http://127.0.0.1:{running[1]}" if running else None
            if endpoint_url and record.provisioned_in(daemon_pid) and record.provision_path == "api":
                problems += deprovision_with_api(
                    self._target(self.env, endpoint_url),
                    EnvironmentOutputs.from_json(record.outputs or {}),
                    on_event=removed_event,
                )
            if endpoint_url:
                control = DaemonControl(endpoint_url)
                with contextlib.suppress(SandboxError):
                    for forwarder in control.forwarders():
                        if str(forwarder.get("name", "")).startswith(f"{self.env}."):
                            control.remove_forwarder(str(forwarder["name"]))
            leftovers += self._stop_env_clusters(self.env, keep_data=False, on_event=on_event, stopped=[])
            shutil.rmtree(self.workdir / ENVS_DIR / self.env, ignore_errors=True)
            state.environments.pop(self.env, None)
            state.save(self.workdir)
            others = tuple(sorted(n for n, r in state.environments.items() if r.provisioned_in(daemon_pid)))
        if not keep_terraform_state:
            self._remove_terraform_state()
        stopped = False
        if not others and not problems:
            report = self.down(keep_data=False, on_event=on_event)
            leftovers += list(report.leftover_pids)
            stopped = True
            self._remove_terraform_state()  # the objects it tracked went with the daemon
        return RemovalReport(self.env, tuple(removed), tuple(problems), tuple(leftovers), stopped, others)

    def _remove_terraform_state(self) -> None:
        if _sandbox_working_copy(self.env):
            for path in terraform_state_files(self.env):
                path.unlink(missing_ok=True)

    def _stop_env_clusters(
        self, env: str, *, keep_data: bool, on_event: SandboxEventSink, stopped: list[PieceStopped]
    ) -> list[int]:
        leftovers: list[int] = []
        for side in SIDES:
            if not (self.workdir / ENVS_DIR / env / side / "cluster").exists():
                continue
            cluster = self.cluster(side, env=env)
            postmaster = cluster.pid()
            if cluster.is_running():
                cluster.stop()
            if postmaster is not None and process_alive(postmaster):
                stop_process(postmaster, "postgres")  # pg_ctl could not stop it: last resort, by its own pid
            if postmaster is not None and process_alive(postmaster):
                leftovers.append(postmaster)
            if not keep_data:
                cluster.remove()
            event = PieceStopped(side, postmaster, f"{env}: stopped, data {'kept' if keep_data else 'removed'}", env)
            stopped.append(event)
            on_event(event)
        return leftovers

    # -- down ----------------------------------------------------------------------------------------------------

    def down(self, *, keep_data: bool = True, on_event: SandboxEventSink = _ignore) -> DownReport:
        """Stop everything ``up`` started, for every environment (by pid); remove the working directory unless
        ``keep_data``. The environments' AWS objects go with the daemon's memory: their terraform state is set
        aside, so the next apply starts from nothing."""
        stopped: list[PieceStopped] = []
        leftovers: list[int] = []
        if not self.workdir.exists():
            return DownReport((), False, ())
        with self._locked():
            state = SandboxState.load(self.workdir)
            record = self._daemon_record()
            if record and record.get("pid"):
                pid = int(record["pid"])
                gone = stop_process(pid, DAEMON_MODULE)
                event = PieceStopped("daemon", pid, "stopped" if gone else "did not stop")
                stopped.append(event)
                on_event(event)
                if not gone:
                    leftovers.append(pid)
                with contextlib.suppress(FileNotFoundError):
                    (self.workdir / DAEMON_FILE).unlink()
            for env in self.environments_on_disk():
                leftovers += self._stop_env_clusters(env, keep_data=keep_data, on_event=on_event, stopped=stopped)
            if state is not None:
                for env, env_record in state.environments.items():
                    if env_record.outputs is not None:
                        self._forget(env, env_record, "the sandbox was taken down: its AWS objects went with it")
                if keep_data:
                    state.save(self.workdir)
            if not keep_data:
                (self.workdir / STATE_FILE).unlink(missing_ok=True)
        if not keep_data:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return DownReport(tuple(stopped), not keep_data, tuple(leftovers))


def cluster_running(cluster: LocalPostgres) -> bool:
    """Whether the cluster's postmaster really runs.

    ``pg_ctl status`` alone is fooled by a killed postmaster that is a zombie until init reaps it, so the pid from
    postmaster.pid must also be a live (non-zombie) process.
    """
    return process_alive(cluster.pid(), "postgres") and cluster.is_running()


def _wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    """A crashed postmaster's pid must vanish before a new one starts: PostgreSQL refuses while the pid exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            os.kill(pid, 0)
            time.sleep(0.05)
            continue
        return


def _tail(path: Path, lines: int = 5) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""
