"""The no-terraform provisioning path: the AWS objects later steps read exist in moto and hang together, and
binding makes the local clusters accept the secrets' credentials through one forwarder per interface endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from moto import mock_aws
from werkzeug.test import Client

from dms_tui.environment import Environment
from dms_tui.sandbox.environment import sandbox_environment
from dms_tui.sandbox.lifecycle import Sandbox, SandboxError, choose_provision_path
from dms_tui.sandbox.provisioner import (
    ForwarderBound,
    ResourceCreated,
    SandboxLayout,
    SecretShapeError,
    SideLayout,
    bind_databases,
    provision_with_api,
    read_secret,
    terraform_path_problem,
)
from dms_tui.sandbox.server import ControlApi, ForwarderRegistry

# A login and database of their own, so binding never changes the shared fixtures' postgres password.
LAYOUT = SandboxLayout(
    source=SideLayout(
        "onprem-source",
        "onprem-source",
        "10.0.0.0/16",
        master_username="sbx_source_admin",
        database_name="sbx_provision_src",
    ),
    target=SideLayout(
        "aurora-target",
        "aurora-target",
        "10.0.0.0/16",
        master_username="sbx_target_admin",
        database_name="sbx_provision_tgt",
        engine="aurora-postgresql",
    ),
)


@pytest.fixture
def moto_target() -> Iterator[Environment]:
    with mock_aws():
        yield Environment(mode="sandbox", region="eu-west-1")


class RegistryControl:
    """The daemon's real forwarder registry, called in-process instead of over HTTP."""

    def __init__(self) -> None:
        self.registry = ForwarderRegistry()

    def ensure_forwarder(self, name: str, dns_name: str, target_host: str, target_port: int) -> dict[str, Any]:
        return self.registry.ensure(name, dns_name, target_host, target_port)


def test_every_output_names_an_object_that_exists_and_they_hang_together(moto_target: Environment) -> None:
    events: list[object] = []
    outputs = provision_with_api(moto_target, LAYOUT, on_event=events.append)
    ec2, dms, elbv2 = moto_target.client("ec2"), moto_target.client("dms"), moto_target.client("elbv2")

    assert outputs.region == "eu-west-1"
    kinds = [e.kind for e in events if isinstance(e, ResourceCreated)]
    assert kinds.count("aws_vpc") == 3 and kinds.count("aws_vpc_endpoint") == 2 and kinds.count("aws_dms_endpoint") == 2
    cidrs = {v["VpcId"]: v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert cidrs[outputs.dms_vpc_id] == cidrs[outputs.source.vpc_id] == cidrs[outputs.target.vpc_id] == "10.0.0.0/16"

    for name, side in (("source", outputs.source), ("target", outputs.target)):
        secret = read_secret(moto_target, side.secret_arn)
        endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[side.vpc_endpoint_id])["VpcEndpoints"][0]
        # DMS reaches the database by the interface endpoint's DNS name, in the DMS VPC.
        assert endpoint["VpcId"] == outputs.dms_vpc_id
        assert secret["host"] == side.endpoint_dns_name == endpoint["DnsEntries"][0]["DnsName"].lower()
        assert secret["dbname"] == side.database_name and secret["port"] == side.port == 5432
        assert len(secret["password"]) == 32
        service = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[side.endpoint_service_id])
        assert service["ServiceConfigurations"][0]["NetworkLoadBalancerArns"] == [side.nlb_arn]
        assert endpoint["ServiceName"] == service["ServiceConfigurations"][0]["ServiceName"]
        listener = elbv2.describe_listeners(LoadBalancerArn=side.nlb_arn)["Listeners"][0]
        assert listener["DefaultActions"][0]["TargetGroupArn"] == side.target_group_arn
        dms_endpoint = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [side.dms_endpoint_arn]}])
        settings = dms_endpoint["Endpoints"][0]["PostgreSQLSettings"]
        assert dms_endpoint["Endpoints"][0]["EndpointType"].lower() == name
        assert settings["SecretsManagerSecretId"] == side.secret_arn
        assert settings["SecretsManagerAccessRoleArn"] == outputs.dms_access_role_arn
    assert outputs.source.secret_arn != outputs.target.secret_arn
    instances = dms.describe_replication_instances()["ReplicationInstances"]
    assert [i["ReplicationInstanceArn"] for i in instances] == [outputs.dms_replication_instance_arn]
    assert outputs.bastion_instance_id.startswith("i-")


