"""Typed results and progress events of the reachability checks.

A screen renders a live checklist from these events (a row per ``CheckInfo`` from ``ChecksPlanned``, a spinner on
``CheckStarted``, the settled row on ``CheckFinished``); the headless ``dms-tui verify`` renders the same events with
rich and prints ``VerifyReport.to_json()`` for ``--json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CheckStatus = Literal["ok", "warn", "fail", "skipped"]
Side = Literal["source", "target", "environment"]

#: Statuses that count as passing: a warning is shown but does not fail the run.
PASSING: frozenset[str] = frozenset({"ok", "warn"})


@dataclass(frozen=True)
class CheckInfo:
    """What will be checked, known before anything runs (the checklist's rows)."""

    id: str
    side: Side
    title: str


@dataclass(frozen=True)
class CheckResult:
    """How one check ended. ``command`` is what a person could run by hand to see the same thing."""

    id: str
    side: Side
    title: str
    status: CheckStatus
    duration: float
    detail: str
    remedy: str = ""
    command: str = ""

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "side": self.side,
            "title": self.title,
            "status": self.status,
            "duration": round(self.duration, 3),
            "detail": self.detail,
            "remedy": self.remedy,
            "command": self.command,
        }


@dataclass(frozen=True)
class ChecksPlanned:
    checks: tuple[CheckInfo, ...]


@dataclass(frozen=True)
class CheckStarted:
    id: str
    side: Side
    title: str


@dataclass(frozen=True)
class CheckFinished:
    result: CheckResult


CheckEvent = ChecksPlanned | CheckStarted | CheckFinished


@dataclass(frozen=True)
class VerifyReport:
    """Every check's result in plan order, and the wall-clock time of the whole run."""

    results: tuple[CheckResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        """True only when every check passed (ok or warn); a skipped check means something upstream failed."""
        return all(r.passed for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {"ok": 0, "warn": 0, "fail": 0, "skipped": 0}
        for result in self.results:
            counts[result.status] += 1
        return counts

    def by_id(self, check_id: str) -> CheckResult:
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "checks": [r.to_json() for r in self.results],
        }
