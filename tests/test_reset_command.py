"""`dms-tui reset`: the journey starts over only after cleanup or with --force, saying what still runs."""

from __future__ import annotations

import json

import pytest

from dms_tui import exit_codes
from dms_tui.cli import main
from dms_tui.journey import STEPS, Journey, Setback, Step, load_checkpoint


def _walked(mode: str = "aws", *, outputs: bool = True) -> Journey:
    journey = Journey("demo", mode)
    journey.save_config(journey.config)
    for step in STEPS[:6]:
        journey.complete(step)
    if outputs:
        journey.update(outputs={"source": {"vpc_id": "vpc-1"}})
    return journey


def test_with_the_environment_still_there_nothing_is_reset_and_what_runs_is_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _walked()
    code = main(["reset", "--env", "demo", "--yes"])
    err = capsys.readouterr().err
    assert code == exit_codes.NOT_RUN
    assert "was not reset" in err and "provisioned outputs" in err and "dms-tui cleanup --env demo --yes" in err
    state = load_checkpoint("demo", "aws")
    assert state is not None and state.is_done(Step.DIFF)


def test_force_resets_and_keeps_the_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    journey = _walked()
    code = main(["reset", "--env", "demo", "--force", "--yes", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == exit_codes.OK and document["reset"] is True and document["was_at"] == "cutover"
    assert any("provisioned outputs" in item for item in document["still_running"])
    state = load_checkpoint("demo", "aws")
    assert state is not None and state.done == () and state.current is Step.CONFIGURE and state.outputs is None
    assert journey.config_path.is_file()


def test_after_cleanup_a_broken_journey_resets_without_force(capsys: pytest.CaptureFixture[str]) -> None:
    journey = _walked(outputs=False)
    journey.fall_back(Step.CONFIGURE, Setback(Step.PROVISION, "terraform apply failed (exit 1)."))
    assert main(["reset", "--env", "demo", "--yes"]) == exit_codes.OK
    assert "starts over at Configure" in capsys.readouterr().out
    state = load_checkpoint("demo", "aws")
    assert state is not None and state.setback is None


def test_without_a_terminal_it_asks_for_yes_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    _walked(outputs=False)
    assert main(["reset", "--env", "demo"]) == exit_codes.NOT_RUN
    assert "Pass --yes" in capsys.readouterr().err
    state = load_checkpoint("demo", "aws")
    assert state is not None and state.is_done(Step.DIFF)


def test_a_journey_never_started_has_nothing_to_reset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reset", "--env", "fresh", "--yes"]) == exit_codes.OK
    assert "Nothing to reset" in capsys.readouterr().out


def test_a_sandbox_that_does_not_run_is_not_in_the_way(capsys: pytest.CaptureFixture[str]) -> None:
    _walked("sandbox", outputs=False)
    assert main(["reset", "--sandbox", "--env", "demo", "--yes"]) == exit_codes.OK
    state = load_checkpoint("demo", "sandbox")
    assert state is not None and state.done == ()
