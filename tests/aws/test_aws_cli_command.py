"""The printed `aws ...` commands run as printed: names from botocore's model, values quoted, one --region, no secret."""

from __future__ import annotations

import json
import shlex
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dms_fixtures import REGION, SEED_MAPPINGS, SEED_SETTINGS
from hypothesis import given
from hypothesis import strategies as st

from dms_tui.aws.cli_command import (
    REDACTED,
    AwsCliCommand,
    UnknownOperationError,
    cli_name,
    render_aws_cli,
    service_model,
)
from dms_tui.aws.dms import ReplicationTaskRunner, TaskDefinition
from dms_tui.provision.outputs import EnvironmentOutputs

GLOBAL_OPTIONS_WITH_VALUE = {"--region", "--endpoint-url"}


def parse_back(command: AwsCliCommand) -> tuple[str, dict[str, Any]]:
    """Read a printed command the way the AWS CLI does: shlex words, flags from the operation's input shape.

    Asserts along the way that the service and operation exist, that every flag is a member of the operation's
    input shape (kebab-cased as the CLI spells it) or a global option, and that --region appears exactly once.
    Returns (region, params) so callers can compare with what boto3 was called with.
    """
    words = shlex.split(command.text)
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


def _same_json_text(a: Any, b: Any) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except (TypeError, ValueError):
        return bool(a == b)


def test_every_command_of_a_whole_task_run_parses_with_the_cli_rules(
    dms_client: Any, outputs: EnvironmentOutputs
) -> None:
    issued: list[tuple[str, dict[str, Any]]] = []
    runner = ReplicationTaskRunner(dms_client, creating_is_terminal=True)
    mappings = json.dumps(json.loads(SEED_MAPPINGS) | {"padding": "x" * 500})  # long enough to go to a file
    definition = TaskDefinition("demo-task", "full-load", mappings, SEED_SETTINGS)
    issued.append(("create_replication_task", runner.create_params(outputs, definition)))
    arn = runner.create(outputs, definition).task.arn  # type: ignore[union-attr]
    runner.wait_until_ready(arn)
    runner.start(arn)
    issued.append(
        ("start_replication_task", {"ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"})
    )
    runner.stop(arn)
    issued.append(("stop_replication_task", {"ReplicationTaskArn": arn}))
    runner.resume(arn)
    issued.append(
        ("start_replication_task", {"ReplicationTaskArn": arn, "StartReplicationTaskType": "resume-processing"})
    )
    runner.stop(arn)
    issued.append(("stop_replication_task", {"ReplicationTaskArn": arn}))
    runner.delete(arn)
    issued.append(("delete_replication_task", {"ReplicationTaskArn": arn}))
    commands = list(runner.commands)

    # reload-tables: moto 5.2.5 lacks the operation, so its call goes through the Stubber.
    stubbed = boto3.client("dms", region_name=REGION)
    reload_runner = ReplicationTaskRunner(stubbed)
    reload_params = {
        "ReplicationTaskArn": arn,
        "TablesToReload": [{"SchemaName": "demo_schema", "TableName": "demo accounts; rm -rf /"}],
        "ReloadOption": "data-reload",
    }
    with Stubber(stubbed) as stub:
        stub.add_response("reload_tables", {"ReplicationTaskArn": arn}, reload_params)
        stub.add_response(
            "describe_replication_tasks",
            {"ReplicationTasks": [{"ReplicationTaskArn": arn, "Status": "running"}]},
            {"Filters": [{"Name": "replication-task-arn", "Values": [arn]}], "WithoutSettings": True},
        )
        reload_runner.reload_tables(arn, [("demo_schema", "demo accounts; rm -rf /")])
    commands += reload_runner.commands
    issued.append(("reload_tables", reload_params))

    assert len(commands) == len(issued) == 7
    assert "file://create-replication-task-table-mappings.json" in commands[0].text
    for command, (operation, params) in zip(commands, issued, strict=True):
        region, parsed = parse_back(command)
        assert region == REGION
        assert cli_name(command.operation) == operation.replace("_", "-")
        assert parsed.keys() == params.keys(), command.text
        for key, value in params.items():
            assert _same_json_text(parsed[key], value), f"{key} differs after parsing {command.text}"


def test_a_password_is_never_printed_and_the_command_reads_it_from_the_environment() -> None:
    password = "s3cr3t'pass word"
    command = render_aws_cli(
        "dms",
        "create_endpoint",
        {
            "EndpointIdentifier": "source",
            "EndpointType": "source",
            "EngineName": "postgres",
            "Username": "dms_user",
            "Password": password,
            "PostgreSQLSettings": {"Password": password, "DatabaseName": "demo"},
            "ExtraConnectionAttributes": f"password={password}",
        },
        region=REGION,
        secret_values=[password],
    )
    assert password not in command.text and "s3cr3t" not in command.text
    assert '--password "$AWS_CLI_PASSWORD"' in command.text
    assert REDACTED in command.text
    assert set(command.redacted) == {"Password", "PostgreSQLSettings.Password", "ExtraConnectionAttributes"}


def test_booleans_become_flag_pairs_as_the_cli_spells_them() -> None:
    command = render_aws_cli(
        "dms", "describe_replication_tasks", {"WithoutSettings": True, "MaxRecords": 20}, region=REGION
    )
    assert command.text == "aws dms describe-replication-tasks --without-settings --max-records 20 --region eu-west-1"
    off = render_aws_cli("dms", "DescribeReplicationTasks", {"WithoutSettings": False}, region=REGION)
    assert off.text == "aws dms describe-replication-tasks --no-without-settings --region eu-west-1"


def test_a_misspelt_parameter_or_operation_is_refused() -> None:
    with pytest.raises(UnknownOperationError, match="ReplicationTaskARN"):
        render_aws_cli("dms", "start_replication_task", {"ReplicationTaskARN": "x"}, region=REGION)
    with pytest.raises(UnknownOperationError, match="start_replicaton_task"):
        render_aws_cli("dms", "start_replicaton_task", {}, region=REGION)


def test_a_value_the_cli_would_read_as_a_file_is_refused() -> None:
    with pytest.raises(UnknownOperationError, match="file or URL"):
        render_aws_cli("dms", "delete_replication_task", {"ReplicationTaskArn": "file:///etc/passwd"}, region=REGION)


@given(
    identifier=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    mappings=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4),
)
def test_any_value_survives_quoting(identifier: str, mappings: dict[str, str]) -> None:
    params = {
        "ReplicationTaskIdentifier": identifier,
        "SourceEndpointArn": "arn:aws:dms:eu-west-1:1:endpoint:A",
        "TargetEndpointArn": "arn:aws:dms:eu-west-1:1:endpoint:B",
        "ReplicationInstanceArn": "arn:aws:dms:eu-west-1:1:rep:C",
        "MigrationType": "full-load",
        "TableMappings": json.dumps(mappings),
    }
    try:
        command = render_aws_cli("dms", "create_replication_task", params, region=REGION)
    except UnknownOperationError:
        assert identifier.startswith(("file://", "fileb://", "http://", "https://"))
        return
    _, parsed = parse_back(command)
    assert parsed == params
