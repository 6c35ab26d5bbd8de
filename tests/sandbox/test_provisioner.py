"""The no-terraform provisioning path: the AWS objects later steps read exist in moto and hang together, and
binding makes the local clusters accept the secrets' credentials through one forwarder per interface endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from moto import mock_aws
from werkzeug.test import Client

from dms_tui.environment import Environment
from dms_tui.sandbox.lifecycle import SandboxError, choose_provision_path
from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes
from dms_tui.sandbox.provisioner import (
    ForwarderBound,
    ResourceCreated,
    ResourceRemoved,
    SandboxLayout,
    SecretShapeError,
    SideLayout,
    bind_databases,
    deprovision_with_api,
    provision_with_api,
    read_secret,
    terraform_path_problem,
)
from dms_tui.sandbox.server import ControlApi, ForwarderRegistry
from tests.sandbox.environment_objects import environment_objects

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


@pytest.fixture(autouse=True)
def _moto_as_the_daemon_runs_it() -> None:
    apply_moto_gap_fixes()  # e.g. the AWS managed DMS policies the account-wide roles get


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


def test_two_environments_coexist_and_removing_one_leaves_the_other_whole() -> None:
    with mock_aws():
        a = Environment(mode="sandbox", region="us-east-1", env="a")
        b = Environment(mode="sandbox", region="us-east-1", env="b")
        events: list[object] = []
        first = provision_with_api(a, on_event=events.append)
        roles = [e.identifier for e in events if isinstance(e, ResourceCreated) and e.kind == "aws_iam_role"]
        assert roles[:2] == ["dms-vpc-role", "dms-cloudwatch-logs-role"]  # absent: created by the first environment
        events.clear()
        second = provision_with_api(b, on_event=events.append)  # no EntityAlreadyExists: every name is b's own
        assert "dms-vpc-role" not in [e.identifier for e in events if isinstance(e, ResourceCreated)]  # reused
        assert (
            first.source.cluster_identifier == "a-onprem-source"
            and second.source.cluster_identifier == "b-onprem-source"
        )
        assert environment_objects(a, "a") and environment_objects(b, "b")

        removed: list[ResourceRemoved] = []
        assert deprovision_with_api(a, first, on_event=removed.append) == []
        assert removed and not any(r.already for r in removed)
        assert environment_objects(a, "a") == []
        survivors = environment_objects(b, "b")
        assert len(survivors) >= 9, survivors
        assert read_secret(b, second.source.secret_arn)["host"] == second.source.endpoint_dns_name
        # The account-wide roles stay for b (and whoever else uses DMS in the account).
        names = {r["RoleName"] for r in b.client("iam").list_roles()["Roles"]}
        assert {"dms-vpc-role", "dms-cloudwatch-logs-role"} <= names

        # Removing again: the objects are already gone, which counts as removed (no problem reported). moto
        # 5.2.5 answers some deletes of a gone object with success (secrets, instances): those count as removed too.
        removed.clear()
        assert deprovision_with_api(a, first, on_event=removed.append) == []
        already = {r.kind for r in removed if r.already}
        assert {"aws_vpc", "aws_rds_cluster", "aws_dms_replication_instance", "aws_lb"} <= already, already


def test_the_layout_follows_the_configuration() -> None:
    from dms_tui.config import WizardConfig

    config = WizardConfig.default("demo2").with_value("source_db.database_name", "sales")
    layout = SandboxLayout.from_config(config)
    assert layout.env == "demo2" and layout.source.cluster_name == "demo2-onprem-source"
    assert layout.source.database_name == "sales" and layout.tags["Environment"] == "demo2"
    assert SandboxLayout.from_config(WizardConfig.default("dev")) == SandboxLayout.for_env("dev") == SandboxLayout()
