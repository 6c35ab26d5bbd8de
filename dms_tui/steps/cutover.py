"""The Cutover step: stop the writes, let DMS apply the last change, prove the target equal, carry the sequences
over, stop the task, and say where the application connects now. For the Cutover screen and `dms-tui cutover`.

Six items, in order, each with the command a person could type instead (`kill`, `psql`, `aws`, `dms-tui`):

1. **writes** — the demo workload recorded for this environment is stopped (SIGTERM through its pid file). Where
   applications the tool cannot see write (``Environment.only_the_tool_writes`` is False: AWS), a person confirms
   they stopped (``confirm``; ``--yes`` headless). The write-freeze window starts here.
2. **drain** — the source's WAL position is read once (``pg_current_wal_insert_lsn()``: the insert position, at or
   past the last commit even when commits are asynchronous, which ``pg_current_wal_lsn()``, the write position, is
   not); then DMS's replication slot must have confirmed past it (``pg_replication_slots.confirmed_flush_lsn``: DMS
   advances it only after the target committed, on AWS as in the sandbox), and DMS's own latency metrics
   (CloudWatch ``CDCLatencySource`` / ``CDCLatencyTarget``, namespace ``AWS/DMS``) must read zero. The slot decides;
   the metrics are what the DMS console shows.
3. **diff** — the Diff step, through the task's mappings: every table identical, or the cutover stops here (the task
   keeps replicating; nothing is switched).
4. **sequences** — DMS does not migrate sequence values: each source sequence in a schema the task selects is set
   on the target (``setval``, through the mappings' schema renames) to the source's value, so the application's
   next insert does not collide with a migrated row.
5. **task** — StopReplicationTask (the Migrate step's stop-and-wait).
6. **switch** — the target endpoint the application uses from now on. The write-freeze window ends here.

Safe to run twice: a stopped task has nothing to drain and is not stopped again, sequences are set again to the
same values, and the step says what it found (:class:`CutoverPlanned` carries the earlier record).
"""

from __future__ import annotations

import datetime as dt
import shlex
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes, paths
from dms_tui.domain.dms import MOVING_STATUSES, MigrationType, TaskStatus
from dms_tui.errors import StepError
from dms_tui.journey import CutoverRecord
from dms_tui.report.evidence import record_cutover
from dms_tui.steps.services import StepServices

if TYPE_CHECKING:
    import psycopg

    from dms_tui.aws.dms import ReplicationTaskState
    from dms_tui.data.connect import DatabaseCredentials
    from dms_tui.environment import Environment
    from dms_tui.journey import Journey
    from dms_tui.provision.outputs import EnvironmentOutputs
    from dms_tui.steps.migrate import MigrateStep

__all__ = [
    "ITEMS",
    "CutoverDone",
    "CutoverEvent",
    "CutoverPlanned",
    "ItemFinished",
    "ItemProgress",
    "ItemStarted",
    "cutover_command",
    "run_cutover",
]

# StepServices.options keys (tests shorten them; the defaults suit AWS).
POLL_INTERVAL = "cutover_poll_interval_s"
DRAIN_TIMEOUT = "cutover_drain_timeout_s"
DIFF_OPTIONS = "cutover_diff_options"  # DiffOptions for the final diff (tests: no re-check delay)
NO_METRICS_GRACE_S = 120.0

ITEMS: tuple[tuple[str, str], ...] = (
    ("writes", "Stop writes"),
    ("drain", "Drain changes"),
    ("diff", "Final row diff"),
    ("sequences", "Set sequences"),
    ("task", "Stop the task"),
    ("switch", "Switch the app"),
)
TITLES = dict(ITEMS)

LSN_SQL = "SELECT pg_current_wal_insert_lsn()"
# A replication task's slot is permanent; a temporary one belongs to a session (the sandbox engine's read-ahead copy
# of the task's slot, a tool's own), and its position says nothing about what the task applied.
SLOTS_SQL = (
    "SELECT slot_name, active, confirmed_flush_lsn FROM pg_replication_slots "
    "WHERE database = current_database() AND slot_type = 'logical' AND NOT temporary"
)
SESSIONS_SQL = (
    "SELECT pid, usename, application_name, client_addr, state, xact_start FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)
SEQUENCES_SQL = "SELECT schemaname, sequencename, last_value, start_value FROM pg_sequences ORDER BY 1, 2"
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "awsdms_control", "pg_toast")


