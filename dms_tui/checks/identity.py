"""The bastion's own standing: who it is to AWS (STS), which region it targets, and how far its clock is off.

Clock skew is measured against the Date header of the STS answer: AWS rejects signatures more than five minutes
off, and long-running pollers start failing well before a person suspects the clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.checks.aws_errors import aws_failure
from dms_tui.checks.commands import aws_command
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.environment import Environment
from dms_tui.provision.outputs import EnvironmentOutputs

IDENTITY_CHECK_ID = "environment.identity"
_SKEW_KEY = "environment.clock_skew"

#: AWS Signature Version 4 tolerates five minutes; warn well before that.
SKEW_WARN_SECONDS = 30.0
SKEW_FAIL_SECONDS = 240.0


def identity_check(target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        before = time.time()
        try:
            response = ctx.client("sts").get_caller_identity()
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "sts:GetCallerIdentity")
        after = time.time()
        header = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if header:
            try:
                server = parsedate_to_datetime(header).timestamp()
            except (TypeError, ValueError):
                server = None
            if server is not None:
                # The header has whole-second resolution; compare with the middle of the round trip.
                ctx.facts.set(_SKEW_KEY, (before + after) / 2 - server)
        label = target.emulator_note
        return ok(f"{response.get('Arn', '?')} in account {response.get('Account', '?')} ({label})")

    return Check(
        id=IDENTITY_CHECK_ID,
        side="environment",
        title="AWS identity (STS)",
        run=run,
        timeout=timeout,
        command=aws_command(target, "sts", "get-caller-identity"),
        timeout_remedy="STS did not answer in time: the bastion needs a route to the AWS API (NAT or a VPC endpoint).",
    )


def region_check(outputs: EnvironmentOutputs, target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        if outputs.region and outputs.region != target.region:
            return fail(
                f"this run targets {target.region}, but the environment was provisioned in {outputs.region}",
                f"Use region {outputs.region} (AWS_REGION or the wizard's region) so every call finds the resources.",
            )
        return ok(f"region {target.region} matches the provisioned environment")

    return Check(
        id="environment.region",
        side="environment",
        title="Region",
        run=run,
        timeout=timeout,
        # Finds the environment's DMS VPC only in the region it was provisioned in.
        command=aws_command(
            target,
            "ec2",
            "describe-vpcs",
            "--vpc-ids",
            outputs.dms_vpc_id,
            "--query",
            "Vpcs[0].VpcId",
            "--output",
            "text",
        ),
    )


def clock_check(target: Environment, timeout: float) -> Check:
    def run(ctx: CheckContext) -> Outcome:
        skew = ctx.facts.get(_SKEW_KEY)
        now = datetime.now(UTC).strftime("%H:%M:%S UTC")
        if skew is None:
            if not target.sends_date_header:
                return ok(f"local clock {now}; {target.emulator_note} sends no Date header, so skew is not measured")
            return warn(f"local clock {now}; AWS sent no Date header, so skew was not measured", "")
        described = f"local clock {now}, {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} AWS"
        remedy = "Synchronise the clock (chrony / systemd-timesyncd, or the Amazon Time Sync Service 169.254.169.123)."
        if abs(skew) >= SKEW_FAIL_SECONDS:
            return fail(described + "; AWS rejects requests signed more than 5 minutes off", remedy)
        if abs(skew) >= SKEW_WARN_SECONDS:
            return warn(described, remedy)
        return ok(described)

    return Check(
        id="environment.clock",
        side="environment",
        title="Clock skew",
        run=run,
        timeout=timeout,
        needs=(IDENTITY_CHECK_ID,),
        command="date -u; curl -sI https://sts.amazonaws.com | grep -i '^date'"
        if target.sends_date_header
        else "date -u",
    )
