"""`terraform fmt -check`, offline `terraform init` from the provider mirror, `terraform validate`, and the
variable validation blocks refusing what a person might type wrong."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dms_tui.environment import Environment
from dms_tui.provision.workspace import TerraformBinary, Workspace, prepare_workspace, sandbox_override
from dms_tui.resources import terraform_bundle_dir
from tests.terraform.run import terraform_in

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module")
def initialised(terraform_binary: TerraformBinary, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A working copy initialised offline; its provider points at a closed port so nothing can reach AWS."""
    target = Environment(
        mode="sandbox",
        region="us-east-1",
        aws_endpoint_url="http://127.0.0.1:9",
        terraform_override=sandbox_override("http://127.0.0.1:9", "us-east-1"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DMS_TUI_HOME", str(tmp_path_factory.mktemp("tf-validate-home")))
        workspace = prepare_workspace("dev", target)
    init = terraform_in(terraform_binary, workspace, "init", "-backend=false", "-input=false", timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "hashicorp/aws v5.100" in init.stdout
    return workspace


def test_the_bundle_is_terraform_fmt_clean(terraform_binary: TerraformBinary) -> None:
    completed = subprocess.run(
        [str(terraform_binary.path), "fmt", "-check", "-recursive", "-diff", str(terraform_bundle_dir())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, f"terraform fmt would change:\n{completed.stdout}{completed.stderr}"


def test_the_bundle_initialises_offline_and_validates(
    terraform_binary: TerraformBinary, initialised: Workspace
) -> None:
    validate = terraform_in(terraform_binary, initialised, "validate", "-json", timeout=300)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert json.loads(validate.stdout)["valid"] is True


def test_mistyped_inputs_are_refused_with_advice(
    terraform_binary: TerraformBinary, initialised: Workspace, tmp_path: Path
) -> None:
    # The root module's variables.tf alone: `plan` then evaluates exactly its validation blocks, with no provider to
    # start and no AWS (or moto) to call.
    for name in ("variables.tf", "config_rules.json"):  # the variables and the table of rules they read
        (tmp_path / name).write_bytes((initialised.root_module / name).read_bytes())
    variables = json.loads(initialised.var_file.read_text(encoding="utf-8"))
    good = tmp_path / "good.tfvars.json"
    good.write_text(json.dumps(variables), encoding="utf-8")
    variables["environment"] = "Dev_1"
    variables["vpcs"]["dms"]["private_subnets"] = ["10.0.1.5/24", "10.0.2.0/24"]
    variables["vpcs"]["target"]["azs"] = ["us-east-1a", "us-east-1a"]
    variables["target_db"]["port"] = 80  # target_db: its checks read source_db, so source_db stays valid here
    variables["target_db"]["master_username"] = "admin"
    variables["dms_allocated_storage"] = 1
    bad = tmp_path / "bad.tfvars.json"
    bad.write_text(json.dumps(variables), encoding="utf-8")

    def plan(var_file: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(terraform_binary.path), "plan", "-input=false", "-no-color", f"-var-file={var_file}"],
            cwd=tmp_path,
            env=initialised.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    accepted = plan(good)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    refused = plan(bad)
    assert refused.returncode != 0
    text = " ".join((refused.stdout + refused.stderr).split())  # diagnostics wrap long messages
    for advice in (
        "environment must be 1-16 characters",
        "not ending with a hyphen",
        "host bits clear, such as 10.0.1.0/24",
        "in at least two distinct AZs",
        "target_db.port must be a whole number between 1150 and 65535",
        "not a reserved word (admin, rdsadmin, user, ...)",
        "dms_allocated_storage must be a whole number between 5 and 6144 GiB",
    ):
        assert advice in text, f"missing validation message {advice!r} in:\n{refused.stderr[-3000:]}"
