"""Task settings: the seed's defaults, a lossless JSON round trip, and validation messages that name the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dms_tui.dmstask.settings import (
    SettingsFormatError,
    TargetTablePrepMode,
    TaskSettings,
    default_settings,
)

# A settings document as the DMS console exports it: typed keys plus many this tool does not model.
CONSOLE_EXPORT = {
    "TargetMetadata": {
        "TargetSchema": "",
        "SupportLobs": True,
        "FullLobMode": False,
        "LobChunkSize": 64,
        "LimitedSizeLobMode": True,
        "LobMaxSize": 32,
        "InlineLobMaxSize": 0,
        "ParallelLoadThreads": 0,
    },
    "FullLoadSettings": {
        "TargetTablePrepMode": "DROP_AND_CREATE",
        "CreatePkAfterFullLoad": False,
        "MaxFullLoadSubTasks": 16,
        "TransactionConsistencyTimeout": 600,
        "CommitRate": 50000,
    },
    "Logging": {
        "EnableLogging": True,
        "LogComponents": [{"Id": "SOURCE_UNLOAD", "Severity": "LOGGER_SEVERITY_DEFAULT"}],
    },
    "ValidationSettings": {"EnableValidation": True, "ThreadCount": 8, "FailureMaxCount": 10000},
    "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "TableErrorPolicy": "SUSPEND_TABLE"},
    "ChangeProcessingTuning": {"BatchApplyTimeoutMin": 1},
}


def test_the_defaults_are_the_seeds_file():
    document = default_settings().to_dict()
    assert document["FullLoadSettings"] == {
        "TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD",
        "MaxFullLoadSubTasks": 8,
        "CommitRate": 10000,
    }
    assert document["Logging"] == {"EnableLogging": True}
    assert document["ValidationSettings"] == {"EnableValidation": False, "ThreadCount": 5}
    assert document["TargetMetadata"]["LimitedSizeLobMode"] is True
    assert document["TargetMetadata"]["LobMaxSize"] == 32
    assert default_settings().validate() == []


def test_a_console_export_round_trips_without_losing_a_key():
    settings = TaskSettings.from_json(json.dumps(CONSOLE_EXPORT))
    assert settings.prep_mode is TargetTablePrepMode.DROP_AND_CREATE
    assert settings.full_load.max_full_load_sub_tasks == 16
    assert settings.validation.thread_count == 8
    assert settings.to_dict() == CONSOLE_EXPORT
    assert TaskSettings.from_json(settings.to_json()).to_dict() == CONSOLE_EXPORT


def test_changing_the_prep_mode_keeps_everything_else():
    settings = TaskSettings.from_dict(CONSOLE_EXPORT).with_prep_mode(TargetTablePrepMode.DO_NOTHING)
    document = settings.to_dict()
    assert document["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert document["ErrorBehavior"] == CONSOLE_EXPORT["ErrorBehavior"]
    assert document["FullLoadSettings"]["CreatePkAfterFullLoad"] is False


@pytest.mark.parametrize("mode", list(TargetTablePrepMode))
def test_every_prep_mode_is_explained(mode):
    assert len(mode.explanation) > 40
    assert TaskSettings().with_prep_mode(mode).validate() == []


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (
            {"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE"}},
            "FullLoadSettings.TargetTablePrepMode",
            "DO_NOTHING",
        ),
        ({"FullLoadSettings": {"MaxFullLoadSubTasks": 0}}, "FullLoadSettings.MaxFullLoadSubTasks", "1 to 49"),
        ({"FullLoadSettings": {"MaxFullLoadSubTasks": 50}}, "FullLoadSettings.MaxFullLoadSubTasks", "1 to 49"),
        ({"FullLoadSettings": {"CommitRate": 0}}, "FullLoadSettings.CommitRate", "50000"),
        ({"ValidationSettings": {"ThreadCount": 0}}, "ValidationSettings.ThreadCount", "1 to 64"),
        ({"TargetMetadata": {"FullLobMode": True}}, "TargetMetadata.FullLobMode", "exactly one"),
        (
            {"TargetMetadata": {"FullLobMode": True, "LimitedSizeLobMode": False, "LobChunkSize": 0}},
            "TargetMetadata.LobChunkSize",
            "chunk size",
        ),
        ({"TargetMetadata": {"LobMaxSize": 0}}, "TargetMetadata.LobMaxSize", "maximum"),
    ],
)
def test_each_invalid_value_is_named_with_what_to_use(document, field, words):
    [problem] = TaskSettings.from_dict(document).validate()
    assert problem.field == field
    assert words in problem.message
    assert str(problem).startswith(field)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"FullLoadSettings": []}', "FullLoadSettings"),
        (
            '{"FullLoadSettings": {"MaxFullLoadSubTasks": "8"}}',
            "FullLoadSettings.MaxFullLoadSubTasks: expected an integer",
        ),
        ('{"Logging": {"EnableLogging": 1}}', "Logging.EnableLogging: expected true or false"),
    ],
)
def test_malformed_documents_are_refused_with_the_place(text, words):
    with pytest.raises(SettingsFormatError, match=words):
        TaskSettings.from_json(text)


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@given(
    unknown_top=st.dictionaries(
        st.text(min_size=1, max_size=10).filter(lambda k: k not in CONSOLE_EXPORT), json_values, max_size=3
    ),
    unknown_in_section=st.dictionaries(
        st.sampled_from(["Xa", "Yb", "ParallelLoadQueuesPerThread"]), json_values, max_size=3
    ),
)
def test_unknown_keys_anywhere_survive_a_round_trip(unknown_top, unknown_in_section):
    document = json.loads(json.dumps(CONSOLE_EXPORT))
    document["FullLoadSettings"].update(unknown_in_section)
    document.update(unknown_top)
    assert TaskSettings.from_dict(document).to_dict() == document
