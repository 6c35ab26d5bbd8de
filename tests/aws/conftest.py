"""Fixtures for the DMS run tests: a moto account with a replication instance, two endpoints and their outputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from dms_fixtures import REGION, FakeClock
from moto import mock_aws

from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs


@pytest.fixture
def dms_client() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dms", region_name=REGION)


def _side(client: Any, name: str, kind: str) -> SideOutputs:
    endpoint = client.create_endpoint(
        EndpointIdentifier=f"{name}-endpoint",
        EndpointType=kind,
        EngineName="aurora-postgresql" if kind == "target" else "postgres",
        ServerName=f"vpce-0{name}.vpce-svc.{REGION}.vpce.amazonaws.com",
        Port=5432,
        DatabaseName="demo",
    )["Endpoint"]
    return SideOutputs(
        vpc_id=f"vpc-{name}",
        vpc_cidr="10.0.0.0/16",
        cluster_identifier=f"{name}-cluster",
        database_name="demo",
        port=5432,
        secret_arn=f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}",
        nlb_arn=f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/net/{name}/1",
        target_group_arn=f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/{name}/1",
        endpoint_service_id=f"vpce-svc-{name}",
        vpc_endpoint_id=f"vpce-{name}",
        endpoint_dns_name=f"vpce-0{name}.vpce-svc.{REGION}.vpce.amazonaws.com",
        dms_endpoint_arn=endpoint["EndpointArn"],
    )


@pytest.fixture
def outputs(dms_client: Any) -> EnvironmentOutputs:
    """What terraform would have output: real moto ARNs for the instance and both endpoints."""
    instance = dms_client.create_replication_instance(
        ReplicationInstanceIdentifier="dms-demo", ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]
    return EnvironmentOutputs(
        source=_side(dms_client, "source", "source"),
        target=_side(dms_client, "target", "target"),
        dms_vpc_id="vpc-dms",
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn=instance["ReplicationInstanceArn"],
        dms_access_role_arn="arn:aws:iam::123456789012:role/dms-vpc-role",
        bastion_instance_id="i-0123456789abcdef0",
        region=REGION,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
