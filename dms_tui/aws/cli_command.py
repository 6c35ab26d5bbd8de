"""Render a boto3 call as the `aws ...` command line a person could run by hand, exactly as printed.

The seed's walkthrough printed commands with a stray space and a duplicate ``--region``; these are built from
botocore's own service model instead of by hand, so the operation and every flag are the names the AWS CLI derives
from the same model (``xform_name(name, "-")``), every value is quoted with :func:`shlex.quote`, and ``--region``
appears once. A value whose shape is marked ``sensitive`` in the model (a password) is never rendered: a top-level
one becomes a reference to an environment variable the person sets first, a nested one is replaced by a marker.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

#: Shown in place of a nested secret (a top-level one becomes an environment variable reference instead).
REDACTED = "REDACTED"

# Prefixes the AWS CLI treats specially in a string value (it loads the file, or in CLI v1 fetches the URL).
_PARAMFILE_PREFIXES = ("file://", "fileb://", "http://", "https://")


class UnknownOperationError(ValueError):
    """The operation or one of its parameters does not exist in botocore's model of the service."""


@dataclass(frozen=True)
class AwsCliCommand:
    """One ``aws`` command line: ``text`` is what to print, ``files`` holds JSON documents it reads via file://."""

    service: str
    operation: str  # the API name, e.g. "CreateReplicationTask"
    words: tuple[str, ...]  # shell words, already quoted (an env-var reference is left unquoted on purpose)
    files: Mapping[str, str] = field(default_factory=dict)  # file name -> contents, to save next to the command
    redacted: tuple[str, ...] = ()  # parameter paths whose secret value was left out
    environment: Mapping[str, str] = field(default_factory=dict)  # variables the line needs (sandbox: dummy keys)

    @property
    def text(self) -> str:
        """The line as printed: ``NAME=value`` assignments first (where the environment needs them), then the words."""
        assignments = [f"{name}={shlex.quote(value)}" for name, value in self.environment.items()]
        return " ".join([*assignments, *self.words])

    def __str__(self) -> str:
        return self.text


@cache
def _botocore_session() -> botocore.session.Session:
    # One botocore session for model look-ups only (loading a model is the slow part; it is cached per session).
    return botocore.session.get_session()


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of ``service`` (cached)."""
    return _botocore_session().get_service_model(service)


def cli_name(name: str) -> str:
    """The AWS CLI's kebab-case spelling of an operation or member name (e.g. ``ReplicationTaskArn``)."""
    return xform_name(name, "-")


def operation_model(service: str, operation: str) -> OperationModel:
    """Look up ``operation`` given as the API name (``StartReplicationTask``) or boto3's (``start_replication_task``)."""
    model = service_model(service)
    if operation in model.operation_names:
        return model.operation_model(operation)
    by_python_name = {xform_name(op): op for op in model.operation_names}
    if operation in by_python_name:
        return model.operation_model(by_python_name[operation])
    raise UnknownOperationError(f"{service} has no operation {operation!r} in botocore's model")


def render_aws_cli(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    global_flags: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
    file_threshold: int | None = None,
    secret_values: Iterable[str] = (),
) -> AwsCliCommand:
    """The `aws <service> <operation> ...` line equivalent to ``client.<operation>(**params)``.

    ``file_threshold``: a JSON document longer than this many characters is put in ``files`` and passed as
    ``file://<name>`` (long one-line JSON is hard to read and to edit). ``secret_values``: strings that must never
    appear, whatever the model says (defence in depth for free-form fields). ``global_flags`` / ``environment``: what
    points the line at an environment (``Environment.aws_cli_flags()`` / ``aws_cli_environment()``), instead of
    ``region`` / ``endpoint_url``.
    """
    op = operation_model(service, operation)
    members = op.input_shape.members if op.input_shape is not None else {}
    secrets = tuple(s for s in secret_values if s)
    words: list[str] = ["aws", shlex.quote(service), shlex.quote(cli_name(op.name))]
    files: dict[str, str] = {}
    redacted: list[str] = []
    for name, value in params.items():
        if name not in members:
            raise UnknownOperationError(f"{op.name} has no parameter {name!r}; check the spelling against the API")
        if value is None:
            continue
        shape = members[name]
        flag = "--" + cli_name(name)
        if _is_sensitive(shape):
            # Never print the secret: refer to an environment variable the person exports first.
            env_var = "AWS_CLI_" + xform_name(name).upper()
            words += [flag, f'"${env_var}"']
            redacted.append(name)
            continue
        if shape.type_name == "boolean":
            words.append(flag if value else "--no-" + cli_name(name))
            continue
        rendered, is_json = _render_value(shape, value, name, redacted, secrets)
        if is_json and file_threshold is not None and len(rendered) > file_threshold:
            file_name = f"{cli_name(op.name)}-{cli_name(name)}.json"
            files[file_name] = _pretty_json(rendered)
            rendered = f"file://{file_name}"
        elif shape.type_name == "string" and rendered.startswith(_PARAMFILE_PREFIXES):
            raise UnknownOperationError(
                f"{op.name} {name} starts with {rendered.split('//')[0]}//, which the AWS CLI would read as a "
                "file or URL; pass it through a file:// document instead"
            )
        if rendered.startswith("-"):
            words.append(shlex.quote(f"{flag}={rendered}"))  # a value starting with "-" would look like a flag
        else:
            words += [flag, shlex.quote(rendered)]
    if endpoint_url:
        words += ["--endpoint-url", shlex.quote(endpoint_url)]
    if region:
        words += ["--region", shlex.quote(region)]
    words += [shlex.quote(flag) for flag in global_flags]
    return AwsCliCommand(service, op.name, tuple(words), files, tuple(redacted), dict(environment or {}))


def _render_value(
    shape: Shape, value: Any, path: str, redacted: list[str], secrets: tuple[str, ...]
) -> tuple[str, bool]:
    """(text for the command line, whether it is a JSON document)."""
    if shape.type_name in ("structure", "list", "map"):
        return json.dumps(_scrub(shape, value, path, redacted, secrets), separators=(",", ":")), True
    if shape.type_name == "timestamp" and isinstance(value, dt.datetime | dt.date):
        return value.isoformat(), False
    if shape.type_name == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii"), False
    text = str(value).lower() if isinstance(value, bool) else str(value)
    for secret in secrets:
        if secret in text:
            redacted.append(path)
            text = text.replace(secret, REDACTED)
    # A string member that holds a JSON document (TableMappings, ReplicationTaskSettings) may go to a file too.
    return text, shape.type_name == "string" and text.lstrip().startswith(("{", "["))


def _scrub(shape: Shape, value: Any, path: str, redacted: list[str], secrets: tuple[str, ...]) -> Any:
    """``value`` as JSON-able data with every sensitive member replaced by :data:`REDACTED`."""
    if _is_sensitive(shape):
        redacted.append(path)
        return REDACTED
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {
            k: _scrub(shape.members[k], v, f"{path}.{k}", redacted, secrets) if k in shape.members else v
            for k, v in value.items()
        }
    if isinstance(shape, ListShape) and isinstance(value, list | tuple):
        return [_scrub(shape.member, v, f"{path}[{i}]", redacted, secrets) for i, v in enumerate(value)]
    if isinstance(shape, MapShape) and isinstance(value, Mapping):
        return {k: _scrub(shape.value, v, f"{path}.{k}", redacted, secrets) for k, v in value.items()}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                redacted.append(path)
                value = value.replace(secret, REDACTED)
    return value


def _is_sensitive(shape: Shape) -> bool:
    return bool(shape.metadata.get("sensitive"))


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2) + "\n"
    except ValueError:
        return text
