"""The account preflight: each finding against a moto server (quotas, VPC counts, orderable Aurora options, the DMS
roles) or botocore's Stubber where moto lacks the call (DMS orderable replication instances and IAM policy
simulation are not implemented in moto 5.2); a clean account passes; `dms-tui preflight` exit codes and --json; the
printed `aws` commands run as printed in the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from dms_tui import exit_codes
from dms_tui.cli import main
from dms_tui.config import WizardConfig
from dms_tui.environment import Environment, OpenedEnvironment
from dms_tui.errors import StepError
from dms_tui.steps import preflight
from dms_tui.steps.cleanup import rough_hourly_usd
from dms_tui.steps.preflight import BUNDLE_ACTIONS, Finding, PreflightDone, bundle_types, run_preflight

REGION = "us-east-1"
PRINCIPAL = "arn:aws:iam::123456789012:user/provisioner"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server whose account holds its default VPC only, and dummy keys for AWS-mode clients. What a test
    creates is deleted after it (a reset would rebuild moto's EC2 backend: seconds per test on a busy machine)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_server
    account = _aws(moto_server)
    ec2, iam = account.client("ec2"), account.client("iam")
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        if not vpc["IsDefault"]:
            ec2.delete_vpc(VpcId=vpc["VpcId"])
    for role in iam.list_roles()["Roles"]:
        iam.delete_role(RoleName=role["RoleName"])


def _config() -> WizardConfig:
    """An orderable configuration in moto's catalogue (which ends at Aurora PostgreSQL 15.2)."""
    config = WizardConfig.default("dev")
    for side in ("source_db", "target_db"):
        config = config.with_value(f"{side}.engine_version", "15.2")
    return config


def _aws(moto_url: str) -> Environment:
    return Environment(mode="aws", region=REGION, aws_endpoint_url=moto_url)


def _sandbox(moto_url: str) -> Environment:
    return Environment(mode="sandbox", region=REGION, aws_endpoint_url=moto_url)


class _Partly:
    """A client whose ``names`` go to a Stubber-driven client, the rest to moto (moto lacks those calls)."""

    def __init__(self, real: Any, stubbed: Any, names: set[str]) -> None:
        self._real, self._stubbed, self._names = real, stubbed, names

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stubbed if name in self._names else self._real, name)


