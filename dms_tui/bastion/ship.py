"""Ship a wheelhouse to the bastion: upload it to the bundle's wheelhouse bucket (the manifest last, each object
with its SHA-256 checksum for S3 to verify), then, for a bastion that is already running, install it there through
Session Manager (``ssm send-command`` with the bundle's install script) and report what the bastion printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dms_tui import exit_codes
from dms_tui.bastion.bucket import MANIFEST_NAME, WHEELHOUSE_PREFIX, bucket_name, install_script
from dms_tui.bastion.wheelhouse import Wheelhouse
from dms_tui.errors import StepError

if TYPE_CHECKING:
    from dms_tui.environment import Environment

SSM_DOCUMENT = "AWS-RunShellScript"
PARAMETERS_FILE = "ssm-install-parameters.json"
_TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut", "Cancelling", "Undeliverable", "Terminated"}


@dataclass(frozen=True)
class ShipTarget:
    bucket: str
    prefix: str
    instance_id: str | None
    region: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/"


@dataclass(frozen=True)
class Uploaded:
    name: str
    size: int
    skipped: bool  # already there with the same content


@dataclass(frozen=True)
class Removed:
    key: str  # a file of an older wheelhouse, no longer in the manifest


@dataclass(frozen=True)
class InstallSent:
    instance_id: str
    command_id: str


@dataclass(frozen=True)
class InstallFinished:
    instance_id: str
    command_id: str
    status: str
    output: str
    error_output: str
    note: str = ""  # e.g. that the emulator ran nothing

    @property
    def ok(self) -> bool:
        return self.status == "Success"


ShipEvent = Uploaded | Removed | InstallSent | InstallFinished


def resolve_target(
    environment: Environment, *, bucket: str | None = None, instance_id: str | None = None
) -> ShipTarget:
    """Where the wheelhouse goes: the bundle's bucket for this environment, account and region; the bastion from
    the recorded outputs (none before the first apply)."""
    if bucket is None:
        try:
            account = environment.client("sts").get_caller_identity()["Account"]
        except Exception as exc:  # botocore's errors: no credentials, no route
            raise StepError.from_exception(
                "Cannot tell which account the wheelhouse bucket is in.",
                exc,
                "Check the credentials (`aws sts get-caller-identity`), or name the bucket with --bucket.",
                exit_code=exit_codes.NOT_RUN,
            ) from exc
        bucket = bucket_name(environment.env, str(account), environment.region)
    if instance_id is None and environment.outputs is not None:
        instance_id = environment.outputs.bastion_instance_id or None
    return ShipTarget(bucket, WHEELHOUSE_PREFIX, instance_id, environment.region)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_b64(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()


def upload(s3: Any, wheelhouse: Wheelhouse, target: ShipTarget) -> Iterator[Uploaded | Removed]:
    """Upload every file of the manifest (unchanged ones skipped), then the manifest, then drop stale files."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=target.bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        missing = code in ("404", "NoSuchBucket", "NotFound")
        raise StepError(
            f"The wheelhouse bucket {target.bucket} is {'missing' if missing else 'not reachable'}.",
            "The bundle creates it (terraform/modules/wheelhouse)." if missing else str(exc),
            "Run `dms-tui provision apply` first (or pass --bucket NAME)."
            if missing
            else "Check that these credentials may use the bucket (s3:ListBucket, s3:PutObject).",
            exit_code=exit_codes.NOT_RUN,
        ) from exc
    existing: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=f"{target.prefix}/"):
        for item in page.get("Contents", []):
            existing[item["Key"]] = str(item.get("ETag", "")).strip('"')
    names = [name for name in wheelhouse.files if name != MANIFEST_NAME] + [MANIFEST_NAME]
    for name in names:
        path = wheelhouse.directory / name
        key = f"{target.prefix}/{name}"
        if name != MANIFEST_NAME and existing.get(key) == _md5(path):
            yield Uploaded(name, path.stat().st_size, skipped=True)
            continue
        with path.open("rb") as body:
            s3.put_object(
                Bucket=target.bucket,
                Key=key,
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_sha256_b64(path),
                ServerSideEncryption="AES256",
            )
        yield Uploaded(name, path.stat().st_size, skipped=False)
    wanted = {f"{target.prefix}/{name}" for name in names}
    for key in sorted(set(existing) - wanted):
        s3.delete_object(Bucket=target.bucket, Key=key)
        yield Removed(key)


