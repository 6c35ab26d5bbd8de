"""The runner's promises, with plain functions for checks: order, skips, deadlines, broken checks, cancel."""

from __future__ import annotations

import threading
import time

import pytest

from dms_tui.checks.result import CheckEvent, CheckFinished, CheckStarted
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, run_checks


def _check(check_id: str, run: object, *, needs: tuple[str, ...] = (), timeout: float = 2.0) -> Check:
    return Check(id=check_id, side="source", title=check_id.title(), run=run, timeout=timeout, needs=needs)  # type: ignore[arg-type]


def _sleep(seconds: float, outcome: Outcome) -> object:
    def run(ctx: CheckContext) -> Outcome:
        time.sleep(seconds)
        return outcome

    return run


def test_a_check_that_overruns_fails_at_its_deadline_and_its_late_answer_is_dropped() -> None:
    events: list[CheckEvent] = []
    report = run_checks(
        [_check("slow", _sleep(1.5, ok("late")), timeout=0.2), _check("quick", _sleep(0.0, ok("fine")))],
        client=lambda s: None,
        on_event=events.append,
    )
    slow = report.by_id("slow")
    assert slow.status == "fail" and "no answer within 0.2 s" in slow.detail and slow.duration < 1.0
    assert report.seconds < 1.2
    assert len([e for e in events if isinstance(e, CheckFinished)]) == 2


def test_needs_skip_with_the_reason_and_pass_facts_along() -> None:
    def learn(ctx: CheckContext) -> Outcome:
        ctx.facts.set("answer", 42)
        return ok("learned")

    def use(ctx: CheckContext) -> Outcome:
        return ok(f"got {ctx.facts.get('answer')}")

    report = run_checks(
        [
            _check("learn", learn),
            _check("use", use, needs=("learn",)),
            _check("broken", _sleep(0, fail("down", "fix it"))),
            _check("after", _sleep(0, ok("never")), needs=("broken", "learn")),
            _check("later", _sleep(0, ok("never")), needs=("after",)),
        ],
        client=lambda s: None,
    )
    assert report.by_id("use").detail == "got 42"
    assert report.by_id("after").detail == "skipped: because “Broken” (source) did not pass"
    assert report.by_id("later").status == "skipped" and "“After”" in report.by_id("later").detail
    assert not report.passed and report.counts() == {"ok": 2, "warn": 0, "fail": 1, "skipped": 2}


def test_a_check_that_raises_becomes_a_failed_row_not_a_crash() -> None:
    def broken(ctx: CheckContext) -> Outcome:
        raise KeyError("surprise")

    report = run_checks([_check("broken", broken)], client=lambda s: None)
    assert report.by_id("broken").status == "fail" and "KeyError" in report.by_id("broken").detail


def test_cancel_settles_every_pending_check_as_skipped() -> None:
    cancel = threading.Event()
    started = threading.Event()

    def cancelling(ctx: CheckContext) -> Outcome:
        started.set()
        cancel.set()
        return ok("done")

    events: list[CheckEvent] = []
    report = run_checks(
        [_check("first", cancelling), _check("second", _sleep(0, ok("x")), needs=("first",))],
        client=lambda s: None,
        on_event=events.append,
        cancel=cancel,
    )
    assert started.is_set()
    assert report.by_id("second").status == "skipped" and "cancelled" in report.by_id("second").detail
    assert not any(isinstance(e, CheckStarted) and e.id == "second" for e in events)


def test_needs_that_cannot_be_met_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="unknown"):
        run_checks([_check("a", _sleep(0, ok("x")), needs=("ghost",))], client=lambda s: None)
    with pytest.raises(ValueError, match="cycle"):
        run_checks(
            [_check("a", _sleep(0, ok("x")), needs=("b",)), _check("b", _sleep(0, ok("x")), needs=("a",))],
            client=lambda s: None,
        )
