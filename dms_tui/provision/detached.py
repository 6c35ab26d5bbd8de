"""Terraform runs that survive the terminal, and re-attaching to them.

An apply on AWS takes 15-20 minutes and Session Manager sessions drop. So the wizard's apply and destroy run under
:mod:`dms_tui.provision.supervisor` in their own session, writing to a log file; the app *follows* that log (from the
start, so a re-attached screen rebuilds its progress table from the same events) and records the run (pid, command,
log, start time) under the state directory. The next start of the app finds the record and offers to re-attach; a
run that ended while nobody watched shows its result. A lock on the working copy prevents two runs at once.

``DetachedRun`` has the same surface as :class:`~dms_tui.provision.runner.TerraformProcess` (iterate once for
events, ``interrupt()``, ``running``, ``pid``, ``returncode``, ``log_path``), except that stopping the iteration only
stops *following*: terraform goes on unless ``interrupt()`` is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dms_tui import paths
from dms_tui.processes import process_alive
from dms_tui.provision.events import CommandFinished, CommandStarted, LogLine, TerraformEvent, parse_line
from dms_tui.provision.runner import DEFAULT_GRACE_PERIOD, scrub

LOCK_FILE = ".dms-tui-terraform.lock"
SUPERVISOR_MODULE = "dms_tui.provision.supervisor"


class RunLocked(RuntimeError):
    """Another terraform run holds the working copy."""


@dataclass(frozen=True)
class RunRecord:
    """What the state directory remembers of a detached run."""

    env: str
    label: str  # "apply" | "destroy" | ...
    argv: tuple[str, ...]
    cwd: str
    log_path: str
    exit_file: str
    pid: int
    started_at: float

    @property
    def command_line(self) -> str:
        import shlex

        return shlex.join(self.argv)

    def finished(self) -> dict[str, float | int] | None:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(Path(self.exit_file).read_text())
            if isinstance(data, dict):
                return data
        return None

    def alive(self) -> bool:
        # The marker guards against pid reuse after a reboot: the pid must still be our supervisor.
        return process_alive(self.pid, SUPERVISOR_MODULE)


def _record_path(env: str) -> Path:
    path = paths.state_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{env}.json"


def load_record(env: str) -> RunRecord | None:
    """The environment's last detached run, if any."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        data = json.loads(_record_path(env).read_text())
        data["argv"] = tuple(data["argv"])
        return RunRecord(**data)
    return None


def forget_record(env: str) -> None:
    _record_path(env).unlink(missing_ok=True)


