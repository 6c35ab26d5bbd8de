"""Runs terraform as an asyncio subprocess and yields its ``-json`` stream as typed events.

    runner = TerraformRunner(workdir, env=workspace.env, var_file=workspace.var_file)
    async for event in runner.plan("tfplan"):
        ...

Each call starts one process (:class:`TerraformProcess`); iterate it for events. It begins with
:class:`CommandStarted` (the equivalent command line and the log path) and ends with :class:`CommandFinished`.

Stopping: ``await process.interrupt()`` sends SIGINT, as Ctrl+C in a terminal would, so terraform finishes the API
calls in flight and writes consistent state; if it has not exited after the grace period it gets SIGTERM, then
SIGKILL (its whole process group, so provider plugins go too). Cancelling the task that iterates does the same
before the cancellation propagates: a cancelled worker never leaves terraform running unattended.

Every raw line goes to a log file under :func:`dms_tui.paths.log_dir`, scrubbed of anything under a
secret-looking key (terraform does not print write-only or sensitive values in this stream; this is a second fence).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from dms_tui import paths
from dms_tui.provision.events import CommandFinished, CommandStarted, LogLine, TerraformEvent, parse_line
from dms_tui.provision.workspace import INSTALL_HINT, TerraformBinary, TerraformNotFound, Workspace

DEFAULT_GRACE_PERIOD = 30.0  # terraform may need a while to finish in-flight AWS calls after SIGINT

_SECRET_KEY = r"[A-Za-z0-9_-]*(?:password|passwd|secret_string|secret_key|secret_access_key|session_token|token|private_key|credentials)[A-Za-z0-9_-]*"
# "password": "x"  /  \"password\": \"x\"  (JSON embedded in a JSON string)  /  password=x
_SCRUB_PATTERNS = (
    re.compile(r'(?P<key>"' + _SECRET_KEY + r'"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE),
    re.compile(r'(?P<key>\\"' + _SECRET_KEY + r'\\"\s*:\s*)\\"(?:[^"\\]|\\[^"])*\\"', re.IGNORECASE),
    # Plain text: only `KEY=value` with KEY a word of its own; resource addresses such as
    # `aws_secretsmanager_random_password.master: Opening...` must stay readable.
    re.compile(r"(?P<key>(?<![\w.-])" + _SECRET_KEY + r"\s*=\s*)(?![\"\\{\[])[^\s,;&\"]+", re.IGNORECASE),
)
REDACTED = "***"


class TerraformError(RuntimeError):
    """A terraform command could not give the app what it needs; the message says what to do."""


def scrub(line: str) -> str:
    """``line`` with the value of every secret-looking key replaced by ``***``."""
    lowered = line.lower()
    if not any(k in lowered for k in ("pass", "secret", "token", "key", "credential")):
        return line  # fast path: the vast majority of lines
    for pattern in _SCRUB_PATTERNS:
        line = pattern.sub(lambda m: m.group("key") + _redacted_like(m.group(0)[len(m.group("key")) :]), line)
    return line


def _redacted_like(value: str) -> str:
    if value.startswith('\\"'):
        return '\\"' + REDACTED + '\\"'
    if value.startswith('"'):
        return '"' + REDACTED + '"'
    return REDACTED


class TerraformProcess:
    """One terraform invocation. Iterate it (once) for its events."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        log_path: Path,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        json_stream: bool = True,
    ) -> None:
        self.argv = tuple(argv)
        # False for commands that print one JSON document rather than a UI stream (`output -json`): every line is
        # then a LogLine, and lines are not copied to the log because `output -json` prints sensitive values too.
        self.json_stream = json_stream
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.log_path = log_path
        self.grace_period = grace_period
        self.returncode: int | None = None
        self.interrupted = False
        self._proc: asyncio.subprocess.Process | None = None
        self._escalation: asyncio.Task[None] | None = None
        self._iterated = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def __aiter__(self) -> AsyncIterator[TerraformEvent]:
        if self._iterated:
            raise RuntimeError("a TerraformProcess can be iterated only once")
        self._iterated = True
        return self._events()

    async def interrupt(self) -> None:
        """Ask terraform to stop (SIGINT, like Ctrl+C); escalate to SIGTERM, then SIGKILL, if it does not exit."""
        if not self.running:
            return
        self.interrupted = True
        self._signal(signal.SIGINT)
        if self._escalation is None:
            self._escalation = asyncio.get_running_loop().create_task(self._escalate())

    def _signal(self, sig: int) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        # terraform runs in its own process group: the group is terraform plus its provider plugins, which is also
        # what a terminal's Ctrl+C would reach.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    async def _escalate(self) -> None:
        proc = self._proc
        assert proc is not None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), timeout=self.grace_period)
                return
            except TimeoutError:
                self._signal(sig)
        await proc.wait()

    async def _shutdown(self, log: IO[str]) -> None:
        """Make sure the child is gone; used when the iterating task is cancelled or stops early.

        Its output is still drained into the log meanwhile: terraform writes while it shuts down, and a full pipe
        would block it until the grace period ran out.
        """
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        drain = asyncio.get_running_loop().create_task(self._drain(log))
        await self.interrupt()
        if self._escalation is not None:
            await self._escalation
        try:
            await asyncio.wait_for(drain, timeout=5)
        except TimeoutError:  # a grandchild (provider plugin) still holds the pipe open
            drain.cancel()

    async def _drain(self, log: IO[str]) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while raw := await self._proc.stdout.readline():
            log.write(scrub(raw.decode("utf-8", errors="replace").rstrip("\r\n")) + "\n")

    async def _events(self) -> AsyncIterator[TerraformEvent]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        yield CommandStarted(
            argv=self.argv,
            cwd=str(self.cwd),
            log_path=str(self.log_path),
            message="$ " + " ".join(self.argv),
            at=time.time(),
        )
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,  # plain-text errors (e.g. a bad flag) end up as LogLine events
                start_new_session=True,
                limit=1 << 22,  # a diagnostic with a big snippet can be one long line
            )
        except FileNotFoundError as exc:
            raise TerraformNotFound(f"terraform was not found ({self.argv[0]!r}). {INSTALL_HINT}") from exc
        except PermissionError as exc:
            raise TerraformNotFound(f"{self.argv[0]} is not executable ({exc}). {INSTALL_HINT}") from exc
        proc = self._proc
        assert proc.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            _log_header(log, self.argv, self.cwd)
            try:
                while True:
                    raw = await proc.stdout.readline()
                    if not raw:
                        break
                    line = raw.decode("utf-8", errors="replace")
                    if not self.json_stream:
                        yield LogLine(text=line.rstrip("\r\n"))
                        continue
                    log.write(scrub(line) if line.endswith("\n") else scrub(line) + "\n")
                    if line.strip():
                        yield parse_line(line)
                self.returncode = await proc.wait()
            finally:
                # Cancelled, or the consumer stopped iterating: never leave terraform running unattended.
                if proc.returncode is None:
                    await self._shutdown(log)
                    log.write(f"# terraform stopped by dms-tui (exit {proc.returncode})\n")
                if self._escalation is not None and not self._escalation.done():
                    self._escalation.cancel()
                self.returncode = proc.returncode
        self.returncode = proc.returncode
        yield CommandFinished(
            argv=self.argv,
            returncode=self.returncode if self.returncode is not None else -1,
            interrupted=self.interrupted,
            log_path=str(self.log_path),
            message=f"terraform exited with {self.returncode}",
            at=time.time(),
        )


