"""Every equivalent command the screens show runs as printed in the mode the app is in (issue 12).

A real, provisioned sandbox (the boto3 path, so it is up in seconds); the wizard opens it as the Welcome screen
would. The commands shown by Configure, Verify (the screen's and every check's), Prepare, Diff and Cleanup are
collected from the screens themselves and run in a bare shell (no AWS variables, no ~/.aws): `dms-tui ...` with this
checkout's entry point, `aws ...` with the sandbox's --endpoint-url and dummy keys the command carries. Migrate's
commands have their own test (tests/aws/test_printed_commands_run.py); terraform's commands are run by the
provision tests (this sandbox has no terraform state: it was provisioned by the boto3 path).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dms_tui.app import DmsTuiApp
from dms_tui.environment import EnvironmentRequest, open_environment
from dms_tui.journey import Journey, Step
from dms_tui.steps.services import StepServices
from dms_tui.widgets.checklist import Checklist
from dms_tui.widgets.command_hint import CommandHint

pytestmark = pytest.mark.slow

ENTRY = Path(sys.executable).with_name("dms-tui")


@pytest.fixture
def provisioned_sandbox(dms_home: Path) -> Iterator[None]:
    from dms_tui.sandbox.lifecycle import Sandbox

    sandbox = Sandbox(region="us-east-1", env="dev")
    try:
        sandbox.up_provisioned()
        yield
    finally:
        sandbox.down(keep_data=False)


def _services() -> StepServices:
    def opened(request: EnvironmentRequest, on_progress: Callable[[Any], None]) -> Any:
        return open_environment(request, start_sandbox=False, on_progress=on_progress)

    return StepServices(open_environment=opened)


async def _until(pilot: Pilot[int], condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.2)


def _shown(app: DmsTuiApp) -> str:
    return app.screen.query_one(CommandHint).command


def _run(command: str, home: Path, tmp: Path, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """The printed line in a bare shell: `dms-tui` is this checkout's; nothing of ours in the environment but the
    state directory (the person's own, in real life) and, for psql, the password a person types at its prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG"))}
    env |= {"HOME": str(tmp), "DMS_TUI_HOME": str(home), "PATH": f"{ENTRY.parent}:{env.get('PATH', '')}"}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(  # noqa: S602 - the point is to run the printed shell line
        command, shell=True, capture_output=True, text=True, timeout=180, env=env, cwd=tmp
    )


async def test_every_command_a_screen_shows_runs_as_printed_in_the_sandbox(
    provisioned_sandbox: None, dms_home: Path, tmp_path: Path
) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI (`aws`) is not installed, so the printed aws commands cannot be run")
    journey = Journey.resume_or_start("dev", "sandbox")
    app = DmsTuiApp(journey, EnvironmentRequest(sandbox=True, env="dev"), services=_services())
    shown: dict[str, list[str]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.environment is not None, "the sandbox")
        assert app.environment is not None and app.environment.outputs is not None
        journey.update(outputs=app.environment.outputs.to_json())
        app.goto(Step.CONFIGURE)
        await pilot.pause()
        shown["configure"] = [_shown(app)]
        journey.save_config(journey.config)  # Review writes the file; Configure then shows `config check FILE`
        app.goto(Step.CONFIGURE)
        await pilot.pause()
        shown["configure"].append(_shown(app))

        journey.complete(Step.CONFIGURE)
        journey.complete(Step.PROVISION)
        app.goto(Step.VERIFY)
        await pilot.pause()
        verify = app.screen
        await _until(pilot, lambda: getattr(verify, "report", None) is not None, "the checks")
        checklist = verify.query_one(Checklist)
        shown["verify"] = [verify.equivalent_command()]  # type: ignore[attr-defined]
        shown["verify"] += [r.command for r in checklist.settled() if r.command]

        journey.complete(Step.VERIFY)
        app.goto(Step.PREPARE)
        await pilot.pause()
        shown["prepare"] = [_shown(app)]

        app.goto(Step.DIFF)
        await pilot.pause()
        shown["diff"] = [_shown(app)]
        await app.workers.wait_for_complete()

        app.goto(Step.CLEANUP)
        await pilot.pause()
        cleanup = app.screen
        await _until(pilot, lambda: getattr(cleanup, "plan", None) is not None, "the cleanup plan")
        plan = cleanup.plan  # type: ignore[attr-defined]
        shown["cleanup"] = [_shown(app), plan.command] + [item.command for item in plan.items]
        secrets = app.environment.client("secretsmanager")
        outputs = app.environment.outputs
        passwords = [
            json.loads(secrets.get_secret_value(SecretId=side.secret_arn)["SecretString"])["password"]
            for side in (outputs.source, outputs.target)
        ]

    assert shown["configure"][0] == "dms-tui config show" and shown["configure"][1].startswith("dms-tui config check")
    assert len(shown["verify"]) >= 13, shown["verify"]
    assert all("--sandbox" in c for c in shown["prepare"] + shown["diff"] + shown["verify"][:1])
    aws = [c for c in shown["verify"] if " aws " in f" {c}"]
    assert aws and all("--endpoint-url" in c for c in aws)

    # Run them in order; cleanup last (it removes the sandbox). terraform's are the provision tests'.
    last = [c for c in shown["cleanup"] if c.startswith("dms-tui cleanup")][:1]
    ran: list[str] = []
    not_installed: list[str] = []
    for step in ("configure", "verify", "prepare", "diff", "cleanup"):
        for command in shown[step]:
            if command.startswith("terraform ") or command in last or command in ran:
                continue
            if command.startswith("dms-tui sandbox down"):
                continue  # cleanup's own last step; run through `dms-tui cleanup` below
            program = next(w for w in shlex.split(command) if "=" not in w)
            if program not in ("dms-tui", "aws") and shutil.which(program) is None:
                not_installed.append(program)  # e.g. nc: a tool this machine lacks, said in the test's output
                continue
            if program == "psql":  # psql prompts for the password; a person types the secret's
                result = next(
                    (r for pw in passwords if (r := _run(command, dms_home, tmp_path, pw)).returncode == 0),
                    _run(command, dms_home, tmp_path, passwords[0]),
                )
            else:
                result = _run(command, dms_home, tmp_path)
            allowed = (0, 1) if command.startswith("dms-tui diff") else (0,)  # diff: 1 means differences found
            assert result.returncode in allowed, (step, shlex.split(command)[:6], result.stderr[-600:])
            ran.append(command)
    assert last, shown["cleanup"]
    result = _run(last[0], dms_home, tmp_path)
    assert result.returncode == 0, (last[0], result.stdout[-600:], result.stderr[-600:])
    assert len(ran) >= 14, (ran, not_installed)
    if not_installed:
        print(f"not run (not installed here): {sorted(set(not_installed))}")
