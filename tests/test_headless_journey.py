"""Story: the whole journey headless on the sandbox with nothing but flags — no URL, no password, no port typed.

sandbox up → provision apply → verify → seed 100,000 rows → migrate → diff (identical, 100,000 rows each side)
→ cleanup → sandbox down, each a `dms-tui` process exactly as a person would type it, each with its exit code.
Verify runs twice: a second run on the same sandbox passes again.
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


def _ok(result: subprocess.CompletedProcess[str], what: str, expected: int = 0) -> None:
    assert result.returncode == expected, (
        f"{what} exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.fixture
def home(dms_home: Path) -> Iterator[Path]:
    yield dms_home
    _dms_tui(dms_home, "sandbox", "down", timeout=120)  # whatever happened, nothing outlives the test


def test_the_whole_journey_headless_on_the_sandbox_with_nothing_but_flags(home: Path) -> None:
    if os.environ.get("DMS_TUI_SLOW_TESTS") != "1":
        pytest.skip("the whole journey with terraform against the sandbox (minutes): set DMS_TUI_SLOW_TESTS=1")
    _ok(_dms_tui(home, "sandbox", "up"), "sandbox up")
    _ok(_dms_tui(home, "provision", "apply", "--sandbox", "--yes"), "provision apply")
    _ok(_dms_tui(home, "verify", "--sandbox"), "verify")
    _ok(_dms_tui(home, "verify", "--sandbox"), "verify, the second time")
    _ok(_dms_tui(home, "seed", "--sandbox", "--rows", "100000"), "seed")
    _ok(_dms_tui(home, "migrate", "--sandbox"), "migrate")

    diff = _dms_tui(home, "diff", "--sandbox", "--table", "demo_schema.demo_accounts", "--json")
    _ok(diff, "diff")
    report = json.loads(diff.stdout)
    (table,) = report["tables"]
    assert table["identical"] is True, table
    assert table["source_rows"] == table["target_rows"] == 100_000, table

    cleanup = _dms_tui(home, "cleanup", "--sandbox", "--yes")
    _ok(cleanup, "cleanup")
    _ok(_dms_tui(home, "sandbox", "down"), "sandbox down")
    status = _dms_tui(home, "sandbox", "status", "--json")
    assert json.loads(status.stdout)["status"] in ("stopped", "absent"), status.stdout
