"""The Welcome screen's "who am I, where": STS identity through boto3's default chain, or why there is none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dms_tui.aws.session_info import discover_session_info

CHAIN_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture
def empty_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no AWS configuration at all (and no instance metadata service to ask)."""
    for name in CHAIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_keys_and_region_from_the_environment_give_the_caller_identity(
    empty_chain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-not-a-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    with mock_aws():
        info = discover_session_info()
    assert info.ok and info.region == "eu-central-1"
    assert info.account == "123456789012" and info.arn is not None and info.arn.startswith("arn:aws:sts::")
    assert info.credential_source == "env"
    assert info.profile is None  # none chosen: a later boto3.Session(profile_name=None) finds the same keys


def test_a_profile_in_the_shared_files_is_followed(empty_chain: Path) -> None:
    (empty_chain / "credentials").write_text(
        "[migration]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"
    )
    (empty_chain / "config").write_text("[profile migration]\nregion = ap-southeast-2\n")
    with mock_aws():
        info = discover_session_info("migration")
    assert info.ok and info.region == "ap-southeast-2" and info.profile == "migration"
    assert info.credential_source == "shared-credentials-file"


def test_no_credentials_anywhere_says_how_to_get_some_or_use_the_sandbox(empty_chain: Path) -> None:
    info = discover_session_info()
    assert not info.ok and info.account is None
    assert info.problem is not None and "aws configure" in info.problem and "sandbox" in info.problem


def test_credentials_without_a_region_ask_for_one(empty_chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-not-a-secret")
    info = discover_session_info()
    assert not info.ok and info.region is None and info.problem is not None and "AWS_REGION" in info.problem


def test_an_unknown_profile_is_named(empty_chain: Path) -> None:
    info = discover_session_info("nonexistent")
    assert not info.ok and info.problem is not None and "nonexistent" in info.problem


def test_expired_credentials_are_reported_with_aws_reason(empty_chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-not-a-secret")
    session = boto3.Session(region_name="us-east-1")
    sts = session.client("sts")
    stub = Stubber(sts)
    stub.add_client_error(
        "get_caller_identity", "ExpiredToken", "The security token included in the request is expired"
    )
    stub.activate()

    class OneClientSession:
        region_name = session.region_name
        profile_name = session.profile_name
        get_credentials = session.get_credentials

        def client(self, *_: Any, **__: Any) -> Any:
            return sts

    info = discover_session_info(session=OneClientSession())
    assert not info.ok and info.region == "us-east-1"
    assert info.problem is not None and "ExpiredToken" in info.problem and "aws sso login" in info.problem
