"""The bundle's wheelhouse bucket, applied by terraform against moto, receives `ship`'s upload: the objects with
their SHA-256 checksums and the manifest, in a bucket carrying exactly the policy the bundle declares."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dms_tui import __version__
from dms_tui.bastion.bucket import MANIFEST_NAME, bucket_name, policy_document
from dms_tui.bastion.ship import Uploaded, resolve_target, upload
from dms_tui.bastion.wheelhouse import Wheelhouse, sha256_of
from dms_tui.environment import Environment
from dms_tui.provision.workspace import TerraformBinary, cli_config, plugin_mirror, sandbox_override
from dms_tui.resources import terraform_bundle_dir

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ENDPOINT_ID = "vpce-0a1b2c3d4e5f67890"


def _terraform(tf: TerraformBinary, root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tf.path), *args, "-no-color"], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _run_install_script(tmp_path: Path, moto_url: str, bucket: str) -> subprocess.CompletedProcess[str]:
    """install-dms-tui.sh BUCKET with the bastion's paths moved under ``tmp_path`` and its `aws` pointed at moto."""
    import os
    import stat
    import sys

    from dms_tui.bastion.bucket import install_script

    script = tmp_path / "install-dms-tui.sh"
    script.write_text(install_script(), encoding="utf-8")
    aws = tmp_path / "aws-to-moto"
    aws.write_text(f'#!/bin/sh\nexec aws --endpoint-url {moto_url} "$@"\n', encoding="utf-8")
    aws.chmod(aws.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "bin").mkdir()
    env = os.environ | {
        "DMS_TUI_PYTHON": sys.executable,  # the bastion installs python3.11; so does this machine's test run
        "DMS_TUI_VENV": str(tmp_path / "venv"),
        "DMS_TUI_LINK": str(tmp_path / "bin" / "dms-tui"),
        "DMS_TUI_AWS": str(aws),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's dummy key
        "AWS_DEFAULT_REGION": "us-east-1",
        "PIP_CONFIG_FILE": os.devnull,  # no index or find-links of this machine's pip config may help the install
        "PIP_FIND_LINKS": "",
    }
    return subprocess.run(
        ["bash", str(script), bucket], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_bundles_bucket_takes_the_upload_with_its_declared_policy(
    terraform_binary: TerraformBinary,
    moto_environment: Environment,
    reader_role_arn: str,
    wheelhouse: Wheelhouse,
    tmp_path: Path,
) -> None:
    import os

    url = moto_environment.aws_endpoint_url
    assert url is not None
    module = terraform_bundle_dir() / "modules" / "wheelhouse"
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "~> 5.100" }\n  }\n}\n'
        f'module "wheelhouse" {{\n  source = {json.dumps(str(module))}\n  name_prefix = "dev"\n'
        f'  region = "us-east-1"\n  reader_role_arn = {json.dumps(reader_role_arn)}\n'
        f'  s3_vpc_endpoint_id = "{ENDPOINT_ID}"\n}}\n'
        'output "bucket" {\n  value = module.wheelhouse.bucket_name\n}\n'
        # What the sandbox override overrides (the bundle's root module declares both).
        'provider "aws" {\n  region = "us-east-1"\n}\nlocals {\n  register_writer_targets = true\n}\n',
        encoding="utf-8",
    )
    (root / "sandbox_override.tf").write_text(sandbox_override(url, "us-east-1"), encoding="utf-8")
    (root / "cli.tfrc").write_text(cli_config(plugin_mirror()), encoding="utf-8")
    env = moto_environment.terraform_process_env(os.environ) | {
        "TF_CLI_CONFIG_FILE": str(root / "cli.tfrc"),
        "CHECKPOINT_DISABLE": "1",
    }
    init = _terraform(terraform_binary, root, env, "init", "-input=false", "-backend=false")
    assert init.returncode == 0, init.stdout + init.stderr
    apply = _terraform(terraform_binary, root, env, "apply", "-auto-approve", "-input=false")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    output = json.loads(_terraform(terraform_binary, root, env, "output", "-json").stdout)

    # The name the app computes is the name terraform gave the bucket.
    target = resolve_target(moto_environment)
    assert target.bucket == output["bucket"]["value"] == bucket_name("dev", "123456789012", "us-east-1")

    events = list(upload(moto_environment.client("s3"), wheelhouse, target))
    assert [e.name for e in events if isinstance(e, Uploaded)][-1] == MANIFEST_NAME  # the manifest goes last
    s3 = moto_environment.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=target.bucket)["Policy"])
    assert policy == policy_document(f"arn:aws:s3:::{target.bucket}", reader_role_arn, ENDPOINT_ID)
    sids = {statement["Sid"] for statement in policy["Statement"]}
    assert {"DenyInsecureTransport", "ReadOnlyByTheBastionRole", "ReadOnlyThroughTheGatewayEndpoint"} <= sids
    encryption = s3.get_bucket_encryption(Bucket=target.bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=target.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    for name in wheelhouse.files:
        head = s3.head_object(Bucket=target.bucket, Key=f"wheelhouse/{name}", ChecksumMode="ENABLED")
        assert head["ContentLength"] == (wheelhouse.directory / name).stat().st_size
    manifest = s3.get_object(Bucket=target.bucket, Key=f"wheelhouse/{MANIFEST_NAME}")["Body"].read().decode()
    assert f"{sha256_of(wheelhouse.directory / wheelhouse.tool_wheel)}  {wheelhouse.tool_wheel}" in manifest

    # A second ship of the same wheelhouse uploads nothing but the manifest.
    again = [e for e in upload(s3, wheelhouse, target) if isinstance(e, Uploaded)]
    assert [e.name for e in again if not e.skipped] == [MANIFEST_NAME]

    # The bastion's own install script, as user_data and `ship` run it, installs from the bucket with no index into a
    # fresh venv of the bastion's Python (3.11, this machine's too), and the installed command runs.
    installed = _run_install_script(tmp_path, url, target.bucket)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"installed dms-tui {__version__} from s3://{target.bucket}/wheelhouse" in installed.stdout
    version = subprocess.run(
        [str(tmp_path / "bin" / "dms-tui"), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.stdout.strip() == f"dms-tui {__version__}", version.stdout + version.stderr

    destroy = _terraform(terraform_binary, root, env, "destroy", "-auto-approve", "-input=false")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr  # force_destroy: objects go with the bucket
