"""Diff: prove that the target's rows match the source's, or show exactly which rows differ.

``run_diff`` compares the environment's two databases (found through its outputs and Secrets Manager secrets, so
nobody types a URL or a password) or any two databases given as libpq URLs. When the journey's task has table
mappings, they choose the tables and pair them through their renames; otherwise every source table is compared
with the target table of the same name. It yields the diff engine's own progress events (``TableStarted``,
``BucketsScanned``, ``Rechecking``, ``TableCompared``) between ``EndpointsResolved`` and ``DiffDone``; the result
is recorded in the journey (``DiffRecord``) when the environment's databases were compared.
"""

from __future__ import annotations

import queue
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dms_tui import exit_codes
from dms_tui.data.diff.engine import DiffOptions
from dms_tui.data.diff.errors import DiffError
from dms_tui.data.diff.events import BucketsScanned, DiffEvent, Rechecking, TableCompared, TableStarted
from dms_tui.data.diff.result import DiffReport
from dms_tui.errors import StepError
from dms_tui.journey import DiffRecord
from dms_tui.report.evidence import record_diff

if TYPE_CHECKING:
    from dms_tui.data.diff.endpoints import DiffEndpoints, TablePairing
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey

__all__ = [
    "BucketsScanned",
    "DiffDone",
    "DiffInputs",
    "DiffStepEvent",
    "EndpointsResolved",
    "Rechecking",
    "TableCompared",
    "TableStarted",
    "diff_argv",
    "diff_command_line",
    "exit_code",
    "run_diff",
    "summarize",
]

DEFAULT_MAX_ROWS = 1000


@dataclass(frozen=True)
class DiffInputs:
    """What to compare. Without URLs: the environment's databases. ``tables`` empty: the task's tables (or every
    source table when the journey has no task mappings)."""

    tables: tuple[str, ...] = ()
    source_url: str | None = field(default=None, repr=False)  # libpq URLs may hold a password: never shown
    target_url: str | None = field(default=None, repr=False)
    max_rows: int = DEFAULT_MAX_ROWS
    options: DiffOptions | None = None  # engine tuning (tests: no re-check delay); max_rows wins over its own

    @property
    def explicit_databases(self) -> bool:
        return self.source_url is not None or self.target_url is not None

    def engine_options(self) -> DiffOptions:
        from dataclasses import replace

        return replace(self.options or DiffOptions(), max_rows=self.max_rows)


@dataclass(frozen=True)
class EndpointsResolved:
    """Both databases are known: their shareable forms (no password) and the command that repeats this diff."""

    source: str
    target: str
    command: str


@dataclass(frozen=True)
class DiffDone:
    """The last event: every compared table, and the headline recorded in the journey."""

    report: DiffReport
    record: DiffRecord
    command: str

    @property
    def identical(self) -> bool:
        return self.report.identical


DiffStepEvent = EndpointsResolved | TableStarted | BucketsScanned | Rechecking | TableCompared | DiffDone


def summarize(report: DiffReport) -> DiffRecord:
    """The headline the journey keeps: identical or not, how many tables, how many differences."""
    differences = sum(table.row_differences + len(table.schema_drift) for table in report.tables)
    return DiffRecord(identical=report.identical, tables=len(report.tables), differences=differences)


def exit_code(report: DiffReport) -> int:
    """0 identical, 1 differences (the diff's documented contract; 2, could not compare, is a StepError's)."""
    return exit_codes.IDENTICAL if report.identical else exit_codes.DIFFERENT


# -- the equivalent command --------------------------------------------------------------------------------------------


def diff_argv(environment: Environment | None, inputs: DiffInputs, endpoints: DiffEndpoints | None = None) -> list[str]:
    """`dms-tui diff` for the same comparison: the environment's flags (it finds the databases itself), or the two
    URLs without their password (libpq then reads PGPASSWORD or ~/.pgpass, as psql does)."""
    argv = ["dms-tui", "diff"]
    if inputs.explicit_databases:
        from dms_tui.data.diff.endpoints import redact_url

        argv += ["--source", redact_url(inputs.source_url or ""), "--target", redact_url(inputs.target_url or "")]
    elif environment is not None:
        argv += environment.cli_flags()
    for table in inputs.tables:
        argv += ["--table", table]
    if inputs.max_rows != DEFAULT_MAX_ROWS:
        argv += ["--max-rows", str(inputs.max_rows)]
    return argv


def diff_command_line(environment: Environment | None, inputs: DiffInputs) -> str:
    return shlex.join(diff_argv(environment, inputs))


# -- finding the databases -----------------------------------------------------------------------------------------------


