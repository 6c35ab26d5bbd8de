"""Read a DMS task's CDC latency and change counts from CloudWatch, with the `aws cloudwatch get-metric-data` line.

DMS publishes ``CDCLatencySource``, ``CDCLatencyTarget``, ``CDCIncomingChanges``, ``CDCThroughputRowsSource`` and
``CDCThroughputRowsTarget`` in the ``AWS/DMS`` namespace with the dimensions ``ReplicationInstanceIdentifier`` and
``ReplicationTaskIdentifier`` (the task's resource id: the last part of its ARN). The sandbox's data plane publishes
the same five into moto's CloudWatch, so one GetMetricData call serves both modes.

The period is 10 s: on AWS the metrics are one-minute data, so a 10-second period returns one point per minute (the
latest is still the first in TimestampDescending order); the sandbox publishes every few seconds and gets a point per
10 s, which makes the sparkline move. Polling follows :class:`dms_tui.aws.task_poller.TaskPoller`'s rule: the next
read is scheduled after the answer, so reads never pile up.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.aws.cli_command import AwsCliCommand, render_aws_cli

NAMESPACE = "AWS/DMS"
PERIOD_S = 10
WINDOW_S = 600  # how far back one read looks (one-minute AWS data needs at least a couple of minutes)

#: GetMetricData query id -> metric name (ids must start with a lower-case letter).
METRICS: Mapping[str, str] = {
    "latencysource": "CDCLatencySource",
    "latencytarget": "CDCLatencyTarget",
    "incoming": "CDCIncomingChanges",
    "throughputsource": "CDCThroughputRowsSource",
    "throughputtarget": "CDCThroughputRowsTarget",
}


def task_resource_id(task_arn: str) -> str:
    """The ``ReplicationTaskIdentifier`` dimension DMS uses: the last part of the task ARN."""
    return task_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class CdcLatency:
    """The latest value of each CDC metric (None where CloudWatch has no point yet)."""

    taken_at: dt.datetime
    source_s: float | None
    target_s: float | None
    incoming_changes: float | None
    throughput_source: float | None
    throughput_target: float | None
    points_at: dt.datetime | None = None  # when the newest point was published

    @property
    def has_data(self) -> bool:
        return self.source_s is not None or self.target_s is not None


@dataclass(frozen=True)
class CdcMetricsUnavailable:
    """GetMetricData did not answer (throttled, denied, unreachable); the next read is in ``retry_in_s``."""

    message: str
    retry_in_s: float
    taken_at: dt.datetime


CdcMetricsEvent = CdcLatency | CdcMetricsUnavailable


def metric_data_params(instance_identifier: str, task_arn: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """GetMetricData's parameters for the five CDC metrics of one task (the one place they are built)."""
    dimensions = [
        {"Name": "ReplicationInstanceIdentifier", "Value": instance_identifier},
        {"Name": "ReplicationTaskIdentifier", "Value": task_resource_id(task_arn)},
    ]
    return {
        "MetricDataQueries": [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": dimensions},
                    "Period": PERIOD_S,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
            for query_id, name in METRICS.items()
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    }


def _whole_seconds(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(microsecond=0)


class CdcMetricsReader:
    """Reads one task's CDC metrics; see the module docstring. One consumer per reader."""

    def __init__(
        self,
        client: Any,
        instance_identifier: str,
        task_arn: str,
        *,
        interval_s: float = 5.0,
        failing_max_s: float = 60.0,
        cli_flags: Sequence[str] = (),
        cli_environment: Mapping[str, str] | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.instance_identifier = instance_identifier
        self.task_arn = task_arn
        self.interval_s = interval_s
        self.failing_max_s = failing_max_s
        self.cli_flags = tuple(cli_flags)
        self.cli_environment = dict(cli_environment or {})
        self._now = now
        self._delay = interval_s

    def params(self) -> dict[str, Any]:
        end = _whole_seconds(self._now()) + dt.timedelta(seconds=1)
        return metric_data_params(self.instance_identifier, self.task_arn, end - dt.timedelta(seconds=WINDOW_S), end)

    def command(self, *, file_threshold: int | None = None) -> AwsCliCommand:
        """The `aws cloudwatch get-metric-data` line equivalent to one read (the queries inline unless longer than
        ``file_threshold``: then a file:// document in ``files``)."""
        return render_aws_cli(
            "cloudwatch",
            "GetMetricData",
            self.params(),
            global_flags=self.cli_flags,
            environment=self.cli_environment,
            file_threshold=file_threshold,
        )

    def read_once(self) -> CdcMetricsEvent:
        """One GetMetricData call; API errors become :class:`CdcMetricsUnavailable`, never an exception."""
        try:
            response = self.client.get_metric_data(**self.params())
        except (ClientError, BotoCoreError) as exc:
            self._delay = min(max(self._delay, self.interval_s) * 2, self.failing_max_s)
            if isinstance(exc, ClientError):
                error = exc.response.get("Error", {})
                message = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
            else:
                message = str(exc)
            return CdcMetricsUnavailable(message, self._delay, self._now())
        self._delay = self.interval_s
        return latency_from_response(response, self._now())

    def events(self, stop: threading.Event | None = None) -> Iterator[CdcMetricsEvent]:
        """Read until ``stop`` is set; the pause starts after each answer (reads never overlap)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            yield self.read_once()
            if stop.wait(self._delay):
                return


def latency_from_response(response: Mapping[str, Any], taken_at: dt.datetime) -> CdcLatency:
    """The newest value of each metric in a GetMetricData answer (TimestampDescending: the first one)."""
    latest: dict[str, float | None] = dict.fromkeys(METRICS)
    newest: dt.datetime | None = None
    for result in response.get("MetricDataResults", []):
        query_id = result.get("Id")
        values = result.get("Values") or []
        stamps = result.get("Timestamps") or []
        if query_id in latest and values:
            pairs = sorted(zip(stamps, values, strict=False), key=lambda p: p[0], reverse=True)
            latest[query_id] = float(pairs[0][1]) if pairs else float(values[0])
            if pairs and isinstance(pairs[0][0], dt.datetime) and (newest is None or pairs[0][0] > newest):
                newest = pairs[0][0]
    return CdcLatency(
        taken_at=taken_at,
        source_s=latest["latencysource"],
        target_s=latest["latencytarget"],
        incoming_changes=latest["incoming"],
        throughput_source=latest["throughputsource"],
        throughput_target=latest["throughputtarget"],
        points_at=newest,
    )
