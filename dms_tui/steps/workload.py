"""The demo workload as a step: inserts, updates and deletes on the environment's source while DMS replicates.

The source database is found like the Diff step finds it (the environment's outputs and the source secret; nobody
types a URL or a password). While it runs, the workload's pid is recorded in ``<state dir>/workload-<env>.json``
(:mod:`dms_tui.data.workload`), so the Cutover step can stop the writes; the record goes when it ends.
"""

from __future__ import annotations

import queue
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dms_tui import exit_codes, paths
from dms_tui.data.workload import WorkloadStats, WorkloadTick
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from dms_tui.environment import Environment

__all__ = [
    "WorkloadFinished",
    "WorkloadInputs",
    "WorkloadStarted",
    "WorkloadTick",
    "check_inputs",
    "run_demo_workload",
    "workload_command",
]


@dataclass(frozen=True)
class WorkloadInputs:
    """How fast (changes per second), how long (seconds; 0: until stopped), on which tables (schema.table or
    schema; empty: every source table that can take generated rows)."""

    rate: float = 20.0
    duration_s: float = 60.0
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkloadStarted:
    source: str  # the source database without its password
    command: str  # the equivalent `dms-tui workload ...`
    pid_file: str


@dataclass(frozen=True)
class WorkloadFinished:
    """The last event: what was written, and whether it ended before its duration (Ctrl+C, SIGTERM, cutover)."""

    stats: WorkloadStats
    stopped_early: bool


WorkloadEvent = WorkloadStarted | WorkloadTick | WorkloadFinished


def workload_command(environment: Environment, inputs: WorkloadInputs) -> str:
    argv = ["dms-tui", "workload", *environment.cli_flags(), "--rate", f"{inputs.rate:g}"]
    argv += ["--duration", f"{inputs.duration_s:g}"]
    for table in inputs.tables:
        argv += ["--table", table]
    return shlex.join(argv)


def check_inputs(inputs: WorkloadInputs) -> None:
    """StepError (exit 2) for a rate or a duration that means nothing."""
    if not inputs.rate > 0:
        raise StepError(
            f"--rate {inputs.rate:g} is not a rate.",
            "The workload writes this many changes per second.",
            "Give a number above 0, e.g. --rate 50.",
            exit_code=exit_codes.NOT_RUN,
        )
    if inputs.duration_s < 0:
        raise StepError(
            f"--duration {inputs.duration_s:g} is negative.",
            "It is how many seconds the workload writes (0: until stopped).",
            "Give 0 or more seconds.",
            exit_code=exit_codes.NOT_RUN,
        )


def run_demo_workload(
    environment: Environment, inputs: WorkloadInputs, stop: threading.Event | None = None
) -> Iterator[WorkloadEvent]:
    """Write to the source until ``inputs.duration_s`` passes or ``stop`` is set; a tick about once a second,
    then ``WorkloadFinished``. StepError (nothing written) when the source cannot be reached or has no table the
    workload can write to, or when a workload already runs for this environment."""
    import psycopg

    from dms_tui.data import workload
    from dms_tui.data.diff.endpoints import redact_url
    from dms_tui.steps.diff import DiffInputs, resolve_endpoints

    check_inputs(inputs)
    state_dir = paths.state_dir()
    running = workload.running_workload(state_dir, environment.env)
    if running is not None:
        pid = running["pid"]
        raise StepError(
            f"A workload already writes to environment {environment.env}'s source (pid {pid}).",
            "Two workloads would only make the demo harder to follow.",
            f"Stop it first (`kill {pid}`, or Ctrl+C where it runs), or let the Cutover step stop it.",
            exit_code=exit_codes.NOT_RUN,
        )
    source_url = resolve_endpoints(environment, DiffInputs()).source_url
    stop = stop or threading.Event()
    events: queue.SimpleQueue[object] = queue.SimpleQueue()
    outcome: dict[str, object] = {}

    def body() -> None:
        try:
            outcome["stats"] = workload.run_workload(
                source_url,
                rate=inputs.rate,
                duration_s=inputs.duration_s,
                tables=list(inputs.tables) or None,
                stop=stop,
                on_tick=events.put,
            )
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            events.put(_DONE)

    path = workload.record_running(state_dir, environment.env, inputs.rate, inputs.tables)
    stopped_early = False
    try:
        yield WorkloadStarted(redact_url(source_url), workload_command(environment, inputs), str(path))
        thread = threading.Thread(target=body, name="dms-tui-workload", daemon=True)
        thread.start()
        try:
            while (item := events.get()) is not _DONE:
                yield item  # type: ignore[misc]  # only ticks and _DONE are put
            stopped_early = stop.is_set()
        finally:
            stop.set()  # the consumer went away (Ctrl+C in the command): the writer stops after its statement
            thread.join()
    finally:
        path.unlink(missing_ok=True)
    error = outcome.get("error")
    if isinstance(error, workload.WorkloadUnsuitable):
        raise StepError(
            "The workload has no table to write to.",
            str(error),
            "Prepare the source first (`dms-tui seed`), or name tables with --table.",
            exit_code=exit_codes.NOT_RUN,
        ) from error
    if isinstance(error, psycopg.Error):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StepError(
            "The source database refused the workload.",
            first,
            f"Run `{shlex.join(['dms-tui', 'verify', *environment.cli_flags()])}`: it says whether the login, the "
            "endpoint or the database is the problem.",
        ) from error
    if isinstance(error, BaseException):
        raise error
    stats = outcome["stats"]
    assert isinstance(stats, WorkloadStats)
    yield WorkloadFinished(stats, stopped_early=stopped_early)


_DONE = object()
