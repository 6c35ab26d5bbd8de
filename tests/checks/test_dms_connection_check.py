"""DMS's own test connection, polled until it settles.

moto 5.2.5 implements test_connection/describe_connections, but its connections always end "successful" (its
FakeConnection only knows the testing -> successful transition), so a failed test is driven with botocore's Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from dms_tui.checks.plan import VerifyOptions, build_checks
from dms_tui.checks.replication import explain_failure_message
from dms_tui.checks.runner import run_checks
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs

INSTANCE = "arn:aws:dms:us-east-1:123456789012:rep:DEMO"
ENDPOINT = "arn:aws:dms:us-east-1:123456789012:endpoint:SOURCE"


def _side(name: str, endpoint: str) -> SideOutputs:
    return SideOutputs(
        vpc_id="vpc-1",
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
        dms_endpoint_arn=endpoint,
    )


OUTPUTS = EnvironmentOutputs(
    source=_side("source", ENDPOINT),
    target=_side("target", ENDPOINT + "-T"),
    dms_vpc_id="vpc-dms",
    dms_vpc_cidr="10.0.0.0/16",
    dms_replication_instance_arn=INSTANCE,
    dms_access_role_arn="arn:aws:iam::123456789012:role/dms",
    bastion_instance_id="i-1",
    region="us-east-1",
)


def _connection(status: str, message: str = "") -> dict[str, Any]:
    return {
        "ReplicationInstanceArn": INSTANCE,
        "EndpointArn": ENDPOINT,
        "Status": status,
        "LastFailureMessage": message,
        "EndpointIdentifier": "source",
        "ReplicationInstanceIdentifier": "demo",
    }


def test_a_failed_dms_test_connection_shows_the_last_failure_message_and_its_cause() -> None:
    target = Environment(mode="aws", region="us-east-1")
    dms = boto3.client("dms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(dms)
    stubber.add_response(
        "describe_replication_instances",
        {"ReplicationInstances": [{"ReplicationInstanceIdentifier": "demo", "ReplicationInstanceStatus": "available"}]},
        {"Filters": [{"Name": "replication-instance-arn", "Values": [INSTANCE]}]},
    )
    stubber.add_response("test_connection", {"Connection": _connection("testing")})
    stubber.add_response("describe_connections", {"Connections": [_connection("testing")]})
    failure = "Test connection failed for endpoint 'source': could not connect to server: Connection timed out"
    stubber.add_response("describe_connections", {"Connections": [_connection("failed", failure)]})
    options = VerifyOptions(api_timeout=5, network_timeout=5, dms_timeout=5, dms_poll_interval=0.01)
    checks = [
        c for c in build_checks(target, OUTPUTS, options) if c.id in {"environment.dms_instance", "source.dms_test"}
    ]

    with stubber:
        report = run_checks(checks, client=lambda service: dms)

    stubber.assert_no_pending_responses()  # it polled until the test settled, then stopped
    result = report.by_id("source.dms_test")
    assert result.status == "fail" and failure in result.detail
    assert "security group" in result.remedy and "replication instance's subnets" in result.remedy
    assert "aws dms test-connection" in result.command and "aws dms describe-connections" in result.command


def test_an_unavailable_replication_instance_skips_the_dms_tests_with_the_reason() -> None:
    target = Environment(mode="aws", region="us-east-1")
    dms = boto3.client("dms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(dms)
    stubber.add_response(
        "describe_replication_instances",
        {"ReplicationInstances": [{"ReplicationInstanceIdentifier": "demo", "ReplicationInstanceStatus": "creating"}]},
    )
    checks = [c for c in build_checks(target, OUTPUTS) if c.id.endswith(("dms_instance", "dms_test"))]
    with stubber:
        report = run_checks(checks, client=lambda service: dms)

    instance = report.by_id("environment.dms_instance")
    assert instance.status == "fail" and "creating" in instance.detail and "Wait" in instance.remedy
    for side in ("source", "target"):
        skipped = report.by_id(f"{side}.dms_test")
        assert skipped.status == "skipped" and "DMS replication instance available" in skipped.detail


def test_failure_messages_map_to_their_likely_causes() -> None:
    assert "password" in explain_failure_message('FATAL: password authentication failed for user "postgres"')
    assert "create it" in explain_failure_message('FATAL: database "demo_db" does not exist')
    assert "GetSecretValue" in explain_failure_message("AccessDenied reading secret arn:...")
