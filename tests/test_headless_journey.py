"""Story: the whole journey headless on the sandbox with nothing but flags — no URL, no password, no port typed.

sandbox up → provision apply → verify → seed 100,000 rows → migrate → diff (identical, 100,000 rows each side),
each a `dms-tui` process exactly as a person would type it, each with its exit code. Then the same walk a second
time in the same state directory (terraform plans no change; verify passes again; the seed recreates its table;
migrate reuses the task left by the first walk; diff identical), cleanup, and a third walk from scratch after it,
then cleanup and sandbox down with nothing left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _dms_tui(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DMS_TUI_HOME"] = str(home)
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _ok(result: subprocess.CompletedProcess[str], what: str, expected: int = 0, home: Path | None = None) -> None:
    assert result.returncode == expected, (
        f"{what} exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        + _daemon_errors(home)
    )


def _daemon_errors(home: Path | None) -> str:
    """What the sandbox daemon logged as a failed request (moto's tracebacks): the cause CI cannot show otherwise."""
    log = None if home is None else home / "logs" / "sandbox-daemon.log"
    if log is None or not log.exists():
        return ""
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if "Error on request" in line or " ERROR " in line]
    if not starts:
        return "\n--- sandbox daemon: no failed request logged"
    return "\n--- sandbox daemon errors\n" + "\n".join(lines[starts[0] : starts[0] + 60])


@pytest.fixture
def home(dms_home: Path) -> Iterator[Path]:
    yield dms_home
    _dms_tui(dms_home, "sandbox", "down", timeout=120)  # whatever happened, nothing outlives the test


def _walk(home: Path, walk: str, *, seed_flags: tuple[str, ...] = (), migrate_flags: tuple[str, ...] = ()) -> str:
    """provision apply → verify → seed → migrate → diff identical; returns what apply printed."""
    apply = _dms_tui(home, "provision", "apply", "--sandbox", "--yes")
    _ok(apply, f"{walk}: provision apply", home=home)
    _ok(_dms_tui(home, "verify", "--sandbox"), f"{walk}: verify", home=home)
    _ok(_dms_tui(home, "seed", "--sandbox", "--rows", "100000", *seed_flags), f"{walk}: seed", home=home)
    _ok(_dms_tui(home, "migrate", "--sandbox", *migrate_flags), f"{walk}: migrate", home=home)
    diff = _dms_tui(home, "diff", "--sandbox", "--table", "demo_schema.demo_accounts", "--json")
    _ok(diff, f"{walk}: diff", home=home)
    (table,) = json.loads(diff.stdout)["tables"]
    assert table["identical"] is True, (walk, table)
    assert table["source_rows"] == table["target_rows"] == 100_000, (walk, table)
    return apply.stdout + apply.stderr


# Three walks with terraform and two cleanups: about 3 minutes on an idle 2-core machine, past the suite's 600 s
# default when the machine is shared (a CI run beside other work timed out at 600 s with the third walk done).
@pytest.mark.timeout(1500)
def test_the_whole_journey_headless_on_the_sandbox_with_nothing_but_flags(home: Path) -> None:
    if os.environ.get("DMS_TUI_SLOW_TESTS") != "1":
        pytest.skip("the whole journey with terraform against the sandbox (minutes): set DMS_TUI_SLOW_TESTS=1")
    _ok(_dms_tui(home, "sandbox", "up"), "sandbox up", home=home)
    _walk(home, "first walk")
    _ok(_dms_tui(home, "verify", "--sandbox"), "verify, the second time", home=home)

    # The same walk again over what the first one left: nothing to change, nothing duplicated, nothing refused.
    again = _walk(
        home, "second walk", seed_flags=("--if-exists", "recreate"), migrate_flags=("--existing-task", "reuse")
    )
    assert "plan: 0 to add, 0 to change, 0 to destroy" in again, again[-3000:]
    _ok(_dms_tui(home, "cleanup", "--sandbox", "--yes"), "cleanup after two walks", home=home)

    # After cleanup (which also brings the sandbox down) the journey starts afresh: everything created again.
    _ok(_dms_tui(home, "sandbox", "up"), "sandbox up again", home=home)
    _walk(home, "third walk, from scratch")
    _ok(_dms_tui(home, "cleanup", "--sandbox", "--yes"), "cleanup after the third walk", home=home)
    _ok(_dms_tui(home, "sandbox", "down"), "sandbox down", home=home)
    status = _dms_tui(home, "sandbox", "status", "--json")
    assert json.loads(status.stdout)["status"] in ("stopped", "absent"), status.stdout
