"""Fixtures for the Terraform bundle tests: the terraform binary and its offline provider mirror, or a printed skip."""

from __future__ import annotations

import pytest

from dms_tui.provision.workspace import (
    TerraformBinary,
    TerraformNotFound,
    WorkspaceError,
    find_terraform,
    plugin_mirror,
)


@pytest.fixture(scope="session")
def terraform_binary() -> TerraformBinary:
    """terraform >= 1.11 with the hashicorp/aws mirror, else skip with the reason (tests never reach the registry)."""
    try:
        binary = find_terraform()
    except TerraformNotFound as exc:
        pytest.skip(f"terraform unavailable: {exc}")
    try:
        mirror = plugin_mirror()
    except WorkspaceError as exc:
        pytest.skip(str(exc))
    if mirror is None:
        pytest.skip("no hashicorp/aws provider mirror (set DMS_TUI_TF_PLUGIN_DIR or install one at /opt/tf-plugins)")
    return binary
