"""A stand-in for the AWS CLI and the Session Manager plugin, first on PATH, forwarding to the test's PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tunnels.ssm_standin import BASTION, STANDIN, SsmStandIn, executable


@pytest.fixture
def ssm_standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SsmStandIn:
    bin_dir = tmp_path / "standin-bin"
    bin_dir.mkdir()
    executable(bin_dir / "aws", STANDIN / "aws.py")
    executable(bin_dir / "session-manager-plugin", STANDIN / "session_manager_plugin.py")
    log = tmp_path / "standin.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    monkeypatch.setenv("SSM_STANDIN_LOG", str(log))
    monkeypatch.setenv("SSM_STANDIN_BASTION", BASTION)
    monkeypatch.setenv("SSM_STANDIN_ROUTES", "{}")
    return SsmStandIn(bin_dir, log)
