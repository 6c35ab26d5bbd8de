"""Check 7: the DMS replication instance is available, and DMS itself can reach each side's endpoint.

``test_connection`` asks the replication instance to open a connection to the DMS endpoint (through the same
PrivateLink path); the result arrives asynchronously, so it is polled with ``describe_connections`` until it is
``successful`` or ``failed`` (whose LastFailureMessage is shown). In the sandbox the DMS data plane answers these
calls with a real connection attempt through the forwarder.
"""

from __future__ import annotations

import time

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.checks.aws_errors import aws_failure
from dms_tui.checks.commands import aws_command
from dms_tui.checks.result import Side
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs, SideOutputs

INSTANCE_CHECK_ID = "environment.dms_instance"

_TRANSITIONAL = {"creating", "modifying", "rebooting", "upgrading", "maintenance", "moving-to-vpc"}


def replication_instance_check(outputs: EnvironmentOutputs, target: Environment, timeout: float) -> Check:
    arn = outputs.dms_replication_instance_arn

    def run(ctx: CheckContext) -> Outcome:
        try:
            found = ctx.client("dms").describe_replication_instances(
                Filters=[{"Name": "replication-instance-arn", "Values": [arn]}]
            )
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "dms:DescribeReplicationInstances")
        instances = found.get("ReplicationInstances", [])
        if not instances:
            return fail(f"replication instance {arn} not found", "Re-run provision to create it.")
        status = str(instances[0].get("ReplicationInstanceStatus", "unknown"))
        name = instances[0].get("ReplicationInstanceIdentifier", arn)
        if status == "available":
            return ok(f"replication instance {name} is available")
        if status in _TRANSITIONAL:
            return fail(
                f"replication instance {name} is {status}, not yet available",
                "Wait until it is available (creating one takes about 10 minutes) and verify again.",
            )
        return fail(
            f"replication instance {name} is {status}",
            "DMS cannot run tasks on it in this state; see its events in the DMS console, or re-create it.",
        )

    return Check(
        id=INSTANCE_CHECK_ID,
        side="environment",
        title="DMS replication instance available",
        run=run,
        timeout=timeout,
        command=aws_command(
            target, "dms", "describe-replication-instances", "--filters", f"Name=replication-instance-arn,Values={arn}"
        ),
    )


def explain_failure_message(message: str) -> str:
    """The likely cause and the next action for a DMS test-connection LastFailureMessage."""
    lowered = message.lower()
    if "password authentication failed" in lowered:
        return (
            "DMS reached the database but the credentials were refused: the secret's password is not the "
            "database user's. Re-run provision or update the secret."
        )
    if "does not exist" in lowered and "database" in lowered:
        return "The endpoint's database does not exist: create it (`dms-tui seed`) or fix the secret's dbname."
    if "secret" in lowered or "accessdenied" in lowered or "not authorized" in lowered:
        return (
            "DMS could not read the secret: the endpoint's access role needs secretsmanager:GetSecretValue on it "
            "(and kms:Decrypt for its key)."
        )
    if "ssl" in lowered or "certificate" in lowered:
        return "TLS failed: use the endpoint's sslmode=require, or supply the RDS CA certificate for verify-full."
    if any(word in lowered for word in ("timeout", "timed out", "could not connect", "connection refused", "network")):
        return (
            "DMS could not reach the endpoint: the interface endpoint's security group must allow the port from "
            "the replication instance's subnets, the endpoint must be available, and the NLB needs a healthy target."
        )
    return "Read the message above; the DMS console's endpoint page shows the same test."


def dms_connection_check(
    side: Side,
    outputs: SideOutputs,
    environment: EnvironmentOutputs,
    target: Environment,
    timeout: float,
    poll_interval: float,
) -> Check:
    instance = environment.dms_replication_instance_arn
    endpoint = outputs.dms_endpoint_arn
    test = aws_command(
        target, "dms", "test-connection", "--replication-instance-arn", instance, "--endpoint-arn", endpoint
    )
    poll = aws_command(target, "dms", "describe-connections", "--filters", f"Name=endpoint-arn,Values={endpoint}")
    command = f"{test} && {poll}"

    def run(ctx: CheckContext) -> Outcome:
        dms = ctx.client("dms")
        try:
            dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint)
        except ClientError as exc:
            # A test already running for this pair is fine: poll for its result instead.
            if exc.response.get("Error", {}).get("Code") != "InvalidResourceStateFault":
                return aws_failure(exc, "dms:TestConnection")
        except BotoCoreError as exc:
            return aws_failure(exc, "dms:TestConnection")
        while True:
            try:
                found = dms.describe_connections(
                    Filters=[
                        {"Name": "endpoint-arn", "Values": [endpoint]},
                        {"Name": "replication-instance-arn", "Values": [instance]},
                    ]
                )
            except (BotoCoreError, ClientError) as exc:
                return aws_failure(exc, "dms:DescribeConnections")
            # Filter here as well: an emulator may apply only one of the two filters.
            connections = [
                c
                for c in found.get("Connections", [])
                if c.get("EndpointArn") == endpoint and c.get("ReplicationInstanceArn") == instance
            ]
            status = str(connections[0].get("Status", "unknown")) if connections else "unknown"
            if status == "successful":
                return ok(f"DMS connected from the replication instance to {outputs.endpoint_dns_name}")
            if status == "failed":
                message = str(connections[0].get("LastFailureMessage") or "no failure message given")
                return fail(f"DMS test connection failed: {message}", explain_failure_message(message))
            if status not in {"testing", "unknown"}:
                return warn(f"DMS reports the connection as {status}", "Run the test again from the DMS console.")
            if ctx.remaining() <= poll_interval:
                return fail(
                    f"DMS was still testing the connection after {ctx.timeout:.0f} s",
                    "DMS waits for the database up to its own timeout; this usually means packets are dropped "
                    "on the path (security group of the interface endpoint). Verify again, or run the command.",
                )
            time.sleep(poll_interval)

    return Check(
        id=f"{side}.dms_test",
        side=side,
        title="DMS test connection",
        run=run,
        timeout=timeout,
        needs=(INSTANCE_CHECK_ID,),
        command=command,
        timeout_remedy="DMS did not report a result in time; run the command shown to follow the test.",
    )