def test_binding_lets_each_database_accept_the_secret_through_its_forwarder(  # type: ignore[no-untyped-def]
    moto_target: Environment, pg_source, pg_target
) -> None:
    outputs = provision_with_api(moto_target, LAYOUT)
    control = RegistryControl()
    events: list[object] = []
    try:
        binding = bind_databases(
            moto_target, outputs, {"source": pg_source.cluster, "target": pg_target.cluster}, control, events.append
        )
        host_map = binding.host_map
        assert binding.usernames == {"source": "sbx_source_admin", "target": "sbx_target_admin"}
        target = Environment(mode="sandbox", region="eu-west-1", host_map=host_map)
        for side, cluster in ((outputs.source, pg_source.cluster), (outputs.target, pg_target.cluster)):
            secret = read_secret(moto_target, side.secret_arn)
            host, port = target.resolve(secret["host"], int(secret["port"]))
            assert (host, port) != ("127.0.0.1", cluster.port)  # a separate hop, not the cluster itself
            with psycopg.connect(
                host=host,
                port=port,
                user=secret["username"],
                password=secret["password"],
                dbname=secret["dbname"],
                connect_timeout=5,
            ) as conn:
                assert conn.execute("SELECT current_user, current_database(), inet_server_port()").fetchone() == (
                    secret["username"],
                    secret["dbname"],
                    cluster.port,
                )
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(
                    host=host,
                    port=port,
                    user=secret["username"],
                    password="wrong",
                    dbname=secret["dbname"],
                    connect_timeout=5,
                )
        assert sorted(e.side for e in events if isinstance(e, ForwarderBound)) == ["source", "target"]
        # Binding again (every `up` does) keeps the forwarders where they are.
        clusters = {"source": pg_source.cluster, "target": pg_target.cluster}
        assert bind_databases(moto_target, outputs, clusters, control).host_map == host_map
    finally:
        control.registry.stop_all()
        for server, layout in ((pg_source, LAYOUT.source), (pg_target, LAYOUT.target)):
            server.cluster.drop_database(layout.database_name)


def test_a_secret_missing_a_field_is_reported_with_the_fix(moto_target: Environment) -> None:
    arn = moto_target.client("secretsmanager").create_secret(
        Name="broken", SecretString=json.dumps({"username": "u", "password": "p"})
    )["ARN"]
    with pytest.raises(SecretShapeError, match="lacks host, port, dbname.*sandbox"):
        read_secret(moto_target, arn)


def test_the_sandbox_says_which_provisioning_path_it_takes_and_why() -> None:
    assert choose_provision_path("api")[0] == "api"
    problem = terraform_path_problem()
    path, reason = choose_provision_path("auto")
    if problem is None:
        assert path == "terraform" and "bundle" in reason
    else:
        assert path == "api" and problem in reason and "boto3" in reason
        with pytest.raises(SandboxError, match="terraform path was asked for"):
            choose_provision_path("terraform")


def _control_client() -> tuple[Client, list[str]]:
    passed: list[str] = []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        passed.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"moto"]

    return Client(ControlApi(moto, ForwarderRegistry(), {"region": "us-east-1"})), passed


def test_the_control_api_answers_its_routes_and_passes_everything_else_to_moto() -> None:
    client, passed = _control_client()
    assert client.get("/").get_data() == b"moto" and passed == ["/"]
    assert client.get("/_dms_tui/health").json["status"] == "ok"  # type: ignore[index]
    created = client.post("/_dms_tui/forwarders", json={"name": "s", "dns_name": "VPCE-1.Example.", "target_port": 9})
    try:
        assert created.status_code == 200 and created.json["dns_name"] == "vpce-1.example"  # type: ignore[index]
        latency = client.post("/_dms_tui/forwarders/s/latency", json={"seconds": 0.5})
        assert latency.json["latency"] == 0.5  # type: ignore[index]
        assert client.post("/_dms_tui/forwarders/s/refuse", json={"refusing": True}).json["refusing"] is True  # type: ignore[index]
        assert client.post("/_dms_tui/forwarders/s/drop").status_code == 200
        missing = client.post("/_dms_tui/forwarders/nope/drop")
        assert missing.status_code == 404 and "GET /_dms_tui/forwarders" in missing.json["error"]  # type: ignore[index]
        assert client.post("/_dms_tui/forwarders", json={"name": "x"}).status_code == 400
        assert client.post("/_dms_tui/forwarders/s/latency", json={"seconds": -1}).status_code == 400
    finally:
        assert client.delete("/_dms_tui/forwarders/s").json == {"removed": "s"}
    assert client.get("/_dms_tui/forwarders").json == []
    assert passed == ["/"]


@pytest.mark.terraform
@pytest.mark.slow
def test_the_real_bundle_applied_against_the_sandbox_is_reached_through_the_forwarders() -> None:
    if os.environ.get("DMS_TUI_SLOW_TESTS") != "1":
        pytest.skip("applies the whole terraform bundle against moto (minutes): set DMS_TUI_SLOW_TESTS=1 to run it")
    problem = terraform_path_problem()
    if problem is not None:
        pytest.skip(problem)
    sandbox = Sandbox(provision="terraform")  # under this test's DMS_TUI_HOME
    try:
        info = sandbox.up()
        assert info.provision_path == "terraform"
        target = sandbox_environment(info)
        # Only terraform's outputs and the secrets they name: the DNS name in each secret leads to a forwarder.
        for side in (info.outputs.source, info.outputs.target):
            secret = read_secret(target, side.secret_arn)
            assert secret["host"] == side.endpoint_dns_name
            host, port = target.resolve(secret["host"], int(secret["port"]))
            with psycopg.connect(
                host=host,
                port=port,
                user=secret["username"],
                password=secret["password"],
                dbname=secret["dbname"],
                connect_timeout=5,
            ) as conn:
                assert conn.execute("SELECT current_database()").fetchone() == (side.database_name,)
    finally:
        sandbox.down(keep_data=False)
