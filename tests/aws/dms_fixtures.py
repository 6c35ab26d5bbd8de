"""Constants and helpers the DMS run tests share (a module with a unique name, importable from any test)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from dms_tui.aws.cli_command import AwsCliCommand, cli_name, service_model
from dms_tui.environment import Environment

REGION = "eu-west-1"

# The seed's mapping: every table of demo_schema.
SEED_MAPPINGS = json.dumps(
    {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "include-demo-schema",
                "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
                "rule-action": "include",
            }
        ]
    }
)
SEED_SETTINGS = json.dumps(
    {
        "FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD", "MaxFullLoadSubTasks": 8},
        "Logging": {"EnableLogging": False},
    }
)


class FakeClock:
    """Time that only moves when the code under test sleeps, so waits take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def emulator(region: str = REGION) -> Environment:
    """The environment a moto control plane is: an emulator (its tasks stay ``creating``), no endpoint URL."""
    return Environment(mode="sandbox", region=region)


GLOBAL_OPTIONS_WITH_VALUE = {"--region", "--endpoint-url", "--profile"}


def parse_back(command: AwsCliCommand) -> tuple[str, dict[str, Any]]:
    """Read a printed command the way the AWS CLI does: shlex words, flags from the operation's input shape.

    Asserts along the way that the service and operation exist, that every flag is a member of the operation's
    input shape (kebab-cased as the CLI spells it) or a global option, and that --region appears exactly once.
    Returns (region, params) so callers can compare with what boto3 was called with.
    """
    words = shlex.split(command.text)
    while words and "=" in words[0] and not words[0].startswith("-"):  # NAME=value assignments before `aws`
        words = words[1:]
    assert words[:2] == ["aws", "dms"], command.text
    model = service_model("dms")
    operations = {cli_name(op): op for op in model.operation_names}
    assert words[2] in operations, f"{words[2]} is not a dms operation"
    members = model.operation_model(operations[words[2]]).input_shape.members
    by_flag = {"--" + cli_name(name): name for name in members}
    params: dict[str, Any] = {}
    region_flags = [w for w in words if w == "--region" or w.startswith("--region=")]
    assert len(region_flags) == 1, f"--region must appear once: {command.text}"
    region = ""
    rest = words[3:]
    i = 0
    while i < len(rest):
        word = rest[i]
        assert word.startswith("--"), f"stray word {word!r} in {command.text}"
        flag, eq, inline = word.partition("=")
        if flag in GLOBAL_OPTIONS_WITH_VALUE:
            value = inline if eq else rest[i + 1]
            i += 1 if eq else 2
            if flag == "--region":
                region = value
            continue
        if flag.startswith("--no-") and "--" + flag[5:] in by_flag:
            name = by_flag["--" + flag[5:]]
            assert members[name].type_name == "boolean"
            params[name] = False
            i += 1
            continue
        assert flag in by_flag, f"{flag} is not a parameter of {words[2]} in botocore's model"
        name = by_flag[flag]
        shape = members[name]
        if shape.type_name == "boolean":
            params[name] = True
            i += 1
            continue
        value = inline if eq else rest[i + 1]
        i += 1 if eq else 2
        if value.startswith("file://"):
            value = command.files[value.removeprefix("file://")]
        if shape.type_name in ("structure", "list", "map"):
            params[name] = json.loads(value)
        elif shape.type_name == "integer":
            params[name] = int(value)
        else:
            params[name] = value
    return region, params
