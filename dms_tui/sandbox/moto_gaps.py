"""In-process fixes for the moto 5.2.5 gaps that stop the Terraform bundle from applying, or a step from running again.

The sandbox daemon (and the terraform tests) call :func:`apply_moto_gap_fixes` once before serving requests. Each
fix names the symptom terraform showed without it. Fixes are idempotent and only touch moto, never botocore, so the
app's own boto3 clients see AWS-shaped answers either way.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

#: AWS managed policies the bundle attaches. moto knows them, but only loads its ~1,000 managed policies when
#: MOTO_IAM_LOAD_MANAGED_POLICIES=true, which costs seconds per IAM backend; we load just these.
BUNDLE_MANAGED_POLICIES: tuple[str, ...] = (
    "AmazonDMSVPCManagementRole",
    "AmazonDMSCloudWatchLogsRole",
    "AmazonSSMManagedInstanceCore",
)

_APPLIED_MARKER = "_dms_tui_gap_fix"


def _already_patched(function: Any) -> bool:
    return bool(getattr(function, _APPLIED_MARKER, False))


def _mark(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _APPLIED_MARKER, True)
    return function


def _fix_iam_managed_policies() -> None:
    """Symptom: `NoSuchEntity: Policy arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole does not
    exist or is not attachable` from aws_iam_role_policy_attachment (moto loads no AWS managed policy by default)."""
    from moto.iam import models as iam_models

    original = iam_models.IAMBackend._init_aws_policies
    if _already_patched(original):
        return

    def _init_aws_policies(self: Any) -> list[Any]:
        policies = list(original(self))
        known = {policy.name for policy in policies}
        catalogue = json.loads(iam_models.aws_managed_policies_data)
        for name in BUNDLE_MANAGED_POLICIES:
            if name not in known and name in catalogue:
                policies.append(
                    iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, catalogue[name])
                )
        return policies

    iam_models.IAMBackend._init_aws_policies = _mark(_init_aws_policies)  # type: ignore[method-assign]


def _fix_dms_instance_create_time() -> None:
    """Symptom: `creating DMS Replication Instance ... deserialization failed, failed to decode response body,
    expected TStamp to be a JSON Number, got string instead`: moto returns InstanceCreateTime as an ISO string
    where the AWS JSON protocol sends epoch seconds, which the provider's Go SDK refuses."""
    from moto.dms import models as dms_models

    original = dms_models.FakeReplicationInstance.to_dict
    if _already_patched(original):
        return

    def to_dict(self: Any) -> dict[str, Any]:
        document: dict[str, Any] = original(self)
        created = getattr(self, "creation_date", None)
        if created is not None and hasattr(created, "timestamp"):
            document["InstanceCreateTime"] = created.timestamp()
        return document

    dms_models.FakeReplicationInstance.to_dict = _mark(to_dict)  # type: ignore[method-assign]


def _fix_ec2_detailed_monitoring() -> None:
    """Symptom: `aws_instance` with `monitoring = true` never finishes creating: moto answers MonitorInstances with
    HTTP 500 (NotImplementedError) and the provider retries it until its timeout."""
    from moto.core.responses import ActionResult
    from moto.ec2.responses.monitoring import Monitoring

    if _already_patched(Monitoring.monitor_instances):
        return

    def _set_monitoring(response: Any, state: str) -> ActionResult:
        response.error_on_dryrun()
        monitorings = []
        for instance_id in response._get_param("InstanceIds", []):
            instance = response.ec2_backend.get_instance(instance_id)
            instance.monitoring_state = state
            monitorings.append({"InstanceId": instance_id, "Monitoring": {"State": state}})
        return ActionResult({"InstanceMonitorings": monitorings})

    def monitor_instances(self: Any) -> ActionResult:
        return _set_monitoring(self, "enabled")

    def unmonitor_instances(self: Any) -> ActionResult:
        return _set_monitoring(self, "disabled")

    Monitoring.monitor_instances = _mark(monitor_instances)  # type: ignore[method-assign,assignment]
    Monitoring.unmonitor_instances = _mark(unmonitor_instances)  # type: ignore[method-assign,assignment]


