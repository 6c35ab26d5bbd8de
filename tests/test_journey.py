"""The journey's checkpoint: a person who loses the terminal resumes where they were."""

from __future__ import annotations

from dms_tui.journey import Step, WizardState, checkpoint_path, load_checkpoint, save_checkpoint


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
        task_arn="arn:aws:dms:us-east-1:123456789012:task:ABC",
        last_diff={"identical": True, "tables": 1, "differences": 0},
    ).complete(Step.CONFIGURE)
    path = save_checkpoint(state)
    assert path == checkpoint_path("demo", "aws")
    assert load_checkpoint("demo", "aws") == state


def test_a_missing_or_corrupt_checkpoint_means_a_fresh_start() -> None:
    assert load_checkpoint("nothing", "aws") is None
    checkpoint_path("broken", "aws").write_text("{not json")
    assert load_checkpoint("broken", "aws") is None
