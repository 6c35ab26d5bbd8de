"""The moto gap fixes: each named symptom is gone after apply_moto_gap_fixes(), and applying twice is harmless."""

from __future__ import annotations

from datetime import datetime

import boto3
import pytest
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


def _vpc_with_subnets(ec2: object, count: int = 2) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]  # type: ignore[attr-defined]
    subnets = [
        ec2.create_subnet(  # type: ignore[attr-defined]
            VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{'ab'[i % 2]}"
        )["Subnet"]["SubnetId"]
        for i in range(count)
    ]
    return vpc, subnets


@mock_aws
def test_an_instance_launched_with_an_interface_spec_reads_back_as_launched() -> None:
    # The bastion as the provider launches it: groups and "no public IP" inside the primary interface spec.
    apply_moto_gap_fixes()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc, (subnet, _) = _vpc_with_subnets(ec2)
    group = ec2.create_security_group(GroupName="bastion", Description="b", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    interface = {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": False, "Groups": [group]}
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[interface])["Instances"][
        0
    ]["InstanceId"]
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [group]
    (primary,) = described["NetworkInterfaces"]
    assert "Association" not in primary  # the provider reads its presence as "has a public IP"
    assert all("Association" not in address for address in primary["PrivateIpAddresses"])


@mock_aws
def test_a_prefix_list_rule_keeps_its_description() -> None:
    apply_moto_gap_fixes()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc, _ = _vpc_with_subnets(ec2, 0)
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "PrefixListIds": [{"PrefixListId": "pl-63a5400a", "Description": "HTTPS to S3"}],
    }
    (rule,) = ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[permission])["SecurityGroupRules"]
    (described,) = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])[
        "SecurityGroupRules"
    ]
    assert described["Description"] == "HTTPS to S3"


@mock_aws
def test_a_provisioned_aurora_cluster_has_no_serverless_scaling_configuration() -> None:
    apply_moto_gap_fixes()
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_cluster(
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="migrator",
        MasterUserPassword="not-a-real-secret-0",
        EngineMode="provisioned",
    )
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="c1")["DBClusters"]
    assert "ScalingConfigurationInfo" not in cluster


@mock_aws
def test_a_dms_subnet_group_keeps_its_subnets_tags_and_can_be_modified() -> None:
    apply_moto_gap_fixes()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    dms = boto3.client("dms", region_name="us-east-1")
    vpc, subnets = _vpc_with_subnets(ec2, 3)
    dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="dev-dms",
        ReplicationSubnetGroupDescription="first",
        SubnetIds=subnets[:2],
        Tags=[{"Key": "Environment", "Value": "dev"}],
    )
    (group,) = dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"]
    assert group["VpcId"] == vpc
    assert [s["SubnetIdentifier"] for s in group["Subnets"]] == subnets[:2]
    assert [s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"]] == ["us-east-1a", "us-east-1b"]
    # The provider builds the ARN itself; with the account lookup skipped (the sandbox) its account is empty.
    for arn in ("arn:aws:dms:us-east-1::subgrp:dev-dms", "arn:aws:dms:us-east-1:123456789012:subgrp:dev-dms"):
        tags = dms.list_tags_for_resource(ResourceArn=arn)["TagList"]
        assert [(t["Key"], t["Value"]) for t in tags] == [("Environment", "dev")], arn
    modified = dms.modify_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="dev-dms", ReplicationSubnetGroupDescription="second", SubnetIds=subnets[1:]
    )["ReplicationSubnetGroup"]
    assert modified["ReplicationSubnetGroupDescription"] == "second"
    assert [s["SubnetIdentifier"] for s in modified["Subnets"]] == subnets[1:]
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.modify_replication_subnet_group(ReplicationSubnetGroupIdentifier="nope", SubnetIds=subnets)
