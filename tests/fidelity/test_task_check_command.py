"""`dms-tui task check`, run as a person runs it (a `python -m dms_tui` process): exit 0 valid, 2 invalid, one line per
problem named by its place; --json keeps what AWS would reject apart from what only the sandbox cannot run; a missing
file or broken JSON says what, where and what to do; without --mappings, what the environment would send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dms_tui.dmstask.migration import TaskDraft
from dms_tui.journey import Journey

SELECT_ALL = {
    "rule-type": "selection",
    "rule-id": "1",
    "rule-name": "1",
    "object-locator": {"schema-name": "test", "table-name": "%"},
    "rule-action": "include",
}


def dms_tui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DMS_TUI_HOME"] = str(home)
    env["COLUMNS"] = "80"  # a problem stays one line however narrow the terminal
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "dms_tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def transformation(rule_id: int, target: str, action: str, **locator_and_more: Any) -> dict[str, Any]:
    more = dict(locator_and_more)
    locator = {
        k.replace("_", "-"): more.pop(k) for k in list(more) if k in ("schema_name", "table_name", "column_name")
    }
    return {
        "rule-type": "transformation",
        "rule-id": str(rule_id),
        "rule-name": str(rule_id),
        "rule-target": target,
        "object-locator": locator,
        "rule-action": action,
        **more,
    }


def test_valid_mappings_exit_0(tmp_path: Path, dms_home: Path) -> None:
    mappings = write(tmp_path, "m.json", {"rules": [SELECT_ALL]})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid: AWS DMS would accept this task definition" in done.stdout
    assert str(mappings) in done.stdout


def test_invalid_mappings_exit_2_with_one_line_per_problem(tmp_path: Path, dms_home: Path) -> None:
    rules = [
        SELECT_ALL,
        transformation(2, "table", "rename", schema_name="test", table_name="people", value="persons"),
        transformation(3, "column", "rename", schema_name="test", table_name="people", value="x"),  # no column-name
        transformation(4, "column", "frobnicate", schema_name="test", table_name="people", column_name="id"),
    ]
    mappings = write(tmp_path, "m.json", {"rules": rules})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    column = [line for line in lines if line.startswith("rules[2].object-locator.column-name: ")]
    assert column == [
        "rules[2].object-locator.column-name: missing value; a column rule must locate its column. (rule-id 3)"
    ]
    assert any(line.startswith("rules[3].rule-action: 'frobnicate' does not apply") for line in lines), lines
    assert lines[-1] == "invalid: 2 problems; nothing was created"


def test_json_keeps_problems_and_sandbox_gaps_apart(tmp_path: Path, dms_home: Path) -> None:
    rules = [
        SELECT_ALL,
        transformation(
            2, "column", "data-masking-hash-mask", schema_name="test", table_name="people", column_name="secret"
        ),
        transformation(3, "table-tablespace", "rename", schema_name="test", table_name="people", value="fast"),
        transformation(4, "column", "add-column", schema_name="test", table_name="people"),  # no value, no data-type
    ]
    mappings = write(tmp_path, "m.json", {"rules": rules})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings), "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert sorted(report) == ["mappings", "ok", "problems", "sandbox_unsupported", "settings", "warnings"]
    assert report["ok"] is False
    assert [(p["path"], p["rule_id"]) for p in report["problems"]] == [
        ("rules[3].value", "4"),
        ("rules[3].data-type", "4"),
    ]
    assert [(g["rule_id"], g["feature"]) for g in report["sandbox_unsupported"]] == [
        ("2", "data-masking-hash-mask"),
        ("3", "rule-target table-tablespace"),
    ]


def test_what_only_the_sandbox_cannot_run_does_not_fail_the_check(tmp_path: Path, dms_home: Path) -> None:
    rules = [
        SELECT_ALL,
        transformation(2, "column", "data-masking-digits-mask", schema_name="test", table_name="p", column_name="ssn"),
    ]
    mappings = write(tmp_path, "m.json", {"rules": rules})
    settings = write(tmp_path, "s.json", {"ErrorBehavior": {"DataTruncationErrorPolicy": "LOG_ERROR"}})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings), "--settings", str(settings))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  sandbox: rule 2: data-masking-digits-mask: data masking is not carried out" in done.stdout.splitlines()
    assert any(line.startswith("  sandbox: task settings: ErrorBehavior: ") for line in done.stdout.splitlines())


def test_settings_problems_are_named_by_their_field(tmp_path: Path, dms_home: Path) -> None:
    mappings = write(tmp_path, "m.json", {"rules": [SELECT_ALL]})
    settings = write(tmp_path, "s.json", {"FullLoadSettings": {"CommitRate": 0, "TargetTablePrepMode": "WIPE"}})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings), "--settings", str(settings), "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    paths = [(p["document"], p["path"]) for p in json.loads(done.stdout)["problems"]]
    assert paths == [
        ("task settings", "FullLoadSettings.TargetTablePrepMode"),
        ("task settings", "FullLoadSettings.CommitRate"),
    ]
    wrong_type = write(tmp_path, "t.json", {"TargetMetadata": {"LobMaxSize": "32"}})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings), "--settings", str(wrong_type))
    assert done.returncode == 2, done.stdout + done.stderr
    assert 'TargetMetadata.LobMaxSize: expected an integer, got "32".' in done.stdout.splitlines()


def test_a_missing_file_says_what_and_what_to_do(tmp_path: Path, dms_home: Path) -> None:
    missing = tmp_path / "nope.json"
    done = dms_tui(dms_home, "task", "check", "--mappings", str(missing))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"The table mappings file {missing} does not exist." in done.stderr
    assert "→ Give the path of a table mappings JSON document" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["--mappings", "--settings"])
def test_broken_json_names_line_and_column(tmp_path: Path, dms_home: Path, flag: str) -> None:
    broken = write(tmp_path, "broken.json", '{"rules": [\n  {"rule-type": "selection",}\n]}\n')
    good = write(tmp_path, "good.json", {"rules": [SELECT_ALL]})
    args = ["--mappings", str(broken)] if flag == "--mappings" else ["--mappings", str(good), "--settings", str(broken)]
    done = dms_tui(dms_home, "task", "check", *args)
    assert done.returncode == 2
    what = "table mappings" if flag == "--mappings" else "task settings"
    assert f"The {what} file {broken} is not valid JSON." in done.stderr
    assert f"{broken}, line 2, column 29: Expecting property name enclosed in double quotes." in done.stderr
    assert "Fix the JSON at line 2, column 29" in done.stderr


def test_a_document_not_shaped_like_mappings_is_a_problem(tmp_path: Path, dms_home: Path) -> None:
    mappings = write(tmp_path, "m.json", {"Rules": []})
    done = dms_tui(dms_home, "task", "check", "--mappings", str(mappings), "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    (problem,) = json.loads(done.stdout)["problems"]
    assert problem["text"] == 'Table mappings must be a JSON object with a "rules" list.'


def test_without_mappings_the_seeds_are_checked(dms_home: Path) -> None:
    done = dms_tui(dms_home, "task", "check", "--sandbox", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["mappings"]["path"] is None
    assert report["mappings"]["source"].startswith("the seed's table mappings (no task is recorded for sandbox")


def test_without_mappings_the_journeys_recorded_mappings_are_checked(dms_home: Path) -> None:
    # What the Migrate screen remembered for this environment (it would send these).
    recorded = json.dumps(
        {"rules": [SELECT_ALL, transformation(2, "schema", "rename", schema_name="test", value="")]}, indent=2
    )
    assert not TaskDraft(mappings_text=recorded).check().ok  # the screen's own check refuses it too
    Journey.resume_or_start("qa", "sandbox").update_task(identifier="t1", table_mappings=recorded)
    done = dms_tui(dms_home, "task", "check", "--sandbox", "--env", "qa")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "rules[1].value: missing value; rename needs a value. (rule-id 2)" in done.stdout.splitlines()
    assert "recorded for sandbox environment 'qa'" in done.stdout
    other = dms_tui(dms_home, "task", "check", "--sandbox")  # environment dev has none: the seed's
    assert other.returncode == 0, other.stdout + other.stderr
