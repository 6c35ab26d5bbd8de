"""The printed `aws ...` commands run as printed: names from botocore's model, values quoted, one --region, no secret."""

from __future__ import annotations

import json

import pytest
from dms_fixtures import REGION, parse_back
from hypothesis import given
from hypothesis import strategies as st

from dms_tui.aws.cli_command import (
    REDACTED,
    UnknownOperationError,
    render_aws_cli,
)


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
