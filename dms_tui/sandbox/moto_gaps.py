"""In-process fixes for the moto 5.2.5 gaps that stop the Terraform bundle from applying, or a step from running again.

The sandbox daemon (and the terraform tests) call :func:`apply_moto_gap_fixes` once before serving requests. Each
fix names the symptom terraform showed without it. Fixes are idempotent and only touch moto, never botocore, so the
app's own boto3 clients see AWS-shaped answers either way.
"""

from __future__ import annotations

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


_FIXES: tuple[Callable[[], None], ...] = (
    _fix_iam_managed_policies,
    _fix_dms_instance_create_time,
    _fix_ec2_detailed_monitoring,
    _fix_dms_repeated_test_connection,
    _fix_s3_conditional_bucket_policy,
    _fix_dms_resource_tagging,
)


def apply_moto_gap_fixes() -> None:
    """Patch the in-process moto for every gap the bundle hits; safe to call more than once."""
    for fix in _FIXES:
        fix()
