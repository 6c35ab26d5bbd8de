"""The bundle's contract with the app, read with python-hcl2: variables <-> WizardConfig, outputs <-> OUTPUT_NAMES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

from dms_tui.provision.outputs import OPTIONAL_OUTPUT_NAMES, OUTPUT_NAMES
from dms_tui.resources import terraform_bundle_dir

BUNDLE = terraform_bundle_dir()
ROOT_MODULE = BUNDLE / "provisioning"
DEV_TFVARS = BUNDLE / "variables" / "dev" / "common.tfvars.json"
MODULES = sorted(path for path in (BUNDLE / "modules").iterdir() if path.is_dir())


def _blocks(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """All ``kind`` blocks (variable, output, ...) declared in a module directory, by name."""
    found: dict[str, dict[str, Any]] = {}
    for tf_file in sorted(directory.glob("*.tf")):
        with tf_file.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get(kind, []):
            for name, body in block.items():
                assert name not in found, f"{kind} {name} declared twice in {directory}"
                found[name] = body
    return found


def test_the_seed_tfvars_declare_exactly_the_root_variables() -> None:
    seed = json.loads(DEV_TFVARS.read_text(encoding="utf-8"))
    assert set(seed) == set(_blocks(ROOT_MODULE, "variable"))


def test_every_key_the_config_model_writes_is_a_declared_variable_and_vice_versa() -> None:
    config = pytest.importorskip("dms_tui.config", reason="dms_tui/config.py not present yet")
    model = config.WizardConfig.default() if hasattr(config.WizardConfig, "default") else config.WizardConfig()
    written = model.to_tfvars()
    assert set(written) == set(_blocks(ROOT_MODULE, "variable"))


def test_the_config_model_defaults_are_the_bundled_dev_tfvars() -> None:
    config = pytest.importorskip("dms_tui.config", reason="dms_tui/config.py not present yet")
    model = config.WizardConfig.default() if hasattr(config.WizardConfig, "default") else config.WizardConfig()
    assert model.to_tfvars() == json.loads(DEV_TFVARS.read_text(encoding="utf-8"))


def test_the_seed_describes_three_overlapping_vpcs_like_the_aws_sample() -> None:
    seed = json.loads(DEV_TFVARS.read_text(encoding="utf-8"))
    assert sorted(seed["vpcs"]) == ["dms", "source", "target"]
    assert {vpc["cidr"] for vpc in seed["vpcs"].values()} == {"10.0.0.0/16"}


def test_every_output_the_app_reads_is_declared() -> None:
    declared = set(_blocks(ROOT_MODULE, "output"))
    missing = [name for name in (*OUTPUT_NAMES, *OPTIONAL_OUTPUT_NAMES) if name not in declared]
    assert not missing, f"outputs.tf lacks {missing}"


def test_the_assessment_bucket_is_private_encrypted_versioned_and_the_role_only_writes_there() -> None:
    """What a DMS premigration assessment run needs (StartReplicationTaskAssessmentRun's ResultLocationBucket and
    ServiceAccessRoleArn), declared as checkov expects of a bucket, with a role DMS can assume."""
    module = ROOT_MODULE.parent / "modules" / "assessment"
    resources: dict[str, dict[str, Any]] = {}
    for path in sorted(module.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for block in hcl2.load(handle).get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        resources[f"{kind}.{name}"] = body

    def one(value: Any) -> Any:  # python-hcl2 gives attribute values (and nested blocks) as one-element lists
        return value[0] if isinstance(value, list) else value

    block = resources["aws_s3_bucket_public_access_block.results"]
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    assert all(one(block[k]) is True for k in flags)
    assert one(one(resources["aws_s3_bucket_versioning.results"]["versioning_configuration"])["status"]) == "Enabled"
    sse = one(resources["aws_s3_bucket_server_side_encryption_configuration.results"]["rule"])
    assert one(one(sse["apply_server_side_encryption_by_default"])["sse_algorithm"]) == "AES256"
    assert "aws_iam_role_policy.assessment" in resources and "aws_iam_role.assessment" in resources
    main = (module / "main.tf").read_text(encoding="utf-8")
    assert "s3:PutObject" in main and "${aws_s3_bucket.results.arn}/*" in main
    assert "dms.${data.aws_partition.current.dns_suffix}" in main  # the role's trust: the DMS service


def test_no_output_exposes_a_password_or_secret_value() -> None:
    for name, body in _blocks(ROOT_MODULE, "output").items():
        value = json.dumps(body.get("value"))
        assert "password" not in name and "password" not in value, name
        assert "secret_string" not in value, name


@pytest.mark.parametrize("module_dir", [ROOT_MODULE, *MODULES], ids=lambda path: path.name)
def test_every_variable_has_a_type_and_a_description(module_dir: Path) -> None:
    variables = _blocks(module_dir, "variable")
    assert variables, f"{module_dir.name} declares no variables"
    for name, body in variables.items():
        assert "type" in body, f"{module_dir.name}: variable {name} has no type"
        assert body.get("description"), f"{module_dir.name}: variable {name} has no description"


@pytest.mark.parametrize("module_dir", [ROOT_MODULE, *MODULES], ids=lambda path: path.name)
def test_every_output_has_a_description(module_dir: Path) -> None:
    for name, body in _blocks(module_dir, "output").items():
        assert body.get("description"), f"{module_dir.name}: output {name} has no description"


def test_person_typed_root_inputs_are_validated() -> None:
    variables = _blocks(ROOT_MODULE, "variable")
    # create_dms_service_roles is a bool: its type is its whole validation.
    unvalidated = [
        name for name, body in variables.items() if name != "create_dms_service_roles" and not body.get("validation")
    ]
    assert not unvalidated, f"variables without validation: {unvalidated}"


def test_modules_are_local_only() -> None:
    module_calls = _blocks(ROOT_MODULE, "module")
    assert module_calls
    for name, body in module_calls.items():
        source = json.dumps(body["source"])
        assert "../modules/" in source, f"module {name} is not local: {source}"


def test_no_password_is_ever_a_plain_attribute() -> None:
    """Passwords only travel through write-only attributes (``*_wo``), which terraform never stores."""
    for tf_file in BUNDLE.rglob("*.tf"):
        for line in tf_file.read_text(encoding="utf-8").splitlines():
            stripped = line.split("#", 1)[0]
            assert "master_password " not in stripped and "master_password=" not in stripped, f"{tf_file}: {line}"
            assert "secret_string " not in stripped and "secret_string=" not in stripped, f"{tf_file}: {line}"
