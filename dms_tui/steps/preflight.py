"""Preflight: check the account before the first plan, so a 15–20 minute apply does not fail half-way.

``run_preflight`` asks the account (through the environment's clients: moto in the sandbox) what the configuration
needs and yields one :class:`Finding` per question: VPC and interface-endpoint quotas against what the plan adds,
the Aurora engine version and instance class and the DMS instance class orderable in the chosen zones, the
account-wide DMS service roles (reused or created), ``iam simulate-principal-policy`` for every action the bundle
performs, and the rough hourly cost. Each finding says what would fail later and what to change now, and carries
the ``aws`` command that shows the same (runnable as printed here; none where the environment cannot answer).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui import exit_codes
from dms_tui.checks.commands import aws_command
from dms_tui.environment import Environment
from dms_tui.errors import StepError
from dms_tui.provision import dms_roles
from dms_tui.resources import terraform_bundle_dir
from dms_tui.steps.cleanup import INTERFACE_ENDPOINTS_IN_DMS_VPC, rough_hourly_usd

if TYPE_CHECKING:
    from pathlib import Path

    from dms_tui.config import WizardConfig

Severity = Literal["ok", "info", "warn", "blocks", "skipped"]
#: How each severity reads, for both faces: a mark and a colour name (the Review screen and `dms-tui preflight`).
SEVERITY_MARKS: dict[str, tuple[str, str]] = {
    "ok": ("✓", "green"),
    "info": ("·", "cyan"),
    "warn": ("!", "yellow"),
    "blocks": ("✗", "red"),
    "skipped": ("–", "dim"),
}
Clients = Callable[[str], Any]

# Service Quotas codes (service code "vpc"), with AWS's documented defaults for when Service Quotas cannot answer.
VPC_QUOTA_CODE, VPC_QUOTA_DEFAULT = "L-F678F1CE", 5  # VPCs per Region
ENDPOINT_QUOTA_CODE, ENDPOINT_QUOTA_DEFAULT = "L-29B6F2EB", 50  # Interface VPC endpoints per VPC


#: IAM actions terraform performs for each resource and data source type of the bundle (create, read, update,
#: delete, tag). The one table of what the bundle needs: a test checks it covers every type the bundle declares.
BUNDLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws_caller_identity": (),  # sts:GetCallerIdentity needs no permission
    "aws_partition": (),
    "aws_iam_policy_document": (),  # rendered locally
    "aws_ssm_parameter": ("ssm:GetParameter",),
    "aws_network_interface": ("ec2:DescribeNetworkInterfaces",),
    "aws_network_interfaces": ("ec2:DescribeNetworkInterfaces",),
    "aws_vpc": ("ec2:CreateVpc", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:ModifyVpcAttribute",
                "ec2:DeleteVpc", "ec2:CreateTags"),
    "aws_subnet": ("ec2:CreateSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"),
    "aws_route_table": ("ec2:CreateRouteTable", "ec2:DescribeRouteTables", "ec2:DeleteRouteTable"),
    "aws_route_table_association": ("ec2:AssociateRouteTable", "ec2:DisassociateRouteTable"),
    "aws_default_security_group": ("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress",
                                   "ec2:RevokeSecurityGroupEgress"),
    "aws_security_group": ("ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup"),
    "aws_vpc_security_group_ingress_rule": ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                                            "ec2:DescribeSecurityGroupRules"),
    "aws_vpc_security_group_egress_rule": ("ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
                                           "ec2:DescribeSecurityGroupRules"),
    "aws_vpc_endpoint": ("ec2:CreateVpcEndpoint", "ec2:DescribeVpcEndpoints", "ec2:ModifyVpcEndpoint",
                         "ec2:DeleteVpcEndpoints", "ec2:DescribePrefixLists"),
    "aws_vpc_endpoint_service": ("ec2:CreateVpcEndpointServiceConfiguration",
                                 "ec2:DescribeVpcEndpointServiceConfigurations",
                                 "ec2:DescribeVpcEndpointServicePermissions",
                                 "ec2:ModifyVpcEndpointServicePermissions",
                                 "ec2:DeleteVpcEndpointServiceConfigurations"),
    "aws_instance": ("ec2:RunInstances", "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute",
                     "ec2:MonitorInstances", "ec2:TerminateInstances", "iam:PassRole"),
    "aws_lb": ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers",
               "elasticloadbalancing:DescribeLoadBalancerAttributes",
               "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:DeleteLoadBalancer",
               "elasticloadbalancing:AddTags"),
    "aws_lb_target_group": ("elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DescribeTargetGroups",
                            "elasticloadbalancing:ModifyTargetGroupAttributes",
                            "elasticloadbalancing:DeleteTargetGroup"),
    "aws_lb_target_group_attachment": ("elasticloadbalancing:RegisterTargets",
                                       "elasticloadbalancing:DeregisterTargets",
                                       "elasticloadbalancing:DescribeTargetHealth"),
    "aws_lb_listener": ("elasticloadbalancing:CreateListener", "elasticloadbalancing:DescribeListeners",
                        "elasticloadbalancing:DeleteListener"),
    "aws_db_subnet_group": ("rds:CreateDBSubnetGroup", "rds:DescribeDBSubnetGroups", "rds:DeleteDBSubnetGroup"),
    "aws_rds_cluster_parameter_group": ("rds:CreateDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup",
                                        "rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters",
                                        "rds:DeleteDBClusterParameterGroup"),
    "aws_rds_cluster": ("rds:CreateDBCluster", "rds:DescribeDBClusters", "rds:ModifyDBCluster",
                        "rds:DeleteDBCluster", "rds:AddTagsToResource", "rds:ListTagsForResource"),
    "aws_rds_cluster_instance": ("rds:CreateDBInstance", "rds:DescribeDBInstances", "rds:DeleteDBInstance"),
    "aws_secretsmanager_secret": ("secretsmanager:CreateSecret", "secretsmanager:DescribeSecret",
                                  "secretsmanager:GetResourcePolicy", "secretsmanager:DeleteSecret",
                                  "secretsmanager:TagResource"),
    "aws_secretsmanager_secret_version": ("secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"),
    "aws_iam_role": ("iam:CreateRole", "iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                     "iam:ListInstanceProfilesForRole", "iam:DeleteRole", "iam:TagRole"),
    "aws_iam_role_policy": ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    "aws_iam_role_policy_attachment": ("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
    "aws_iam_instance_profile": ("iam:CreateInstanceProfile", "iam:GetInstanceProfile",
                                 "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                                 "iam:DeleteInstanceProfile"),
    "aws_dms_replication_subnet_group": ("dms:CreateReplicationSubnetGroup", "dms:DescribeReplicationSubnetGroups",
                                         "dms:DeleteReplicationSubnetGroup"),
    "aws_dms_replication_instance": ("dms:CreateReplicationInstance", "dms:DescribeReplicationInstances",
                                     "dms:ModifyReplicationInstance", "dms:DeleteReplicationInstance",
                                     "dms:AddTagsToResource", "dms:ListTagsForResource"),
    "aws_dms_endpoint": ("dms:CreateEndpoint", "dms:DescribeEndpoints", "dms:ModifyEndpoint", "dms:DeleteEndpoint",
                         "iam:PassRole"),
    "aws_s3_bucket": ("s3:CreateBucket", "s3:ListBucket", "s3:GetBucketTagging", "s3:PutBucketTagging",
                      "s3:DeleteBucket"),
    "aws_s3_bucket_public_access_block": ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "aws_s3_bucket_ownership_controls": ("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    "aws_s3_bucket_server_side_encryption_configuration": ("s3:PutEncryptionConfiguration",
                                                           "s3:GetEncryptionConfiguration"),
    "aws_s3_bucket_versioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws_s3_bucket_lifecycle_configuration": ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "aws_s3_bucket_policy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
}  # fmt: skip

_DECLARATION = re.compile(r'^\s*(?:resource|data)\s+"(aws_[a-z0-9_]+)"', re.MULTILINE)

CHECKS: tuple[str, ...] = (
    "vpc-quota",
    "endpoint-quota",
    "aurora-source",
    "aurora-target",
    "dms-instance",
    "service-roles",
    "permissions",
    "cost",
)


@dataclass(frozen=True)
class Finding:
    """One answer of the preflight: what was checked, the verdict, what fails later and what to change now."""

    key: str
    severity: Severity
    title: str  # one line, for a list
    detail: str  # what was found; for a block, what the apply would do
    remedy: str = ""  # what to change now ("" when nothing)
    command: str = ""  # the `aws` command that shows the same, runnable as printed here ("" when none runs here)

    @property
    def blocks(self) -> bool:
        return self.severity == "blocks"

    def to_json(self) -> dict[str, str]:
        return {
            "key": self.key,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "remedy": self.remedy,
            "command": self.command,
        }


@dataclass(frozen=True)
class PreflightStarted:
    principal: str  # who is checked (the caller's ARN)
    checks: tuple[str, ...]


@dataclass(frozen=True)
class FindingMade:
    finding: Finding


@dataclass(frozen=True)
class PreflightDone:
    """The last event: every finding; the apply would fail when one blocks."""

    principal: str
    findings: tuple[Finding, ...]

    @property
    def blocked(self) -> bool:
        return any(finding.blocks for finding in self.findings)

    @property
    def exit_code(self) -> int:
        return exit_codes.FAILED if self.blocked else exit_codes.OK

    @property
    def summary(self) -> str:
        blocking = sum(finding.blocks for finding in self.findings)
        warnings = sum(finding.severity == "warn" for finding in self.findings)
        if blocking:
            return f"{blocking} finding{'s' if blocking > 1 else ''} block the apply: change them before planning"
        return "nothing blocks the apply" + (f" ({warnings} to look at)" if warnings else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "blocked": self.blocked,
            "findings": [finding.to_json() for finding in self.findings],
        }


PreflightEvent = PreflightStarted | FindingMade | PreflightDone


def preflight_command_line(environment: Environment) -> str:
    return shlex.join(["dms-tui", "preflight", *environment.cli_flags()])


# -- what the bundle needs -------------------------------------------------------------------------------------------


def bundle_types(bundle: Path | None = None) -> tuple[str, ...]:
    """Every resource and data source type the Terraform bundle declares (its own modules, not overrides)."""
    root = bundle or terraform_bundle_dir()
    found: set[str] = set()
    for tf in sorted(root.glob("*/**/*.tf")):
        if not tf.name.endswith("_override.tf"):
            found.update(_DECLARATION.findall(tf.read_text(encoding="utf-8")))
    return tuple(sorted(found))


def bundle_actions(bundle: Path | None = None) -> tuple[str, ...]:
    """The IAM actions terraform performs for the bundle (from :data:`BUNDLE_ACTIONS`), sorted, each once."""
    return tuple(sorted({action for kind in bundle_types(bundle) for action in BUNDLE_ACTIONS.get(kind, ())}))


# -- the run ---------------------------------------------------------------------------------------------------------


@dataclass
class _Account:
    environment: Environment
    config: WizardConfig
    clients: Clients
    caller_arn: str
    account: str
    _made: dict[str, Any] = field(default_factory=dict)
    _zones: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """One client per service for the whole run (building one costs more than most of the calls)."""
        if service not in self._made:
            self._made[service] = self.clients(service)
        return self._made[service]

    def command(self, *words: str) -> str:
        return aws_command(self.environment, *words)

    @property
    def region(self) -> str:
        return self.environment.region

    def aurora_zones(self, version: str, klass: str) -> set[str]:
        """Where Aurora PostgreSQL ``version`` on ``klass`` is orderable ("" among them when it is in the region);
        asked once for both sides when they are the same."""
        if (version, klass) not in self._zones:
            zones: set[str] = set()
            pages = (
                self.client("rds")
                .get_paginator("describe_orderable_db_instance_options")
                .paginate(Engine="aurora-postgresql", EngineVersion=version, DBInstanceClass=klass)
            )
            for page in pages:
                for option in page.get("OrderableDBInstanceOptions", []):
                    if option.get("EngineVersion") == version and option.get("DBInstanceClass") == klass:
                        zones.update(zone["Name"] for zone in option.get("AvailabilityZones", []))
                        zones.add("")  # offered in the region, whatever its zones
            self._zones[(version, klass)] = zones
        return self._zones[(version, klass)]


def run_preflight(
    environment: Environment, config: WizardConfig, *, clients: Clients | None = None
) -> Iterator[PreflightEvent]:
    """Ask the account what ``config`` needs; one FindingMade per check, then PreflightDone. ``clients``: a boto3
    client by service name (default: the environment's). Raises StepError (exit 2) when the account cannot be asked
    at all (no identity)."""
    client = clients or environment.client
    try:
        identity = client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise StepError.from_exception(
            "The account preflight cannot run: no usable AWS identity.",
            exc,
            "Fix the credentials (or the sandbox: `dms-tui sandbox status`), then run it again.",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    account = _Account(environment, config, client, str(identity["Arn"]), str(identity["Account"]))
    yield PreflightStarted(account.caller_arn, CHECKS)
    checks: tuple[Callable[[_Account], Finding], ...] = (
        _vpc_quota,
        _endpoint_quota,
        lambda a: _aurora_orderable(a, "source"),
        lambda a: _aurora_orderable(a, "target"),
        _dms_orderable,
        _service_roles,
        _permissions,
        _cost,
    )
    findings: list[Finding] = []
    for check in checks:
        finding = check(account)
        findings.append(finding)
        yield FindingMade(finding)
    yield PreflightDone(account.caller_arn, tuple(findings))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc) or type(exc).__name__


def _unchecked(key: str, what: str, exc: Exception, permission: str) -> Finding:
    return Finding(
        key,
        "warn",
        f"{what}: not checked",
        f"The account did not answer ({_error_text(exc)}), so the apply may still fail here.",
        f"Grant the identity {permission} and check again.",
    )


def _lenient(account: _Account, operation: str, finding: Finding, unproven_title: str = "") -> Finding:
    """A block the emulator cannot prove becomes a warning (it reports AWS's limits without enforcing them: on AWS
    this would block) or, with ``unproven_title``, a skipped check (its catalogue is too old to say no)."""
    gap = account.environment.emulator_gap(operation)
    if gap is None or not finding.blocks:
        return finding
    if unproven_title:
        detail = f"Not checked here: {gap.reason}. On AWS, this check would say: {finding.detail}"
        return Finding(finding.key, "skipped", unproven_title, detail, "", finding.command)
    return Finding(
        finding.key,
        "warn",
        finding.title,
        f"{finding.detail} Not a block here: {gap.reason}.",
        finding.remedy,
        finding.command,
    )


def _skipped(account: _Account, key: str, what: str, operation: str) -> Finding | None:
    gap = account.environment.emulator_gap(operation)
    if gap is None or gap.answers:
        return None
    return Finding(key, "skipped", f"{what}: not checked here", f"{operation}: {gap.reason}; on AWS it is checked.")


# -- quotas ----------------------------------------------------------------------------------------------------------


def _quota(account: _Account, code: str, default: int) -> tuple[int, str]:
    """The quota's value and "" — or AWS's documented default and why Service Quotas could not say."""
    quotas = account.client("service-quotas")
    try:
        return int(quotas.get_service_quota(ServiceCode="vpc", QuotaCode=code)["Quota"]["Value"]), ""
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchResourceException":
            try:  # never changed in this account: the AWS default applies
                answer = quotas.get_aws_default_service_quota(ServiceCode="vpc", QuotaCode=code)
                return int(answer["Quota"]["Value"]), ""
            except (ClientError, BotoCoreError) as again:
                exc = again  # type: ignore[assignment]
        reason = _error_text(exc)
    except BotoCoreError as exc:
        reason = _error_text(exc)
    return default, f"Service Quotas did not answer ({reason}): assumed AWS's documented default, {default}."


def _own_vpcs(account: _Account, ec2: Any) -> tuple[int, dict[str, str]]:
    """How many VPCs the region holds, and this environment's (Name tag -> VPC id) among them."""
    names = {f"{account.config.environment}-{vpc.name}" for _, vpc in account.config.vpcs.items()}
    total, own = 0, {}
    for page in ec2.get_paginator("describe_vpcs").paginate():
        for vpc in page.get("Vpcs", []):
            total += 1
            name = next((tag["Value"] for tag in vpc.get("Tags", []) if tag.get("Key") == "Name"), "")
            if name in names:
                own[name] = vpc["VpcId"]
    return total, own


def _vpc_quota(account: _Account) -> Finding:
    key, what = "vpc-quota", "VPC quota"
    try:
        existing, own = _own_vpcs(account, account.client("ec2"))
    except (ClientError, BotoCoreError) as exc:
        return _unchecked(key, what, exc, "ec2:DescribeVpcs")
    quota, fallback = _quota(account, VPC_QUOTA_CODE, VPC_QUOTA_DEFAULT)
    adds = 3 - len(own)
    after = existing + adds
    command = account.command("ec2", "describe-vpcs", "--query", "length(Vpcs)")
    if not fallback:
        command += " && " + account.command(
            "service-quotas", "get-service-quota", "--service-code", "vpc", "--quota-code", VPC_QUOTA_CODE,
            "--query", "Quota.Value",
        )  # fmt: skip
    counted = (
        f"{existing} VPC{'s' if existing != 1 else ''} in {account.region}, the plan adds {adds}: {after} of {quota}."
    )
    if after <= quota:
        return Finding(key, "warn" if fallback else "ok", f"VPCs: {after} of {quota} after the apply",
                       f"{counted} {fallback}".strip(), "", command)  # fmt: skip
    over = after - quota
    finding = Finding(
        key,
        "blocks",
        f"VPCs: {after} needed, quota {quota}",
        f"{counted} terraform apply would fail with VpcLimitExceeded after creating {max(quota - existing, 0)} of "
        f"them, leaving a half-built environment. {fallback}".strip(),
        f"Delete {over} unused VPC{'s' if over > 1 else ''} in {account.region} (an unused default VPC counts), or "
        f"request a quota of {after}: aws service-quotas request-service-quota-increase --service-code vpc "
        f"--quota-code {VPC_QUOTA_CODE} --desired-value {after}",
        command,
    )
    return _lenient(account, "servicequotas:GetServiceQuota", finding)


def _endpoint_quota(account: _Account) -> Finding:
    key, what = "endpoint-quota", "Interface endpoint quota"
    ec2 = account.client("ec2")
    try:
        _, own = _own_vpcs(account, ec2)
        dms_vpc = own.get(f"{account.config.environment}-{account.config.vpcs.dms.name}")
        existing = 0
        if dms_vpc:
            filters = [{"Name": "vpc-id", "Values": [dms_vpc]}, {"Name": "vpc-endpoint-type", "Values": ["Interface"]}]
            for page in ec2.get_paginator("describe_vpc_endpoints").paginate(Filters=filters):
                existing += len(page.get("VpcEndpoints", []))
    except (ClientError, BotoCoreError) as exc:
        return _unchecked(key, what, exc, "ec2:DescribeVpcs and ec2:DescribeVpcEndpoints")
    quota, fallback = _quota(account, ENDPOINT_QUOTA_CODE, ENDPOINT_QUOTA_DEFAULT)
    after = max(existing, INTERFACE_ENDPOINTS_IN_DMS_VPC)
    command = "" if fallback else account.command(
        "service-quotas", "get-service-quota", "--service-code", "vpc", "--quota-code", ENDPOINT_QUOTA_CODE,
        "--query", "Quota.Value",
    )  # fmt: skip
    counted = f"The DMS VPC gets {INTERFACE_ENDPOINTS_IN_DMS_VPC} interface endpoints (2 PrivateLink, Secrets Manager, 3 for Session Manager); quota {quota} per VPC."
    if after <= quota:
        return Finding(key, "warn" if fallback else "ok", f"Interface endpoints: {after} of {quota} in the DMS VPC",
                       f"{counted} {fallback}".strip(), "", command)  # fmt: skip
    finding = Finding(
        key,
        "blocks",
        f"Interface endpoints: {after} needed, quota {quota} per VPC",
        f"{counted} terraform apply would fail creating the endpoints over the quota, with the rest half-built. "
        f"{fallback}".strip(),
        f"Request a quota of {after}: aws service-quotas request-service-quota-increase --service-code vpc "
        f"--quota-code {ENDPOINT_QUOTA_CODE} --desired-value {after}",
        command,
    )
    return _lenient(account, "servicequotas:GetServiceQuota", finding)


# -- orderable classes -----------------------------------------------------------------------------------------------


def _aurora_orderable(account: _Account, side: Literal["source", "target"]) -> Finding:
    key = f"aurora-{side}"
    operation = "rds:DescribeOrderableDBInstanceOptions"
    database = account.config.source_db if side == "source" else account.config.target_db
    vpc = account.config.vpcs.source if side == "source" else account.config.vpcs.target
    version, klass = database.engine_version, database.instance_class
    what = f"Aurora {side}"
    if skipped := _skipped(account, key, what, operation):
        return skipped
    try:
        zones = account.aurora_zones(version, klass)
    except (ClientError, BotoCoreError) as exc:
        return _unchecked(key, what, exc, "rds:DescribeOrderableDBInstanceOptions")
    command = account.command(
        "rds", "describe-orderable-db-instance-options", "--engine", "aurora-postgresql", "--engine-version", version,
        "--db-instance-class", klass, "--query", "OrderableDBInstanceOptions[].AvailabilityZones[].Name",
    )  # fmt: skip
    offer = f"Aurora PostgreSQL {version} on {klass}"
    missing = [zone for zone in vpc.azs if zone not in zones]
    if not zones:
        finding = Finding(
            key,
            "blocks",
            f"{what}: {version} on {klass} not offered",
            f"{offer} is not orderable in {account.region}: terraform apply would fail creating the {side} "
            "cluster's instance, minutes in, with its VPC and cluster already created.",
            f"Pick another engine version or instance class for the {side} database (Databases screen, or "
            f"{side}_db in the tfvars).",
            command,
        )
    elif missing:
        finding = Finding(
            key,
            "blocks",
            f"{what}: {klass} not offered in {', '.join(missing)}",
            f"{offer} is orderable in {', '.join(sorted(z for z in zones if z))}, not in {', '.join(missing)}: "
            f"terraform apply would fail creating the {side} cluster's instance there.",
            f"Choose the {side} VPC's zones among those (Network screen), or another instance class.",
            command,
        )
    else:
        return Finding(key, "ok", f"{what}: {version} on {klass} orderable",
                       f"{offer} is orderable in {', '.join(vpc.azs)}.", "", command)  # fmt: skip
    return _lenient(account, operation, finding, f"{what}: {version} on {klass} not in the emulator's catalogue")


def _dms_orderable(account: _Account) -> Finding:
    key, what = "dms-instance", "DMS instance"
    operation = "dms:DescribeOrderableReplicationInstances"
    klass = account.config.dms_replication_instance_class
    zones_wanted = account.config.vpcs.dms.azs
    if skipped := _skipped(account, key, what, operation):
        return skipped
    dms = account.client("dms")
    offered: list[dict[str, Any]] = []
    try:
        marker = None
        while True:
            page = dms.describe_orderable_replication_instances(**({"Marker": marker} if marker else {}))
            offered += [
                o for o in page.get("OrderableReplicationInstances", []) if o["ReplicationInstanceClass"] == klass
            ]
            marker = page.get("Marker")
            if not marker:
                break
    except (ClientError, BotoCoreError) as exc:
        return _unchecked(key, what, exc, "dms:DescribeOrderableReplicationInstances")
    command = account.command(
        "dms", "describe-orderable-replication-instances", "--query",
        f"OrderableReplicationInstances[?ReplicationInstanceClass=='{klass}'].AvailabilityZones[]",
    )  # fmt: skip
    zones = {zone for option in offered for zone in option.get("AvailabilityZones", [])}
    if not offered:
        return Finding(
            key,
            "blocks",
            f"{what}: {klass} not offered in {account.region}",
            f"DMS offers no {klass} replication instance in {account.region}: terraform apply would fail creating "
            "it, with the rest of the environment half-built.",
            "Pick another DMS instance class (Databases screen, or dms_replication_instance_class in the tfvars).",
            command,
        )
    # A class offered with no zone list is offered in every zone of the region.
    missing = [zone for zone in zones_wanted if zones and zone not in zones]
    if missing:
        return Finding(
            key,
            "blocks",
            f"{what}: {klass} not offered in {', '.join(missing)}",
            f"DMS offers {klass} in {', '.join(sorted(zones))}, not in {', '.join(missing)}: the replication "
            "instance's subnet group spans the DMS VPC's zones, so the apply would fail creating it.",
            "Choose the DMS VPC's zones among those (Network screen), or another DMS instance class.",
            command,
        )
    return Finding(key, "ok", f"{what}: {klass} offered", f"DMS offers {klass} in {', '.join(zones_wanted)}.", "",
                   command)  # fmt: skip


# -- roles and permissions -------------------------------------------------------------------------------------------


def _state_file(account: _Account) -> Path:
    from dms_tui.paths import environment_dir

    return environment_dir(account.environment.env) / "terraform" / "provisioning" / "terraform.tfstate"


def _service_roles(account: _Account) -> Finding:
    key, what = "service-roles", "DMS service roles"
    names = list(dms_roles.ACCOUNT_ROLES)
    command = account.command(
        "iam", "list-roles", "--query", f"Roles[?RoleName=='{names[0]}' || RoleName=='{names[1]}'].RoleName"
    )
    try:
        decision = dms_roles.decide(account.client("iam"), _state_file(account))
    except (dms_roles.RolesLookupError, BotoCoreError) as exc:
        return Finding(
            key,
            "warn",
            f"{what}: not checked",
            f"IAM did not say whether they exist ({exc}); the plan will ask again and stop if it cannot tell.",
            f"Grant the identity iam:GetRole on {' and '.join(names)}.",
            command,
        )
    if decision.partial:
        missing = decision.absent[0]
        return Finding(
            key,
            "blocks",
            f"{what}: only {', '.join(decision.present)} exists",
            f"{decision.reason}; the bundle creates both or neither, so the plan would stop.",
            f"Create {missing} by hand (trusting dms.amazonaws.com, with "
            f"arn:aws:iam::aws:policy/{dms_roles.ACCOUNT_ROLES[missing]} attached), or delete the other one.",
            command,
        )
    if decision.create and not decision.managed_here:
        return Finding(key, "info", f"{what}: created by this plan", decision.reason + ".",
                       "Nothing to change: they stay in the account after cleanup, for the next environment.",
                       command)  # fmt: skip
    return Finding(key, "ok", f"{what}: reused", decision.reason + ".", "", command)


def _principal(account: _Account) -> str | None:
    """The IAM principal to simulate for the caller (an assumed role's role ARN, with its path); None for root."""
    arn = account.caller_arn
    match = re.match(r"arn:([\w-]+):sts::(\d+):assumed-role/([^/]+)/", arn)
    if match:
        partition, account_id, role = match.groups()
        try:
            return str(account.client("iam").get_role(RoleName=role)["Role"]["Arn"])
        except (ClientError, BotoCoreError):
            return f"arn:{partition}:iam::{account_id}:role/{role}"  # the path (if any) is unknown
    if arn.endswith(":root"):
        return None
    return arn


def _permissions(account: _Account) -> Finding:
    key, what = "permissions", "Permissions"
    operation = "iam:SimulatePrincipalPolicy"
    if skipped := _skipped(account, key, what, operation):
        return skipped
    principal = _principal(account)
    if principal is None:
        return Finding(key, "info", f"{what}: the account's root user",
                       "The root user may do everything the bundle needs; nothing to simulate.",
                       "Prefer an IAM role or user for provisioning.")  # fmt: skip
    actions = bundle_actions()
    command = account.command(
        "iam", "simulate-principal-policy", "--policy-source-arn", principal, "--action-names", *actions,
        "--query", "EvaluationResults[?EvalDecision!='allowed'].EvalActionName",
    )  # fmt: skip
    denied: list[str] = []
    try:
        iam = account.client("iam")
        marker = None
        while True:
            page = iam.simulate_principal_policy(
                PolicySourceArn=principal, ActionNames=list(actions), **({"Marker": marker} if marker else {})
            )
            denied += [r["EvalActionName"] for r in page.get("EvaluationResults", []) if r["EvalDecision"] != "allowed"]
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                break
    except (ClientError, BotoCoreError) as exc:
        unchecked = _unchecked(key, what, exc, "iam:SimulatePrincipalPolicy")
        return Finding(key, "warn", unchecked.title, unchecked.detail, unchecked.remedy, command)
    if denied:
        shown = ", ".join(denied[:8]) + (f" and {len(denied) - 8} more" if len(denied) > 8 else "")
        return Finding(
            key,
            "blocks",
            f"{what}: {len(denied)} of {len(actions)} actions denied",
            f"{principal} may not {shown}: terraform apply would stop with AccessDenied at the first resource that "
            "needs one, with the others already created.",
            f"Grant these actions to {principal} (or provision as a principal that has them), then check again.",
            command,
        )
    return Finding(key, "ok", f"{what}: all {len(actions)} actions allowed",
                   f"{principal} may perform every action the bundle needs.", "", command)  # fmt: skip


# -- cost ------------------------------------------------------------------------------------------------------------


def _cost(account: _Account) -> Finding:
    hourly = rough_hourly_usd(account.config)
    where = (
        f"On AWS it would cost about ${hourly:.2f}/hour" if not account.environment.bills_by_the_hour else
        f"About ${hourly:.2f}/hour while it exists"
    )  # fmt: skip
    title = f"Cost: about ${hourly:.2f}/hour" + ("" if account.environment.bills_by_the_hour else " on AWS (free here)")
    return Finding(
        "cost",
        "info",
        title,
        f"{where}: 2 Aurora instances, the DMS instance, the bastion, 2 NLBs and the interface endpoints "
        "(us-east-1 on-demand list prices; storage, I/O and data processing extra).",
        "Run `dms-tui cleanup` when the demonstration is over.",
    )
