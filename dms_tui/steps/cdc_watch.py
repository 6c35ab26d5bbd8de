"""Watching a change-capturing task: its phase, its latency from CloudWatch, and the sandbox's demo workload.

DMS reports no "phase" field, so the phase is derived the same way in both modes from what the API does report:

- **full load**: a table is not yet completed (or FullLoadProgressPercent is below 100);
- **applying cached changes**: every table is loaded, and the changes captured meanwhile are being applied: the
  target latency (CDCLatencyTarget) has not yet been small in a point published after the full load finished;
- **ongoing replication**: it has; from then on the phase stays (until the task is started again).

A cdc-only task has no full load and nothing cached: it is in ongoing replication as soon as it runs.

The demo workload (:func:`dms_tui.data.workload.run_workload`) is what the Migrate screen's workload key starts in the
sandbox, so that changes visibly flow; it writes to the source through the environment's path with the source
secret, held in memory only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dms_tui.aws.cdc_metrics import CdcLatency, CdcMetricsReader
from dms_tui.aws.task_poller import ReplicationTaskSnapshot
from dms_tui.domain.dms import MigrationType, TaskStatus

if TYPE_CHECKING:
    from dms_tui.data.workload import WorkloadStats, WorkloadTick
    from dms_tui.environment import Environment
    from dms_tui.provision.outputs import EnvironmentOutputs

#: Target latency (seconds) under which the cached changes count as applied.
CAUGHT_UP_S = 2.0
#: The rate the wizard's workload key writes at (changes per second): enough to see, little enough for a laptop.
DEMO_WORKLOAD_RATE = 20.0


class CdcPhase(StrEnum):
    FULL_LOAD = "full load"
    APPLYING_CACHED = "applying cached changes"
    ONGOING = "ongoing replication"


PHASES: tuple[CdcPhase, ...] = (CdcPhase.FULL_LOAD, CdcPhase.APPLYING_CACHED, CdcPhase.ONGOING)


def captures_changes(migration_type: str) -> bool:
    return migration_type in {t.value for t in MigrationType if t.captures_changes}


def cdc_phase(
    snapshot: ReplicationTaskSnapshot, latency: CdcLatency | None, previous: CdcPhase | None
) -> CdcPhase | None:
    """The phase of a change-capturing task (None for full-load tasks and tasks not running); see the module."""
    if not captures_changes(snapshot.migration_type) or snapshot.status != TaskStatus.RUNNING:
        return None
    if snapshot.migration_type == MigrationType.CDC:
        return CdcPhase.ONGOING
    tables = snapshot.tables
    if not tables or not all(t.completed for t in tables) or snapshot.stats.full_load_progress_percent < 100:
        return CdcPhase.FULL_LOAD
    if previous is CdcPhase.ONGOING:
        return CdcPhase.ONGOING
    finished = snapshot.stats.full_load_finish_date
    if (
        latency is not None
        and latency.target_s is not None
        and latency.target_s <= CAUGHT_UP_S
        and (finished is None or latency.points_at is None or latency.points_at >= finished)
    ):
        return CdcPhase.ONGOING
    return CdcPhase.APPLYING_CACHED


def cdc_metrics_reader(
    environment: Environment,
    dms_client: Any,
    task_arn: str,
    instance_arn: str,
    *,
    cloudwatch_client: Any | None = None,
    interval_s: float = 5.0,
    now: Callable[[], dt.datetime] | None = None,
) -> CdcMetricsReader:
    """A reader for ``task_arn``'s CDC metrics on the replication instance ``instance_arn``: DMS's dimension is the
    instance's ReplicationInstanceIdentifier, looked up once (on AWS the ARN ends in a resource id, not the
    identifier); if the look-up fails, the ARN's last part (the sandbox's identifier)."""
    instance_id = instance_arn.rsplit(":", 1)[-1]
    try:
        found = dms_client.describe_replication_instances(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance_arn]}]
        ).get("ReplicationInstances", [])
        instance_id = str(found[0].get("ReplicationInstanceIdentifier") or instance_id) if found else instance_id
    except Exception:  # noqa: BLE001 - the metrics are a view; a wrong dimension only finds no data, said on screen
        pass
    extra: dict[str, Any] = {} if now is None else {"now": now}
    return CdcMetricsReader(
        cloudwatch_client if cloudwatch_client is not None else environment.client("cloudwatch"),
        instance_id,
        task_arn,
        interval_s=interval_s,
        cli_flags=environment.aws_cli_flags(),
        cli_environment=environment.aws_cli_environment(),
        **extra,
    )


# -- the demo workload --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadProgress:
    """About once a second while the demo workload writes."""

    rate: float
    changes: int
    inserts: int
    updates: int
    deletes: int
    elapsed_s: float


def run_demo_workload(
    environment: Environment,
    outputs: EnvironmentOutputs,
    stop: threading.Event,
    *,
    rate: float = DEMO_WORKLOAD_RATE,
    tables: list[str] | None = None,
    on_progress: Callable[[WorkloadProgress], None] | None = None,
) -> WorkloadStats:
    """Write ``rate`` changes/s to the source's tables until ``stop`` is set (blocking: run it in a thread)."""
    import psycopg

    from dms_tui.data.connect import connection_params, read_credentials
    from dms_tui.data.workload import run_workload

    credentials = read_credentials(environment, outputs.source.secret_arn)
    params = connection_params(credentials, environment, application_name="dms-tui workload")
    conninfo = psycopg.conninfo.make_conninfo("", **params)

    def tick(event: WorkloadTick) -> None:
        if on_progress is not None:
            s = event.stats
            on_progress(WorkloadProgress(rate, s.changes, s.inserts, s.updates, s.deletes, event.elapsed_s))

    return run_workload(conninfo, rate=rate, duration_s=0, tables=tables, stop=stop, on_tick=tick)
