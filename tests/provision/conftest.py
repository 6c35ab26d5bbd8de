"""Fixtures for the terraform runner tests: the recorded streams and the fake terraform that replays them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
STREAMS = HERE / "streams"
FAKE_TERRAFORM = HERE / "fake_terraform.py"


@dataclass(frozen=True)
class FakeTerraform:
    """The fake executable plus the environment knobs a test sets (see fake_terraform.py)."""

    path: Path
    workdir: Path
    pidfile: Path
    argv_log: Path

    def env(self, **knobs: str | float) -> dict[str, str]:
        env = {"FAKE_TERRAFORM_PIDFILE": str(self.pidfile), "FAKE_TERRAFORM_ARGV_LOG": str(self.argv_log)}
        env.update({f"FAKE_TERRAFORM_{key.upper()}": str(value) for key, value in knobs.items()})
        return env

    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def invocations(self) -> list[str]:
        return self.argv_log.read_text().splitlines() if self.argv_log.exists() else []


@pytest.fixture
def streams() -> Path:
    """tests/provision/streams: real `terraform -json` recordings (see record_streams.py)."""
    return STREAMS


@pytest.fixture
def fake_terraform(tmp_path: Path) -> FakeTerraform:
    workdir = tmp_path / "root-module"
    workdir.mkdir()
    return FakeTerraform(FAKE_TERRAFORM, workdir, tmp_path / "fake.pid", tmp_path / "argv.jsonl")