# -- events -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CutoverPlanned:
    """The task found, and what an earlier cutover left (None the first time)."""

    identifier: str
    arn: str
    status: str
    migration_type: str
    previous: CutoverRecord | None


@dataclass(frozen=True)
class ItemStarted:
    key: str
    title: str
    commands: tuple[str, ...]  # what a person could type instead (the first is the main one)


@dataclass(frozen=True)
class ItemProgress:
    """A line while an item works (the latency and the applied position while draining, a table compared)."""

    key: str
    text: str


@dataclass(frozen=True)
class WritesFrozen:
    """Writes stopped: the write-freeze window starts (``started_at`` on ``time.monotonic()``'s clock)."""

    started_at: float


@dataclass(frozen=True)
class ItemFinished:
    key: str
    title: str
    ok: bool
    detail: str
    seconds: float
    commands: tuple[str, ...]


@dataclass(frozen=True)
class CutoverDone:
    """The last event: every item's outcome, the write-freeze window, where the application connects now."""

    record: CutoverRecord
    items: tuple[ItemFinished, ...]
    target_endpoint: str
    connect_command: str

    @property
    def ok(self) -> bool:
        return self.record.ok

    def summary(self) -> list[str]:
        """Two lines a presenter can show."""
        r = self.record
        sequences = f"{r.sequences_set} sequence{'s' if r.sequences_set != 1 else ''} set"
        rows = "rows identical" if r.diff_identical else "rows NOT identical"
        return [
            f"{'✓ Cut over' if r.ok else '✗ Cutover with problems'}: writes frozen {r.freeze_seconds:.1f} s · {rows} · "
            f"{sequences}",
            f"Application → {self.target_endpoint} (task {r.task_status or 'unknown'})",
        ]


CutoverEvent = CutoverPlanned | ItemStarted | ItemProgress | WritesFrozen | ItemFinished | CutoverDone


def cutover_command(environment: Environment | None, *, yes: bool = False) -> str:
    argv = ["dms-tui", "cutover", *(environment.cli_flags() if environment is not None else [])]
    return shlex.join([*argv, "--yes"] if yes else argv)


# -- the run ------------------------------------------------------------------------------------------------------------


