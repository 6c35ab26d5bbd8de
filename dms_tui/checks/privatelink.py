"""Checks 5 and 6: the interface endpoint and its endpoint service are usable, and the NLB's database target is
healthy. These ask the AWS APIs (EC2, ELBv2) rather than the network, so they run alongside the network checks."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.checks.aws_errors import aws_failure
from dms_tui.checks.commands import aws_command
from dms_tui.checks.result import Side
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.environment import Environment
from dms_tui.provision.outputs import SideOutputs

#: What each NLB target-health reason code means for this architecture, and what to do about it.
TARGET_HEALTH_REASONS: dict[str, str] = {
    "Target.FailedHealthChecks": (
        "the NLB's health checks to the registered IP fail. With Aurora behind an IP target group this usually "
        "means the writer's IP changed after a failover (or a reboot) and the target group still points at the old "
        "address: register the writer's current IP (resolve the cluster endpoint) and deregister the old one, or "
        "re-run provision. Otherwise the database's security group does not allow the NLB's subnets on the port."
    ),
    "Target.Timeout": (
        "the health checks time out: the database's security group must allow TCP on the port from the NLB's "
        "subnets (health checks come from the NLB's private IPs)."
    ),
    "Target.ResponseCodeMismatch": "the health check expects HTTP, but PostgreSQL speaks its own protocol: use TCP.",
    "Target.NotRegistered": "no database target is registered: register the Aurora writer's IP (re-run provision).",
    "Target.NotInUse": (
        "the target's Availability Zone is not enabled on the NLB: add a subnet in that zone to the NLB or enable "
        "cross-zone load balancing."
    ),
    "Target.DeregistrationInProgress": "the target is being deregistered; a new target should replace it.",
    "Target.InvalidState": "the target is stopped or terminated: start the database or register the new one.",
    "Target.IpUnusable": "the registered IP is in use elsewhere or unusable: register the database's current IP.",
    "Elb.InitialHealthChecking": "the NLB is still running its first health checks; wait a minute and verify again.",
    "Elb.RegistrationInProgress": "the target is still being registered; wait a minute and verify again.",
    "Elb.InternalError": "an internal NLB error: verify again in a few minutes; if it persists, contact AWS support.",
}

_WAITING_STATES = {"initial"}


def endpoint_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    accept = aws_command(
        target,
        "ec2",
        "accept-vpc-endpoint-connections",
        "--service-id",
        outputs.endpoint_service_id,
        "--vpc-endpoint-ids",
        outputs.vpc_endpoint_id,
    )

    def run(ctx: CheckContext) -> Outcome:
        try:
            found = ctx.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[outputs.vpc_endpoint_id])
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "ec2:DescribeVpcEndpoints")
        endpoints = found.get("VpcEndpoints", [])
        if not endpoints:
            return fail(f"interface endpoint {outputs.vpc_endpoint_id} not found", "Re-run provision.")
        state = str(endpoints[0].get("State", "unknown"))
        normalized = state.lower()
        if normalized == "available":
            return ok(f"interface endpoint {outputs.vpc_endpoint_id} is available")
        if normalized == "pendingacceptance":
            return fail(
                f"interface endpoint {outputs.vpc_endpoint_id} is pendingAcceptance: the endpoint service "
                f"{outputs.endpoint_service_id} requires acceptance and nobody accepted it yet",
                f"Accept it: `{accept}` (or set acceptance_required = false on the endpoint service and apply).",
                command=accept,
            )
        if normalized == "pending":
            return warn(
                f"interface endpoint {outputs.vpc_endpoint_id} is still pending",
                "It is being created; wait a minute and verify again.",
            )
        if normalized == "rejected":
            return fail(
                f"interface endpoint {outputs.vpc_endpoint_id} was rejected by the endpoint service",
                "Re-create the endpoint (re-run provision) and accept the new connection.",
            )
        return fail(
            f"interface endpoint {outputs.vpc_endpoint_id} is {state}",
            "The endpoint cannot carry traffic in this state; re-run provision to re-create it.",
        )

    return Check(
        id=f"{side}.endpoint",
        side=side,
        title="Interface endpoint state",
        run=run,
        timeout=timeout,
        command=aws_command(
            target,
            "ec2",
            "describe-vpc-endpoints",
            "--vpc-endpoint-ids",
            outputs.vpc_endpoint_id,
            "--query",
            "VpcEndpoints[0].State",
        ),
    )


def endpoint_service_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        try:
            found = ctx.client("ec2").describe_vpc_endpoint_service_configurations(
                ServiceIds=[outputs.endpoint_service_id]
            )
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "ec2:DescribeVpcEndpointServiceConfigurations")
        configurations = found.get("ServiceConfigurations", [])
        if not configurations:
            return fail(f"endpoint service {outputs.endpoint_service_id} not found", "Re-run provision.")
        config = configurations[0]
        nlbs = list(config.get("NetworkLoadBalancerArns", []))
        if outputs.nlb_arn not in nlbs:
            return fail(
                f"endpoint service {outputs.endpoint_service_id} fronts {', '.join(nlbs) or 'no NLB'}, "
                f"not the provisioned NLB {outputs.nlb_arn}",
                "Re-run provision so the endpoint service points at the database's NLB.",
            )
        acceptance = "requires acceptance" if config.get("AcceptanceRequired") else "accepts connections automatically"
        state = config.get("ServiceState")
        if state is None:
            # moto (the sandbox's emulator) does not report ServiceState; AWS always does.
            if not target.reports_endpoint_service_state:
                return ok(f"endpoint service {outputs.endpoint_service_id} fronts the NLB; {acceptance}")
            return warn(f"endpoint service {outputs.endpoint_service_id} reports no state", "Verify again later.")
        if str(state).lower() == "available":
            return ok(f"endpoint service {outputs.endpoint_service_id} is Available, fronts the NLB; {acceptance}")
        if str(state).lower() == "pending":
            return warn(f"endpoint service {outputs.endpoint_service_id} is Pending", "Wait a minute and verify again.")
        return fail(
            f"endpoint service {outputs.endpoint_service_id} is {state}",
            "The service cannot carry connections in this state; re-run provision to re-create it.",
        )

    return Check(
        id=f"{side}.endpoint_service",
        side=side,
        title="Endpoint service state",
        run=run,
        timeout=timeout,
        command=aws_command(
            target, "ec2", "describe-vpc-endpoint-service-configurations", "--service-ids", outputs.endpoint_service_id
        ),
    )


def nlb_targets_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        try:
            found = ctx.client("elbv2").describe_target_health(TargetGroupArn=outputs.target_group_arn)
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "elasticloadbalancing:DescribeTargetHealth")
        descriptions = found.get("TargetHealthDescriptions", [])
        if not descriptions:
            return fail(
                "the NLB's target group has no registered targets",
                TARGET_HEALTH_REASONS["Target.NotRegistered"].capitalize(),
            )
        healthy: list[str] = []
        problems: list[tuple[str, str, str]] = []
        for description in descriptions:
            spot = description.get("Target", {})
            where = f"{spot.get('Id')}:{spot.get('Port')}"
            health = description.get("TargetHealth", {})
            state = str(health.get("State", "unknown"))
            if state == "healthy":
                healthy.append(where)
            else:
                problems.append((where, state, str(health.get("Reason") or "")))
        if not problems:
            return ok(f"{len(healthy)} healthy target(s): {', '.join(healthy)}")
        where, state, reason = problems[0]
        explanation = TARGET_HEALTH_REASONS.get(reason, "see the target group's health check settings.")
        listed = "; ".join(f"{w} {s} ({r or 'no reason given'})" for w, s, r in problems)
        detail = f"{listed}; healthy: {', '.join(healthy) or 'none'}"
        remedy = f"{reason}: {explanation}" if reason else explanation
        if healthy or state in _WAITING_STATES:
            return warn(detail, remedy)
        return fail(detail, remedy)

    return Check(
        id=f"{side}.nlb_targets",
        side=side,
        title="NLB target health",
        run=run,
        timeout=timeout,
        command=aws_command(target, "elbv2", "describe-target-health", "--target-group-arn", outputs.target_group_arn),
    )
