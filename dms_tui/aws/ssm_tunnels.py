"""Session Manager port-forwarding tunnels: reach the interface endpoints from a laptop through the bastion.

The databases answer only inside the DMS VPC. ``aws ssm start-session --document-name
AWS-StartPortForwardingSessionToRemoteHost`` (which runs the Session Manager plugin) forwards a local port through the
bastion to one remote host:port; :class:`SsmTunnels` opens one such session per interface endpoint, keeps each on a
fixed local port (so the environment's host map stays valid), re-opens a session that drops (the plugin exits when
the session times out or the network blips) with a backoff, and stops every session it started on close or at exit.

Each session runs in its own process group: closing signals the group, so the plugin the CLI started goes too.
Textual-free; the environment owns an instance when ``--tunnel`` is given and turns its events into progress.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dms_tui import exit_codes
from dms_tui.errors import StepError
from dms_tui.processes import process_alive

DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
PLUGIN = "session-manager-plugin"
PLUGIN_INSTALL = (
    "Install the Session Manager plugin: https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html (macOS: `brew install --cask session-manager-plugin`; "
    "Debian/Ubuntu: the .deb from that page), check it with `session-manager-plugin --version`, then start again."
)
AWS_CLI_INSTALL = (
    "Install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html, "
    "check it with `aws --version`, then start again."
)
#: What the plugin prints once its local listener accepts connections.
READY_LINE = "Waiting for connections"
#: Seconds between re-open attempts of a dropped tunnel; the last value repeats.
DEFAULT_BACKOFF: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
#: A tunnel that stayed up this long starts its backoff from the beginning when it drops again.
STABLE_AFTER = 60.0


@dataclass(frozen=True)
class TunnelEndpoint:
    """One remote host:port to reach through the bastion (an interface endpoint's DNS name and the database port)."""

    name: str  # "source" / "target": for people
    host: str
    port: int


@dataclass(frozen=True)
class TunnelOpened:
    name: str
    host: str
    local_port: int
    pid: int


@dataclass(frozen=True)
class TunnelDropped:
    name: str
    host: str
    local_port: int
    reason: str  # the session's last output line, or its exit status
    retry_in: float


@dataclass(frozen=True)
class TunnelReopened:
    name: str
    host: str
    local_port: int
    pid: int
    attempt: int


@dataclass(frozen=True)
class TunnelReopenFailed:
    name: str
    host: str
    reason: str
    attempt: int
    retry_in: float


@dataclass(frozen=True)
class TunnelsClosed:
    count: int


TunnelEvent = TunnelOpened | TunnelDropped | TunnelReopened | TunnelReopenFailed | TunnelsClosed


def describe(event: TunnelEvent) -> str:
    """One line for a person (the Welcome screen's progress, the headless commands, the log)."""
    match event:
        case TunnelOpened(name, host, port, pid):
            return f"Tunnel to the {name} endpoint open: 127.0.0.1:{port} → {host} (session pid {pid})"
        case TunnelDropped(name, host, port, reason, retry_in):
            return f"Tunnel to the {name} endpoint ({host}, 127.0.0.1:{port}) dropped: {reason}; re-opening in {retry_in:g} s"
        case TunnelReopened(name, host, port, pid, attempt):
            return f"Tunnel to the {name} endpoint re-opened on 127.0.0.1:{port} → {host} (attempt {attempt})"
        case TunnelReopenFailed(name, host, reason, attempt, retry_in):
            return f"Tunnel to the {name} endpoint ({host}) did not re-open (attempt {attempt}): {reason}; next try in {retry_in:g} s"
        case TunnelsClosed(count):
            return f"Closed {count} Session Manager tunnel(s)"
    return str(event)


def free_local_port() -> int:
    """A loopback port nobody listens on now (the session binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exit_cleanly_on_termination() -> None:
    """Turn SIGTERM/SIGHUP into a normal exit (so the atexit close runs) where nobody handles them yet: a headless
    command killed by its terminal or a supervisor. The wizard handles them itself (it checkpoints, then exits)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, leave)