def run_cutover(
    environment: Environment,
    journey: Journey,
    services: StepServices | None = None,
    *,
    confirm: Callable[[str], bool] | None = None,
) -> Iterator[CutoverEvent]:
    """Cut over; yields each item's start, progress and finish, then :class:`CutoverDone`.

    ``confirm(question)`` is asked where a person must say the application stopped writing (None: refused, as
    headless without --yes). StepError: no task, a task that does not capture changes (exit 2); writes not confirmed
    (exit 2); changes not drained in time, or a diff that is not identical (exit 1: the task keeps running)."""
    from dms_tui.steps.migrate import MigrateStep

    services = services or StepServices()
    options = services.options
    interval = float(options.get(POLL_INTERVAL, 2.0))
    drain_timeout = float(options.get(DRAIN_TIMEOUT, 900.0))
    step = MigrateStep(environment, services, journey)
    task = _the_task(step, journey)
    yield CutoverPlanned(task.identifier, task.arn, task.status, task.migration_type, journey.state.cutover)
    outputs = step.require_outputs()
    source, target = _credentials(environment, outputs)

    finished: list[ItemFinished] = []
    timings: dict[str, float] = {}
    commands: list[str] = [cutover_command(environment)]  # for the hand-over report: the whole step, then each item

    def finish(key: str, ok: bool, detail: str, started: float, shown: tuple[str, ...]) -> ItemFinished:
        item = ItemFinished(key, TITLES[key], ok, detail, time.monotonic() - started, shown)
        finished.append(item)
        timings[TITLES[key]] = round(item.seconds, 3)
        commands.extend(shown)
        return item

    # 1. writes
    started = time.monotonic()
    shown: tuple[str, ...] = (_psql(source, environment, SESSIONS_SQL),)
    yield ItemStarted("writes", TITLES["writes"], shown)
    detail, shown = yield from _stop_writes(environment, confirm, shown)
    yield finish("writes", True, detail, started, shown)
    frozen_at = time.monotonic()
    yield WritesFrozen(frozen_at)

    # 2. drain
    started = time.monotonic()
    shown = _drain_commands(environment, step, task, source, target)
    yield ItemStarted("drain", TITLES["drain"], shown)
    if task.status not in MOVING_STATUSES:
        yield finish("drain", True, f"the task is {task.status}: nothing is replicating", started, shown)
    else:
        ok, detail = yield from _drain(environment, step, task, source, target, interval, drain_timeout)
        yield finish("drain", ok, detail, started, shown)
        if not ok:
            _record(journey, finished, timings, commands, frozen_at, task.status, "", 0, False)
            raise StepError(
                "DMS did not apply every change in time; nothing was switched.",
                detail,
                "The task keeps running. Look at its latency (the command above) and run the cutover again.",
            )

    # 3. diff
    started = time.monotonic()
    from dms_tui.steps.diff import DiffDone, DiffInputs, TableCompared, diff_command_line, run_diff

    inputs = DiffInputs(options=options.get(DIFF_OPTIONS))
    shown = (diff_command_line(environment, inputs),)
    yield ItemStarted("diff", TITLES["diff"], shown)
    done: DiffDone | None = None
    for event in run_diff(environment, journey, inputs):
        if isinstance(event, TableCompared):
            verdict = "identical" if event.diff.identical else "differs"
            yield ItemProgress("diff", f"{event.diff.source_table}: {verdict}")
        elif isinstance(event, DiffDone):
            done = event
    assert done is not None
    identical = done.identical
    detail = (
        f"{done.record.tables} table(s) identical"
        if identical
        else f"{done.record.differences} difference(s) in {done.record.tables} table(s)"
    )
    yield finish("diff", identical, detail, started, shown)
    if not identical:
        _record(journey, finished, timings, commands, frozen_at, task.status, "", 0, False)
        raise StepError(
            "The target is not identical to the source; nothing was switched.",
            detail + "".join(f"\n{cause}" for cause in _unapplied_changes(step, task)),
            f"The task keeps running. See the rows with `{shown[0]}`, fix the cause, and run the cutover again.",
        )

    # 4. sequences
    started = time.monotonic()
    plan = _sequence_plan(environment, journey, source, target)
    shown = plan.commands(source, target, environment)
    yield ItemStarted("sequences", TITLES["sequences"], shown)
    sequences_ok, detail = _set_sequences(environment, target, plan)
    yield finish("sequences", sequences_ok, detail, started, shown)

    # 5. task
    started = time.monotonic()
    from dms_tui.steps.migrate import CommandIssued, TaskAction

    shown = (step.command(TaskAction.STOP, arn=task.arn).text,)
    yield ItemStarted("task", TITLES["task"], shown)
    current = step.runner.describe(task.arn)
    if current.status in MOVING_STATUSES or current.status == TaskStatus.STOPPING:
        for stopping in step.stop_and_wait(current):
            if isinstance(stopping, CommandIssued):
                yield ItemProgress("task", "StopReplicationTask sent; waiting until the task has stopped")
        current = step.runner.describe(task.arn)
        journey.update_task(status=current.status)
        detail = f"stopped ({current.stop_reason or current.status})"
    else:
        detail = f"already {current.status}" + (f" ({current.stop_reason})" if current.stop_reason else "")
    task_ok = current.status == TaskStatus.STOPPED
    yield finish("task", task_ok, detail, started, shown)

    # 6. switch
    started = time.monotonic()
    endpoint = f"{target.host}:{target.port}/{target.dbname}"
    connect = _psql(target, environment, "SELECT current_database(), current_user")
    shown = (connect,)
    yield ItemStarted("switch", TITLES["switch"], shown)
    yield finish("switch", True, endpoint, started, shown)  # the credentials: the target secret, as before
    ok = all(item.ok for item in finished)
    record = _record(
        journey, finished, timings, commands, frozen_at, current.status, endpoint, plan.count_set, ok, identical
    )
    yield CutoverDone(record, tuple(finished), endpoint, connect)


