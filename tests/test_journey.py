"""The journey's checkpoint: a person who loses the terminal resumes where they were."""

from __future__ import annotations

from dms_tui.journey import (
    STEPS,
    CutoverRecord,
    DiffRecord,
    PrepareRecord,
    Step,
    TaskRecord,
    VerifyRecord,
    WizardState,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)


def test_a_new_journey_starts_at_configure_with_later_steps_blocked() -> None:
    state = WizardState(env="dev", mode="sandbox")
    assert state.current is Step.CONFIGURE
    assert not state.blocked(Step.CONFIGURE)
    assert state.blocked(Step.PROVISION) and state.blocked(Step.DIFF)
    assert not state.blocked(Step.CLEANUP)


def test_completing_steps_moves_on_and_unblocks_the_next() -> None:
    state = WizardState(env="dev", mode="sandbox").complete(Step.CONFIGURE).complete(Step.PROVISION)
    assert state.current is Step.VERIFY
    assert state.done == (Step.CONFIGURE, Step.PROVISION)
    assert not state.blocked(Step.VERIFY)
    assert state.blocked(Step.PREPARE)


def test_checkpoint_round_trip_is_lossless() -> None:
    state = WizardState(
        env="demo",
        mode="aws",
        task=TaskRecord(identifier="abc", table_mappings='{"rules": []}', arn="arn:aws:dms:us-east-1:1:task:ABC"),
        diff=DiffRecord(identical=True, tables=1, differences=0),
        verify=VerifyRecord(passed=True, counts={"ok": 22}, seconds=1.5),
        prepare=PrepareRecord(source_rows=4, primary_key=True, target_database="demo_db"),
        cutover=CutoverRecord(ok=True, freeze_seconds=4.2, diff_identical=True, sequences_set=2, task_status="stopped"),
    ).complete(Step.CONFIGURE)
    path = save_checkpoint(state)
    assert path == checkpoint_path("demo", "aws")
    assert load_checkpoint("demo", "aws") == state


def test_a_missing_or_corrupt_checkpoint_means_a_fresh_start() -> None:
    assert load_checkpoint("nothing", "aws") is None
    checkpoint_path("broken", "aws").write_text("{not json")
    assert load_checkpoint("broken", "aws") is None


def test_a_checkpoint_written_before_typed_records_still_resumes() -> None:
    """Given a checkpoint with the old string-keyed `extra`, the journey resumes with typed records."""
    old = {
        "env": "dev",
        "mode": "sandbox",
        "current": "diff",
        "done": ["configure", "provision", "verify", "prepare", "migrate"],
        "task_arn": "arn:task:OLD",
        "last_diff": {"identical": False, "tables": 1, "differences": 3},
        "extra": {"task_identifier": "demo-task", "table_mappings": "{}", "verify": {"passed": True}},
    }
    state = WizardState.from_json(old)
    assert state.task == TaskRecord(identifier="demo-task", table_mappings="{}", arn="arn:task:OLD")
    assert state.diff == DiffRecord(identical=False, tables=1, differences=3)
    assert state.verify == VerifyRecord(passed=True)
    assert state.current is Step.DIFF


def test_falling_back_drops_the_later_records_and_keeps_the_why_until_that_step_succeeds() -> None:
    from dms_tui.journey import STEPS, Journey, Setback

    journey = Journey("dev", "sandbox")
    for step in STEPS[:6]:
        journey.complete(step)
    journey.update(
        outputs={"any": 1},
        verify=VerifyRecord(passed=True),
        task=TaskRecord(identifier="t", table_mappings="{}", arn="arn:t", status="stopped", rows=4),
        diff=DiffRecord(identical=True),
    )
    setback = Setback(Step.PROVISION, "terraform apply failed (exit 1).", "InvalidSubnet", "Back to Review")
    state = journey.fall_back(Step.CONFIGURE, setback)
    assert state.current is Step.CONFIGURE and state.done == ()
    assert state.outputs is None and state.verify is None and state.diff is None
    assert state.task == TaskRecord(identifier="t", table_mappings="{}")
    assert load_checkpoint("dev", "sandbox") == state  # the why survives a restart
    assert journey.complete(Step.CONFIGURE).setback == setback  # not yet: Provision has not succeeded
    assert journey.complete(Step.PROVISION).setback is None


def test_a_finished_journey_is_one_whose_steps_up_to_diff_are_done() -> None:
    from dms_tui.journey import STEPS

    state = WizardState(env="dev", mode="sandbox")
    for step in STEPS[: STEPS.index(Step.DIFF) + 1]:
        assert not state.finished
        state = state.complete(step)
    assert state.finished and state.current is Step.CUTOVER


def test_falling_back_to_cutover_or_earlier_drops_the_cutover_record() -> None:
    record = CutoverRecord(ok=True, freeze_seconds=1.0, diff_identical=True, target_endpoint="host:5432/demo_db")
    state = WizardState(env="demo", mode="sandbox", cutover=record)
    for step in STEPS[: STEPS.index(Step.CUTOVER)]:
        state = state.complete(step)
    state = state.complete(Step.CUTOVER)
    assert state.current is Step.CLEANUP and state.fall_back(Step.CLEANUP).cutover == record
    assert state.fall_back(Step.CUTOVER).cutover is None
    assert state.fall_back(Step.MIGRATE).cutover is None
