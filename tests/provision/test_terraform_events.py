"""The event parser on real `terraform -json` recordings (tests/provision/streams/, recorded against moto)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dms_tui.provision.events import (
    ApplyComplete,
    ApplyErrored,
    ApplyProgress,
    ApplyStart,
    ChangeSummary,
    Diagnostic,
    LogLine,
    Outputs,
    PlannedChange,
    RefreshComplete,
    RefreshStart,
    ResourceDrift,
    TerraformMessage,
    UnknownEvent,
    Version,
    parse_line,
    parse_lines,
)

# The stream's "type" field and the event class the parser must produce for it.
TYPE_TO_CLASS = {
    "version": Version,
    "diagnostic": Diagnostic,
    "planned_change": PlannedChange,
    "resource_drift": ResourceDrift,
    "change_summary": ChangeSummary,
    "apply_start": ApplyStart,
    "apply_progress": ApplyProgress,
    "apply_complete": ApplyComplete,
    "apply_errored": ApplyErrored,
    "refresh_start": RefreshStart,
    "refresh_complete": RefreshComplete,
    "outputs": Outputs,
    "log": TerraformMessage,
    "init_output": TerraformMessage,
}


def _events(streams: Path, name: str) -> list:
    return list(parse_lines((streams / name).read_text(encoding="utf-8").splitlines()))


def test_every_recorded_line_becomes_the_event_class_of_its_type(streams: Path) -> None:
    recordings = sorted(streams.glob("*.jsonl"))
    assert len(recordings) >= 7
    for recording in recordings:
        lines = recording.read_text(encoding="utf-8").splitlines()
        expected = Counter(TYPE_TO_CLASS.get(json.loads(line)["type"], UnknownEvent).__name__ for line in lines)
        parsed = Counter(type(event).__name__ for event in parse_lines(lines))
        assert parsed == expected, recording.name


def test_a_plan_lists_each_resource_with_its_module_and_the_summary_counts_them(streams: Path) -> None:
    events = _events(streams, "plan.jsonl")
    planned = [e for e in events if isinstance(e, PlannedChange)]
    summary = next(e for e in events if isinstance(e, ChangeSummary))
    assert summary.operation == "plan" and summary.add == len(planned) == 6
    assert {e.module for e in planned} == {"", "module.network", "module.secrets"}
    vpc = next(e for e in planned if e.resource_type == "aws_vpc")
    assert (vpc.address, vpc.action, vpc.module) == ("module.network.aws_vpc.this", "create", "module.network")
    assert isinstance(events[0], Version) and events[0].terraform.startswith("1.11")


def test_an_invalid_cidr_yields_an_error_diagnostic_pointing_at_the_configuration(streams: Path) -> None:
    diagnostic = next(e for e in _events(streams, "plan_invalid_cidr.jsonl") if isinstance(e, Diagnostic))
    assert diagnostic.is_error
    assert diagnostic.summary.startswith('"10.0.300.0/24" is not a valid CIDR block')
    assert diagnostic.address == "module.network.aws_subnet.private[0]"
    assert diagnostic.location == "modules/network/main.tf:19"
    assert diagnostic.snippet is not None
    code = diagnostic.snippet.code
    assert (
        code[diagnostic.snippet.highlight_start : diagnostic.snippet.highlight_end] == "var.subnet_cidrs[count.index]"
    )


def test_an_api_error_during_apply_yields_apply_errored_and_its_diagnostic(streams: Path) -> None:
    events = _events(streams, "apply_errored.jsonl")
    errored = [e for e in events if isinstance(e, ApplyErrored)]
    diagnostics = [e for e in events if isinstance(e, Diagnostic)]
    assert [e.address for e in errored] == ["module.network.aws_subnet.private[2]"]
    assert diagnostics[0].address == errored[0].address and "InvalidSubnet.Range" in diagnostics[0].summary


def test_interleaved_progress_reports_two_resources_still_creating_at_once(streams: Path) -> None:
    events = _events(streams, "apply.jsonl")
    progress = [e for e in events if isinstance(e, ApplyProgress)]
    assert len({e.address for e in progress}) == 2 and all(e.elapsed >= 10 for e in progress)
    # Both progress lines come while both resources are started and neither has completed.
    first_progress = events.index(progress[0])
    for address in {e.address for e in progress}:
        start = next(i for i, e in enumerate(events) if isinstance(e, ApplyStart) and e.address == address)
        done = next(i for i, e in enumerate(events) if isinstance(e, ApplyComplete) and e.address == address)
        assert start < first_progress < done


def test_outputs_after_apply_carry_values_and_drift_is_reported(streams: Path) -> None:
    outputs = next(e for e in _events(streams, "apply.jsonl") if isinstance(e, Outputs))
    assert outputs.as_dict()["vpc_id"].startswith("vpc-")
    drift = [e for e in _events(streams, "plan_drift.jsonl") if isinstance(e, ResourceDrift)]
    assert "module.network.aws_vpc.this" in {e.address for e in drift}


def test_sensitive_output_values_never_reach_an_event() -> None:
    line = json.dumps(
        {
            "type": "outputs",
            "@message": "Outputs: 2",
            "outputs": {"pw": {"sensitive": True, "value": "hunter2-very-secret"}, "arn": {"value": "arn:x"}},
        }
    )
    event = parse_line(line)
    assert isinstance(event, Outputs)
    assert event.as_dict() == {"arn": "arn:x", "pw": None}
    assert "hunter2" not in repr(event)


def test_malformed_lines_become_log_lines_and_unknown_types_keep_their_message() -> None:
    assert parse_line("panic: runtime error: invalid memory address") == LogLine(
        text="panic: runtime error: invalid memory address", message="panic: runtime error: invalid memory address"
    )
    assert isinstance(parse_line('{"type": "apply_start", "hook": '), LogLine)  # truncated JSON
    assert isinstance(parse_line("[1, 2]"), LogLine)
    unknown = parse_line('{"type": "ephemeral_op_start", "@message": "ephemeral.aws_x.pw: Opening..."}')
    assert unknown == UnknownEvent(type="ephemeral_op_start", message="ephemeral.aws_x.pw: Opening...")
    # Known type, wrong shape: still an event, not a crash.
    odd = parse_line('{"type": "apply_complete", "hook": "nope", "@message": "m"}')
    assert isinstance(odd, ApplyComplete) and odd.address == "" and odd.message == "m"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from([*TYPE_TO_CLASS, "something_new"]),
    body=st.dictionaries(
        st.sampled_from(["hook", "change", "changes", "diagnostic", "outputs", "@timestamp", "@message"]),
        json_values,
        max_size=4,
    ),
)
def test_any_json_object_of_any_type_parses_without_raising(kind: str, body: dict) -> None:
    event = parse_line(json.dumps({"type": kind, **body}))
    assert isinstance(event, TYPE_TO_CLASS.get(kind, UnknownEvent))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_or_bytes_parses_without_raising(line: str | bytes) -> None:
    parse_line(line)
