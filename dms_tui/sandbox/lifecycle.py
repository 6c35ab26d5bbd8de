"""Bring the embedded sandbox up, report its status, and take it down again — by pid, never by name.

The sandbox is three kinds of pieces under one working directory (``dms_tui.paths.sandbox_dir()`` by default):

- ``daemon``: one process (``python -m dms_tui.sandbox.server``) holding moto, the DMS data plane and the TCP
  forwarders; started in its own session with its output in the log directory, its pid and port in
  ``daemon.json``.
- ``source`` / ``target``: two PostgreSQL clusters (``LocalPostgres``), pids in their ``postmaster.pid``.
- ``sandbox.json``: what ``up`` decided (ports, provisioning path, the outputs). Holds no secret: passwords live only
  in moto's memory and in the clusters' catalogs.

``up`` is idempotent: running pieces are reused, stopped or crashed ones restarted (a restarted daemon starts with
empty moto state, so the AWS objects are re-created and the clusters re-bound to the new secrets), and every step is
reported as a typed event.
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
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from dms_tui import paths
from dms_tui.environment import Environment
from dms_tui.processes import process_alive
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.sandbox.postgres import LocalPostgres
from dms_tui.sandbox.provisioner import (
    SIDES,
    ProvisionEvent,
    ProvisionPath,
    Side,
    TerraformApplyFailed,
    TerraformPathUnavailable,
    bind_databases,
    provision_with_api,
    provision_with_terraform,
    terraform_override_for,
    terraform_path_problem,
)
from dms_tui.sandbox.server import DAEMON_FILE

STATE_FILE = "sandbox.json"
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


@dataclass(frozen=True)
class PieceReused:
    piece: PieceName
    detail: str


@dataclass(frozen=True)
class PieceRestarted:
    """A piece recorded as running had stopped or crashed and was started again."""

    piece: PieceName
    reason: str


@dataclass(frozen=True)
class ProvisionPathChosen:
    path: ProvisionPath
    reason: str


@dataclass(frozen=True)
class PieceStopped:
    piece: PieceName
    pid: int | None
    detail: str


SandboxEvent = PieceStarted | PieceReused | PieceRestarted | ProvisionPathChosen | PieceStopped | ProvisionEvent
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
class SandboxState:
    """What ``up`` decided, persisted in ``sandbox.json`` (no secrets)."""

    region: str
    env: str = "dev"
    daemon_port: int | None = None
    cluster_ports: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    provision_path: str | None = None
    provision_reason: str = ""
    provisioned_for_daemon: int | None = None  # pid of the daemon whose moto memory holds the objects
    outputs: dict[str, Any] | None = None

    @classmethod
    def load(cls, workdir: Path) -> SandboxState | None:
        path = workdir / STATE_FILE
        if not path.is_file():
            return None
        with contextlib.suppress(ValueError, TypeError):
            return cls(**json.loads(path.read_text()))
        return None

    def save(self, workdir: Path) -> None:
        path = workdir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


@dataclass(frozen=True)
class SandboxInfo:
    """A running sandbox: where its AWS API is, where each database is reached, and what was provisioned."""

    workdir: Path
    region: str
    env: str
    aws_endpoint_url: str
    daemon_pid: int
    cluster_ports: Mapping[str, int]
    host_map: Mapping[str, tuple[str, int]]
    outputs: EnvironmentOutputs
    usernames: Mapping[str, str]
    provision_path: str
    provision_reason: str

    def database_url(self, side: Side) -> str:
        """libpq URL through the side's forwarder (the PrivateLink hop); no password — it is in the secret."""
        side_outputs = self.outputs.source if side == "source" else self.outputs.target
        host, port = self.host_map[side_outputs.endpoint_dns_name]
        user = self.usernames.get(side, "postgres")
        return f"postgresql://{user}@{host}:{port}/{side_outputs.database_name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "source_url": self.database_url("source"),
            "target_url": self.database_url("target"),
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": self.region,
            "env": self.env,
            "workdir": str(self.workdir),
            "daemon_pid": self.daemon_pid,
            "provision_path": self.provision_path,
            "provision_reason": self.provision_reason,
            "source_secret_arn": self.outputs.source.secret_arn,
            "target_secret_arn": self.outputs.target.secret_arn,
            "host_map": {name: f"{host}:{port}" for name, (host, port) in self.host_map.items()},
            "cluster_ports": dict(self.cluster_ports),
            "outputs": self.outputs.to_json(),
        }