def _unapplied_changes(step: MigrateStep, task: ReplicationTaskState) -> list[str]:
    """The likeliest cause of a final diff that differs, from the task's own table statistics: a table whose captured
    updates or deletes DMS did not apply (on PostgreSQL, a table without a primary key or unique index on the
    target). Empty when the statistics cannot be read or show nothing unapplied: the diff's rows then tell."""
    from dms_tui.aws.task_poller import ReplicationTaskSnapshot, TaskPoller

    snapshot = TaskPoller(step.client, task.arn).poll_once()
    if not isinstance(snapshot, ReplicationTaskSnapshot):
        return []
    causes = []
    for table in snapshot.tables:
        missed = (table.updates - table.applied_updates) + (table.deletes - table.applied_deletes)
        if missed > 0:
            causes.append(
                f"{table.schema_name}.{table.table_name}: DMS captured {table.updates:,} updates and "
                f"{table.deletes:,} deletes but applied {table.applied_updates:,} and {table.applied_deletes:,}; "
                "it applies them only to a table with a primary key or unique index. Add one on both sides "
                "(Prepare's primary key choice for the demo table), reload the table, and cut over again."
            )
    return causes


def exit_code(done: CutoverDone) -> int:
    return exit_codes.OK if done.ok else exit_codes.FAILED


# -- the task -------------------------------------------------------------------------------------------------------------