def _log_header(log: IO[str], argv: Sequence[str], cwd: Path) -> None:
    log.write(f"# {time.strftime('%Y-%m-%dT%H:%M:%S%z')} $ {' '.join(argv)}  (in {cwd})\n")


def new_log_path(label: str) -> Path:
    """A fresh log file name under the log directory: ``terraform-<label>-<timestamp>.log``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "run"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    base = paths.log_dir() / f"terraform-{safe}-{stamp}"
    path = base.with_suffix(".log")
    n = 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}.log")
    return path


class TerraformRunner:
    """The terraform commands the wizard needs, run in one working directory (the root module)."""

    @classmethod
    def for_workspace(
        cls, workspace: Workspace, terraform: TerraformBinary, *, grace_period: float = DEFAULT_GRACE_PERIOD
    ) -> TerraformRunner:
        """A runner for an environment's prepared working copy (see ``workspace.prepare_workspace``)."""
        return cls(
            workspace.root_module,
            terraform=str(terraform.path),
            env=workspace.env,
            var_file=workspace.var_file,
            log_label=workspace.env_name,
            grace_period=grace_period,
        )

    def __init__(
        self,
        workdir: Path,
        *,
        terraform: str = "terraform",
        env: Mapping[str, str] | None = None,
        var_file: Path | None = None,
        log_label: str = "dev",
        grace_period: float = DEFAULT_GRACE_PERIOD,
    ) -> None:
        self.workdir = Path(workdir)
        self.terraform = terraform
        # terraform must never stop to ask a question (TF_INPUT=0); the caller's env (CLI config, credentials) wins.
        self.env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **(env or {})}
        self.var_file = var_file
        self.log_label = log_label
        self.grace_period = grace_period

    def command(self, *args: str, json_stream: bool = True) -> TerraformProcess:
        """Any terraform command (arguments after the binary) as a process to iterate."""
        label = f"{self.log_label}-{args[0]}" if args else self.log_label
        return TerraformProcess(
            (self.terraform, *args),
            cwd=self.workdir,
            env=self.env,
            log_path=new_log_path(label),
            grace_period=self.grace_period,
            json_stream=json_stream,
        )

    def _var_args(self) -> tuple[str, ...]:
        return (f"-var-file={self.var_file}",) if self.var_file is not None else ()

    def init(self) -> TerraformProcess:
        return self.command("init", "-json", "-input=false")

    def plan(self, plan_file: str = "tfplan", *, destroy: bool = False) -> TerraformProcess:
        extra = ("-destroy",) if destroy else ()
        return self.command("plan", "-json", "-input=false", f"-out={plan_file}", *extra, *self._var_args())

    def apply(self, plan_file: str = "tfplan") -> TerraformProcess:
        """Apply a saved plan: exactly what was reviewed, no second confirmation."""
        return self.command("apply", "-json", "-input=false", plan_file)

    def destroy(self) -> TerraformProcess:
        return self.command("destroy", "-json", "-input=false", "-auto-approve", *self._var_args())

    async def output(self) -> dict[str, Any]:
        """``terraform output -json`` as a dict (one JSON document, not a UI stream; values are not logged)."""
        process = self.command("output", "-json", json_stream=False)
        text: list[str] = []
        returncode = -1
        async for event in process:
            if isinstance(event, LogLine):
                text.append(event.text)
            elif isinstance(event, CommandFinished):
                returncode = event.returncode
        document: object = None
        with contextlib.suppress(ValueError):
            document = json.loads("\n".join(text))
        if returncode != 0 or not isinstance(document, dict):
            # The text may be terraform's plain error (e.g. no state yet); it holds no output values then.
            reason = " ".join(line.strip() for line in text if line.strip())[:300] if returncode != 0 else ""
            raise TerraformError(
                f"`terraform output -json` failed in {self.workdir} (exit {returncode}). {reason} "
                "Run `dms-tui provision apply` first so the outputs exist."
            )
        return document


def run_sync(process: TerraformProcess, on_event: Callable[[TerraformEvent], None] | None = None) -> int:
    """Run ``process`` to completion from synchronous code, passing every event to ``on_event``; returns the exit code."""

    async def _drive() -> int:
        async for event in process:
            if on_event is not None:
                on_event(event)
        return process.returncode if process.returncode is not None else -1

    return asyncio.run(_drive())
