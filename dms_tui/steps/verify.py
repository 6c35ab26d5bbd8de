"""Verify: prove every hop of the PrivateLink path, from the bastion and from DMS, before any data moves.

``run_verify`` runs the reachability checklist (dms_tui.checks, 22 checks in parallel) against the environment's
provisioned outputs and yields the checks' own events as they happen (``ChecksPlanned``, ``CheckStarted``,
``CheckFinished``), then ``VerifyDone`` with the report. The run is recorded in the journey (``VerifyRecord``;
a passing run also marks the step done), so the wizard and ``dms-tui verify`` leave the same trace.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from dms_tui.checks.aws_errors import caching_client_factory
from dms_tui.checks.plan import VerifyOptions, build_checks
from dms_tui.checks.result import CheckEvent, CheckFinished, ChecksPlanned, CheckStarted, VerifyReport
from dms_tui.checks.runner import ChecklistRunner, ClientFactory, check_events
from dms_tui.environment import Environment
from dms_tui.journey import Journey, Step, VerifyRecord
from dms_tui.report.evidence import record_verify

__all__ = [
    "CheckFinished",
    "CheckStarted",
    "ChecksPlanned",
    "VerifyDone",
    "VerifyEvent",
    "VerifyOptions",
    "options_for",
    "run_verify",
    "summary_line",
    "verify_command_line",
]


@dataclass(frozen=True)
class VerifyDone:
    """The last event: every check's result, and what was recorded in the journey."""

    report: VerifyReport
    record: VerifyRecord

    @property
    def passed(self) -> bool:
        return self.report.passed


VerifyEvent = CheckEvent | VerifyDone


def verify_argv(environment: Environment, options: VerifyOptions | None = None) -> list[str]:
    """`dms-tui verify` for the same environment (and the same deadlines, when they differ from its defaults)."""
    argv = ["dms-tui", "verify", *environment.cli_flags()]
    if options is not None:
        defaults = VerifyOptions.for_target(environment)
        if options.network_timeout != defaults.network_timeout:
            argv += ["--timeout", f"{options.network_timeout:g}"]
        if options.dms_timeout != defaults.dms_timeout:
            argv += ["--dms-timeout", f"{options.dms_timeout:g}"]
    return argv


def verify_command_line(environment: Environment, options: VerifyOptions | None = None) -> str:
    return shlex.join(verify_argv(environment, options))


def options_for(
    environment: Environment, *, timeout: float | None = None, dms_timeout: float | None = None
) -> VerifyOptions:
    """The environment's deadlines; ``timeout`` replaces the API and network ones, ``dms_timeout`` DMS's own."""
    defaults = VerifyOptions.for_target(environment)
    return VerifyOptions(
        api_timeout=timeout or defaults.api_timeout,
        network_timeout=timeout or defaults.network_timeout,
        dms_timeout=dms_timeout or defaults.dms_timeout,
        dms_poll_interval=defaults.dms_poll_interval,
    )


def run_verify(
    environment: Environment,
    journey: Journey | None = None,
    *,
    options: VerifyOptions | None = None,
    cancel: threading.Event | None = None,
    runner: ChecklistRunner | None = None,
    client: ClientFactory | None = None,
) -> Iterator[VerifyEvent]:
    """Run the checklist on the environment's outputs; yields each check event, then ``VerifyDone``.

    Raises StepError (before any check runs) when the environment has not been provisioned. ``runner`` replaces
    the parallel runner (tests script fixed outcomes); ``client`` the boto3 client factory.
    """
    outputs = environment.require_outputs()
    checks = build_checks(environment, outputs, options or VerifyOptions.for_target(environment))
    run = runner or check_events
    report: VerifyReport = yield from run(checks, client=client or caching_client_factory(environment), cancel=cancel)
    record = VerifyRecord(passed=report.passed, counts=report.counts(), seconds=round(report.seconds, 3))
    if journey is not None:
        if report.passed:
            journey.complete(Step.VERIFY, verify=record)
        else:
            journey.update(verify=record)
        record_verify(journey, report, verify_command_line(environment, options))  # each check's time, for the report
    yield VerifyDone(report, record)


def summary_line(report: VerifyReport) -> str:
    """ "20 ok, 2 warning(s), 0 failed, 0 skipped in 1.4 s": the same words on the screen and headless."""
    counts = report.counts()
    return (
        f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed, {counts['skipped']} skipped "
        f"in {report.seconds:.1f} s"
    )
