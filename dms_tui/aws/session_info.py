"""Who and where: the AWS identity and region boto3's default chain finds, or why it found none (Welcome screen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

# One quick attempt: the Welcome screen must not hang for a minute on a machine without network.
_QUICK = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=3, read_timeout=5)


@dataclass(frozen=True)
class SessionInfo:
    """The result of the look-up: identity fields when found, else ``problem`` says what to do."""

    region: str | None
    account: str | None = None
    arn: str | None = None
    user_id: str | None = None
    credential_source: str | None = None  # botocore's name for where the keys came from: env, sso, iam-role...
    profile: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def discover_session_info(
    profile: str | None = None, *, region: str | None = None, fallback_region: str | None = None, session: Any = None
) -> SessionInfo:
    """Ask STS GetCallerIdentity with the default credential and region chain (``profile``/``region`` override it;
    ``fallback_region`` applies when the chain names none)."""
    try:
        session = session or boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as exc:  # e.g. ProfileNotFound
        return SessionInfo(region=None, profile=profile, problem=f"{exc}; check `aws configure list-profiles`.")
    region = session.region_name or fallback_region
    # Only a profile someone chose (the argument, AWS_PROFILE): boto3's ``profile_name`` says "default" even when no
    # profile exists, and a Session built later with profile_name="default" fails (ProfileNotFound) or skips the
    # environment's keys that this look-up used.
    profile = profile or getattr(getattr(session, "_session", None), "profile", None)
    credentials = session.get_credentials()
    if credentials is None:
        return SessionInfo(
            region=region,
            profile=profile,
            problem=(
                "No AWS credentials were found (environment, shared files, SSO or instance role). Run `aws configure` "
                "or `aws sso login`, or set AWS_PROFILE — or use the sandbox, which needs no account."
            ),
        )
    source = getattr(credentials, "method", None)
    if not region:
        return SessionInfo(
            region=None,
            profile=profile,
            credential_source=source,
            problem="No AWS region is configured. Set AWS_REGION (or `aws configure set region us-east-1`) and retry.",
        )
    try:
        identity = session.client("sts", region_name=region, config=_QUICK).get_caller_identity()
    except NoCredentialsError:
        problem = "The AWS credentials could not be loaded; run `aws configure` or `aws sso login` again."
    except NoRegionError:
        problem = "No AWS region is configured. Set AWS_REGION and retry."
    except ClientError as exc:
        error = exc.response.get("Error", {})
        problem = (
            f"AWS rejected the credentials from {source or 'the default chain'} ({error.get('Code')}: "
            f"{error.get('Message', '')}). Refresh them (`aws sso login`, new keys) and retry."
        )
    except BotoCoreError as exc:
        problem = f"STS in {region} could not be reached ({exc}). Check the network or proxy, then retry."
    else:
        return SessionInfo(
            region=region,
            account=identity.get("Account"),
            arn=identity.get("Arn"),
            user_id=identity.get("UserId"),
            credential_source=source,
            profile=profile,
        )
    return SessionInfo(region=region, profile=profile, credential_source=source, problem=problem)
