"""The environment: one object, built from the same flags everywhere, that answers every mode question."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest

from dms_tui import exit_codes
from dms_tui.environment import (
    RDS_CA_BUNDLE_ENV,
    Environment,
    EnvironmentRequest,
    add_environment_options,
    aws_environment,
    open_environment,
    request_from_args,
)
from dms_tui.errors import StepError
from dms_tui.journey import Journey


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_environment_options(parser)
    sub = parser.add_subparsers(dest="command")
    add_environment_options(sub.add_parser("verify"))
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["--sandbox", "--env", "demo2", "verify"],
        ["verify", "--sandbox", "--env", "demo2"],
        ["--sandbox", "verify", "--env", "demo2"],
    ],
)
def test_the_environment_flags_mean_the_same_before_or_after_the_subcommand(argv: list[str]) -> None:
    assert request_from_args(_parse(argv)) == EnvironmentRequest(sandbox=True, env="demo2")


def test_a_printed_command_carries_the_flags_that_name_the_same_environment() -> None:
    assert EnvironmentRequest().cli_flags() == []
    assert EnvironmentRequest(sandbox=True, env="demo2").cli_flags() == ["--sandbox", "--env", "demo2"]
    aws = EnvironmentRequest(env="prod", profile="migration", region="eu-west-1")
    assert aws.cli_flags() == ["--env", "prod", "--profile", "migration", "--region", "eu-west-1"]
    assert request_from_args(_parse(["verify", *aws.cli_flags()])) == aws


def test_the_sandbox_answers_for_its_emulator_and_aws_for_itself() -> None:
    sandbox = Environment(mode="sandbox", region="us-east-1", aws_endpoint_url="http://127.0.0.1:5000")
    aws = Environment(mode="aws", region="eu-west-1", profile="migration")
    # TLS the same way in both modes: verify-ca against the CA the environment names, require (said) without one.
    for environment in (sandbox, aws):
        assert environment.database_tls.sslmode == "require" and environment.database_tls.unverified_reason
        ca = Path("/state/ca.crt")
        verified = replace(environment, database_ca=ca).database_tls
        assert verified.libpq_params() == {"sslmode": "verify-ca", "sslrootcert": str(ca)}
        assert verified.unverified_reason == "" and str(ca) in verified.summary
    assert "RDS CA bundle" in aws.database_tls.unverified_reason
    assert not sandbox.reports_endpoint_service_state and aws.reports_endpoint_service_state
    assert sandbox.aws_cli_flags() == ["--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:5000"]
    assert aws.aws_cli_flags() == ["--region", "eu-west-1", "--profile", "migration"]
    assert sandbox.aws_cli_environment() and aws.aws_cli_environment() == {}
    assert sandbox.verify_timeouts.dms < aws.verify_timeouts.dms
    tf = sandbox.terraform_process_env({"AWS_PROFILE": "real"})
    assert "AWS_PROFILE" not in tf and tf["AWS_EC2_METADATA_DISABLED"] == "true"
    assert aws.terraform_process_env({})["AWS_PROFILE"] == "migration"


def test_an_unprovisioned_environment_says_what_to_run() -> None:
    with pytest.raises(StepError) as caught:
        Environment(mode="sandbox", region="us-east-1", env="demo2").require_outputs()
    assert caught.value.exit_code == exit_codes.NOT_RUN
    assert "dms-tui provision apply --sandbox --env demo2" in caught.value.next_step


def test_a_headless_command_without_a_running_sandbox_gets_an_actionable_error() -> None:
    with pytest.raises(StepError) as caught:
        open_environment(EnvironmentRequest(sandbox=True))
    error = caught.value
    assert error.exit_code == exit_codes.NOT_RUN
    assert "dms-tui sandbox up" in str(error)


def test_an_unreadable_outputs_file_is_refused_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dms_tui.environment import _outputs_from_file

    bad = tmp_path / "outputs.json"
    bad.write_text(json.dumps({"source_vpc_id": {"value": "vpc-1"}}))
    with pytest.raises(StepError) as caught:
        _outputs_from_file(bad)
    assert "terraform output -json" in caught.value.next_step
    with pytest.raises(StepError):
        _outputs_from_file(tmp_path / "missing.json")


def test_an_invalid_saved_configuration_is_kept_aside_not_silently_replaced() -> None:
    """Given a hand-edited tfvars with a bad CIDR, the journey starts from the defaults, reports the problem, and
    the next save keeps the person's file beside the new one."""
    journey = Journey("dev", "sandbox")
    journey.save_config(journey.config)
    document = json.loads(journey.config_path.read_text())
    document["vpcs"]["dms"]["cidr"] = "10.0.1.5/24"
    journey.config_path.write_text(json.dumps(document))

    again = Journey("dev", "sandbox")
    assert again.config_error is not None and "10.0.1.5/24" in str(again.config_error)
    again.save_config(again.config)
    kept = again.kept_invalid_config
    assert kept is not None and json.loads(kept.read_text())["vpcs"]["dms"]["cidr"] == "10.0.1.5/24"
    assert Journey("dev", "sandbox").config_error is None


def test_on_aws_the_rds_ca_bundle_on_this_machine_makes_every_session_verify_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aws_environment("eu-west-1").database_tls.sslmode == "require"  # no bundle here: said, not verified
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(RDS_CA_BUNDLE_ENV, str(bundle))
    assert aws_environment("eu-west-1").database_tls.libpq_params() == {
        "sslmode": "verify-ca",
        "sslrootcert": str(bundle),
    }