def _group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member that is not a zombie."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            # fields: state, ppid, pgrp, ...; a zombie has ended already (its parent reaps it)
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return not Path("/proc").is_dir()


class _Tunnel:
    """One endpoint's session: its fixed local port, the running process, and its recent output."""

    def __init__(self, endpoint: TunnelEndpoint, local_port: int) -> None:
        self.endpoint = endpoint
        self.local_port = local_port
        self.process: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=20)
        self.ready = threading.Event()
        self.opened_at = 0.0
        self.failures = 0  # consecutive failed or short-lived sessions: the backoff index
        self.retry_at: float | None = None

    def last_words(self) -> str:
        lines = [line for line in self.output if line.strip()]
        if lines:
            return lines[-1].strip()
        code = self.process.returncode if self.process is not None else None
        return f"the session ended (exit status {code})" if code is not None else "the session ended"


class SsmTunnels:
    """One Session Manager port-forwarding session per endpoint, supervised, closed on :meth:`close` or at exit."""

    def __init__(
        self,
        bastion_instance_id: str,
        endpoints: Sequence[TunnelEndpoint],
        *,
        aws_flags: Sequence[str] = (),
        aws_command: Sequence[str] = ("aws",),
        process_env: Mapping[str, str] | None = None,
        on_event: Callable[[TunnelEvent], None] | None = None,
        open_timeout: float = 30.0,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        poll_interval: float = 0.5,
        records: Path | None = None,
    ) -> None:
        self.bastion_instance_id = bastion_instance_id
        self.aws_flags = list(aws_flags)
        self.aws_command = list(aws_command)
        self.process_env = dict(process_env if process_env is not None else os.environ)
        self.on_event = on_event
        self.open_timeout = open_timeout
        self.backoff = tuple(backoff) or DEFAULT_BACKOFF
        self.poll_interval = poll_interval
        self._tunnels = [_Tunnel(endpoint, free_local_port()) for endpoint in endpoints]
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._supervisor: threading.Thread | None = None
        # A directory where each owner records its sessions' pids, so the next owner ends those of one that was killed.
        self.records = records

    # -- what the environment needs ------------------------------------------------------------------------------

    @property
    def host_map(self) -> dict[str, tuple[str, int]]:
        """Each endpoint DNS name (lower case, no trailing dot) → its tunnel's loopback address."""
        return {t.endpoint.host.lower().rstrip("."): ("127.0.0.1", t.local_port) for t in self._tunnels}

    def command(self, endpoint: TunnelEndpoint, local_port: int) -> list[str]:
        """The `aws ssm start-session` command of one tunnel, exactly as it runs."""
        parameters = f"host={endpoint.host},portNumber={endpoint.port},localPortNumber={local_port}"
        return [
            *self.aws_command,
            "ssm",
            "start-session",
            "--target",
            self.bastion_instance_id,
            "--document-name",
            DOCUMENT,
            "--parameters",
            parameters,
            *self.aws_flags,
        ]

    def command_lines(self) -> list[str]:
        """The equivalent commands, one per tunnel, for a person to run by hand."""
        return [shlex.join(self.command(t.endpoint, t.local_port)) for t in self._tunnels]

    def pids(self) -> list[int]:
        return [t.process.pid for t in self._tunnels if t.process is not None and t.process.poll() is None]

    # -- opening ---------------------------------------------------------------------------------------------------

    def check_tools(self) -> None:
        """StepError (exit 2) when the AWS CLI or the Session Manager plugin is not on PATH."""
        path = self.process_env.get("PATH", os.defpath)
        if shutil.which(self.aws_command[0], path=path) is None:
            raise StepError(
                f"The AWS CLI (`{self.aws_command[0]}`) is not installed: tunnels through the bastion need it.",
                "`aws ssm start-session` opens each Session Manager port-forwarding tunnel.",
                AWS_CLI_INSTALL,
                exit_code=exit_codes.NOT_RUN,
            )
        if shutil.which(PLUGIN, path=path) is None:
            raise StepError(
                "The Session Manager plugin is not installed: tunnels through the bastion need it.",
                f"`aws ssm start-session` runs `{PLUGIN}` to forward a local port; it is not on PATH.",
                PLUGIN_INSTALL,
                exit_code=exit_codes.NOT_RUN,
            )

    def open(self) -> None:
        """Open every tunnel and start watching them; StepError (nothing left running) when one does not open."""
        self.check_tools()
        if self.records is not None:
            end_orphaned_sessions(self.records)
        atexit.register(self.close)
        _exit_cleanly_on_termination()
        try:
            for tunnel in self._tunnels:
                self._start(tunnel)
            for tunnel in self._tunnels:
                problem = self._wait_ready(tunnel)
                if problem:
                    raise StepError(
                        f"The Session Manager tunnel to the {tunnel.endpoint.name} endpoint did not open.",
                        problem,
                        "Check that the bastion is running and registered with Systems Manager "
                        f"(`aws ssm describe-instance-information`), then try by hand: "
                        f"`{shlex.join(self.command(tunnel.endpoint, tunnel.local_port))}`.",
                        exit_code=exit_codes.NOT_RUN,
                    )
                assert tunnel.process is not None
                self._emit(
                    TunnelOpened(tunnel.endpoint.name, tunnel.endpoint.host, tunnel.local_port, tunnel.process.pid)
                )
        except BaseException:
            self.close()
            raise
        self._supervisor = threading.Thread(target=self._supervise, name="dms-tui-ssm-tunnels", daemon=True)
        self._supervisor.start()

    def _start(self, tunnel: _Tunnel) -> None:
        tunnel.ready.clear()
        tunnel.output.clear()
        with self._lock:
            if self._closing.is_set():
                return
            # A process group of its own: close() signals the CLI and the plugin it starts together.
            tunnel.process = subprocess.Popen(  # noqa: S603 - argv from our own outputs, no shell
                self.command(tunnel.endpoint, tunnel.local_port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.process_env,
                start_new_session=True,
            )
        tunnel.opened_at = time.monotonic()
        self._record()
        process = tunnel.process
        threading.Thread(
            target=self._read_output, args=(tunnel, process), name=f"ssm-tunnel-{tunnel.endpoint.name}", daemon=True
        ).start()

    @staticmethod
    def _read_output(tunnel: _Tunnel, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            tunnel.output.append(line.rstrip())
            if READY_LINE in line and tunnel.process is process:
                tunnel.ready.set()

    def _wait_ready(self, tunnel: _Tunnel) -> str:
        """Why the session did not start listening ("" once it does)."""
        deadline = time.monotonic() + self.open_timeout
        while time.monotonic() < deadline:
            if tunnel.ready.wait(0.1):
                return ""
            process = tunnel.process
            if process is None or self._closing.is_set():
                return "the tunnels are closing"
            if process.poll() is not None:
                tunnel.ready.wait(0.2)  # let the reader catch the last lines
                return tunnel.last_words()
        self._stop(tunnel)
        return f"no session listened on 127.0.0.1:{tunnel.local_port} within {self.open_timeout:g} s"

    # -- watching ---------------------------------------------------------------------------------------------------

    def _delay(self, failures: int) -> float:
        return self.backoff[min(failures, len(self.backoff) - 1)]

    def _supervise(self) -> None:
        while not self._closing.wait(self.poll_interval):
            for tunnel in self._tunnels:
                if self._closing.is_set():
                    return
                self._watch(tunnel)

    def _watch(self, tunnel: _Tunnel) -> None:
        process = tunnel.process
        now = time.monotonic()
        if tunnel.retry_at is None:
            if process is None or process.poll() is None:
                return
            tunnel.ready.wait(0.2)  # the last lines say why it ended
            if now - tunnel.opened_at >= STABLE_AFTER:
                tunnel.failures = 0
            delay = self._delay(tunnel.failures)
            tunnel.retry_at = now + delay
            self._emit(
                TunnelDropped(tunnel.endpoint.name, tunnel.endpoint.host, tunnel.local_port, tunnel.last_words(), delay)
            )
            return
        if now < tunnel.retry_at:
            return
        tunnel.failures += 1
        attempt = tunnel.failures
        try:
            self._start(tunnel)
        except OSError as exc:
            problem = str(exc)
        else:
            problem = self._wait_ready(tunnel)
        if self._closing.is_set():
            return
        if problem:
            delay = self._delay(tunnel.failures)
            tunnel.retry_at = time.monotonic() + delay
            self._emit(TunnelReopenFailed(tunnel.endpoint.name, tunnel.endpoint.host, problem, attempt, delay))
            return
        tunnel.retry_at = None
        assert tunnel.process is not None
        self._emit(
            TunnelReopened(tunnel.endpoint.name, tunnel.endpoint.host, tunnel.local_port, tunnel.process.pid, attempt)
        )

    def _emit(self, event: TunnelEvent) -> None:
        from dms_tui.applog import logger

        with contextlib.suppress(OSError):
            logger().info("%s", describe(event))
        if self.on_event is not None:
            with contextlib.suppress(Exception):  # a listener's bug must not stop the supervisor
                self.on_event(event)

    # -- closing ----------------------------------------------------------------------------------------------------

    def _stop(self, tunnel: _Tunnel, grace: float = 3.0) -> None:
        """SIGTERM the session's process group, wait until the group is empty, SIGKILL whatever is left."""
        process = tunnel.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
        # The group outlives the CLI while the plugin it started is still ending: wait for that too.
        while time.monotonic() < deadline and _group_alive(process.pid):
            time.sleep(0.02)
        if _group_alive(process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)

    def close(self) -> None:
        """Stop watching and end every session (its whole process group); safe to call twice."""
        if self._closing.is_set():
            return
        with self._lock:
            self._closing.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(self.open_timeout + 5)
        stopped = 0
        for tunnel in self._tunnels:
            if tunnel.process is not None and tunnel.process.poll() is None:
                stopped += 1
            self._stop(tunnel)
        atexit.unregister(self.close)
        if self.records is not None:
            with contextlib.suppress(OSError):
                (self.records / f"{os.getpid()}.json").unlink(missing_ok=True)
        self._emit(TunnelsClosed(stopped))

    def _record(self) -> None:
        if self.records is None:
            return
        pids = [t.process.pid for t in self._tunnels if t.process is not None]
        with contextlib.suppress(OSError):
            self.records.mkdir(parents=True, exist_ok=True)
            path = self.records / f"{os.getpid()}.json"
            path.with_suffix(".tmp").write_text(json.dumps({"owner": os.getpid(), "sessions": pids}))
            path.with_suffix(".tmp").replace(path)


#: In a session's command line: guards against a recorded pid reused by an unrelated process.
SESSION_MARKER = f"--document-name {DOCUMENT}"


def end_orphaned_sessions(records: Path) -> list[int]:
    """End the sessions recorded by owners that no longer run (a dms-tui killed with SIGKILL); the pids ended."""
    ended: list[int] = []
    for record in sorted(records.glob("*.json")) if records.is_dir() else []:
        try:
            data = json.loads(record.read_text())
            owner, sessions = int(data["owner"]), [int(pid) for pid in data["sessions"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if process_alive(owner):
            continue
        for pid in sessions:
            if process_alive(pid, marker=SESSION_MARKER):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGTERM)
                    ended.append(pid)
        with contextlib.suppress(OSError):
            record.unlink()
    return ended