def resolve_endpoints(environment: Environment | None, inputs: DiffInputs) -> DiffEndpoints:
    """The two connection strings: the given URLs, or the environment's secrets read through its outputs."""
    from dms_tui.data.diff.endpoints import DiffEndpoints, environment_endpoints

    if inputs.explicit_databases:
        if not inputs.source_url or not inputs.target_url:
            raise StepError(
                "Only one database was given.",
                "--source and --target go together: they name the two databases to compare.",
                "Give both URLs, or neither to compare the environment's source and target databases.",
                exit_code=exit_codes.NOT_RUN,
            )
        return DiffEndpoints(inputs.source_url, inputs.target_url)
    if environment is None:
        raise StepError(
            "The environment is not ready yet.",
            "Its databases are found through its provisioning outputs and secrets.",
            "Start it first (the Welcome screen, or `dms-tui sandbox up`).",
            exit_code=exit_codes.NOT_RUN,
        )
    outputs = environment.require_outputs()
    try:
        return environment_endpoints(environment, outputs)
    except DiffError as exc:
        raise StepError(
            "The databases' secrets could not be read.",
            str(exc),
            f"Run `{shlex.join(['dms-tui', 'verify', *environment.cli_flags()])}`: its secret checks say what is wrong.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc


def task_pairing(journey: Journey | None) -> TablePairing | None:
    """How the journey's task pairs tables (its table mappings), or None to pair them by name."""
    from dms_tui.data.diff.endpoints import pairing_from_task

    task = journey.state.task if journey is not None else None
    try:
        return pairing_from_task(task.table_mappings if task is not None else None)
    except DiffError as exc:
        raise StepError(
            "The task's table mappings could not be read.",
            str(exc),
            "Fix them on the Migrate step, or compare tables by name with --source and --target.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc


# -- the run -----------------------------------------------------------------------------------------------------------


def run_diff(
    environment: Environment | None, journey: Journey | None, inputs: DiffInputs | None = None
) -> Iterator[DiffStepEvent]:
    """Compare the two databases; yields progress, then ``DiffDone``. Raises StepError (exit code 2) when the
    comparison cannot run: a database unreachable, a table missing, the secrets unreadable."""
    from dms_tui.data.diff.endpoints import run_wizard_diff

    inputs = inputs or DiffInputs()

    endpoints = resolve_endpoints(environment, inputs)
    # Explicit URLs compare any two databases: the journey's task says nothing about them, and records nothing.
    recorded = journey if not inputs.explicit_databases else None
    pairing = task_pairing(recorded)
    command = diff_command_line(environment, inputs)
    yield EndpointsResolved(endpoints.source_display, endpoints.target_display, command)
    tables = list(inputs.tables) or None
    events: queue.SimpleQueue[DiffEvent | _Finished] = queue.SimpleQueue()

    def compare() -> None:
        try:
            report = run_wizard_diff(
                endpoints, pairing, tables=tables, options=inputs.engine_options(), on_event=events.put
            )
        except BaseException as exc:  # handed to the generator, which raises it in the caller's thread
            events.put(_Finished(None, exc))
        else:
            events.put(_Finished(report, None))

    # The engine reports through a callback on its own threads; a worker thread turns that into this generator.
    threading.Thread(target=compare, name="dms-tui-diff-step", daemon=True).start()
    while True:
        event = events.get()
        if isinstance(event, _Finished):
            break
        yield event
    if event.error is not None:
        if isinstance(event.error, DiffError):
            raise _could_not_compare(event.error) from event.error
        raise event.error
    assert event.report is not None
    record = summarize(event.report)
    if recorded is not None:
        recorded.update(diff=record)
        record_diff(recorded, event.report, command)  # the verdict per table, for the hand-over report
    yield DiffDone(event.report, record, command)


def diff_report(environment: Environment | None, journey: Journey | None, inputs: DiffInputs | None = None) -> DiffDone:
    """Run the diff to its end, ignoring progress (tests, scripts)."""
    done: DiffDone | None = None
    for event in run_diff(environment, journey, inputs):
        if isinstance(event, DiffDone):
            done = event
    assert done is not None
    return done


@dataclass(frozen=True)
class _Finished:
    report: DiffReport | None
    error: BaseException | None


def _could_not_compare(exc: DiffError) -> StepError:
    """A DiffError's message says what failed and what to check; it becomes the why of a StepError."""
    message = str(exc)
    what, _, why = message.partition(": ")
    if not why or len(what) > 90:
        what, why = "The diff could not run.", message
    return StepError(what.rstrip(".") + ".", why, "", exit_code=exit_codes.NOT_RUN)
