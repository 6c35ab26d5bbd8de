"""The moto gap fixes: each named symptom is gone after apply_moto_gap_fixes(), and applying twice is harmless."""

from __future__ import annotations

from datetime import datetime

import boto3
from moto import mock_aws

from dms_tui.sandbox.moto_gaps import BUNDLE_MANAGED_POLICIES, apply_moto_gap_fixes


def test_applying_the_fixes_twice_patches_once() -> None:
    from moto.dms.models import FakeReplicationInstance
    from moto.iam.models import IAMBackend

    apply_moto_gap_fixes()
    first = (FakeReplicationInstance.to_dict, IAMBackend._init_aws_policies)
    apply_moto_gap_fixes()
    assert (FakeReplicationInstance.to_dict, IAMBackend._init_aws_policies) == first


@mock_aws
def test_the_aws_managed_policies_the_bundle_attaches_exist() -> None:
    apply_moto_gap_fixes()
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="dms-vpc-role", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    for name in BUNDLE_MANAGED_POLICIES:
        prefix = "service-role/" if name.startswith("AmazonDMS") else ""
        iam.attach_role_policy(RoleName="dms-vpc-role", PolicyArn=f"arn:aws:iam::aws:policy/{prefix}{name}")
    attached = iam.list_attached_role_policies(RoleName="dms-vpc-role")["AttachedPolicies"]
    assert sorted(policy["PolicyName"] for policy in attached) == sorted(BUNDLE_MANAGED_POLICIES)


@mock_aws
def test_the_replication_instance_create_time_is_a_timestamp_on_the_wire() -> None:
    apply_moto_gap_fixes()
    dms = boto3.client("dms", region_name="us-east-1")
    dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium")
    described = dms.describe_replication_instances()["ReplicationInstances"][0]
    # botocore parses both shapes; the raw wire value is what the Go SDK in the provider refuses as a string.
    assert isinstance(described["InstanceCreateTime"], datetime)
    from moto.dms.models import dms_backends

    raw = next(iter(dms_backends["123456789012"]["us-east-1"].replication_instances.values())).to_dict()
    assert isinstance(raw["InstanceCreateTime"], float)


@mock_aws
def test_detailed_monitoring_can_be_switched_on_and_off() -> None:
    apply_moto_gap_fixes()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    answer = ec2.monitor_instances(InstanceIds=[instance_id])["InstanceMonitorings"]
    assert answer == [{"InstanceId": instance_id, "Monitoring": {"State": "enabled"}}]
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["Monitoring"]["State"] == "enabled"
    ec2.unmonitor_instances(InstanceIds=[instance_id])
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["Monitoring"]["State"] == "disabled"


@mock_aws
def test_dms_tags_can_be_added_and_removed_by_arn() -> None:
    # What terraform does on a second apply of the bundle: read a subnet group's tags by ARN, then correct them.
    apply_moto_gap_fixes()
    dms = boto3.client("dms", region_name="us-east-1")
    arn = "arn:aws:dms:us-east-1:123456789012:subgrp:dev-dms"
    dms.add_tags_to_resource(ResourceArn=arn, Tags=[{"Key": "Environment", "Value": "dev"}, {"Key": "x", "Value": "1"}])
    dms.remove_tags_from_resource(ResourceArn=arn, TagKeys=["x"])
    tags = dms.list_tags_for_resource(ResourceArn=arn)["TagList"]
    assert [(tag["Key"], tag["Value"]) for tag in tags] == [("Environment", "dev")]
