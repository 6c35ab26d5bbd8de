"""Check 1: the side's database secret is readable from Secrets Manager and holds the five fields DMS needs."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from dms_tui.checks.aws_errors import aws_failure
from dms_tui.checks.commands import aws_command
from dms_tui.checks.result import Side
from dms_tui.checks.runner import Check, CheckContext, Outcome, fail, ok, warn
from dms_tui.data.connect import DatabaseCredentials, SecretFormatError
from dms_tui.environment import Environment
from dms_tui.provision.outputs import SideOutputs


def credentials_key(side: Side) -> str:
    """Where the secret check leaves the parsed credentials for the login check."""
    return f"{side}.credentials"


def secret_check(side: Side, outputs: SideOutputs, target: Environment, timeout: float) -> Check:
    command = aws_command(
        target,
        "secretsmanager",
        "get-secret-value",
        "--secret-id",
        outputs.secret_arn,
        "--query",
        "SecretString",
        "--output",
        "text",
    )

    def run(ctx: CheckContext) -> Outcome:
        try:
            response = ctx.client("secretsmanager").get_secret_value(SecretId=outputs.secret_arn)
        except (BotoCoreError, ClientError) as exc:
            return aws_failure(exc, "secretsmanager:GetSecretValue")
        try:
            credentials = DatabaseCredentials.from_secret_string(str(response.get("SecretString") or ""))
        except SecretFormatError as exc:
            return fail(
                f"the secret {outputs.secret_arn} is readable but malformed: {exc}",
                "Store a JSON object with username, password, host (the interface endpoint DNS name), port and "
                "dbname, as DMS expects; `dms-tui provision apply` writes it that way.",
            )
        ctx.facts.set(credentials_key(side), credentials)
        summary = (
            f"user {credentials.username}, host {credentials.host}, port {credentials.port}, "
            f"dbname {credentials.dbname} (password present, not shown)"
        )
        host = credentials.host.lower().rstrip(".")
        if host != outputs.endpoint_dns_name.lower().rstrip("."):
            return warn(
                f"{summary}; but the secret's host is not the interface endpoint {outputs.endpoint_dns_name}",
                "DMS connects to the secret's host: set it to the interface endpoint's DNS name so traffic takes "
                "the PrivateLink path (re-run provision, or put-secret-value with the corrected host).",
            )
        if credentials.port != outputs.port:
            return warn(
                f"{summary}; but the provisioned port is {outputs.port}",
                "Make the secret's port match the NLB listener port, or DMS will connect to the wrong port.",
            )
        return ok(summary)

    return Check(
        id=f"{side}.secret",
        side=side,
        title="Secret readable and well-formed",
        run=run,
        timeout=timeout,
        command=command,
        timeout_remedy="Secrets Manager did not answer in time: the bastion needs a route to it (NAT or an "
        "interface endpoint for secretsmanager).",
    )
