"""Run checks in parallel, each with its own deadline, respecting what each check needs from earlier ones.

Every check runs in its own daemon thread as soon as the checks it needs have passed, so the whole run takes about
as long as the slowest chain of checks, not the sum. A check whose prerequisite failed is not run: it settles as
"skipped: because …". A check that overruns its deadline settles as failed at the deadline; its thread is
abandoned (daemon threads cannot block exit) and whatever it reports later is ignored. Checks pass the same
deadline to their own I/O, so abandoned threads end soon after on their own.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dms_tui import applog
from dms_tui.checks.result import (
    PASSING,
    CheckEvent,
    CheckFinished,
    CheckInfo,
    CheckResult,
    ChecksPlanned,
    CheckStarted,
    CheckStatus,
    Side,
    VerifyReport,
)

ClientFactory = Callable[[str], Any]

#: The runner's backstop fires this long after a check's own deadline, so a check that watches its deadline itself
#: reports its more specific message ("connected, but PostgreSQL did not answer") rather than a generic one.
BACKSTOP_GRACE = 0.3


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds identity and timing. ``command`` overrides the check's."""

    status: CheckStatus
    detail: str
    remedy: str = ""
    command: str | None = None


def ok(detail: str, *, command: str | None = None) -> Outcome:
    return Outcome("ok", detail, command=command)


def warn(detail: str, remedy: str = "", *, command: str | None = None) -> Outcome:
    return Outcome("warn", detail, remedy, command)


def fail(detail: str, remedy: str, *, command: str | None = None) -> Outcome:
    return Outcome("fail", detail, remedy, command)


class Facts:
    """What checks learn and later checks use (the secret, resolved addresses). In memory only, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._values[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, default)


@dataclass(frozen=True)
class CheckContext:
    """Handed to a running check: its deadline, the shared facts, and how to make AWS clients."""

    facts: Facts
    client: ClientFactory
    timeout: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        """Seconds left before this check's deadline (never below a small positive floor)."""
        return max(0.05, self.timeout - (time.monotonic() - self.started))


@dataclass(frozen=True)
class Check:
    """One probe: a function of the context, run once the checks in ``needs`` have passed."""

    id: str
    side: Side
    title: str
    run: Callable[[CheckContext], Outcome]
    timeout: float
    needs: tuple[str, ...] = ()
    command: str = ""
    timeout_remedy: str = "Something on the path is slow or stalls; run the command shown by hand to see where."

    @property
    def info(self) -> CheckInfo:
        return CheckInfo(self.id, self.side, self.title)


EventSink = Callable[[CheckEvent], None]


def ignore_event(_: CheckEvent) -> None:
    """The default event sink: nothing listens."""
    return None


def run_checks(
    checks: Sequence[Check],
    *,
    client: ClientFactory,
    on_event: EventSink = ignore_event,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Run ``checks`` concurrently and return every result in plan order."""
    events = check_events(checks, client=client, cancel=cancel)
    while True:
        try:
            on_event(next(events))
        except StopIteration as stop:
            report: VerifyReport = stop.value
            return report


#: What runs a checklist: yields its events as they happen and returns the report. Tests may replace it.
ChecklistRunner = Callable[..., Generator[CheckEvent, None, VerifyReport]]


def check_events(
    checks: Sequence[Check],
    *,
    client: ClientFactory,
    cancel: threading.Event | None = None,
) -> Generator[CheckEvent, None, VerifyReport]:
    """Run ``checks`` concurrently, yielding each event in the caller's thread; returns every result in plan order."""
    by_id = {c.id: c for c in checks}
    unknown = {need for c in checks for need in c.needs if need not in by_id}
    if unknown:
        raise ValueError(f"checks need unknown checks: {', '.join(sorted(unknown))}")
    started_all = time.monotonic()
    facts = Facts()
    finished: dict[str, CheckResult] = {}
    running: dict[str, tuple[Check, float]] = {}  # id -> (check, start time)
    done: queue.Queue[tuple[str, Outcome, float]] = queue.Queue()
    yield ChecksPlanned(tuple(c.info for c in checks))

    def settle(result: CheckResult) -> CheckFinished:
        finished[result.id] = result
        running.pop(result.id, None)
        return CheckFinished(result)

    def worker(check: Check, context: CheckContext) -> None:
        try:
            outcome = check.run(context)
        except Exception as exc:  # noqa: BLE001 - a broken check must become a row, not a crashed run
            log = applog.log_exception(f"check {check.id}", exc)
            outcome = fail(
                f"the check itself failed: {type(exc).__name__}: {exc}",
                f"This is a bug in dms-tui or an unexpected answer; {log} has the details.",
            )
        done.put((check.id, outcome, time.monotonic()))

    while len(finished) < len(checks):
        if cancel is not None and cancel.is_set():
            for check in checks:
                if check.id not in finished:
                    yield settle(_result(check, "skipped", 0.0, "skipped: because the run was cancelled", ""))
            break
        progressed = False
        for check in checks:
            if check.id in finished or check.id in running:
                continue
            blocking = [by_id[n] for n in check.needs if n not in finished]
            if blocking:
                continue
            failed = [by_id[n] for n in check.needs if not finished[n].passed]
            if failed:
                names = ", ".join(f"“{f.title}” ({f.side})" for f in failed)
                yield settle(_result(check, "skipped", 0.0, f"skipped: because {names} did not pass", ""))
                progressed = True
                continue
            now = time.monotonic()
            running[check.id] = (check, now)
            yield CheckStarted(check.id, check.side, check.title)
            context = CheckContext(facts=facts, client=client, timeout=check.timeout, started=now)
            threading.Thread(target=worker, args=(check, context), name=f"check-{check.id}", daemon=True).start()
        if not running:
            if not progressed:
                raise ValueError("the checks' needs form a cycle")
            continue  # skips settled above may unblock more checks
        wait = min(start + check.timeout + BACKSTOP_GRACE for check, start in running.values()) - time.monotonic()
        try:
            check_id, outcome, ended = done.get(timeout=max(0.0, wait))
        except queue.Empty:
            for expired in _overdue(running):
                yield settle(expired)
            continue
        if check_id in running:  # a late answer from an expired check is dropped
            check, start = running[check_id]
            yield settle(_result(check, outcome.status, ended - start, outcome.detail, outcome.remedy, outcome.command))
    results = tuple(finished[c.id] for c in checks)
    return VerifyReport(results=results, seconds=time.monotonic() - started_all)


def _overdue(running: Mapping[str, tuple[Check, float]]) -> list[CheckResult]:
    now = time.monotonic()
    return [
        _result(check, "fail", now - start, f"no answer within {check.timeout:.1f} s", check.timeout_remedy)
        for check, start in list(running.values())
        if now - start >= check.timeout + BACKSTOP_GRACE
    ]


def _result(
    check: Check, status: CheckStatus, duration: float, detail: str, remedy: str, command: str | None = None
) -> CheckResult:
    return CheckResult(
        id=check.id,
        side=check.side,
        title=check.title,
        status=status,
        duration=duration,
        detail=detail,
        remedy=remedy,
        command=command if command is not None else check.command,
    )


# Re-exported for check modules, which only need these names from the runner.
__all__ = [
    "PASSING",
    "Check",
    "CheckContext",
    "ChecklistRunner",
    "ClientFactory",
    "EventSink",
    "Facts",
    "Outcome",
    "fail",
    "ignore_event",
    "ok",
    "check_events",
    "run_checks",
    "warn",
]
