"""Story: the Session Manager connection drops mid-apply. Terraform keeps going; the next start re-attaches.

terraform here is tests/provision/fake_terraform.py replaying a recorded real `-json` stream slowly.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Static

from dms_tui.app import DmsTuiApp
from dms_tui.journey import checkpoint_path
from dms_tui.provision.detached import load_record, lock_holder
from dms_tui.provision.outputs import OUTPUT_NAMES
from dms_tui.screens.provision import ProvisionScreen

PROVISION_TESTS = Path(__file__).resolve().parent.parent / "provision"
FAKE = PROVISION_TESTS / "fake_terraform.py"

STARTER = """
import asyncio, sys
from dms_tui.journey import Journey, Step
from dms_tui.steps import provision
from dms_tui.environment import Environment

async def main():
    journey = Journey("dev", "aws")
    journey.complete(Step.CONFIGURE)
    plan = journey.workdir / "provisioning" / "tfplan"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text("reviewed plan")
    job = provision.apply(Environment(mode="aws", region="us-east-1"), journey)
    async for event in job:
        print(type(event).__name__, flush=True)
asyncio.run(main())
"""


@pytest.fixture
def slow_fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    streams = tmp_path / "streams"
    shutil.copytree(PROVISION_TESTS / "streams", streams)
    outputs = {name: {"sensitive": False, "type": "string", "value": f"value-of-{name}"} for name in OUTPUT_NAMES}
    outputs["source_port"]["value"] = outputs["target_port"]["value"] = 5432
    (streams / "output.json").write_text(json.dumps(outputs))
    monkeypatch.setenv("DMS_TUI_TERRAFORM", str(FAKE))
    monkeypatch.setenv("FAKE_TERRAFORM_STREAMS", str(streams))
    monkeypatch.setenv("FAKE_TERRAFORM_DELAY", "0.15")
    return streams


def _apply_counts() -> tuple[int, int]:
    lines = [json.loads(x) for x in (PROVISION_TESTS / "streams" / "apply.jsonl").read_text().splitlines() if x]
    return (
        sum(1 for o in lines if o.get("type") == "planned_change"),
        sum(1 for o in lines if o.get("type") == "apply_complete"),
    )


async def test_killing_the_app_mid_apply_leaves_terraform_running_and_the_next_start_reattaches(
    make_app: Callable[..., DmsTuiApp], slow_fake_terraform: Path
) -> None:
    app_process = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    assert app_process.stdout is not None
    assert app_process.stdout.readline().strip() == "RunStarted"
    assert app_process.stdout.readline().strip() == "CommandStarted"
    assert app_process.stdout.readline().strip()  # terraform is writing events
    record = load_record("dev")
    assert record is not None and record.alive()
    assert lock_holder(Path(record.cwd)) is not None, "the run holds the working copy's lock"

    app_process.kill()  # the terminal went away: the app dies, terraform must not
    app_process.wait()
    assert record.alive() and record.finished() is None

    planned, completed = _apply_counts()
    app = make_app(mode="aws")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        reattach = app.screen.query_one("#reattach", Button)
        assert reattach.display and "running since" in str(reattach.label)
        await pilot.click("#reattach")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        deadline = time.monotonic() + 60
        while screen.outputs is None:
            assert time.monotonic() < deadline, str(screen.query_one("#provision-result", Static).render())
            await pilot.pause(0.2)
        await pilot.pause(0.3)
        assert f"{completed}/{planned} resources" in str(screen.query_one("#provision-counts", Static).render())
        assert screen.query_one("#provision-table", DataTable).row_count == planned
    assert load_record("dev") is None, "a run seen through to its end is not offered again"


def test_sighup_checkpoints_and_exits_cleanly(tmp_path: Path, dms_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "TERM": "xterm-256color",
            "DMS_TUI_HOME": str(dms_home),
        }
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real app in a real terminal
        os.execve(sys.executable, [sys.executable, "-m", "dms_tui", "--env", "hup"], env)
    output = b""
    deadline = time.monotonic() + 60
    while b"Identity" not in output:  # the Welcome screen is drawn
        assert time.monotonic() < deadline, output[-400:]
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            output += os.read(fd, 65536)
    time.sleep(1.0)
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    status = None
    while status is None:
        assert time.monotonic() < deadline, "the app did not exit after SIGHUP"
        with __import__("contextlib").suppress(OSError):
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                os.read(fd, 65536)
        done, raw = os.waitpid(pid, os.WNOHANG)
        status = raw if done else None
    os.close(fd)
    assert os.WIFEXITED(status), f"killed by a signal instead of exiting: {status}"
    assert os.WEXITSTATUS(status) == 128 + signal.SIGHUP
    checkpoint = json.loads(checkpoint_path("hup", "aws").read_text())
    assert checkpoint["env"] == "hup" and checkpoint["current"] == "configure"
