"""Fixtures for the bastion tests: a moto server on loopback, an Environment pointing at it, a built wheelhouse."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from dms_tui.bastion.wheelhouse import Wheelhouse, build_wheelhouse
from dms_tui.environment import Environment
from dms_tui.provision.workspace import (
    TerraformBinary,
    TerraformNotFound,
    WorkspaceError,
    find_terraform,
    plugin_mirror,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

    apply_moto_gap_fixes()  # as the sandbox daemon does (moto applies a bucket policy's Deny without its Condition)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_environment(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Environment:
    # The sandbox's Environment shape (moto's URL, dummy keys); boto3 must not pick up a real profile.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Environment(mode="sandbox", region=REGION, env="dev", aws_endpoint_url=moto_url)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """One wheelhouse for the session (pip downloads from the index this machine is configured with)."""
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse") / "wh")


@pytest.fixture
def reader_role_arn(moto_environment: Environment) -> str:
    """An IAM role standing in for the bastion's (the one principal the bucket policy lets read)."""
    iam = moto_environment.client("iam")
    try:
        return str(iam.get_role(RoleName="dev-bastion-test")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        return str(iam.create_role(RoleName="dev-bastion-test", AssumeRolePolicyDocument=trust)["Role"]["Arn"])


@pytest.fixture(scope="session")
def terraform_binary() -> TerraformBinary:
    """terraform >= 1.11 with the hashicorp/aws mirror, else skip with the reason (tests never reach the registry)."""
    try:
        binary = find_terraform()
        mirror = plugin_mirror()
    except (TerraformNotFound, WorkspaceError) as exc:
        pytest.skip(f"terraform unavailable: {exc}")
    if mirror is None:
        pytest.skip("no hashicorp/aws provider mirror (set DMS_TUI_TF_PLUGIN_DIR or install one at /opt/tf-plugins)")
    return binary
