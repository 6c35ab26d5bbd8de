"""`terraform apply` of the whole bundle against a moto server on loopback, outputs read back, then `destroy`.

Applied once per session (it takes a minute or two: the provider's RDS and ELBv2 waiters poll on fixed delays).
The moto gaps the bundle hits are patched in-process by dms_tui.sandbox.moto_gaps, as the sandbox daemon does.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs
from dms_tui.provision.workspace import TerraformBinary, Workspace, prepare_workspace, sandbox_override
from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


@dataclass
class BundleRun:
    """Everything one apply/destroy cycle against moto produced, for the tests to examine."""

    workspace: Workspace
    log_dir: Path
    results: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    raw_outputs: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    cluster_passwords: dict[str, str] = field(default_factory=dict)
    state_after_apply: str = ""
    assessment: dict[str, Any] = field(default_factory=dict)  # what S3 and IAM hold for the assessment bucket and role
    resources_after_destroy: list[Any] | None = None

    def failure(self, step: str) -> str:
        result = self.results[step]
        return f"terraform {step} failed ({result.returncode}):\n{result.stdout[-4000:]}"


def _terraform(run: BundleRun, tf: TerraformBinary, step: str, *args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    completed = subprocess.run(
        [str(tf.path), *args, "-no-color"],
        cwd=run.workspace.root_module,
        env=run.workspace.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    run.seconds[step] = time.monotonic() - started
    run.results[step] = completed
    # Like the app's runner, every run leaves its raw output in the log directory (checked for leaks below).
    (run.log_dir / f"terraform-{step}.log").write_text(completed.stdout, encoding="utf-8")
    return completed


@pytest.fixture(scope="session")
def bundle_run(terraform_binary: TerraformBinary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundleRun]:
    from moto.server import ThreadedMotoServer

    apply_moto_gap_fixes()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        target = Environment(
            mode="sandbox", region=REGION, aws_endpoint_url=url, terraform_override=sandbox_override(url, REGION)
        )
        home = tmp_path_factory.mktemp("tf-home")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DMS_TUI_HOME", str(home))
            workspace = prepare_workspace("dev", target)
        run = BundleRun(workspace=workspace, log_dir=home / "logs")
        run.log_dir.mkdir(parents=True, exist_ok=True)
        var_file = f"-var-file={workspace.var_file}"

        if _terraform(run, terraform_binary, "init", "init", "-input=false").returncode == 0 and (
            _terraform(run, terraform_binary, "apply", "apply", "-auto-approve", "-input=false", var_file).returncode
            == 0
        ):
            output = _terraform(run, terraform_binary, "output", "output", "-json")
            run.raw_outputs = json.loads(output.stdout) if output.returncode == 0 else {}
            secrets = target.client("secretsmanager")
            from moto.backends import get_backend

            rds = get_backend("rds")[ACCOUNT][REGION]
            for side in ("source", "target"):
                arn = run.raw_outputs.get(f"{side}_secret_arn", {}).get("value")
                if arn:
                    run.secrets[side] = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
                cluster_id = run.raw_outputs.get(f"{side}_cluster_identifier", {}).get("value")
                if cluster_id in rds.clusters:
                    # moto's public property refuses to reveal it (as AWS does); the stored value shows what the
                    # write-only attribute actually sent.
                    run.cluster_passwords[side] = rds.clusters[cluster_id]._master_user_password
            run.state_after_apply = (workspace.root_module / "terraform.tfstate").read_text(encoding="utf-8")
            bucket = run.raw_outputs.get("assessment_bucket", {}).get("value")
            role_arn = run.raw_outputs.get("assessment_role_arn", {}).get("value")
            if bucket and role_arn:
                s3, iam = target.client("s3"), target.client("iam")
                role = role_arn.rsplit("/", 1)[-1]
                run.assessment = {
                    "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
                    "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
                    "public_access": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                    "trust": iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"],
                    "policies": [
                        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
                    ],
                }
            destroy = _terraform(run, terraform_binary, "destroy", "destroy", "-auto-approve", "-input=false", var_file)
            if destroy.returncode == 0:
                state = json.loads((workspace.root_module / "terraform.tfstate").read_text(encoding="utf-8"))
                run.resources_after_destroy = state.get("resources", [])
        print(  # shown with -rP / -s: the figure the report asks for
            "terraform against moto: " + ", ".join(f"{step} {secs:.1f}s" for step, secs in run.seconds.items())
        )
        yield run
    finally:
        server.stop()


def test_the_whole_bundle_applies_against_moto(bundle_run: BundleRun) -> None:
    assert bundle_run.results["init"].returncode == 0, bundle_run.failure("init")
    assert bundle_run.results["apply"].returncode == 0, bundle_run.failure("apply")
    assert "Apply complete!" in bundle_run.results["apply"].stdout


def test_the_outputs_read_back_into_the_app_model(bundle_run: BundleRun) -> None:
    assert bundle_run.raw_outputs, bundle_run.failure("output")
    outputs = EnvironmentOutputs.from_terraform(bundle_run.raw_outputs)
    assert outputs.region == REGION
    assert outputs.source.vpc_cidr == outputs.target.vpc_cidr == outputs.dms_vpc_cidr == "10.0.0.0/16"
    assert len({outputs.source.vpc_id, outputs.target.vpc_id, outputs.dms_vpc_id}) == 3
    assert outputs.source.cluster_identifier == "dev-onprem-source"
    assert outputs.target.cluster_identifier == "dev-aurora-target"
    for side in (outputs.source, outputs.target):
        assert side.port == 5432 and side.database_name == "demo_db"
        assert side.secret_arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
        assert ":loadbalancer/net/" in side.nlb_arn or ":loadbalancer/" in side.nlb_arn
        assert side.vpc_endpoint_id.startswith("vpce-") and side.endpoint_service_id.startswith("vpce-svc-")
        assert side.endpoint_dns_name and side.vpc_endpoint_id in side.endpoint_dns_name
        assert side.dms_endpoint_arn.startswith(f"arn:aws:dms:{REGION}:{ACCOUNT}:endpoint:")
    assert outputs.source.endpoint_dns_name != outputs.target.endpoint_dns_name
    assert outputs.dms_replication_instance_arn.startswith(f"arn:aws:dms:{REGION}:{ACCOUNT}:rep:")
    assert outputs.bastion_instance_id.startswith("i-")
    assert ":role/dev-dms-secrets-" in outputs.dms_access_role_arn
    assert outputs.assessment_bucket == f"dev-dms-assessments-{ACCOUNT}-{REGION}"
    assert ":role/dev-dms-assess-" in outputs.assessment_role_arn


def test_the_assessment_bucket_and_role_are_what_a_dms_assessment_run_needs(bundle_run: BundleRun) -> None:
    """StartReplicationTaskAssessmentRun writes to ResultLocationBucket as ServiceAccessRoleArn: the bucket is
    private, encrypted and versioned; DMS may assume the role; the role may write to that bucket only."""
    found = bundle_run.assessment
    assert found, bundle_run.failure("output")
    assert found["versioning"] == "Enabled"
    rule = found["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "AES256"
    assert all(found["public_access"].values()) and len(found["public_access"]) == 4
    trust = found["trust"] if isinstance(found["trust"], dict) else json.loads(found["trust"])
    assert trust["Statement"][0]["Principal"] == {"Service": "dms.amazonaws.com"}
    (policy,) = found["policies"]
    policy = policy if isinstance(policy, dict) else json.loads(policy)
    bucket_arn = f"arn:aws:s3:::{bundle_run.raw_outputs['assessment_bucket']['value']}"
    resources = {r for statement in policy["Statement"] for r in _as_list(statement["Resource"])}
    assert resources == {bucket_arn, f"{bucket_arn}/*"}
    actions = {a for statement in policy["Statement"] for a in _as_list(statement["Action"])}
    assert {"s3:PutObject", "s3:GetBucketLocation", "s3:ListBucket"} <= actions


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_each_secret_holds_what_dms_needs_and_the_password_the_cluster_got(bundle_run: BundleRun) -> None:
    assert set(bundle_run.secrets) == {"source", "target"}
    for side, secret in bundle_run.secrets.items():
        assert {"username", "password", "host", "port", "dbname"} <= set(secret)
        assert secret["host"] == bundle_run.raw_outputs[f"{side}_endpoint_dns_name"]["value"]
        assert (secret["username"], secret["port"], secret["dbname"]) == ("postgres", 5432, "demo_db")
        assert len(secret["password"]) == 32 and secret["password"].isalnum()
        # The write-only attribute reached the cluster, and it is the same generated password.
        assert bundle_run.cluster_passwords[side] == secret["password"]
    assert bundle_run.secrets["source"]["password"] != bundle_run.secrets["target"]["password"]


def test_no_generated_password_is_in_the_state_the_tfvars_or_any_log(bundle_run: BundleRun) -> None:
    passwords = [secret["password"] for secret in bundle_run.secrets.values()]
    assert len(passwords) == 2 and bundle_run.state_after_apply
    places = {"terraform.tfstate (after apply)": bundle_run.state_after_apply}
    places[str(bundle_run.workspace.var_file)] = bundle_run.workspace.var_file.read_text(encoding="utf-8")
    for log in sorted(bundle_run.log_dir.rglob("*")):
        if log.is_file():
            places[str(log)] = log.read_text(encoding="utf-8", errors="replace")
    for path in bundle_run.workspace.root.rglob("*"):
        if (
            path.is_file()
            and ".terraform" not in path.parts
            and path.suffix in (".tfstate", ".backup", ".json", ".log")
        ):
            places[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    assert len(places) >= 5  # state, tfvars, init/apply/output/destroy logs
    for where, text in places.items():
        for password in passwords:
            assert password not in text, f"a generated password leaked into {where}"


def test_the_secrets_are_write_only_in_the_state(bundle_run: BundleRun) -> None:
    state = json.loads(bundle_run.state_after_apply)
    versions = [r for r in state["resources"] if r["type"] == "aws_secretsmanager_secret_version"]
    assert len(versions) == 2
    for resource in versions:
        attributes = resource["instances"][0]["attributes"]
        assert attributes.get("secret_string_wo") is None and not attributes.get("secret_string")
    clusters = [r for r in state["resources"] if r["type"] == "aws_rds_cluster"]
    assert all(r["instances"][0]["attributes"].get("master_password") in (None, "") for r in clusters)


def test_destroy_removes_everything(bundle_run: BundleRun) -> None:
    assert "destroy" in bundle_run.results, "destroy did not run (apply failed first)"
    assert bundle_run.results["destroy"].returncode == 0, bundle_run.failure("destroy")
    managed = [r for r in bundle_run.resources_after_destroy or [] if r.get("mode") == "managed"]
    assert managed == []