def _the_task(step: MigrateStep, journey: Journey) -> ReplicationTaskState:
    from dms_tui.aws.dms import TaskNotFoundError

    record = journey.state.task
    migrate = shlex.join(
        ["dms-tui", "migrate", *step.environment.cli_flags(), "--migration-type", MigrationType.FULL_LOAD_AND_CDC.value]
    )
    if record is None or not record.arn:
        raise StepError(
            "There is no DMS task to cut over from.",
            "The journey has no replication task: the Migrate step creates it.",
            f"Run the Migrate step with change data capture (`{migrate}`), then cut over.",
            exit_code=exit_codes.NOT_RUN,
        )
    try:
        task = step.runner.describe(record.arn)
    except TaskNotFoundError as exc:
        raise StepError(
            f"The task {record.identifier} no longer exists.",
            exc.why or "It was deleted.",
            f"Run the Migrate step again (`{migrate}`).",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    try:
        captures = MigrationType(task.migration_type).captures_changes
    except ValueError:
        captures = False
    if not captures:
        raise StepError(
            f"The task {task.identifier} is a {task.migration_type or 'full-load'} task: it does not replicate changes.",
            "A cutover switches from a source that keeps changing; a full load copies once, so there is nothing to "
            "drain or switch (the Diff step already proved the copy).",
            f"For a live migration, run `{migrate}`, then cut over.",
            exit_code=exit_codes.NOT_RUN,
        )
    return task


# -- the databases --------------------------------------------------------------------------------------------------------


def _credentials(
    environment: Environment, outputs: EnvironmentOutputs
) -> tuple[DatabaseCredentials, DatabaseCredentials]:
    from botocore.exceptions import BotoCoreError, ClientError

    from dms_tui.data.connect import SecretFormatError, read_credentials

    pair = []
    for side, arn in (("source", outputs.source.secret_arn), ("target", outputs.target.secret_arn)):
        try:
            pair.append(read_credentials(environment, arn))
        except (ClientError, BotoCoreError, SecretFormatError) as exc:
            raise StepError(
                f"Could not read the {side} database secret.",
                str(exc),
                f"Run `{shlex.join(['dms-tui', 'verify', *environment.cli_flags()])}`: its secret checks say why.",
                exit_code=exit_codes.NOT_RUN,
            ) from None
    return pair[0], pair[1]


def _connect(credentials: DatabaseCredentials, environment: Environment, side: str) -> psycopg.Connection[Any]:
    import psycopg

    from dms_tui.data.connect import connect

    try:
        return connect(credentials, environment, connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StepError(
            f"The {side} database refused.",
            first,
            f"Run `{shlex.join(['dms-tui', 'verify', *environment.cli_flags()])}`: it says which hop is the problem.",
        ) from None


def _psql(credentials: DatabaseCredentials, environment: Environment, sql: str) -> str:
    from dms_tui.data.connect import psql_command

    return psql_command(credentials, environment, sql=sql)


# -- 1. writes ------------------------------------------------------------------------------------------------------------


def _stop_writes(
    environment: Environment, confirm: Callable[[str], bool] | None, shown: tuple[str, ...]
) -> Generator[ItemProgress, None, tuple[str, tuple[str, ...]]]:
    """Stop the recorded workload; where others write, ask. Returns what was done and the commands to show."""
    from dms_tui.data import workload

    parts: list[str] = []
    running = workload.running_workload(paths.state_dir(), environment.env)
    if running is not None:
        pid = int(running["pid"])
        shown = (f"kill {pid}", *shown)
        yield ItemProgress("writes", f"stopping the demo workload (pid {pid})")
        workload.stop_workload(paths.state_dir(), environment.env)
        parts.append(f"stopped the demo workload (pid {pid})")
    else:
        parts.append("no demo workload was running")
    if not environment.only_the_tool_writes:
        question = (
            "Stop every application that writes to the source database now (put it in maintenance mode, or revoke "
            "its writes), then confirm. The sessions still connected are listed by the command shown."
        )
        yield ItemProgress("writes", "waiting for you to confirm that the application stopped writing")
        if confirm is None or not confirm(question):
            raise StepError(
                "The cutover did not start: nobody confirmed that writes to the source stopped.",
                "Changes written after the cutover would be lost: DMS stops replicating at the end.",
                "Stop the application's writes, then run `dms-tui cutover --yes` (or confirm on the Cutover screen).",
                exit_code=exit_codes.NOT_RUN,
            )
        parts.append("you confirmed the application stopped writing")
    return "; ".join(parts), shown


# -- 2. drain -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Latency:
    source: float | None
    target: float | None
    at: dt.datetime | None


def _metric_call(instance_id: str, task: ReplicationTaskState, now: dt.datetime) -> dict[str, Any]:
    """GetMetricData for the task's two CDC latencies (the dimensions DMS publishes them with). Period 60, the
    Minimum: a minute in which DMS once reported zero latency."""
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": instance_id},
        {"Name": "ReplicationTaskIdentifier", "Value": task.arn.split(":")[-1]},
    ]
    queries = [
        {
            "Id": name.lower(),
            "MetricStat": {
                "Metric": {"Namespace": "AWS/DMS", "MetricName": name, "Dimensions": dimensions},
                "Period": 60,
                "Stat": "Minimum",
            },
            "ReturnData": True,
        }
        for name in ("CDCLatencySource", "CDCLatencyTarget")
    ]
    start = (now - dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    end = (now + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    return {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    }


def _instance_id(step: MigrateStep) -> str:
    arn = step.require_outputs().dms_replication_instance_arn
    try:
        found = step.client.describe_replication_instances(
            Filters=[{"Name": "replication-instance-arn", "Values": [arn]}]
        ).get("ReplicationInstances", [])
    except Exception:  # noqa: BLE001 - the identifier is a nicety; the ARN's last part is DMS's resource id
        found = []
    return str(found[0].get("ReplicationInstanceIdentifier")) if found else arn.split(":")[-1]


def _drain_commands(
    environment: Environment,
    step: MigrateStep,
    task: ReplicationTaskState,
    source: DatabaseCredentials,
    target: DatabaseCredentials,
) -> tuple[str, ...]:
    from dms_tui.aws.cli_command import render_aws_cli

    metrics = render_aws_cli(
        "cloudwatch",
        "GetMetricData",
        _metric_call(_instance_id(step), task, dt.datetime.now(dt.UTC)),
        global_flags=environment.aws_cli_flags(),
        environment=environment.aws_cli_environment(),
    )
    return (metrics.text, _psql(source, environment, LSN_SQL), _psql(source, environment, SLOTS_SQL))


def _latency(environment: Environment, call: dict[str, Any]) -> _Latency:
    cloudwatch = environment.client("cloudwatch")
    found: dict[str, tuple[float, dt.datetime]] = {}
    for result in cloudwatch.get_metric_data(**call).get("MetricDataResults", []):
        points = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False), reverse=True)
        if points:
            found[result["Id"]] = (float(points[0][1]), points[0][0])
    source = found.get("cdclatencysource")
    target = found.get("cdclatencytarget")
    stamps = [p[1] for p in (source, target) if p is not None]
    return _Latency(source[0] if source else None, target[0] if target else None, min(stamps) if stamps else None)


def _slot_names(step: MigrateStep, task: ReplicationTaskState, tgt: psycopg.Connection[Any]) -> set[str]:
    """The task's replication slot, as DMS shows it: the source endpoint's SlotName, else the slot its recovery
    table on the target names (the sandbox engine writes it there); empty when neither says."""
    import psycopg

    names: set[str] = set()
    try:
        endpoint_arn = step.require_outputs().source.dms_endpoint_arn
        endpoints = step.client.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [endpoint_arn]}])
        for endpoint in endpoints.get("Endpoints", []):
            slot = (endpoint.get("PostgreSQLSettings") or {}).get("SlotName")
            if slot:
                names.add(str(slot))
    except Exception:  # noqa: BLE001 - optional: the recovery table or the active slots say it too
        pass
    if names:
        return names
    try:
        rows = tgt.execute(
            "SELECT slot_name FROM awsdms_control.awsdms_txn_state WHERE task_name IN (%s, %s)",
            (task.identifier, task.arn),
        ).fetchall()
        names |= {str(r[0]) for r in rows}
    except psycopg.Error:  # no recovery table, or DMS's own columns: the active slots decide
        pass
    return names


