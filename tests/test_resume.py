"""Resume, checked against reality: a journey whose results are gone falls back to the last step that holds, saying
why; one whose results are all there resumes where it was. The same code on AWS and in the sandbox (moto for both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from dms_tui.environment import Environment
from dms_tui.journey import STEPS, Journey, Step, TaskRecord, load_checkpoint
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs
from dms_tui.steps.resume import check_resume, what_still_runs

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _provisioned(environment: Environment) -> tuple[EnvironmentOutputs, str]:
    """Three VPCs, two interface endpoints and a DMS task, as a provisioned environment has them."""
    ec2 = environment.client("ec2")
    vpcs = {name: ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"] for name in ("source", "dms", "target")}
    subnet = ec2.create_subnet(VpcId=vpcs["dms"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    endpoints = {
        side: ec2.create_vpc_endpoint(
            VpcId=vpcs["dms"],
            ServiceName=f"com.amazonaws.vpce.{REGION}.vpce-svc-{side}",
            VpcEndpointType="Interface",
            SubnetIds=[subnet],
        )["VpcEndpoint"]["VpcEndpointId"]
        for side in ("source", "target")
    }
    dms = environment.client("dms")
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.micro"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    arns = {
        side: dms.create_endpoint(
            EndpointIdentifier=f"{side}-ep",
            EndpointType=side,
            EngineName="postgres",
            ServerName="h",
            Port=5432,
            DatabaseName="d",
            Username="u",
            Password="p",  # moto's, never a real secret
        )["Endpoint"]["EndpointArn"]
        for side in ("source", "target")
    }
    task = dms.create_replication_task(
        ReplicationTaskIdentifier="demo-task",
        SourceEndpointArn=arns["source"],
        TargetEndpointArn=arns["target"],
        ReplicationInstanceArn=instance,
        MigrationType="full-load",
        TableMappings='{"rules": []}',
    )["ReplicationTask"]["ReplicationTaskArn"]

    def side(name: str) -> SideOutputs:
        return SideOutputs(
            vpc_id=vpcs[name],
            vpc_cidr="10.0.0.0/16",
            cluster_identifier=f"{name}-cluster",
            database_name="d",
            port=5432,
            secret_arn=f"arn:secret:{name}",
            nlb_arn="arn:nlb",
            target_group_arn="arn:tg",
            endpoint_service_id=f"vpce-svc-{name}",
            vpc_endpoint_id=endpoints[name],
            endpoint_dns_name=f"{name}.vpce.example",
            dms_endpoint_arn=arns[name],
        )

    outputs = EnvironmentOutputs(
        source=side("source"),
        target=side("target"),
        dms_vpc_id=vpcs["dms"],
        dms_vpc_cidr="10.0.0.0/16",
        dms_replication_instance_arn=instance,
        dms_access_role_arn="arn:role",
        bastion_instance_id="i-1",
        region=REGION,
    )
    return outputs, task


def _journey_at_diff(mode: str, outputs: EnvironmentOutputs, task_arn: str) -> Journey:
    journey = Journey("dev", mode)
    for step in STEPS[:5]:  # configure … migrate done
        journey.complete(step)
    journey.update(outputs=outputs.to_json(), task=TaskRecord("demo-task", '{"rules": []}', arn=task_arn))
    assert journey.state.current is Step.DIFF
    return journey


@pytest.mark.parametrize("mode", ["aws", "sandbox"])
def test_a_journey_whose_results_all_hold_resumes_where_it_was(aws: None, mode: Any) -> None:
    environment = Environment(mode=mode, region=REGION)
    outputs, task = _provisioned(environment)
    journey = _journey_at_diff(mode, outputs, task)
    check = check_resume(environment, journey)
    assert not check.fell_back and check.now_at is Step.DIFF and check.summary == "resuming at Diff"
    assert journey.state.setback is None


@pytest.mark.parametrize("mode", ["aws", "sandbox"])
def test_gone_vpcs_fall_back_to_configure_and_say_which(aws: None, mode: Any) -> None:
    environment = Environment(mode=mode, region=REGION)
    outputs, task = _provisioned(environment)
    journey = _journey_at_diff(mode, outputs, task)
    ec2 = environment.client("ec2")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[outputs.source.vpc_endpoint_id])
    ec2.delete_vpc(VpcId=outputs.target.vpc_id)  # as `sandbox down`, or a destroy by hand, leaves it
    check = check_resume(environment, journey)
    assert check.fell_back and check.was_at is Step.DIFF and check.now_at is Step.CONFIGURE
    assert outputs.target.vpc_id in check.reasons[0] and outputs.source.vpc_endpoint_id in check.reasons[0]
    state = load_checkpoint("dev", mode)  # checkpointed: a restart shows the same
    assert state is not None and state.current is Step.CONFIGURE and state.done == ()
    assert state.outputs is None and state.verify is None and state.diff is None
    assert state.setback is not None and state.setback.step is Step.PROVISION
    assert outputs.target.vpc_id in state.setback.cause
    assert state.task is not None and state.task.identifier == "demo-task" and state.task.arn is None


@pytest.mark.parametrize("mode", ["aws", "sandbox"])
def test_a_task_dms_no_longer_knows_falls_back_to_migrate(aws: None, mode: Any) -> None:
    environment = Environment(mode=mode, region=REGION)
    outputs, task = _provisioned(environment)
    journey = _journey_at_diff(mode, outputs, task)
    environment.client("dms").delete_replication_task(ReplicationTaskArn=task)
    check = check_resume(environment, journey)
    assert check.now_at is Step.MIGRATE and "demo-task" in check.summary
    assert journey.state.done == (Step.CONFIGURE, Step.PROVISION, Step.VERIFY, Step.PREPARE)
    assert journey.state.task is not None and journey.state.task.table_mappings == '{"rules": []}'
    assert journey.state.setback is not None and journey.state.setback.step is Step.MIGRATE


def test_an_unreachable_api_leaves_the_journey_as_it_was_and_says_so(aws: None) -> None:
    environment = Environment(mode="sandbox", region=REGION)
    outputs, task = _provisioned(environment)
    journey = _journey_at_diff("sandbox", outputs, task)

    class Down:
        def describe_vpcs(self, **_: Any) -> Any:
            raise ConnectionError("Could not connect to the endpoint URL: http://127.0.0.1:9/")

    check = check_resume(environment, journey, ec2=Down())
    assert not check.fell_back and check.now_at is Step.DIFF and "Could not connect" in check.unchecked
    assert journey.state.done[-1] is Step.MIGRATE and journey.state.setback is None


def test_a_journey_past_provision_without_any_outputs_falls_back(aws: None) -> None:
    journey = Journey("dev", "aws")
    journey.complete(Step.CONFIGURE)
    journey.complete(Step.PROVISION)
    check = check_resume(Environment(mode="aws", region=REGION), journey)
    assert check.now_at is Step.CONFIGURE and "no provisioning outputs" in check.reasons[0]


def test_without_outputs_nothing_still_runs_and_with_them_it_is_said() -> None:
    journey = Journey("dev", "aws")
    assert what_still_runs(journey) == []
    journey.update(outputs={"source": {}})
    assert "provisioned outputs" in what_still_runs(journey)[0]
