"""DMS's own test connection, polled until it settles.

moto 5.2.5 implements test_connection/describe_connections, but its connections always end "successful" (its
FakeConnection only knows the testing -> successful transition), so a failed test is driven with botocore's Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber
from moto_environment import paper_side  # type: ignore[import-not-found]

from dms_tui.checks.plan import VerifyOptions, build_checks
from dms_tui.checks.replication import explain_failure_message
from dms_tui.checks.runner import run_checks
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs

INSTANCE = "arn:aws:dms:us-east-1:123456789012:rep:DEMO"
ENDPOINT = "arn:aws:dms:us-east-1:123456789012:endpoint:SOURCE"


OUTPUTS = EnvironmentOutputs(
    source=paper_side("source", ENDPOINT),
    target=paper_side("target", ENDPOINT + "-T"),
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


def test_an_error_page_instead_of_an_aws_error_becomes_one_line_and_the_page_goes_to_the_log() -> None:
    from dms_tui import applog

    target = Environment(mode="aws", region="us-east-1")
    dms = boto3.client("dms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    page = (
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
        "<p>The server encountered an internal error and was unable to complete your request.</p>\n"
    )
    stubber = Stubber(dms)
    stubber.add_response(
        "describe_replication_instances",
        {"ReplicationInstances": [{"ReplicationInstanceIdentifier": "demo", "ReplicationInstanceStatus": "available"}]},
    )
    stubber.add_client_error("test_connection", service_error_code="500", service_message=page, http_status_code=500)
    checks = [c for c in build_checks(target, OUTPUTS) if c.id in {"environment.dms_instance", "source.dms_test"}]
    with stubber:
        report = run_checks(checks, client=lambda service: dms)

    result = report.by_id("source.dms_test")
    assert result.status == "fail" and "\n" not in result.detail and "<" not in result.detail + result.remedy
    assert "HTTP 500 (500 Internal Server Error)" in result.detail and str(applog.log_path()) in result.detail
    assert "unable to complete your request" in applog.log_path().read_text()


def test_moto_tests_the_same_connection_again_once_the_sandbox_gap_is_fixed() -> None:
    """moto 5.2.5 raised UnboundLocalError for a second TestConnection of a pair (Verify run twice)."""
    from moto import mock_aws

    from dms_tui.sandbox.moto_gaps import apply_moto_gap_fixes

    apply_moto_gap_fixes()
    with mock_aws():
        dms = boto3.client("dms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier="demo", ReplicationInstanceClass="dms.t3.micro"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        endpoint = dms.create_endpoint(
            EndpointIdentifier="source", EndpointType="source", EngineName="postgres", ServerName="h", Port=5432
        )["Endpoint"]["EndpointArn"]
        for _ in range(3):
            answer = dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)["Connection"]
            assert answer["Status"] == "testing" and answer["EndpointArn"] == endpoint
        connections = dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint]}])
        assert len(connections["Connections"]) == 1  # a new test replaces the pair's old record, as on AWS


def test_every_aws_command_shown_points_at_the_environment_it_checks() -> None:
    sandbox = Environment(mode="sandbox", region="us-east-1", aws_endpoint_url="http://127.0.0.1:4566")
    aws = Environment(mode="aws", region="eu-west-1", profile="migration")
    for target, must in (
        (sandbox, ("--endpoint-url http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID=testing", "--region us-east-1")),
        (aws, ("--region eu-west-1", "--profile migration")),
    ):
        commands = [c.command for c in build_checks(target, OUTPUTS)]
        aws_commands = [c for c in commands if " aws " in f" {c}" or c.startswith("AWS_")]
        assert len(aws_commands) >= 13
        for command in aws_commands:
            for part in must:
                # every `aws` of a compound command (test-connection && describe-connections) carries it
                assert command.count(part) == command.count("aws "), (part, command)
        assert not any("--endpoint-url" in c for c in commands) or target is sandbox
