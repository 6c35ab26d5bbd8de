"""The wheelhouse bucket as the bundle declares it: its name, its policy and the bastion's install script.

The texts live in the Terraform bundle (terraform/modules/wheelhouse/bucket_policy.json.tftpl and
terraform/modules/bastion/install-dms-tui.sh) and are read from there, so the app and terraform cannot disagree.
"""

from __future__ import annotations

import json
import re
from string import Template
from typing import Any

from dms_tui.resources import terraform_bundle_dir

#: Key prefix of the wheelhouse in the bucket (the bastion module's ``wheelhouse_prefix`` default).
WHEELHOUSE_PREFIX = "wheelhouse"
#: The manifest every upload carries: ``sha256sum`` format, checked on the bastion with ``sha256sum --check``.
MANIFEST_NAME = "SHA256SUMS"
#: Where the bastion's install script lands (user_data) and the venv it installs into.
INSTALL_SCRIPT_PATH = "/usr/local/sbin/install-dms-tui"


def bucket_name(environment_name: str, account_id: str, region: str) -> str:
    """The bucket's name: terraform/modules/wheelhouse/main.tf's ``local.bucket_name``."""
    return f"{environment_name}-dms-tui-{account_id}-{region}"


def policy_template() -> str:
    return (terraform_bundle_dir() / "modules" / "wheelhouse" / "bucket_policy.json.tftpl").read_text(encoding="utf-8")


def policy_document(bucket_arn: str, reader_role_arn: str, s3_vpc_endpoint_id: str) -> dict[str, Any]:
    """The bucket policy terraform renders (same template, same variables)."""
    text = Template(policy_template()).substitute(
        bucket_arn=bucket_arn, reader_role_arn=reader_role_arn, s3_vpc_endpoint_id=s3_vpc_endpoint_id
    )
    document: dict[str, Any] = json.loads(text)
    return document


def install_script() -> str:
    """The bastion's install script (user_data writes it to INSTALL_SCRIPT_PATH; ship sends the same text)."""
    return (terraform_bundle_dir() / "modules" / "bastion" / "install-dms-tui.sh").read_text(encoding="utf-8")


def bastion_python() -> str:
    """The Python the bastion installs into (``python3.11``), as the install script names it."""
    match = re.search(r"DMS_TUI_PYTHON:-python(\d+\.\d+)", install_script())
    if match is None:  # pragma: no cover - the bundle and this module travel together
        raise RuntimeError("install-dms-tui.sh does not name its Python")
    return match.group(1)
