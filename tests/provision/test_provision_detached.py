"""Story: `dms-tui provision apply --yes` on the bastion, over Session Manager. terraform runs detached under the
supervisor, so the command dying (a dropped session, a kill) or Ctrl+C does not stop it; `provision attach` follows it
to its end and records the outputs, and `provision cancel` is how terraform itself is stopped.

terraform here is tests/provision/fake_terraform.py replaying a recorded real `-json` stream slowly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dms_tui.cli import main
from dms_tui.journey import load_checkpoint
from dms_tui.provision.detached import RunRecord, load_record

SUPERVISOR = "dms_tui.provision.supervisor"


@pytest.fixture
def slow_apply(fake_terraform, aws_identity, bundle_streams, monkeypatch: pytest.MonkeyPatch):
    """The environment's working copy with the fake terraform, replaying slowly enough to act mid-apply."""
    monkeypatch.setenv("DMS_TUI_TERRAFORM", str(fake_terraform.path))
    for key, value in fake_terraform.env(delay="0.25").items():
        monkeypatch.setenv(key, value)
    return fake_terraform


def _start_cli(*args: str) -> subprocess.Popen[str]:
    """`dms-tui ...` in its own process group, as a terminal's foreground job is (Ctrl+C reaches the group)."""
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A background job may inherit SIGINT ignored: give the command Ctrl+C's default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(what: str, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _terraform_applying(fake_terraform) -> int:
    """Wait until the fake terraform's apply is streaming; its pid."""
    _wait_for("terraform apply", lambda: any(json.loads(i)[0] == "apply" for i in fake_terraform.invocations()))
    time.sleep(0.6)  # into the stream
    return fake_terraform.pid()


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _record() -> RunRecord:
    record = load_record("dev")
    assert record is not None, "the detached run is recorded"
    return record


def test_headless_apply_runs_under_the_supervisor_and_outlives_the_command(slow_apply, capsys) -> None:
    cli = _start_cli("provision", "apply", "--yes")
    try:
        terraform = _terraform_applying(slow_apply)
        record = _record()
        assert record.label == "apply" and record.argv[-1] == "tfplan", "exactly the saved plan is applied"
        assert _parent_of(terraform) == record.pid, "the supervisor is terraform's parent"
        assert SUPERVISOR in Path(f"/proc/{record.pid}/cmdline").read_text()
        assert os.getsid(terraform) != os.getsid(cli.pid), "terraform is out of the command's session"

        cli.kill()  # the Session Manager connection dropped and took the command with it
        cli.wait(timeout=10)
        assert _alive(terraform), "killing the command did not kill terraform"
        _wait_for("the run to end", lambda: record.finished() is not None)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert record.finished() == {"returncode": 0, "finished_at": pytest.approx(time.time(), abs=60)}

    # the next session re-attaches: the run's result and the outputs are taken up and recorded
    capsys.readouterr()
    assert main(["provision", "attach", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] and document["failed"] == 0 and document["done"] == document["planned"] > 0
    assert document["outputs"]["source_secret_arn"] == "value-of-source_secret_arn"
    state = load_checkpoint("dev", "aws")
    assert state is not None and state.outputs is not None
    assert state.outputs["target"]["endpoint_dns_name"] == "value-of-target_endpoint_dns_name"
    assert load_record("dev") is None, "a run seen through to its end is not offered again"


def test_ctrl_c_stops_following_and_says_how_to_reattach_then_cancel_stops_terraform(slow_apply, capsys) -> None:
    cli = _start_cli("provision", "apply", "--yes")
    try:
        terraform = _terraform_applying(slow_apply)
        os.killpg(cli.pid, signal.SIGINT)  # Ctrl+C in the command's terminal
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 130, err
    assert "Stopped following. terraform apply goes on in the background" in err
    assert "dms-tui provision attach" in err and "dms-tui provision cancel" in err
    assert _alive(terraform), "Ctrl+C stopped following, not terraform"

    record = _record()
    assert main(["provision", "cancel"]) == 1  # cancelled: the apply did not finish
    err = capsys.readouterr().err
    assert "terraform apply was cancelled" in err
    assert not _alive(terraform)
    assert record.finished() is not None
    assert "Interrupt received" in Path(record.log_path).read_text()


def test_ctrl_c_during_the_foreground_plan_stops_terraform_gracefully(slow_apply) -> None:
    cli = _start_cli("provision", "plan")
    try:
        _wait_for("terraform plan", lambda: any(json.loads(i)[0] == "plan" for i in slow_apply.invocations()))
        time.sleep(0.5)
        terraform = slow_apply.pid()
        os.killpg(cli.pid, signal.SIGINT)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 130, err
    assert "terraform was stopped gracefully" in err
    assert not _alive(terraform)
    assert load_record("dev") is None, "plan is not a detached run"


def test_attach_with_nothing_recorded_says_what_to_run(fake_terraform, aws_identity, capsys) -> None:
    assert main(["provision", "attach"]) == 2
    err = capsys.readouterr().err
    assert "No terraform run is recorded for environment dev" in err and "dms-tui provision apply" in err