def _drain(
    environment: Environment,
    step: MigrateStep,
    task: ReplicationTaskState,
    source: DatabaseCredentials,
    target: DatabaseCredentials,
    interval: float,
    timeout: float,
) -> Generator[ItemProgress, None, tuple[bool, str]]:
    """Wait until the slot confirmed past the source's position and the latency reads zero. Returns (ok, detail).
    Without any latency datapoint for the task (CloudWatch lags, or has none), the applied position alone decides
    after ``NO_METRICS_GRACE_S``."""
    with _connect(source, environment, "source") as src, _connect(target, environment, "target") as tgt:
        row = src.execute(LSN_SQL + "::text").fetchone()
        assert row is not None
        goal_text = str(row[0])
        goal = _lsn(goal_text)
        goal_time = dt.datetime.now(dt.UTC)
        named = _slot_names(step, task, tgt)
        yield ItemProgress("drain", f"the source is at {goal_text}; waiting until DMS has applied it")
        instance_id = _instance_id(step)
        began = time.monotonic()
        deadline = began + timeout
        last_line = ""
        while True:
            slots = src.execute(SLOTS_SQL).fetchall()
            mine = [s for s in slots if (s[0] in named if named else bool(s[1]))]
            confirmed = min((_lsn(str(s[2])) for s in mine if s[2] is not None), default=None)
            applied = confirmed is not None and confirmed >= goal
            latency = _latency(environment, _metric_call(instance_id, task, dt.datetime.now(dt.UTC)))
            fresh = latency.at is not None and latency.at >= goal_time.replace(second=0, microsecond=0)
            zero = fresh and latency.source == 0 and latency.target == 0
            line = (
                f"latency source {_seconds(latency.source)} · target {_seconds(latency.target)} · applied "
                f"{_lsn_text(confirmed)} of {goal_text}"
            )
            if line != last_line:
                yield ItemProgress("drain", line)
                last_line = line
            if not mine:
                return False, (
                    "no replication slot of the task was found on the source (pg_replication_slots), so the applied "
                    "position cannot be proven"
                )
            if applied and zero:
                return True, f"{goal_text} applied; CDC latency 0 s"
            if applied and latency.at is None and time.monotonic() - began > NO_METRICS_GRACE_S:
                return True, (
                    f"source position {goal_text} applied (CloudWatch has no CDC latency datapoint for the task)"
                )
            if time.monotonic() >= deadline:
                return False, f"after {timeout:.0f} s: {line}"
            time.sleep(interval)


