"""A pure reducer from terraform events to what a progress view shows: counts, per-resource state, elapsed times.

``reduce_event(progress, event) -> progress`` never mutates its input and reads no clock: start times come from the
events' own timestamps, and the view passes ``now`` when it asks how long a resource has been running, so a resource
that Aurora keeps busy for minutes reads "still creating 6m10s" between terraform's 10-second progress lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from dms_tui.domain.units import format_duration
from dms_tui.provision.events import (
    ApplyComplete,
    ApplyErrored,
    ApplyProgress,
    ApplyStart,
    ChangeSummary,
    CommandFinished,
    Diagnostic,
    Outputs,
    PlannedChange,
    ResourceDrift,
    ResourceEvent,
    TerraformEvent,
)

ResourceState = Literal[
    "pending", "creating", "created", "updating", "updated", "destroying", "destroyed", "reading", "read", "failed"
]

# Planned actions that are not work to wait for.
_NOT_WORK = frozenset({"noop", "move", "forget", "remove"})
_RUNNING: dict[str, ResourceState] = {
    "create": "creating",
    "update": "updating",
    "delete": "destroying",
    "read": "reading",
}
_FINISHED: dict[str, ResourceState] = {
    "create": "created",
    "update": "updated",
    "delete": "destroyed",
    "read": "read",
}
_VERB = {"creating": "creating", "updating": "modifying", "destroying": "destroying", "reading": "reading"}


def format_elapsed(seconds: float) -> str:
    """``45s``, ``6m10s``, ``1h02m``: compact enough for a table cell at 80 columns."""
    return format_duration(seconds, coarse=True)


@dataclass(frozen=True, slots=True)
class ResourceProgress:
    """One resource instance of the run."""

    address: str
    module: str
    resource_type: str
    planned_action: str
    state: ResourceState = "pending"
    started_at: float | None = None
    finished_at: float | None = None
    reported_elapsed: float = 0.0  # terraform's own elapsed_seconds from the last progress/complete line
    completed_actions: tuple[str, ...] = ()
    id_value: str = ""
    data_source: bool = False

    @property
    def is_work(self) -> bool:
        """Counts towards the progress bar: a managed resource with something planned (data reads do not)."""
        return not self.data_source and self.planned_action not in _NOT_WORK

    @property
    def done(self) -> bool:
        """Finished its planned work (a replace needs both its delete and its create)."""
        if self.state == "failed":
            return False
        if self.planned_action == "replace":
            return {"create", "delete"} <= set(self.completed_actions)
        return bool(self.completed_actions) and self.state in ("created", "updated", "destroyed", "read")

    @property
    def running(self) -> bool:
        return self.state in _VERB

    def elapsed(self, now: float | None = None) -> float:
        """Seconds spent so far (or in total once finished); uses ``now`` while running when given."""
        if self.started_at is not None:
            end = self.finished_at if self.finished_at is not None else now
            if end is not None:
                return max(self.reported_elapsed, end - self.started_at)
        return self.reported_elapsed

    def describe(self, now: float | None = None) -> str:
        """``still creating 6m10s``, ``created in 12s``, ``failed after 3s``, ``pending``."""
        elapsed = format_elapsed(self.elapsed(now))
        if self.running:
            return f"still {_VERB[self.state]} {elapsed}"
        if self.state == "failed":
            return f"failed after {elapsed}"
        if self.state == "pending":
            return "pending"
        return f"{self.state} in {elapsed}"


def _empty_resources() -> Mapping[str, ResourceProgress]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ProvisionProgress:
    """Everything a progress view needs after some events."""

    resources: Mapping[str, ResourceProgress] = field(default_factory=_empty_resources)
    plan_summary: ChangeSummary | None = None
    final_summary: ChangeSummary | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    drift: tuple[ResourceDrift, ...] = ()
    outputs: Outputs | None = None
    finished: CommandFinished | None = None
    last_event_at: float | None = None

    @property
    def planned(self) -> int:
        """Resources with work to do: the denominator of the progress bar."""
        return sum(1 for r in self.resources.values() if r.is_work)

    @property
    def done(self) -> int:
        return sum(1 for r in self.resources.values() if r.is_work and r.done)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.resources.values() if r.state == "failed")

    @property
    def running(self) -> tuple[ResourceProgress, ...]:
        return tuple(r for r in self.resources.values() if r.running)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def fraction(self) -> float:
        return self.done / self.planned if self.planned else (1.0 if self.finished else 0.0)

    def by_module(self) -> dict[str, list[ResourceProgress]]:
        """Resources grouped by module address ("" is the root module), in first-seen order."""
        groups: dict[str, list[ResourceProgress]] = {}
        for resource in self.resources.values():
            groups.setdefault(resource.module, []).append(resource)
        return groups


def _touch(progress: ProvisionProgress, event: ResourceEvent) -> ResourceProgress:
    existing = progress.resources.get(event.address)
    if existing is not None:
        return existing
    # A resource seen first in a hook (e.g. `apply` without planned_change lines, or `destroy`'s refresh phase).
    return ResourceProgress(
        address=event.address,
        module=event.module,
        resource_type=event.resource_type,
        planned_action=event.action,
        data_source=event.data_source,
    )


def _with(progress: ProvisionProgress, resource: ResourceProgress, at: float | None) -> ProvisionProgress:
    resources = dict(progress.resources)
    resources[resource.address] = resource
    return replace(progress, resources=MappingProxyType(resources), last_event_at=at or progress.last_event_at)


def reduce_event(progress: ProvisionProgress, event: TerraformEvent) -> ProvisionProgress:
    """The progress after ``event``; events that change nothing return ``progress`` itself."""
    if isinstance(event, PlannedChange):
        resource = replace(_touch(progress, event), planned_action=event.action)
        return _with(progress, resource, event.at)
    if isinstance(event, ApplyStart):
        resource = _touch(progress, event)
        resource = replace(
            resource,
            state=_RUNNING.get(event.action, "creating"),
            started_at=event.at,
            finished_at=None,
            reported_elapsed=0.0,
            id_value=event.id_value or resource.id_value,
        )
        return _with(progress, resource, event.at)
    if isinstance(event, ApplyProgress):
        resource = _touch(progress, event)
        resource = replace(resource, state=_RUNNING.get(event.action, resource.state), reported_elapsed=event.elapsed)
        if resource.started_at is None and event.at is not None:
            resource = replace(resource, started_at=event.at - event.elapsed)
        return _with(progress, resource, event.at)
    if isinstance(event, ApplyComplete):
        resource = _touch(progress, event)
        resource = replace(
            resource,
            state=_FINISHED.get(event.action, "created"),
            finished_at=event.at,
            reported_elapsed=event.elapsed,
            completed_actions=(*resource.completed_actions, event.action),
            id_value=event.id_value or resource.id_value,
        )
        return _with(progress, resource, event.at)
    if isinstance(event, ApplyErrored):
        resource = replace(
            _touch(progress, event), state="failed", finished_at=event.at, reported_elapsed=event.elapsed
        )
        return _with(progress, resource, event.at)
    if isinstance(event, ChangeSummary):
        if event.operation == "plan":
            return replace(progress, plan_summary=event)
        return replace(progress, final_summary=event)
    if isinstance(event, Diagnostic):
        return replace(progress, diagnostics=(*progress.diagnostics, event))
    if isinstance(event, ResourceDrift):
        return replace(progress, drift=(*progress.drift, event))
    if isinstance(event, Outputs):
        return replace(progress, outputs=event)
    if isinstance(event, CommandFinished):
        return replace(progress, finished=event)
    return progress


def reduce_events(events: Iterable[TerraformEvent], start: ProvisionProgress | None = None) -> ProvisionProgress:
    """Fold a whole stream."""
    progress = start if start is not None else ProvisionProgress()
    for event in events:
        progress = reduce_event(progress, event)
    return progress
