"""The target environment: the one object that differs between an AWS account and the embedded sandbox.

Everything that talks to AWS or to a database endpoint asks this object how: which boto3 client to build (the
sandbox points every client at its moto server), and where a hostname really is (the sandbox maps each interface
endpoint DNS name to a local TCP forwarder standing in for NLB + PrivateLink). Screens only read ``label``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config

Mode = Literal["aws", "sandbox"]

# Adaptive retry mode: botocore slows itself down on throttling, so pollers back off without their own logic.
_RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30)

SANDBOX_ACCESS_KEY = "testing"
SANDBOX_SECRET_KEY = "testing"  # moto accepts any key; not a secret


@dataclass(frozen=True)
class TargetEnvironment:
    """How this run reaches AWS APIs and database endpoints."""

    mode: Mode
    region: str
    env: str = "dev"
    aws_endpoint_url: str | None = None
    host_map: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    terraform_override: str | None = None  # contents of a standard *_override.tf for the working copy
    profile: str | None = None
    workdir: Path | None = None

    @property
    def label(self) -> str:
        return "sandbox (no AWS account)" if self.mode == "sandbox" else f"AWS account · {self.region}"

    def session(self) -> boto3.Session:
        if self.mode == "sandbox":
            return boto3.Session(
                aws_access_key_id=SANDBOX_ACCESS_KEY,
                aws_secret_access_key=SANDBOX_SECRET_KEY,
                region_name=self.region,
            )
        return boto3.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` in this environment (adaptive retries; moto's URL in the sandbox)."""
        config = kwargs.pop("config", None)
        merged = _RETRY_CONFIG.merge(config) if config is not None else _RETRY_CONFIG
        if self.aws_endpoint_url:
            kwargs.setdefault("endpoint_url", self.aws_endpoint_url)
        return self.session().client(service, config=merged, **kwargs)  # type: ignore[call-overload]

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection to ``host:port`` really goes (a forwarder in the sandbox; unchanged on AWS)."""
        return self.host_map.get(host.lower().rstrip("."), (host, port))


def aws_target(region: str, env: str = "dev", profile: str | None = None) -> TargetEnvironment:
    return TargetEnvironment(mode="aws", region=region, env=env, profile=profile)