def _fix_s3_conditional_bucket_policy() -> None:
    """Symptom: `PutObject: 403 Forbidden` into the wheelhouse bucket: moto applies a bucket policy's statements
    without their Condition, so "deny unless TLS / unless the bastion role / unless through the gateway endpoint"
    denies everything. moto cannot evaluate those conditions (no TLS, principals or VPC endpoints in the sandbox),
    so conditional statements are left out of its evaluation; unconditional ones still apply."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3 import models as s3_models

    original = s3_models.FakeBucket.get_permission
    if _already_patched(original):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        document["Statement"] = [statement for statement in statements if "Condition" not in statement]
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    s3_models.FakeBucket.get_permission = _mark(get_permission)  # type: ignore[method-assign]


def _fix_dms_repeated_test_connection() -> None:
    """Symptom: running Verify a second time on the same sandbox fails both "DMS test connection" checks with
    moto's HTTP 500 page. moto 5.2.5's ``DatabaseMigrationServiceBackend.test_connection`` binds ``connection`` only
    when no connection exists yet for the (replication instance, endpoint) pair, so a second TestConnection for a
    pair raises UnboundLocalError. AWS starts a new test each time: drop the pair's old record and let moto record a
    fresh one (status "testing"), restoring the old record if moto refuses the call (instance or endpoint gone)."""
    from moto.dms import models as dms_models

    backend_class = dms_models.DatabaseMigrationServiceBackend
    original = backend_class.test_connection
    if _already_patched(original):
        return

    def test_connection(self: Any, replication_instance_arn: str, endpoint_arn: str) -> Any:
        pair = (replication_instance_arn, endpoint_arn)
        earlier = [c for c in self.connections if (c.replication_instance_arn, c.endpoint_arn) == pair]
        self.connections = [c for c in self.connections if c not in earlier]
        try:
            return original(self, replication_instance_arn, endpoint_arn)
        except Exception:
            self.connections.extend(earlier)
            raise

    backend_class.test_connection = _mark(test_connection)  # type: ignore[method-assign]


def _fix_dms_resource_tagging() -> None:
    """Symptom: a second `terraform apply` of an unchanged bundle (the journey walked again) fails with `updating
    tags for DMS (Database Migration) Replication Subnet Group ... AddTagsToResource ... StatusCode: 500`. moto 5.2.5
    files a subnet group's tags under its identifier, not its ARN, so the provider reads no tags back and sees
    drift; and moto has no AddTagsToResource / RemoveTagsFromResource handler, so the correction fails. Both calls
    go to the backend's own tag store (which ListTagsForResource reads), keyed by the ARN the caller names."""
    from moto.dms import responses as dms_responses

    response_class = dms_responses.DatabaseMigrationServiceResponse
    if _already_patched(getattr(response_class, "add_tags_to_resource", None)):
        return

    def add_tags_to_resource(self: Any) -> str:
        params = json.loads(self.body)
        tags = {tag["Key"]: tag.get("Value", "") for tag in params.get("Tags", [])}
        self.dms_backend.tag_resource(params["ResourceArn"], tags)
        return "{}"

    def remove_tags_from_resource(self: Any) -> str:
        params = json.loads(self.body)
        self.dms_backend.untag_resource(params["ResourceArn"], list(params.get("TagKeys", [])))
        return "{}"

    response_class.add_tags_to_resource = _mark(add_tags_to_resource)  # type: ignore[attr-defined]
    response_class.remove_tags_from_resource = _mark(remove_tags_from_resource)  # type: ignore[attr-defined]


