"""A stand-in for the AWS CLI and the Session Manager plugin, first on PATH, forwarding to the test's PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.checks.moto_environment import REGION, MotoWorld, moto_environment
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


@pytest.fixture
def world(pg_source: Any, pg_target: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoWorld]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto_environment({"source": pg_source, "target": pg_target}) as env:
        yield env


@pytest.fixture
def routed(world: MotoWorld, ssm_standin: SsmStandIn, pg_source: Any, pg_target: Any) -> MotoWorld:
    """The stand-in bastion reaches each interface endpoint name: the real cluster behind it."""
    ssm_standin.route(
        {
            world.outputs.source.endpoint_dns_name: ("127.0.0.1", pg_source.cluster.port),
            world.outputs.target.endpoint_dns_name: ("127.0.0.1", pg_target.cluster.port),
        }
    )
    return world
