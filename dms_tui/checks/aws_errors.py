"""Turn boto3/botocore failures into check outcomes a person can act on."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from dms_tui import applog
from dms_tui.checks.runner import ClientFactory, Outcome, fail
from dms_tui.environment import Environment

_ACCESS_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AccessDeniedFault"}
_NOT_FOUND_HINT = (
    "The ARN or id comes from terraform's outputs and no longer exists: the environment was destroyed or "
    "re-created. Run `dms-tui provision apply` (or `terraform output` in the working copy) and verify again."
)


def aws_failure(exc: Exception, action: str) -> Outcome:
    """A failed outcome for an AWS API call ``action`` (e.g. "secretsmanager:GetSecretValue")."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        if not_an_error_document(message):
            return _error_page_failure(exc, action, message)
        detail = f"{action} failed: {code}: {message}".rstrip(": ")
        if code in _ACCESS_CODES:
            return fail(detail, f"The identity running dms-tui is not allowed {action}; add it to its IAM policy.")
        if "NotFound" in code or code in {"InvalidVpcEndpointId.NotFound", "ResourceNotFoundFault"}:
            return fail(detail, _NOT_FOUND_HINT)
        if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}:
            return fail(detail, "The credentials expired: refresh them (aws sso login, or new keys) and verify again.")
        if code in {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"}:
            return fail(detail, "AWS does not accept these credentials; check the profile and the machine's clock.")
        return fail(detail, "AWS refused the call; the message above says why.")
    if isinstance(exc, NoCredentialsError):
        return fail(
            f"{action}: no AWS credentials found",
            "Configure credentials (aws configure / aws sso login, or the bastion's instance role) and verify again.",
        )
    if isinstance(exc, NoRegionError):
        return fail(f"{action}: no region configured", "Set AWS_REGION or choose the region in the wizard.")
    if isinstance(exc, EndpointConnectionError):
        return fail(
            f"{action}: cannot reach the AWS API endpoint ({exc})",
            "The bastion needs a route to the AWS API (NAT gateway or VPC interface endpoints for this service); "
            "in the sandbox, check that it is running: dms-tui sandbox status.",
        )
    if isinstance(exc, BotoCoreError):
        return fail(f"{action}: {exc}", "The AWS SDK could not complete the call; the message above says why.")
    raise exc


_TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


def not_an_error_document(message: str) -> bool:
    """True when botocore's error "message" is a whole response body that was not an AWS error document (an HTML
    error page from a proxy or an emulator): botocore passes a body it cannot parse as JSON through as the message."""
    text = message.lstrip()
    if text.startswith("<"):
        return True
    if text.startswith(("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            return True
    return False


def _error_page_failure(exc: ClientError, action: str, body: str) -> Outcome:
    """One line for the checklist; the whole body goes to the app log."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or exc.response.get("Error", {}).get(
        "Code", "?"
    )
    title = _TITLE.search(body)
    summary = " ".join(title.group(1).split())[:80] if title else "a page that is not an AWS error"
    applog.logger().warning("%s answered HTTP %s with a non-JSON body:\n%s", action, status, body)
    return fail(
        f"{action} failed: HTTP {status} ({summary}); the full answer is in {applog.log_path()}",
        "The API endpoint answered with an error page instead of an AWS error: something between dms-tui and the "
        "API failed (a proxy, or the sandbox's emulator). Run the command shown to retry; if it persists, read the "
        "log.",
    )


def caching_client_factory(target: Environment) -> ClientFactory:
    """One boto3 client per service for the whole run (clients are thread-safe once made).

    One lock per service: creating a client loads its service model (EC2's is large), and checks of different
    services should not queue behind each other's loading.
    """
    guard = threading.Lock()
    locks: dict[str, threading.Lock] = {}
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        with guard:
            lock = locks.setdefault(service, threading.Lock())
        with lock:
            if service not in clients:
                clients[service] = target.client(service)
            return clients[service]

    return client