def install_commands(target: ShipTarget) -> list[str]:
    """The AWS-RunShellScript lines: the bundle's install script, run with the bucket and prefix."""
    script = install_script()
    return [
        "cat > /tmp/install-dms-tui.sh <<'DMS_TUI_SCRIPT'\n" + script.rstrip("\n") + "\nDMS_TUI_SCRIPT",
        f"bash /tmp/install-dms-tui.sh {shlex.quote(target.bucket)} {shlex.quote(target.prefix)}",
    ]


def ssm_parameters(target: ShipTarget) -> dict[str, list[str]]:
    return {"commands": install_commands(target), "executionTimeout": ["900"]}


def install_on_bastion(
    ssm: Any,
    target: ShipTarget,
    *,
    timeout: float = 900.0,
    poll_interval: float = 3.0,
    emulated: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[InstallSent | InstallFinished]:
    """Send the install to the running bastion and wait for its result."""
    from botocore.exceptions import ClientError

    assert target.instance_id is not None
    try:
        sent = ssm.send_command(
            InstanceIds=[target.instance_id],
            DocumentName=SSM_DOCUMENT,
            Comment="dms-tui bastion ship: install from the wheelhouse bucket",
            Parameters=ssm_parameters(target),
            TimeoutSeconds=600,
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        raise StepError(
            f"The bastion {target.instance_id} did not take the install command.",
            "It is not registered with Session Manager yet (still booting, or its SSM endpoints are missing)."
            if code == "InvalidInstanceId"
            else str(exc),
            "Wait a minute and run `dms-tui bastion ship` again; the wheelhouse is uploaded, and a bastion that "
            "boots now installs it by itself.",
            exit_code=exit_codes.FAILED,
        ) from exc
    command_id = str(sent["Command"]["CommandId"])
    yield InstallSent(target.instance_id, command_id)
    deadline = time.monotonic() + timeout
    while True:
        try:
            invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=target.instance_id)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) != "InvocationDoesNotExist":
                raise StepError.from_exception("The install's result could not be read.", exc) from exc
            invocation = {"Status": "Pending"}  # AWS registers the invocation a moment after send-command
        status = str(invocation.get("Status", ""))
        if status in _TERMINAL:
            break
        if time.monotonic() > deadline:
            status = "TimedOut"
            break
        sleep(poll_interval)
    yield InstallFinished(
        target.instance_id,
        command_id,
        status,
        str(invocation.get("StandardOutputContent", "")),
        str(invocation.get("StandardErrorContent", "")),
        note="the sandbox's emulator records send-command and reports Success without running anything"
        if emulated
        else "",
    )


def write_parameters_file(directory: Path, target: ShipTarget) -> Path:
    """The send-command parameters as a file, for the printed `aws ssm send-command` (not uploaded)."""
    path = directory / PARAMETERS_FILE
    path.write_text(json.dumps(ssm_parameters(target), indent=2) + "\n", encoding="utf-8")
    return path


def equivalent_commands(environment: Environment, wheelhouse: Wheelhouse, target: ShipTarget) -> list[str]:
    """The aws CLI commands that do the same (run as printed: the environment's flags and variables included)."""
    flags = " ".join(shlex.quote(flag) for flag in environment.aws_cli_flags())
    env = " ".join(f"{k}={v}" for k, v in environment.aws_cli_environment().items())
    prefix = f"{env} " if env else ""
    directory = shlex.quote(str(wheelhouse.directory))
    commands = [
        f"{prefix}aws s3 sync {directory} {target.url} --delete --exclude {PARAMETERS_FILE} --sse AES256 {flags}",
    ]
    if target.instance_id:
        parameters = shlex.quote(f"file://{wheelhouse.directory / PARAMETERS_FILE}")
        commands.append(
            f"{prefix}aws ssm send-command --instance-ids {target.instance_id} --document-name {SSM_DOCUMENT} "
            f"--parameters {parameters} {flags}"
        )
        commands.append(
            f"{prefix}aws ssm get-command-invocation --command-id COMMAND_ID --instance-id {target.instance_id} {flags}"
        )
    return commands