def _fix_ec2_instance_network_interface() -> None:
    """Symptom: every `terraform apply` after the first replaces the bastion (`associate_public_ip_address = true
    -> false # forces replacement`, `vpc_security_group_ids + sg-…`). The provider launches it with a primary
    network interface spec (subnet, groups, no public IP); moto 5.2.5 then describes that interface with an empty
    ``Association`` element, which the provider reads as "has a public IP", and reports no ``SecurityGroups`` on the
    instance, because it only records groups given outside the interface spec. AWS omits ``Association`` without a
    public IP and reports the primary interface's groups as the instance's."""
    from moto.core.serialize import return_if_not_empty
    from moto.ec2.models.instances import Instance
    from moto.ec2.responses._base_response import EC2BaseResponse

    original = Instance.__init__
    if _already_patched(original):
        return
    transformers = EC2BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER
    transformers["Instance.NetworkInterfaces.InstanceNetworkInterface.Association"] = return_if_not_empty
    transformers["InstanceNetworkInterface.PrivateIpAddresses.InstancePrivateIpAddress.Association"] = (
        return_if_not_empty
    )

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not self.security_groups:
            primary = getattr(self, "nics", {}).get(0)
            if primary is not None and primary.group_set:
                self.security_groups = list(primary.group_set)

    Instance.__init__ = _mark(__init__)  # type: ignore[method-assign]


