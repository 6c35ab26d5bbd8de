"""A scripted DMS client for Migrate screen tests: real API shapes, every request checked against botocore's model.

moto has no DescribeTableStatistics or ReloadTables and never moves a task past ``creating`` by itself, so a screen
test that must watch tables load needs its own control plane. This one answers from a script (one task state per
poll once the task is started) and validates each request's parameters with botocore's own validator, so a call the
real API would reject fails the test here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

REGION = "us-east-1"
_MODEL = botocore.session.get_session().get_service_model("dms")
T0 = dt.datetime(2026, 1, 5, 9, 30, 0, tzinfo=dt.UTC)


def table(schema: str, name: str, state: str, rows: int = 0, **extra: Any) -> dict[str, Any]:
    """One DescribeTableStatistics entry."""
    return {"SchemaName": schema, "TableName": name, "TableState": state, "FullLoadRows": rows, **extra}


@dataclass
class Step:
    """One poll's answer: task status, its stats and the table statistics (None: not started, no statistics)."""

    status: str
    progress: int = 0
    tables: Sequence[dict[str, Any]] | None = None
    stop_reason: str | None = None
    failure: str | None = None
    elapsed_ms: int = 0

    def stats(self) -> dict[str, Any]:
        tables = self.tables or []
        return {
            "FullLoadProgressPercent": self.progress,
            "ElapsedTimeMillis": self.elapsed_ms,
            "TablesLoaded": sum(1 for t in tables if t["TableState"] == "Table completed"),
            "TablesLoading": sum(1 for t in tables if t["TableState"] == "Full load"),
            "TablesQueued": sum(1 for t in tables if t["TableState"] == "Before load"),
            "TablesErrored": sum(1 for t in tables if t["TableState"] == "Table error"),
        }


@dataclass
class ScriptedDms:
    """Answers as a DMS control plane would while ``script`` plays, one step per DescribeReplicationTasks."""

    script: list[Step]
    meta: Any = field(default_factory=lambda: SimpleNamespace(endpoint_url="http://127.0.0.1:5999", region_name=REGION))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    resume_script: list[Step] = field(default_factory=list)  # what a start after a stop plays
    task: dict[str, Any] | None = None
    position: int = -1  # index of the step last answered; -1 before the first poll after a start
    started: bool = False
    deleted: bool = False

    def _check(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, _MODEL.operation_model(operation).input_shape)
        self.calls.append((operation, params))

    @property
    def step(self) -> Step:
        if not self.started:
            return Step("ready")
        return self.script[max(0, min(self.position, len(self.script) - 1))]

    def _task_dict(self) -> dict[str, Any]:
        assert self.task is not None
        step = self.step
        answer = {**self.task, "Status": step.status, "ReplicationTaskStats": step.stats()}
        if step.stop_reason:
            answer["StopReason"] = step.stop_reason
        if step.failure:
            answer["LastFailureMessage"] = step.failure
        return answer

    # -- the API -------------------------------------------------------------------------------------------------------

    def create_replication_task(self, **params: Any) -> dict[str, Any]:
        self._check("CreateReplicationTask", params)
        self.task = {
            "ReplicationTaskIdentifier": params["ReplicationTaskIdentifier"],
            "ReplicationTaskArn": f"arn:aws:dms:{REGION}:123456789012:task:SCRIPTED",
            "MigrationType": params["MigrationType"],
            "TableMappings": params["TableMappings"],
        }
        self.deleted = False
        return {"ReplicationTask": {**self.task, "Status": "creating"}}

    def describe_replication_tasks(self, **params: Any) -> dict[str, Any]:
        self._check("DescribeReplicationTasks", params)
        if self.task is None or self.deleted:
            return {"ReplicationTasks": []}
        wanted = params["Filters"][0]
        key = "ReplicationTaskArn" if wanted["Name"] == "replication-task-arn" else "ReplicationTaskIdentifier"
        if self.task[key] not in wanted["Values"]:
            return {"ReplicationTasks": []}
        if self.started and wanted["Name"] == "replication-task-arn":
            self.position += 1  # the task moves on between polls
        return {"ReplicationTasks": [self._task_dict()]}

    def start_replication_task(self, **params: Any) -> dict[str, Any]:
        self._check("StartReplicationTask", params)
        if self.started:  # a resume or reload plays resume_script (or holds where the task is)
            self.script = self.resume_script or [self.step]
        self.started, self.position = True, -1
        return {"ReplicationTask": {**self._task_dict(), "Status": "starting"}}

    def stop_replication_task(self, **params: Any) -> dict[str, Any]:
        self._check("StopReplicationTask", params)
        now = self.step
        rest = [
            Step("stopping", now.progress, now.tables),
            Step("stopped", now.progress, now.tables, "Stop Reason STOPPED"),
        ]
        self.script = [*self.script[: self.position + 1], *rest]  # holds at "stopped" until started again
        return {"ReplicationTask": {**self._task_dict(), "Status": "stopping"}}

    def delete_replication_task(self, **params: Any) -> dict[str, Any]:
        self._check("DeleteReplicationTask", params)
        answer = {"ReplicationTask": {**self._task_dict(), "Status": "deleting"}}
        self.deleted = True
        return answer

    def reload_tables(self, **params: Any) -> dict[str, Any]:
        self._check("ReloadTables", params)
        if self.step.status != "running":
            raise ClientError(
                {"Error": {"Code": "InvalidResourceStateFault", "Message": "Task is not running"}}, "ReloadTables"
            )
        return {"ReplicationTaskArn": params["ReplicationTaskArn"]}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_table_statistics"
        client = self

        class Paginator:
            def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
                params = dict(params)
                params.pop("PaginationConfig", None)
                client._check("DescribeTableStatistics", params)
                tables = client.step.tables
                if tables is None:
                    raise ClientError(
                        {"Error": {"Code": "InvalidResourceStateFault", "Message": "not started"}},
                        "DescribeTableStatistics",
                    )
                yield {"TableStatistics": list(tables)}

        return Paginator()

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


class FixedClock:
    """``now`` for the poller: each call is ``step`` seconds after the previous one (no live clock in the screen)."""

    def __init__(self, start: dt.datetime = T0, step_s: float = 2.0) -> None:
        self.next, self.step = start, dt.timedelta(seconds=step_s)

    def __call__(self) -> dt.datetime:
        value, self.next = self.next, self.next + self.step
        return value