@dataclass(frozen=True)
class PieceStatus:
    piece: PieceName
    state: Literal["running", "stopped", "crashed", "absent"]
    pid: int | None
    detail: str


@dataclass(frozen=True)
class SandboxStatus:
    workdir: Path
    pieces: tuple[PieceStatus, ...]
    aws_endpoint_url: str | None
    provision_path: str | None
    forwarders: tuple[Mapping[str, Any], ...] = ()

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


# -- the sandbox -------------------------------------------------------------------------------------------------


@dataclass
class _DaemonLaunch:
    """A daemon either already running (``ready``) or launched and not yet awaited (``process``)."""

    ready: tuple[int, int] | None = None
    process: subprocess.Popen[bytes] | None = None
    previous_pid: int | None = None
    asked_port: int = 0


ProvisionChoice = Literal["auto", "terraform", "api"]


def choose_provision_path(choice: ProvisionChoice = "auto") -> tuple[ProvisionPath, str]:
    """Which provisioning path ``up`` takes for ``choice``, and why (shown to the user)."""
    if choice == "api":
        return "api", "asked for the boto3 path: the sandbox creates the AWS objects later steps need without terraform"
    problem = terraform_path_problem()
    if problem is None:
        return "terraform", "terraform and the AWS provider are available: applying the real bundle against the sandbox"
    if choice == "terraform":
        raise SandboxError(f"the terraform path was asked for but cannot run: {problem}.")
    return "api", f"{problem}; the sandbox creates the AWS objects later steps need with boto3 instead"