def _fix_ec2_prefix_list_rule_description() -> None:
    """Symptom: every `terraform apply` after the first updates `bastion_https_s3` (`+ description = …`): moto
    5.2.5 keeps a security group rule's description only for CIDR rules, and drops the one given with a prefix list
    (the S3 gateway endpoint's), so DescribeSecurityGroupRules returns none."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    original = SecurityGroupRule.__init__
    if _already_patched(original):
        return

    signature = inspect.signature(original)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self._dms_tui_prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: Any) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "_dms_tui_prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = _mark(__init__)  # type: ignore[method-assign]
    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]


def _fix_rds_scaling_configuration_info() -> None:
    """Symptom: every `terraform apply` after the first updates both Aurora clusters (`~ scaling_configuration {
    + auto_pause = true … }`): moto 5.2.5 describes a provisioned cluster with a ``ScalingConfigurationInfo`` of
    empty values, which the provider reads as a Serverless v1 block to correct; AWS sends it for serverless
    clusters only."""
    from moto.rds.models import DBCluster

    original: Any = DBCluster.__dict__["scaling_configuration_info"]  # the property object itself
    if _already_patched(original.fget):
        return

    def scaling_configuration_info(self: Any) -> dict[str, Any] | None:
        if not self.scaling_configuration:
            return None
        info: dict[str, Any] = original.fget(self)
        return info

    DBCluster.scaling_configuration_info = property(_mark(scaling_configuration_info))  # type: ignore[assignment,method-assign]


def _fix_dms_replication_subnet_group() -> None:
    """Symptom: every `terraform apply` after the first updates the DMS subnet group (`subnet_ids - "subnet-12345"
    + …`, tags added) and fails with `ModifyReplicationSubnetGroup … StatusCode: 500`. moto 5.2.5 forgets the
    subnets it was given (it describes a fixed ``subnet-12345`` in ``vpc-12345``), files the group's tags under its
    identifier where the provider reads them by ARN, and has no ModifyReplicationSubnetGroup. Here the group keeps
    its subnets (described with their real VPC and zones), tags are filed and read under the identifier whatever
    ARN the caller names (the provider builds ``arn:aws:dms:<region>:<account>:subgrp:<id>`` itself, with an empty
    account when it skips the account lookup, as the sandbox's provider does), and Modify updates the description
    and subnets."""
    from moto.dms import models as dms_models
    from moto.dms import responses as dms_responses
    from moto.ec2.models import ec2_backends

    backend_class = dms_models.DatabaseMigrationServiceBackend
    original_create = backend_class.create_replication_subnet_group
    if _already_patched(original_create):
        return
    group_class = dms_models.FakeReplicationSubnetGroup
    original_to_dict = group_class.to_dict

    def tag_key(arn: str) -> str:
        head, sep, identifier = arn.rpartition(":subgrp:")
        return identifier if sep and head.startswith("arn:") else arn

    def create_replication_subnet_group(
        self: Any,
        replication_subnet_group_identifier: str,
        replication_subnet_group_description: str,
        subnet_ids: list[str],
        tags: list[dict[str, str]] | None = None,
    ) -> Any:
        group: Any = original_create(
            self, replication_subnet_group_identifier, replication_subnet_group_description, subnet_ids, tags
        )
        group.subnetIds = list(subnet_ids)
        group._dms_tui_backend = (self.account_id, self.region_name)
        return group

    def to_dict(self: Any) -> dict[str, Any]:
        document: dict[str, Any] = original_to_dict(self)
        located = getattr(self, "_dms_tui_backend", None)
        if located is None or not self.subnetIds:
            return document
        ec2 = ec2_backends[located[0]][located[1]]
        subnets = []
        for subnet_id in self.subnetIds:
            try:
                subnet = ec2.get_subnet(subnet_id)
            except Exception:  # noqa: BLE001 - a subnet deleted since: describe it as AWS would, without a zone
                subnets.append({"SubnetIdentifier": subnet_id, "SubnetStatus": "Inactive"})
                continue
            document["VpcId"] = subnet.vpc_id
            subnets.append(
                {
                    "SubnetIdentifier": subnet_id,
                    "SubnetAvailabilityZone": {"Name": subnet.availability_zone},
                    "SubnetStatus": "Active",
                }
            )
        document["Subnets"] = subnets
        return document

    original_list = backend_class.list_tags_for_resource
    original_tag = backend_class.tag_resource
    original_untag = backend_class.untag_resource

    def list_tags_for_resource(self: Any, resource_arn_list: list[str]) -> list[dict[str, Any]]:
        result = []
        for arn in resource_arn_list:
            for tag in original_list(self, [tag_key(arn)]):
                result.append({**tag, "ResourceArn": arn})
        return result

    def tag_resource(self: Any, arn: str, tags: dict[str, str]) -> None:
        original_tag(self, tag_key(arn), tags)

    def untag_resource(self: Any, arn: str, tag_keys: list[str]) -> None:
        original_untag(self, tag_key(arn), tag_keys)

    def modify_replication_subnet_group(self: Any) -> str:
        params = json.loads(self.body)
        identifier = params["ReplicationSubnetGroupIdentifier"]
        group = self.dms_backend.replication_subnet_groups.get(identifier)
        if group is None:
            raise dms_models.ResourceNotFoundFault(f"Replication subnet group '{identifier}' not found.")
        if "ReplicationSubnetGroupDescription" in params:
            group.description = params["ReplicationSubnetGroupDescription"]
        if params.get("SubnetIds"):
            group.subnetIds = list(params["SubnetIds"])
        return json.dumps({"ReplicationSubnetGroup": group.to_dict()})

    backend_class.create_replication_subnet_group = _mark(create_replication_subnet_group)  # type: ignore[method-assign]
    backend_class.list_tags_for_resource = _mark(list_tags_for_resource)  # type: ignore[method-assign]
    backend_class.tag_resource = _mark(tag_resource)  # type: ignore[method-assign]
    backend_class.untag_resource = _mark(untag_resource)  # type: ignore[method-assign]
    group_class.to_dict = _mark(to_dict)  # type: ignore[method-assign]
    dms_responses.DatabaseMigrationServiceResponse.modify_replication_subnet_group = _mark(  # type: ignore[attr-defined]
        modify_replication_subnet_group
    )


_FIXES: tuple[Callable[[], None], ...] = (
    _fix_iam_managed_policies,
    _fix_dms_instance_create_time,
    _fix_ec2_detailed_monitoring,
    _fix_dms_repeated_test_connection,
    _fix_s3_conditional_bucket_policy,
    _fix_dms_resource_tagging,
    _fix_ec2_instance_network_interface,
    _fix_ec2_prefix_list_rule_description,
    _fix_rds_scaling_configuration_info,
    _fix_dms_replication_subnet_group,
)


def apply_moto_gap_fixes() -> None:
    """Patch the in-process moto for every gap the bundle hits; safe to call more than once."""
    for fix in _FIXES:
        fix()
