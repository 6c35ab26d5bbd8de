"""The Prepare step: the seed's source database, schema, table and rows (or N generated), and the target database.

``inspect_sides`` reads both sides' secrets and says what exists before anything changes (so a person can choose
keep / truncate / recreate); ``run_prepare`` yields the data layer's events (``PrepareStep``, ``ExistingTableFound``,
``RowsProgress``) as they happen, then ``Prepared`` with both sides afterwards and the ``PrepareRecord`` it recorded in
the journey. Refused connections, unreadable secrets and an existing table without a policy are StepErrors.
"""

from __future__ import annotations

import queue
import shlex
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import psycopg

from dms_tui import exit_codes
from dms_tui.data.connect import SecretFormatError
from dms_tui.data.demo_databases import DemoDatabases, DemoPreparation, DemoSnapshot, PreparationError, PrepareChoice
from dms_tui.data.prepare import EventSink, ExistingTableFound, PrepareEvent, PrepareStep, RowsProgress
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.journey import PrepareRecord

if TYPE_CHECKING:
    from dms_tui.journey import Journey

__all__ = [
    "ExistingTableFound",
    "PrepareChoice",
    "PrepareEvent",
    "PrepareStep",
    "PrepareStepEvent",
    "Prepared",
    "RowsProgress",
    "inspect_sides",
    "open_databases",
    "run_prepare",
    "seed_command",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    """The last event: what preparing did, both sides afterwards, and what was recorded in the journey."""

    preparation: DemoPreparation
    record: PrepareRecord
    command: str  # the equivalent `dms-tui seed ...`
    ddl: str  # the source's statements, as psql takes them


PrepareStepEvent = PrepareEvent | Prepared


def seed_command(flags: Sequence[str], choice: PrepareChoice) -> str:
    """The headless command that prepares like ``choice`` on the environment named by ``flags`` (its cli_flags())."""
    argv = ["dms-tui", "seed", *flags]
    if choice.rows is not None:
        argv += ["--rows", str(choice.rows)]
    if choice.if_exists not in (None, "keep"):
        argv += ["--if-exists", choice.if_exists]
    if choice.primary_key:
        argv.append("--primary-key")
    return shlex.join(argv)


def _verify_command(environment: Environment) -> str:
    return shlex.join(["dms-tui", "verify", *environment.cli_flags()])


def open_databases(environment: Environment) -> DemoDatabases:
    """Both sides of the environment's demo databases, their secrets read from Secrets Manager."""
    outputs = environment.require_outputs()
    try:
        return DemoDatabases.from_environment(environment, outputs)
    except PreparationError as exc:
        cause = exc.__cause__
        if isinstance(cause, SecretFormatError):
            raise StepError(
                f"The {exc.side} database secret is not usable.",
                str(cause),
                "Fix the secret (or provision again), then try again.",
            ) from exc
        raise StepError(
            f"Could not read the {exc.side} database secret.",
            str(cause or exc),
            f"Verify (`{_verify_command(environment)}`): its secret check says whether the secret is missing or "
            "may not be read.",
        ) from exc


def _refused(environment: Environment, exc: PreparationError) -> StepError:
    cause = exc.__cause__
    why = str(cause).strip().splitlines()[0] if isinstance(cause, psycopg.Error) and str(cause).strip() else str(exc)
    return StepError(
        f"The {exc.side or 'a'} database refused.",
        why,
        f"Verify (`{_verify_command(environment)}`) says whether the login, the endpoint or the database is the "
        "problem.",
    )


def inspect_sides(environment: Environment) -> tuple[DemoDatabases, DemoSnapshot]:
    """Read both secrets and look at both sides before anything changes."""
    databases = open_databases(environment)
    try:
        return databases, databases.snapshot()
    except PreparationError as exc:
        raise _refused(environment, exc) from exc


def run_prepare(
    environment: Environment,
    choice: PrepareChoice,
    journey: Journey | None = None,
    *,
    databases: DemoDatabases | None = None,
) -> Iterator[PrepareStepEvent]:
    """Prepare both sides with ``choice``; yields each data-layer event as it happens, then ``Prepared``.

    ``choice.if_exists=None`` means no policy was chosen: an existing source table is then refused (StepError) rather
    than touched. The result is recorded in ``journey`` (``journey.update(prepare=...)``; the step is completed when
    the person moves on).
    """
    databases = databases or open_databases(environment)
    command = seed_command(environment.cli_flags(), choice)
    policy = choice.if_exists
    try:
        if policy is None:
            existing = databases.snapshot().source.table
            if existing is not None:
                raise StepError(
                    f"{existing.schema}.{existing.name} already exists on the source with {existing.rows:,} rows.",
                    "No policy says whether to keep, truncate or recreate it.",
                    "Choose keep, truncate or recreate (--if-exists) and prepare again.",
                    exit_code=exit_codes.NOT_RUN,
                )
        preparation = yield from _live(lambda sink: databases.prepare(choice, on_event=sink))
    except PreparationError as exc:
        raise _refused(environment, exc) from exc
    record = PrepareRecord(
        source_rows=preparation.source.details.rows,
        primary_key=preparation.source.details.has_primary_key,
        target_database=preparation.after.target.database,
    )
    if journey is not None:
        journey.update(prepare=record)
    yield Prepared(preparation, record, command, databases.ddl(primary_key=choice.primary_key))


_DONE = object()


def _live(work: Callable[[EventSink], T]) -> Generator[PrepareEvent, None, T]:
    """Run ``work`` (which reports through a callback) in a thread and yield its events as they arrive; returns its
    result (or raises its exception)."""
    events: queue.Queue[object] = queue.Queue()
    outcome: dict[str, object] = {}

    def body() -> None:
        try:
            outcome["result"] = work(events.put)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            events.put(_DONE)

    thread = threading.Thread(target=body, name="prepare", daemon=True)
    thread.start()
    while (item := events.get()) is not _DONE:
        yield item  # type: ignore[misc]  # only the sink's events and _DONE are put
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
