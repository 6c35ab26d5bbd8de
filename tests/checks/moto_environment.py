"""A healthy provisioned environment for the checks, shared by the tests and bench/verify_parallel.py: moto
(in-process) for the AWS objects, two real PostgreSQL clusters for the databases, and one real TCP forwarder per
interface endpoint standing in for NLB + PrivateLink, exactly as the sandbox wires them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from dms_tui.checks.plan import VerifyOptions
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.sandbox.forwarder import TcpForwarder
from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

REGION = "us-east-1"
DB_PORT = 5432
VERIFY_DB = "verify_db"

#: Short network deadlines keep the fault tests quick; AWS calls to in-process moto get room for a loaded machine.
FAST = VerifyOptions(api_timeout=8.0, network_timeout=3.0, dms_timeout=8.0, dms_poll_interval=0.05)


def paper_side(name: str, dms_endpoint_arn: str) -> SideOutputs:
    """A side's outputs that name nothing real but the DMS endpoint (for tests that never touch the network)."""
    return SideOutputs(
        vpc_id=f"vpc-{name}",
        vpc_cidr="10.0.0.0/16",
        cluster_identifier=f"{name}-cluster",
        database_name="demo_db",
        port=5432,
        secret_arn=f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}",
        nlb_arn="arn:nlb",
        target_group_arn="arn:tg",
        endpoint_service_id="vpce-svc-1",
        vpc_endpoint_id="vpce-1",
        endpoint_dns_name=f"vpce-1-{name}.vpce-svc-1.us-east-1.vpce.amazonaws.com",
        dms_endpoint_arn=dms_endpoint_arn,
    )


@dataclass
class MotoWorld:
    target: Environment
    outputs: EnvironmentOutputs
    forwarders: dict[str, TcpForwarder]
    passwords: dict[str, str] = field(repr=False)

    def side(self, side: str) -> SideOutputs:
        return self.outputs.source if side == "source" else self.outputs.target

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def rewrite_secret(self, side: str, **changes: Any) -> None:
        """Change fields of a side's secret (values stay in moto's memory only)."""
        sm = self.client("secretsmanager")
        arn = self.side(side).secret_arn
        secret = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
        secret.update(changes)
        sm.put_secret_value(SecretId=arn, SecretString=json.dumps(secret))


def _provision_side(
    name: str, ec2: Any, elbv2: Any, sm: Any, dms: Any, dms_vpc: str, dms_subnet: str, instance_arn: str, server: Any
) -> SideOutputs:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]  # overlapping CIDRs, as in the pattern
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    nlb = elbv2.create_load_balancer(Name=f"{name}-nlb", Subnets=subnets, Scheme="internal", Type="network")
    nlb_arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(
        Name=f"{name}-db", Protocol="TCP", Port=DB_PORT, VpcId=vpc, TargetType="ip", HealthCheckProtocol="TCP"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.1.10", "Port": DB_PORT}])
    elbv2.create_listener(
        LoadBalancerArn=nlb_arn,
        Protocol="TCP",
        Port=DB_PORT,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb_arn], AcceptanceRequired=False
    )["ServiceConfiguration"]
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=dms_vpc, ServiceName=service["ServiceName"], SubnetIds=[dms_subnet]
    )["VpcEndpoint"]
    dns_name = endpoint["DnsEntries"][0]["DnsName"]
    secret_arn = sm.create_secret(
        Name=f"{name}-db-credentials",
        SecretString=json.dumps(
            {
                "username": "postgres",
                "password": server.password,
                "host": dns_name,
                "port": DB_PORT,
                "dbname": VERIFY_DB,
            }
        ),
    )["ARN"]
    dms_endpoint = dms.create_endpoint(
        EndpointIdentifier=f"{name}-endpoint",
        EndpointType=name,
        EngineName="postgres",
        ServerName=dns_name,
        Port=DB_PORT,
        DatabaseName=VERIFY_DB,
        SslMode="require",  # as the bundle's endpoints: the clusters refuse plaintext
    )["Endpoint"]["EndpointArn"]
    return SideOutputs(
        vpc_id=vpc,
        vpc_cidr="10.0.0.0/16",
        cluster_identifier=f"{name}-cluster",
        database_name=VERIFY_DB,
        port=DB_PORT,
        secret_arn=secret_arn,
        nlb_arn=nlb_arn,
        target_group_arn=group,
        endpoint_service_id=service["ServiceId"],
        vpc_endpoint_id=endpoint["VpcEndpointId"],
        endpoint_dns_name=dns_name,
        dms_endpoint_arn=dms_endpoint,
    )


@contextmanager
def moto_environment(servers: dict[str, Any]) -> Iterator[MotoWorld]:
    """``servers`` maps "source"/"target" to objects with ``.cluster`` (LocalPostgres) and ``.password``."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    for server in servers.values():
        server.cluster.create_database(VERIFY_DB)
    apply_moto_gap_fixes()  # this moto stands in for the sandbox's, which runs with them
    with mock_aws():
        ec2, elbv2 = boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION)
        sm, dms = boto3.client("secretsmanager", region_name=REGION), boto3.client("dms", region_name=REGION)
        dms_vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        dms_subnet = ec2.create_subnet(VpcId=dms_vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"][
            "SubnetId"
        ]
        instance_arn = dms.create_replication_instance(
            ReplicationInstanceIdentifier="dms-demo", ReplicationInstanceClass="dms.t3.medium"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        sides = {
            name: _provision_side(name, ec2, elbv2, sm, dms, dms_vpc, dms_subnet, instance_arn, servers[name])
            for name in ("source", "target")
        }
        forwarders = {
            name: TcpForwarder("127.0.0.1", servers[name].cluster.port, name=f"{name}-endpoint") for name in sides
        }
        for forwarder in forwarders.values():
            forwarder.start()
        cas = {server.cluster.ca.cert_path for server in servers.values()}
        assert len(cas) == 1, "both clusters must share one CA, as the sandbox's do"
        target = Environment(
            mode="sandbox",
            region=REGION,
            host_map={sides[n].endpoint_dns_name.lower(): ("127.0.0.1", forwarders[n].port) for n in sides},
            database_ca=cas.pop(),  # verify-ca against the clusters' CA, as the sandbox's environment does
        )
        outputs = EnvironmentOutputs(
            source=sides["source"],
            target=sides["target"],
            dms_vpc_id=dms_vpc,
            dms_vpc_cidr="10.0.0.0/16",
            dms_replication_instance_arn=instance_arn,
            dms_access_role_arn="arn:aws:iam::123456789012:role/dms-access",
            bastion_instance_id="i-0123456789abcdef0",
            region=REGION,
        )
        try:
            yield MotoWorld(
                target.with_outputs(outputs), outputs, forwarders, {n: servers[n].password for n in servers}
            )
        finally:
            for forwarder in forwarders.values():
                forwarder.stop()
