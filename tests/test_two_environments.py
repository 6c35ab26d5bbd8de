"""Story: two environments (`--env a`, `--env b`) side by side in one sandbox, as two teams in one AWS account.

Each has its own names, clusters and forwarders; the account-wide DMS roles are created by the first and reused by
the second (no EntityAlreadyExists, no checkbox); both verify; cleaning up `a` leaves nothing of `a` (no moto
object, no terraform state) while `b` still verifies; cleaning up `b` then leaves no process at all. Every step a
`dms-tui` process with nothing but flags. Two paths: the sandbox's boto3 path (seconds) and the real terraform
bundle (minutes, with DMS_TUI_SLOW_TESTS=1).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms_tui.environment import Environment
from tests.sandbox.environment_objects import environment_objects
from tests.test_headless_journey import _dms_tui, _ok

ROLES = {"dms-vpc-role", "dms-cloudwatch-logs-role"}


@pytest.fixture
def home(dms_home: Path) -> Iterator[Path]:
    yield dms_home
    _dms_tui(dms_home, "sandbox", "down", timeout=120)  # whatever happened, nothing outlives the test


def _account(home: Path) -> Environment:
    status = json.loads(_dms_tui(home, "sandbox", "status", "--json").stdout)
    assert status["aws_endpoint_url"], status
    return Environment(mode="sandbox", region="us-east-1", aws_endpoint_url=status["aws_endpoint_url"])


def _state_files(home: Path, env: str) -> list[str]:
    root = home / "state" / "environments" / env / "terraform" / "provisioning"
    return sorted(p.name for p in root.glob("*tfstate*")) if root.is_dir() else []


@pytest.mark.parametrize(
    "path",
    ["api", pytest.param("terraform", marks=[pytest.mark.slow, pytest.mark.terraform])],
)
def test_two_environments_side_by_side_in_one_sandbox(home: Path, path: str) -> None:
    if path == "terraform":
        if os.environ.get("DMS_TUI_SLOW_TESTS") != "1":
            pytest.skip("two terraform applies and destroys against the sandbox (minutes): set DMS_TUI_SLOW_TESTS=1")
        from dms_tui.sandbox.provisioner import terraform_path_problem

        if (problem := terraform_path_problem()) is not None:
            pytest.skip(problem)
    _ok(_dms_tui(home, "sandbox", "up", "--provision", path), "sandbox up")
    for env in ("a", "b"):
        _ok(_dms_tui(home, "provision", "apply", "--sandbox", "--env", env, "--yes"), f"provision apply --env {env}")
    for env in ("a", "b"):
        _ok(_dms_tui(home, "verify", "--sandbox", "--env", env), f"verify --env {env}")

    account = _account(home)
    assert ROLES <= {r["RoleName"] for r in account.client("iam").list_roles()["Roles"]}
    a_objects, b_objects = environment_objects(account, "a"), environment_objects(account, "b")
    assert len(a_objects) >= 10 and len(b_objects) >= 10
    assert not set(a_objects) & set(b_objects)  # each with its own names
    if path == "terraform":
        # The roles were looked up before each plan: a created them, b reused them (set by the step, not a person).
        for env, create in (("a", True), ("b", False)):
            var_file = home / "state" / "environments" / env / "terraform" / "variables" / env / "common.tfvars.json"
            assert json.loads(var_file.read_text())["create_dms_service_roles"] is create
        assert _state_files(home, "a") and _state_files(home, "b")

    cleanup = _dms_tui(home, "cleanup", "--sandbox", "--env", "a", "--yes")
    _ok(cleanup, "cleanup --env a")
    assert "keeps running for b" in " ".join(cleanup.stdout.split()), cleanup.stdout
    assert environment_objects(account, "a") == []
    assert _state_files(home, "a") == []
    # a created the account-wide roles and is gone; b still uses them, so they stay, and b still verifies.
    assert ROLES <= {r["RoleName"] for r in account.client("iam").list_roles()["Roles"]}
    assert sorted(environment_objects(account, "b")) == sorted(b_objects)
    _ok(_dms_tui(home, "verify", "--sandbox", "--env", "b"), "verify --env b after a's cleanup")

    _ok(_dms_tui(home, "cleanup", "--sandbox", "--env", "b", "--yes"), "cleanup --env b")
    status = json.loads(_dms_tui(home, "sandbox", "status", "--json").stdout)
    assert status["status"] == "absent", status
    assert _state_files(home, "a") == _state_files(home, "b") == []