class Sandbox:
    """The embedded sandbox under ``workdir``: ``up()``, ``status()``, ``down()``."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        region: str = "us-east-1",
        env: str = "dev",
        provision: ProvisionChoice = "api",
    ) -> None:
        """``provision``: "api" (the default) creates the objects later steps need with boto3 in seconds;
        "auto" applies the terraform bundle when terraform and the provider are available (minutes), else boto3;
        "terraform" insists on the bundle. The wizard's own provisioning step applies the bundle either way and
        then hands its outputs to :meth:`adopt_outputs`."""
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

    def cluster(self, side: Side, port: int | None = None) -> LocalPostgres:
        return LocalPostgres(self.workdir / side, port=port, logical_replication=(side == "source"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One ``up``/``down`` at a time per working directory (a second caller waits)."""
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

    def up(self, on_event: SandboxEventSink = _ignore) -> SandboxInfo:
        """Start (or reuse) every piece, provision when moto is empty, bind databases and forwarders."""
        with self._locked():
            state = SandboxState.load(self.workdir)
            if state is None or state.region != self.region:
                if state is not None and self._running_daemon():
                    raise SandboxError(
                        f"a sandbox for region {state.region} is running in {self.workdir}; "
                        "run `dms-tui sandbox down` first to change the region."
                    )
                state = SandboxState(region=self.region, env=self.env)
            launch = self._begin_daemon(state, on_event)
            try:
                clusters = self._up_clusters(state, on_event)
            except BaseException:
                if launch.process is not None:
                    stop_process(launch.process.pid)
                raise
            daemon_pid, daemon_port = self._finish_daemon(launch, state, on_event)
            endpoint_url = f"http://127.0.0.1:{daemon_port}"
            target = Environment(
                mode="sandbox", region=self.region, env=self.env, aws_endpoint_url=endpoint_url, workdir=self.workdir
            )
            if state.outputs is None or state.provisioned_for_daemon != daemon_pid:
                outputs, path, reason = self._provision(target, state, on_event)
                state.provision_path, state.provision_reason = path, reason
                state.outputs, state.provisioned_for_daemon = outputs.to_json(), daemon_pid
                state.save(self.workdir)  # recorded before binding, so a failed bind is not re-provisioned twice
            else:
                outputs = EnvironmentOutputs.from_json(state.outputs)
            binding = bind_databases(target, outputs, clusters, DaemonControl(endpoint_url), on_event)
            state.usernames = dict(binding.usernames)
            state.save(self.workdir)
            return self._info(state, daemon_pid, endpoint_url, binding.host_map)

    def _info(
        self, state: SandboxState, daemon_pid: int, endpoint_url: str, host_map: Mapping[str, tuple[str, int]]
    ) -> SandboxInfo:
        assert state.outputs is not None
        return SandboxInfo(
            workdir=self.workdir,
            region=state.region,
            env=state.env,
            aws_endpoint_url=endpoint_url,
            daemon_pid=daemon_pid,
            cluster_ports=dict(state.cluster_ports),
            host_map=dict(host_map),
            outputs=EnvironmentOutputs.from_json(state.outputs),
            usernames=dict(state.usernames),
            provision_path=state.provision_path or "api",
            provision_reason=state.provision_reason,
        )

    def adopt_outputs(
        self,
        outputs: EnvironmentOutputs,
        *,
        path: ProvisionPath = "terraform",
        reason: str = "the wizard applied the terraform bundle against the sandbox",
        on_event: SandboxEventSink = _ignore,
    ) -> SandboxInfo:
        """Bind the clusters and forwarders to objects created outside ``up`` (e.g. the provisioning step's
        terraform apply against the daemon) and record them as the sandbox's outputs.

        From then on the secrets' passwords are the clusters' passwords and each interface endpoint DNS name in
        ``outputs`` resolves to its forwarder.
        """
        with self._locked():
            state = SandboxState.load(self.workdir)
            running = self._running_daemon()
            if state is None or running is None:
                raise SandboxError("the sandbox is not running; run `dms-tui sandbox up` first.")
            clusters = {side: self.cluster(side, state.cluster_ports.get(side)) for side in SIDES}
            stopped = [side for side, cluster in clusters.items() if not cluster_running(cluster)]
            if stopped:
                raise SandboxError(
                    f"the {' and '.join(stopped)} cluster is not running; run `dms-tui sandbox up` to restart it."
                )
            endpoint_url = f"http://127.0.0.1:{running[1]}"
            target = Environment(
                mode="sandbox", region=state.region, env=state.env, aws_endpoint_url=endpoint_url, workdir=self.workdir
            )
            binding = bind_databases(target, outputs, clusters, DaemonControl(endpoint_url), on_event)
            state.outputs, state.provisioned_for_daemon = outputs.to_json(), running[0]
            state.provision_path, state.provision_reason = path, reason
            state.usernames = dict(binding.usernames)
            state.save(self.workdir)
            return self._info(state, running[0], endpoint_url, binding.host_map)

    def _provision(
        self, target: Environment, state: SandboxState, on_event: SandboxEventSink
    ) -> tuple[EnvironmentOutputs, ProvisionPath, str]:
        """Fill the (empty) moto with the objects later steps need: the bundle via terraform, else boto3."""
        path, reason = choose_provision_path(self.provision)
        on_event(ProvisionPathChosen(path, reason))
        if path == "terraform":
            tf_target = replace(
                target, terraform_override=terraform_override_for(target.aws_endpoint_url or "", target.region)
            )
            try:
                return provision_with_terraform(tf_target, fresh_moto=True, on_event=on_event), path, reason
            except (TerraformPathUnavailable, TerraformApplyFailed) as exc:
                if self.provision == "terraform":
                    raise SandboxError(f"{exc} (the terraform log is under {paths.log_dir()})") from exc
                # Half-applied objects would clash with the boto3 path's names: start again from an empty moto.
                DaemonControl(target.aws_endpoint_url or "").reset_moto()
                path, reason = "api", f"{exc}; the sandbox creates the AWS objects with boto3 instead"
                on_event(ProvisionPathChosen(path, reason))
        return provision_with_api(target, on_event=on_event), path, reason

    def _up_clusters(self, state: SandboxState, on_event: SandboxEventSink) -> dict[Side, LocalPostgres]:
        """Both clusters at once (initdb dominates a cold start); events are delivered on the caller's thread."""
        events: dict[Side, list[SandboxEvent]] = {side: [] for side in SIDES}
        with ThreadPoolExecutor(max_workers=len(SIDES), thread_name_prefix="cluster") as pool:
            futures = {side: pool.submit(self._up_cluster, side, state, events[side].append) for side in SIDES}
            clusters = {side: future.result() for side, future in futures.items()}
        for side in SIDES:
            for event in events[side]:
                on_event(event)
        return clusters

    def _up_cluster(self, side: Side, state: SandboxState, on_event: SandboxEventSink) -> LocalPostgres:
        cluster = self.cluster(side, state.cluster_ports.get(side))
        existed = cluster.initialised
        stale_pid = cluster.pid()
        if cluster_running(cluster):
            on_event(PieceReused(side, f"PostgreSQL pid {cluster.pid()} on port {cluster.port}"))
        else:
            if stale_pid is not None:
                _wait_until_gone(stale_pid)
            cluster.start()
            if stale_pid is not None:
                on_event(
                    PieceRestarted(
                        side,
                        f"PostgreSQL (pid {stale_pid}) had crashed; restarted on port {cluster.port} with its data",
                    )
                )
            elif existed:
                on_event(PieceStarted(side, f"PostgreSQL restarted on port {cluster.port} with its data"))
            else:
                on_event(PieceStarted(side, f"new PostgreSQL cluster on port {cluster.port}"))
        cluster.wait_ready()
        state.cluster_ports[side] = cluster.port
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
                    f"restarted as pid {pid}; its AWS objects are re-created and the "
                    "secrets get new values",
                )
            )
        else:
            on_event(PieceStarted("daemon", f"pid {pid} at http://127.0.0.1:{port}"))
        state.daemon_port = port
        return pid, port

    # -- status --------------------------------------------------------------------------------------------------

    def status(self) -> SandboxStatus:
        """What runs now, without starting anything."""
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
        for side in SIDES:
            root = self.workdir / side
            if not (root / "cluster").exists():
                pieces.append(PieceStatus(side, "absent", None, "no cluster yet"))
                continue
            cluster = self.cluster(side, state.cluster_ports.get(side) if state else None)
            if cluster_running(cluster):
                pieces.append(PieceStatus(side, "running", cluster.pid(), f"port {cluster.port}"))
            elif cluster.pid() is not None:
                pieces.append(
                    PieceStatus(
                        side, "crashed", cluster.pid(), "postmaster.pid left behind; `dms-tui sandbox up` restarts it"
                    )
                )
            else:
                pieces.append(PieceStatus(side, "stopped", None, "data kept"))
        return SandboxStatus(
            workdir=self.workdir,
            pieces=tuple(pieces),
            aws_endpoint_url=endpoint_url,
            provision_path=state.provision_path if state else None,
            forwarders=tuple(forwarders),
        )

    def info(self) -> SandboxInfo:
        """The running sandbox's details (as ``up`` returned them) without changing anything."""
        state = SandboxState.load(self.workdir)
        running = self._running_daemon()
        if state is None or state.outputs is None or running is None or state.provisioned_for_daemon != running[0]:
            raise SandboxError("the sandbox is not running (or was not provisioned); run `dms-tui sandbox up` first.")
        endpoint_url = f"http://127.0.0.1:{running[1]}"
        host_map = {
            str(f["dns_name"]): (str(f["listen_host"]), int(f["listen_port"]))
            for f in DaemonControl(endpoint_url).forwarders()
        }
        return self._info(state, running[0], endpoint_url, host_map)

    # -- down ----------------------------------------------------------------------------------------------------

    def down(self, *, keep_data: bool = True, on_event: SandboxEventSink = _ignore) -> DownReport:
        """Stop everything ``up`` started (by pid); remove the working directory unless ``keep_data``."""
        stopped: list[PieceStopped] = []
        leftovers: list[int] = []
        if not self.workdir.exists():
            return DownReport((), False, ())
        with self._locked():
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
            for side in SIDES:
                if not (self.workdir / side / "cluster").exists():
                    continue
                cluster = self.cluster(side)
                postmaster = cluster.pid()
                if cluster.is_running():
                    cluster.stop()
                if postmaster is not None and process_alive(postmaster):
                    stop_process(postmaster, "postgres")  # pg_ctl could not stop it: last resort, by its own pid
                if postmaster is not None and process_alive(postmaster):
                    leftovers.append(postmaster)
                if not keep_data:
                    cluster.remove()
                event = PieceStopped(
                    side, postmaster, "stopped, data removed" if not keep_data else "stopped, data kept"
                )
                stopped.append(event)
                on_event(event)
            if not keep_data:
                state_file = self.workdir / STATE_FILE
                state_file.unlink(missing_ok=True)
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
