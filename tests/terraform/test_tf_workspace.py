"""The per-environment working copy: refreshed bundle, kept state and variables, CLI config, override, binary check."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from dms_tui.environment import Environment, aws_environment
from dms_tui.provision import workspace as ws
from dms_tui.provision.workspace import (
    BUNDLE_SERVICES,
    TerraformNotFound,
    WorkspaceError,
    find_terraform,
    prepare_workspace,
    sandbox_override,
)
from dms_tui.resources import terraform_bundle_dir


def _sandbox_target(override: str | None) -> Environment:
    return Environment(
        mode="sandbox", region="us-east-1", aws_endpoint_url="http://127.0.0.1:1", terraform_override=override
    )


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mirror"
    path.mkdir()
    monkeypatch.setenv(ws.PLUGIN_MIRROR_ENV, str(path))
    return path


def test_a_new_workspace_holds_the_bundle_and_the_seed_variables(dms_home: Path, mirror: Path) -> None:
    workspace = prepare_workspace("dev", aws_environment("us-east-1"))
    assert workspace.root.is_relative_to(dms_home)
    assert (workspace.root_module / "main.tf").read_bytes() == (
        terraform_bundle_dir() / "provisioning/main.tf"
    ).read_bytes()
    assert (workspace.root / "modules/privatelink/main.tf").is_file()
    assert workspace.var_file == workspace.root / "variables/dev/common.tfvars.json"
    assert json.loads(workspace.var_file.read_text())["environment"] == "dev"


def test_a_new_environment_is_seeded_with_its_own_name(mirror: Path) -> None:
    workspace = prepare_workspace("qa", aws_environment("us-east-1"))
    seeded = json.loads(workspace.var_file.read_text())
    assert workspace.var_file.parent.name == "qa"
    assert seeded["environment"] == "qa" and seeded["tags"]["Environment"] == "qa"


def test_refreshing_keeps_state_variables_and_providers_but_replaces_bundle_files(mirror: Path) -> None:
    first = prepare_workspace("dev", aws_environment("us-east-1"))
    (first.root_module / ".terraform" / "providers").mkdir(parents=True)
    (first.root_module / "terraform.tfstate").write_text('{"serial": 7}')
    (first.root_module / ".terraform.lock.hcl").write_text("# lock")
    first.var_file.write_text('{"environment": "dev", "edited": true}')
    (first.root_module / "main.tf").write_text("# tampered")
    (first.root / "modules/network/dropped.tf").write_text("# removed from the bundle")

    second = prepare_workspace("dev", aws_environment("us-east-1"))

    assert (second.root_module / ".terraform" / "providers").is_dir()
    assert (second.root_module / "terraform.tfstate").read_text() == '{"serial": 7}'
    assert (second.root_module / ".terraform.lock.hcl").read_text() == "# lock"
    assert json.loads(second.var_file.read_text())["edited"] is True
    assert (second.root_module / "main.tf").read_text() != "# tampered"
    assert not (second.root / "modules/network/dropped.tf").exists()


def test_the_sandbox_override_is_written_and_removed_again(mirror: Path) -> None:
    override = sandbox_override("http://127.0.0.1:4566", "us-east-1")
    with_override = prepare_workspace("dev", _sandbox_target(override))
    assert with_override.override_file == with_override.root_module / "sandbox_override.tf"
    assert with_override.override_file.read_text() == override

    without = prepare_workspace("dev", _sandbox_target(None))
    assert not without.override_file.exists()


def test_the_cli_config_installs_providers_from_the_mirror(mirror: Path) -> None:
    workspace = prepare_workspace("dev", aws_environment("us-east-1"))
    config = workspace.cli_config_file.read_text()
    assert "filesystem_mirror" in config and json.dumps(str(mirror)) in config
    assert workspace.env["TF_CLI_CONFIG_FILE"] == str(workspace.cli_config_file)
    assert workspace.env["TF_IN_AUTOMATION"] == "1" and workspace.env["TF_INPUT"] == "0"
    assert workspace.plugin_mirror == mirror


def test_without_a_mirror_terraform_uses_the_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ws.PLUGIN_MIRROR_ENV, raising=False)
    monkeypatch.setattr(ws, "DEFAULT_PLUGIN_MIRROR", tmp_path / "absent")
    workspace = prepare_workspace("dev", aws_environment("us-east-1"))
    assert workspace.plugin_mirror is None
    assert "provider_installation" not in workspace.cli_config_file.read_text()


def test_the_default_mirror_is_used_when_present(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ws.PLUGIN_MIRROR_ENV, raising=False)
    monkeypatch.setattr(ws, "DEFAULT_PLUGIN_MIRROR", tmp_path)
    assert ws.plugin_mirror() == tmp_path


def test_a_mirror_setting_that_points_nowhere_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ws.PLUGIN_MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(WorkspaceError, match="not a directory"):
        prepare_workspace("dev", aws_environment("us-east-1"))


def test_an_unusable_environment_name_is_refused_with_advice(mirror: Path) -> None:
    with pytest.raises(WorkspaceError, match="lowercase"):
        prepare_workspace("../Prod", aws_environment("us-east-1"))


def test_sandbox_runs_never_see_a_real_profile(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    sandbox = prepare_workspace("dev", _sandbox_target(sandbox_override("http://127.0.0.1:1", "us-east-1")))
    assert "AWS_PROFILE" not in sandbox.env
    assert sandbox.env["AWS_EC2_METADATA_DISABLED"] == "true"
    real = prepare_workspace("dev", aws_environment("eu-west-1", profile="migration"))
    assert real.env["AWS_PROFILE"] == "migration" and real.env["AWS_REGION"] == "eu-west-1"


def test_the_sandbox_override_points_every_bundle_service_at_moto() -> None:
    text = sandbox_override("http://127.0.0.1:4566", "eu-west-1")
    for service in BUNDLE_SERVICES:
        assert f'{service} = "http://127.0.0.1:4566"' in text
    for setting in ("skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check"):
        assert f"{setting}" in text
    assert 'region                      = "eu-west-1"' in text
    assert 'access_key                  = "testing"' in text
    assert "register_writer_targets = false" in text


def test_the_bundle_services_cover_every_resource_type_the_bundle_uses() -> None:
    """A resource whose service the override misses would call real AWS from the sandbox."""
    prefixes = {
        "aws_dms_": "dms",
        "aws_db_": "rds",
        "aws_rds_": "rds",
        "aws_lb": "elbv2",
        "aws_iam_": "iam",
        "aws_secretsmanager_": "secretsmanager",
        "aws_ssm_": "ssm",
        "aws_s3_": "s3",  # the wheelhouse bucket (modules/wheelhouse)
        "aws_caller_identity": "sts",
        "aws_vpc": "ec2",
        "aws_subnet": "ec2",
        "aws_route": "ec2",
        "aws_default_security_group": "ec2",
        "aws_security_group": "ec2",
        "aws_network_interface": "ec2",
        "aws_instance": "ec2",
        "aws_partition": "",
    }
    import re

    used = set()
    for tf_file in terraform_bundle_dir().rglob("*.tf"):
        used |= set(re.findall(r'^(?:resource|data|ephemeral) "(aws_[a-z0-9_]+)"', tf_file.read_text(), re.M))
    for resource_type in used:
        service = next((svc for prefix, svc in prefixes.items() if resource_type.startswith(prefix)), None)
        assert service is not None, f"{resource_type}: add its service to BUNDLE_SERVICES and this table"
        assert service == "" or service in BUNDLE_SERVICES, resource_type


def _fake_terraform(directory: Path, version_output: str) -> Path:
    script = directory / "terraform"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{version_output}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_recent_terraform_is_accepted(tmp_path: Path) -> None:
    fake = _fake_terraform(tmp_path, '{"terraform_version": "1.11.4", "platform": "linux_amd64"}')
    binary = find_terraform(str(fake))
    assert binary.version == (1, 11, 4) and binary.version_text == "1.11.4" and binary.path == fake


def test_an_old_terraform_is_refused_with_install_advice(tmp_path: Path) -> None:
    fake = _fake_terraform(tmp_path, '{"terraform_version": "1.9.8"}')
    with pytest.raises(TerraformNotFound, match=r"1\.9\.8.*1\.11 or newer.*Install terraform"):
        find_terraform(str(fake))


def test_a_terraform_without_json_version_output_is_still_recognised(tmp_path: Path) -> None:
    fake = _fake_terraform(tmp_path, "Terraform v0.12.31")
    with pytest.raises(TerraformNotFound, match=r"0\.12\.31"):
        find_terraform(str(fake))


def test_a_missing_terraform_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(ws.TERRAFORM_BINARY_ENV, raising=False)
    with pytest.raises(TerraformNotFound, match="not found.*Install terraform 1.11"):
        find_terraform()


def test_the_terraform_setting_picks_the_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_terraform(tmp_path, '{"terraform_version": "1.12.0"}')
    monkeypatch.setenv(ws.TERRAFORM_BINARY_ENV, str(fake))
    assert find_terraform().version == (1, 12, 0)
    assert os.access(fake, os.X_OK)