def _lsn(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low or "0", 16)


def _lsn_text(value: int | None) -> str:
    return "—" if value is None else f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


# -- 4. sequences ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sequence:
    source: tuple[str, str]  # schema, name
    target: tuple[str, str]
    last_value: int | None
    start_value: int

    @property
    def setval(self) -> str:
        name = ".".join(_quote_ident(p) for p in self.target)
        if self.last_value is None:  # never used on the source: the target's next value is its start
            return f"SELECT setval({_literal(name)}, {self.start_value}, false)"
        return f"SELECT setval({_literal(name)}, {self.last_value}, true)"


@dataclass
class _SequencePlan:
    sequences: list[_Sequence]
    count_set: int = 0

    def commands(
        self, source: DatabaseCredentials, target: DatabaseCredentials, environment: Environment
    ) -> tuple[str, ...]:
        read = _psql(source, environment, SEQUENCES_SQL)
        if not self.sequences:
            return (read,)
        return (read, _psql(target, environment, "; ".join(s.setval for s in self.sequences)))


def _quote_ident(name: str) -> str:
    return name if name.isidentifier() and name == name.lower() else '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sequence_plan(
    environment: Environment, journey: Journey, source: DatabaseCredentials, target: DatabaseCredentials
) -> _SequencePlan:
    """The source's sequences in the schemas the task selects, each with its name on the target."""
    from dms_tui.steps.diff import task_pairing

    pairing = task_pairing(journey)
    with _connect(source, environment, "source") as src:
        tables = src.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        schemas = {
            str(schema)
            for schema, table in tables
            if schema not in _SYSTEM_SCHEMAS and (pairing is None or pairing.mappings.is_selected(schema, table))
        }
        rows = src.execute(SEQUENCES_SQL).fetchall()
    sequences = []
    for schema, name, last_value, start_value in rows:
        if schema not in schemas:
            continue
        target_schema = pairing.mappings.target_schema(schema) if pairing is not None else schema
        sequences.append(
            _Sequence(
                (schema, name), (target_schema, name), None if last_value is None else int(last_value), int(start_value)
            )
        )
    return _SequencePlan(sequences)


def _set_sequences(environment: Environment, target: DatabaseCredentials, plan: _SequencePlan) -> tuple[bool, str]:
    if not plan.sequences:
        return True, "no sequence in the migrated schemas"
    missing: list[str] = []
    with _connect(target, environment, "target") as tgt, tgt.transaction():
        for sequence in plan.sequences:
            name = ".".join(_quote_ident(p) for p in sequence.target)
            row = tgt.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
            if not row or not row[0]:
                missing.append(".".join(sequence.target))
                continue
            tgt.execute(sequence.setval)  # values and names come from the catalogs, quoted above
            plan.count_set += 1
    detail = f"{plan.count_set} set to the source's values"
    if missing:
        return False, detail + (
            f"; missing on the target: {', '.join(missing)} (DMS creates no sequences: create them, then run the "
            "cutover again)"
        )
    return True, detail


# -- the record -----------------------------------------------------------------------------------------------------------


def _record(
    journey: Journey,
    finished: list[ItemFinished],
    timings: dict[str, float],
    commands: list[str],
    frozen_at: float,
    task_status: str,
    endpoint: str,
    sequences_set: int,
    ok: bool,
    identical: bool = False,
) -> CutoverRecord:
    freeze = time.monotonic() - frozen_at
    record = CutoverRecord(
        ok=ok,
        freeze_seconds=round(freeze, 3),
        diff_identical=identical,
        sequences_set=sequences_set,
        task_status=task_status,
        target_endpoint=endpoint,
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    journey.update(cutover=record)
    record_cutover(journey, timings, commands)
    return record