def lock_holder(cwd: Path) -> str | None:
    """Who holds the working copy's run lock ("pid 123: terraform apply tfplan, since 14:02"), or None."""
    lock = cwd / LOCK_FILE
    if not lock.exists():
        return None
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                info = json.loads(handle.read() or "{}")
            except ValueError:
                info = {}
            since = time.strftime("%H:%M", time.localtime(info.get("started_at", time.time())))
            command = " ".join(info.get("command", ["terraform"]))
            return f"pid {info.get('pid', '?')}: {command}, since {since}"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def start_detached(
    env: str,
    label: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    process_env: Mapping[str, str] | None = None,
) -> RunRecord:
    """Start ``argv`` under the supervisor in its own session; raises RunLocked when a run is in progress."""
    holder = lock_holder(cwd)
    if holder is not None:
        raise RunLocked(
            f"terraform is already running in {cwd} ({holder}). Re-attach from the Welcome screen, or wait for it."
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_path = paths.log_dir() / f"terraform-{env}-{label}-{stamp}.log"
    exit_file = paths.state_dir() / "runs" / f"{env}-{label}-{stamp}.exit"
    n = 1
    while log_path.exists() or exit_file.exists():  # a second run in the same second (a stale plan's re-apply)
        n += 1
        log_path = paths.log_dir() / f"terraform-{env}-{label}-{stamp}-{n}.log"
        exit_file = paths.state_dir() / "runs" / f"{env}-{label}-{stamp}-{n}.exit"
    exit_file.parent.mkdir(parents=True, exist_ok=True)
    log_path.touch()
    process = subprocess.Popen(  # noqa: S603 - our own supervisor module
        [
            sys.executable,
            "-m",
            SUPERVISOR_MODULE,
            "--log",
            str(log_path),
            "--exit-file",
            str(exit_file),
            "--lock",
            str(cwd / LOCK_FILE),
            "--cwd",
            str(cwd),
            "--",
            *argv,
        ],
        cwd=cwd,
        env=dict(process_env) if process_env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # out of the terminal's session: a dropped connection does not reach it
        close_fds=True,
    )
    record = RunRecord(env, label, tuple(argv), str(cwd), str(log_path), str(exit_file), process.pid, time.time())
    _record_path(env).write_text(json.dumps(asdict(record)))
    # The supervisor is our child only until we exit; reap it in the background so it never lingers as a zombie.
    _reap_in_background(process)
    return record


def _reap_in_background(process: subprocess.Popen[bytes]) -> None:
    threading.Thread(target=process.wait, daemon=True, name=f"reap-{process.pid}").start()


class DetachedRun:
    """Follows a detached run's log as events; iterate once."""

    def __init__(self, record: RunRecord, *, grace_period: float = DEFAULT_GRACE_PERIOD, poll: float = 0.1) -> None:
        self.record = record
        self.grace_period = grace_period
        self.poll = poll
        self.returncode: int | None = None
        self.interrupted = False
        self._iterated = False

    @property
    def pid(self) -> int:
        return self.record.pid

    @property
    def log_path(self) -> Path:
        return Path(self.record.log_path)

    @property
    def running(self) -> bool:
        return self.record.finished() is None and self.record.alive()

    def __aiter__(self) -> AsyncIterator[TerraformEvent]:
        if self._iterated:
            raise RuntimeError("a DetachedRun can be iterated only once")
        self._iterated = True
        return self._events()

    async def interrupt(self) -> None:
        """SIGINT to the run's process group (terraform stops gracefully), then SIGTERM/SIGKILL after the grace."""
        if not self.running:
            return
        self.interrupted = True
        self._signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace_period
        for sig in (signal.SIGTERM, signal.SIGKILL):
            while time.monotonic() < deadline:
                if not self.running:
                    return
                await asyncio.sleep(0.1)
            self._signal(sig)
            deadline = time.monotonic() + 5

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.record.pid, sig)

    async def _events(self) -> AsyncIterator[TerraformEvent]:
        record = self.record
        yield CommandStarted(
            argv=record.argv,
            cwd=record.cwd,
            log_path=record.log_path,
            message="$ " + record.command_line,
            at=record.started_at,
        )
        with open(record.log_path, "rb") as log:
            pending = b""
            while True:
                chunk = log.read(1 << 16)
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield _parse(line)
                    continue
                finished = record.finished()
                if finished is not None:
                    rest = log.read()  # written between our last read and the exit file
                    for line in (pending + rest).split(b"\n"):
                        if line.strip():
                            yield _parse(line)
                    self.returncode = int(finished.get("returncode", -1))
                    break
                if not record.alive():
                    self.returncode = -1  # the supervisor died without recording an exit code (machine rebooted?)
                    yield LogLine(
                        text="the terraform run ended without recording its exit code; check the log",
                        message="the terraform run ended without recording its exit code",
                    )
                    break
                await asyncio.sleep(self.poll)
        yield CommandFinished(
            argv=record.argv,
            returncode=self.returncode,
            interrupted=self.interrupted,
            log_path=record.log_path,
            message=f"exit {self.returncode}",
            at=time.time(),
        )


def _parse(line: bytes) -> TerraformEvent:
    event = parse_line(line)
    if isinstance(event, LogLine):
        return LogLine(text=scrub(event.text), message=scrub(event.message))
    return event
