"""The report after a real journey on the sandbox: provision, verify, seed, migrate, diff, each a `dms-tui` process,
then `dms-tui report --html`, opened in Chromium. Every section holds what the journey did; no password of the
sandbox's secrets appears in the page or in the evidence; the verify and diff commands it lists run as printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_tui.report.evidence import evidence_path
from dms_tui.report.html import SECTIONS

pytestmark = pytest.mark.slow
ROWS = 10_000


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


def _ok(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, (
        f"{what} exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.fixture
def journeyed(dms_home: Path) -> Iterator[Path]:
    if os.environ.get("DMS_TUI_SLOW_TESTS") != "1":
        pytest.skip("a whole sandbox journey with terraform (minutes): set DMS_TUI_SLOW_TESTS=1")
    try:
        _ok(_dms_tui(dms_home, "sandbox", "up"), "sandbox up")
        _ok(_dms_tui(dms_home, "provision", "apply", "--sandbox", "--yes"), "provision apply")
        _ok(_dms_tui(dms_home, "verify", "--sandbox"), "verify")
        _ok(_dms_tui(dms_home, "seed", "--sandbox", "--rows", str(ROWS)), "seed")
        _ok(_dms_tui(dms_home, "migrate", "--sandbox"), "migrate")
        _ok(_dms_tui(dms_home, "diff", "--sandbox"), "diff")
        yield dms_home
    finally:
        _dms_tui(dms_home, "sandbox", "down", timeout=120)


def _sandbox_passwords() -> list[str]:
    """Every password (and every whole secret string) the sandbox's Secrets Manager holds."""
    from dms_tui.environment import EnvironmentRequest, open_environment

    client = open_environment(EnvironmentRequest(sandbox=True)).environment.client("secretsmanager")
    found: list[str] = []
    for entry in client.list_secrets()["SecretList"]:
        value = client.get_secret_value(SecretId=entry["ARN"])["SecretString"]
        found.append(value)
        try:
            document = json.loads(value)
        except ValueError:
            continue
        found += [str(v) for k, v in document.items() if "pass" in k.lower() and v]
    return found


def test_the_report_after_a_sandbox_journey(journeyed: Path, browser: Any, tmp_path: Path) -> None:
    target = tmp_path / "hand-over.html"
    _ok(_dms_tui(journeyed, "report", "--sandbox", "--html", str(target)), "report")
    text = target.read_text(encoding="utf-8")

    passwords = _sandbox_passwords()
    assert any(len(p) >= 8 for p in passwords), "the sandbox's secrets hold no password: the test would prove nothing"
    stored = evidence_path("dev", "sandbox").read_text(encoding="utf-8")
    for password in passwords:
        assert password not in text, "a password of the sandbox's secrets is in the report"
        assert password not in stored, "a password of the sandbox's secrets is in the evidence"

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(target.as_uri())
    for section in SECTIONS:
        assert page.locator(f"section#{section} h2").is_visible(), section
    assert page.locator("#verify tbody tr").count() >= 10  # the whole checklist, each with its time
    verify_times = page.locator("#verify tbody td.num").all_inner_texts()
    assert all(re.fullmatch(r"\d+ ms|\d+\.\d s|\d+m\d\ds", t) for t in verify_times), verify_times
    task = page.locator("#task").inner_text()
    assert "demo_schema.demo_accounts" in task and f"{ROWS:,}" in task
    diff = page.locator("#diff").inner_text()
    assert "identical" in diff and f"{ROWS:,}" in diff
    architecture = page.locator("#architecture").inner_text()
    from dms_tui.journey import load_checkpoint

    state = load_checkpoint("dev", "sandbox")
    assert state is not None and state.outputs is not None
    for resource in (state.outputs["source"]["vpc_endpoint_id"], state.outputs["target"]["cluster_identifier"]):
        assert resource in architecture
    shot = tmp_path / "report-after-journey.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert requests == [target.as_uri()]

    # The verify and diff lines it lists run as printed, on the same sandbox.
    commands = page.locator("#commands pre").all_inner_texts()
    for wanted in ("dms-tui verify", "dms-tui diff"):
        (line,) = [c for c in commands if c.startswith(wanted)]
        _ok(_dms_tui(journeyed, *shlex.split(line)[1:]), line)