def _stubbed_clients(
    environment: Environment,
    *,
    dms_offers: list[dict[str, Any]] | None = None,
    denied: tuple[str, ...] = (),
    quotas: dict[str, float] | None = None,
) -> tuple[Any, list[Stubber]]:
    """Clients from ``environment`` (moto), with DescribeOrderableReplicationInstances and SimulatePrincipalPolicy
    answered by Stubber: moto 5.2 raises NotImplementedError for both."""
    offline = {"region_name": REGION, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    dms = boto3.client("dms", **offline)
    dms_stub = Stubber(dms)
    offers = dms_offers if dms_offers is not None else [
        {"ReplicationInstanceClass": "dms.t3.medium", "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}
    ]  # fmt: skip
    dms_stub.add_response("describe_orderable_replication_instances", {"OrderableReplicationInstances": offers})
    iam = boto3.client("iam", **offline)
    iam_stub = Stubber(iam)
    actions = list(preflight.bundle_actions())
    results = [
        {"EvalActionName": action, "EvalDecision": "implicitDeny" if action in denied else "allowed"}
        for action in actions
    ]
    iam_stub.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": results, "IsTruncated": False},
        {"PolicySourceArn": PRINCIPAL, "ActionNames": actions},
    )
    sts = boto3.client("sts", **offline)
    sts_stub = Stubber(sts)  # a fixed caller, so the simulated principal is known
    sts_stub.add_response("get_caller_identity", {"Arn": PRINCIPAL, "Account": "123456789012", "UserId": "AIDEXAMPLE"})
    stubs = [dms_stub, iam_stub, sts_stub]
    service_quotas = boto3.client("service-quotas", **offline)
    if quotas is not None:  # a quota the account was granted (moto answers AWS's defaults only)
        quotas_stub = Stubber(service_quotas)
        for code, value in quotas.items():
            quota = {"ServiceCode": "vpc", "QuotaCode": code, "Value": value}
            quotas_stub.add_response("get_service_quota", {"Quota": quota}, {"ServiceCode": "vpc", "QuotaCode": code})
        stubs.append(quotas_stub)
    for stub in stubs:
        stub.activate()

    def clients(service: str) -> Any:
        real = environment.client(service)
        if service == "dms":
            return _Partly(real, dms, {"describe_orderable_replication_instances"})
        if service == "iam":
            return _Partly(real, iam, {"simulate_principal_policy"})
        if service == "sts":
            return sts
        if service == "service-quotas" and quotas is not None:
            return service_quotas
        return real

    return clients, stubs


def _run(environment: Environment, config: WizardConfig, **kwargs: Any) -> tuple[dict[str, Finding], PreflightDone]:
    clients, stubs = _stubbed_clients(environment, **kwargs)
    events = list(run_preflight(environment, config, clients=clients))
    for stub in stubs:
        stub.assert_no_pending_responses()
    done = events[-1]
    assert isinstance(done, PreflightDone)
    return {finding.key: finding for finding in done.findings}, done


def _create_vpcs(moto_url: str, count: int) -> None:
    ec2 = _aws(moto_url).client("ec2")
    for n in range(count):
        ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")


# -- a clean account -------------------------------------------------------------------------------------------------


def test_a_clean_account_passes_with_every_check(moto_url: str) -> None:
    findings, done = _run(_aws(moto_url), _config())
    assert list(findings) == list(preflight.CHECKS)
    assert not done.blocked and done.exit_code == exit_codes.OK
    assert findings["vpc-quota"].severity == "ok"
    assert findings["vpc-quota"].title == "VPCs: 4 of 5 after the apply"  # moto's default VPC + the plan's 3
    assert findings["endpoint-quota"].title == "Interface endpoints: 6 of 50 in the DMS VPC"
    assert findings["aurora-source"].severity == findings["aurora-target"].severity == "ok"
    assert findings["dms-instance"].severity == "ok"
    assert findings["service-roles"].severity == "info"
    assert "this plan creates them" in findings["service-roles"].detail
    assert findings["permissions"].severity == "ok"
    assert findings["permissions"].title == f"Permissions: all {len(preflight.bundle_actions())} actions allowed"
    assert findings["cost"].title == f"Cost: about ${rough_hourly_usd(_config()):.2f}/hour"


# -- each finding that blocks ----------------------------------------------------------------------------------------


def test_more_vpcs_than_the_quota_blocks_and_says_what_to_delete(moto_url: str) -> None:
    """moto reports AWS's default quota of 5 VPCs per region: 1 default + 2 more + the plan's 3 = 6."""
    _create_vpcs(moto_url, 2)
    findings, done = _run(_aws(moto_url), _config())
    vpc = findings["vpc-quota"]
    assert vpc.blocks and done.exit_code == exit_codes.FAILED
    assert vpc.title == "VPCs: 6 needed, quota 5"
    assert "VpcLimitExceeded" in vpc.detail
    assert vpc.remedy.startswith("Delete 1 unused VPC in us-east-1")
    assert "--quota-code L-F678F1CE --desired-value 6" in vpc.remedy


def test_an_interface_endpoint_quota_below_what_the_dms_vpc_needs_blocks(moto_url: str) -> None:
    findings, _ = _run(
        _aws(moto_url), _config(), quotas={preflight.VPC_QUOTA_CODE: 10, preflight.ENDPOINT_QUOTA_CODE: 4}
    )
    assert findings["vpc-quota"].title == "VPCs: 4 of 10 after the apply"
    endpoints = findings["endpoint-quota"]
    assert endpoints.blocks and endpoints.title == "Interface endpoints: 6 needed, quota 4 per VPC"
    assert "--quota-code L-29B6F2EB --desired-value 6" in endpoints.remedy


def test_this_environments_own_vpcs_are_not_added_twice(moto_url: str) -> None:
    ec2 = _aws(moto_url).client("ec2")
    for name in ("dev-onprem-source", "dev-dms", "dev-aurora-target"):
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": name}])
    findings, _ = _run(_aws(moto_url), _config())
    assert findings["vpc-quota"].title == "VPCs: 4 of 5 after the apply"


def test_an_aurora_version_moto_does_not_offer_blocks_with_the_side_named(moto_url: str) -> None:
    config = _config().with_value("target_db.engine_version", "16.6")  # past the end of moto's catalogue
    findings, _ = _run(_aws(moto_url), config)
    target = findings["aurora-target"]
    assert target.blocks and findings["aurora-source"].severity == "ok"
    assert target.title == "Aurora target: 16.6 on db.r6g.large not offered"
    assert "not orderable in us-east-1" in target.detail
    assert "target cluster's instance" in target.detail
    assert "target database" in target.remedy


def test_a_zone_where_the_aurora_class_is_not_offered_blocks(moto_url: str) -> None:
    config = _config().with_value("vpcs.source.azs", ["us-east-1a", "us-east-1e"])  # moto: r6g.large not in 1e
    findings, _ = _run(_aws(moto_url), config)
    source = findings["aurora-source"]
    assert source.blocks and source.title == "Aurora source: db.r6g.large not offered in us-east-1e"
    assert "Network screen" in source.remedy


def test_a_dms_class_not_offered_blocks(moto_url: str) -> None:
    findings, _ = _run(
        _aws(moto_url),
        _config(),
        dms_offers=[{"ReplicationInstanceClass": "dms.t3.medium", "AvailabilityZones": ["us-east-1c"]}],
    )
    dms = findings["dms-instance"]
    assert dms.blocks and dms.title == "DMS instance: dms.t3.medium not offered in us-east-1a, us-east-1b"
    findings, _ = _run(_aws(moto_url), _config(), dms_offers=[])
    assert findings["dms-instance"].title == "DMS instance: dms.t3.medium not offered in us-east-1"


def test_denied_actions_block_and_are_named(moto_url: str) -> None:
    findings, _ = _run(_aws(moto_url), _config(), denied=("ec2:CreateVpc", "dms:CreateEndpoint"))
    permissions = findings["permissions"]
    assert permissions.blocks
    assert permissions.title == f"Permissions: 2 of {len(preflight.bundle_actions())} actions denied"
    assert "dms:CreateEndpoint, ec2:CreateVpc" in permissions.detail and "AccessDenied" in permissions.detail
    assert PRINCIPAL in permissions.remedy


def test_the_dms_roles_present_are_reused_and_one_alone_blocks(moto_url: str) -> None:
    iam = _aws(moto_url).client("iam")
    iam.create_role(RoleName="dms-vpc-role", AssumeRolePolicyDocument="{}")
    findings, _ = _run(_aws(moto_url), _config())
    roles = findings["service-roles"]
    assert roles.blocks and roles.title == "DMS service roles: only dms-vpc-role exists"
    assert "Create dms-cloudwatch-logs-role by hand" in roles.remedy
    iam.create_role(RoleName="dms-cloudwatch-logs-role", AssumeRolePolicyDocument="{}")
    findings, _ = _run(_aws(moto_url), _config())
    assert findings["service-roles"].severity == "ok"
    assert findings["service-roles"].title == "DMS service roles: reused"


def test_an_assumed_role_is_simulated_as_its_role() -> None:
    environment = Environment(mode="aws", region=REGION)
    iam = boto3.client("iam", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(iam) as stub:
        stub.add_response("get_role", {"Role": {"Path": "/ops/", "RoleName": "admin", "RoleId": "AROAEXAMPLE1234567",
                                                "Arn": "arn:aws:iam::123456789012:role/ops/admin",
                                                "CreateDate": "2026-01-01T00:00:00Z"}}, {"RoleName": "admin"})  # fmt: skip
        account = preflight._Account(
            environment, _config(), lambda _: iam, "arn:aws:sts::123456789012:assumed-role/admin/alice", "123456789012"
        )
        assert preflight._principal(account) == "arn:aws:iam::123456789012:role/ops/admin"


def test_without_service_quotas_the_documented_default_is_assumed_and_said() -> None:
    environment = Environment(mode="aws", region=REGION)
    quotas = boto3.client("service-quotas", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(quotas) as stub:
        stub.add_client_error("get_service_quota", "AccessDeniedException", "not authorized")
        account = preflight._Account(environment, _config(), lambda _: quotas, "arn", "1")
        value, note = preflight._quota(account, preflight.VPC_QUOTA_CODE, preflight.VPC_QUOTA_DEFAULT)
    assert value == 5
    assert (
        note
        == "Service Quotas did not answer (AccessDeniedException: not authorized): assumed AWS's documented default, 5."
    )


def test_no_identity_means_the_preflight_could_not_run() -> None:
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "ExpiredToken", "The security token included is expired")
        with pytest.raises(StepError) as caught:
            list(run_preflight(Environment(mode="aws", region=REGION), _config(), clients=lambda _: sts))
    assert caught.value.exit_code == exit_codes.NOT_RUN
    assert "ExpiredToken" in caught.value.why


# -- the sandbox -----------------------------------------------------------------------------------------------------


def test_in_the_sandbox_what_moto_cannot_prove_does_not_block(moto_url: str) -> None:
    """A quota moto never enforces: a warning (AWS would refuse); the default config's Aurora 16.6, past moto's
    catalogue: not checked (moto cannot say no); the two calls moto lacks are skipped and say so."""
    _create_vpcs(moto_url, 2)
    done = list(run_preflight(_sandbox(moto_url), WizardConfig.default("dev")))[-1]
    assert isinstance(done, PreflightDone)
    findings = {finding.key: finding for finding in done.findings}
    assert not done.blocked
    assert findings["vpc-quota"].severity == "warn" and "never enforces" in findings["vpc-quota"].detail
    aurora = findings["aurora-source"]
    assert aurora.severity == "skipped" and aurora.title.endswith(
        "16.6 on db.r6g.large not in the emulator's catalogue"
    )
    assert "ends at Aurora PostgreSQL 15.2" in aurora.detail and aurora.command
    assert findings["dms-instance"].severity == findings["permissions"].severity == "skipped"
    assert "does not implement" in findings["permissions"].detail
    assert findings["cost"].title.endswith("on AWS (free here)")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI (`aws`) is not installed")
def test_every_printed_command_runs_as_printed_in_the_sandbox(moto_url: str, tmp_path: Path) -> None:
    done = list(run_preflight(_sandbox(moto_url), _config()))[-1]
    assert isinstance(done, PreflightDone)
    commands = [finding.command for finding in done.findings if finding.command]
    assert len(commands) == 5  # both quotas, both Aurora sides, the roles
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"AWS_CONFIG_FILE": "/dev/null"}
    for command in commands:
        result = subprocess.run(  # noqa: S602 - the point is to run the printed shell line
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"


# -- the bundle's actions --------------------------------------------------------------------------------------------


def test_the_action_table_covers_every_type_the_bundle_declares() -> None:
    types = bundle_types()
    assert "aws_dms_replication_instance" in types and "aws_vpc" in types
    assert [kind for kind in types if kind not in BUNDLE_ACTIONS] == []


def test_the_dms_vpc_interface_endpoint_count_matches_the_bundle() -> None:
    from dms_tui.resources import terraform_bundle_dir

    modules = terraform_bundle_dir() / "modules"
    text = "".join((modules / name / "main.tf").read_text() for name in ("dms", "bastion", "privatelink"))
    # privatelink's endpoint is instantiated twice (source and target); bastion's for_each holds three services.
    assert text.count('vpc_endpoint_type   = "Interface"') == 3
    assert '"ssm", "ssmmessages", "ec2messages"' in text
    assert preflight.INTERFACE_ENDPOINTS_IN_DMS_VPC == 1 + 3 + 2


# -- dms-tui preflight -----------------------------------------------------------------------------------------------


def _headless(monkeypatch: pytest.MonkeyPatch, environment: Environment, argv: list[str]) -> int:
    from dms_tui.commands import preflight as command

    monkeypatch.setattr(command, "open_environment", lambda request: OpenedEnvironment(environment, "test"))
    return main(["preflight", *argv])


def test_the_command_exits_0_when_nothing_blocks(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _headless(monkeypatch, _sandbox(moto_url), ["--json"]) == exit_codes.OK
    document = json.loads(capsys.readouterr().out)
    assert document["blocked"] is False
    assert [finding["key"] for finding in document["findings"]] == list(preflight.CHECKS)
    assert {"key", "severity", "title", "detail", "remedy", "command"} == set(document["findings"][0])


def test_the_command_exits_1_when_a_finding_blocks(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sandbox(moto_url).client("iam").create_role(RoleName="dms-cloudwatch-logs-role", AssumeRolePolicyDocument="{}")
    assert _headless(monkeypatch, _sandbox(moto_url), []) == exit_codes.FAILED
    out = capsys.readouterr().out
    assert "✗ DMS service roles: only dms-cloudwatch-logs-role exists" in out
    assert "block the apply" in out


def test_the_command_exits_2_when_the_configuration_is_invalid(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dms_tui.journey import Journey

    path = Journey.resume_or_start("dev", "sandbox").config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"environment": "dev", "vpcs": 7}')
    assert _headless(monkeypatch, _sandbox(moto_url), ["--json"]) == exit_codes.NOT_RUN
    captured = capsys.readouterr()
    assert captured.out == "" and "is not a valid configuration" in captured.err
