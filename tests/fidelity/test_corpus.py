"""The corpus of task definitions in tests/fidelity/corpus/, written from the AWS DMS User Guide's rule documentation,
each judged by `dms-tui task check`'s logic (dms_tui.steps.task_check, the Migrate form's own check).

Every ``*.json`` there is a table-mappings document a person could pass to ``dms-tui task check --mappings``;
``expectations.json`` says, per file, what the guide says about it (``about``, ``doc``) and the verdict: ``problems``
(the paths AWS would reject; empty for a ``valid_*`` file), ``sandbox_unsupported`` (rule id and feature AWS accepts
and the sandbox engine cannot run), ``warnings``, and, where the guide says what a rule does, what it selects
(``selects``), the target names (``names``, ``columns``) and ``load_order``. (``sandbox_unsupported`` is checked
for valid files only.) ``settings`` names a task-settings
document under corpus/settings/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dms_tui.dmstask.mappings import FILTER_OPERATORS, TRANSFORMATION_ACTIONS, TableMappings
from dms_tui.dmstask.migration import TaskDraft
from dms_tui.dmstask.settings import TaskSettings, default_settings
from dms_tui.steps.task_check import check_documents

CORPUS = Path(__file__).parent / "corpus"
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.json") if p.name != "expectations.json")


def documents(name: str) -> tuple[str, str | None]:
    expect = EXPECTATIONS[name]
    settings = expect.get("settings")
    return (CORPUS / name).read_text(), None if settings is None else (CORPUS / settings).read_text()


def test_every_file_has_an_expectation_and_the_name_says_the_verdict() -> None:
    assert FILES, "the corpus is empty"
    assert sorted(EXPECTATIONS) == FILES
    for name, expect in EXPECTATIONS.items():
        assert name.startswith(("valid_", "invalid_")), name
        assert name.startswith("valid_") == (not expect["problems"]), name
        assert expect["doc"].startswith("https://docs.aws.amazon.com/dms/latest/userguide/"), name
        if "settings" in expect:
            assert (CORPUS / expect["settings"]).is_file(), name


@pytest.mark.parametrize("name", FILES)
def test_task_check_gives_the_documented_verdict(name: str) -> None:
    expect = EXPECTATIONS[name]
    mappings_text, settings_text = documents(name)
    result = check_documents(mappings_text, settings_text)
    found = [p.path for p in result.problems]
    assert sorted(found) == sorted(expect["problems"]), (expect["about"], [str(p) for p in result.problems])
    if name.startswith("valid_"):  # what the sandbox cannot run matters for what AWS would run
        gaps = [[g.rule_id, g.feature] for g in result.sandbox_unsupported]
        assert sorted(gaps, key=str) == sorted(expect["sandbox_unsupported"], key=str), expect["about"]
    assert [w.path for w in result.warnings] == expect.get("warnings", []), expect["about"]
    assert result.exit_code == (0 if name.startswith("valid_") else 2)


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("valid_")])
def test_a_valid_definition_is_sent_as_written(name: str) -> None:
    """What the person wrote is what DMS receives: the checked definition's JSON means the same as the file."""
    mappings_text, settings_text = documents(name)
    settings = default_settings() if settings_text is None else TaskSettings.from_json(settings_text)
    check = TaskDraft.from_documents("corpus-task", "full-load", settings, mappings_text).check()
    assert check.definition is not None, check.problems
    assert json.loads(check.definition.table_mappings) == json.loads(mappings_text)
    if settings_text is not None:
        sent = json.loads(check.definition.task_settings)
        written = json.loads(settings_text)
        assert {k: v for k, v in sent.items() if k in written} == written  # nothing changed of what was written


@pytest.mark.parametrize(
    "name", [n for n in FILES if {"selects", "names", "columns", "load_order"} & set(EXPECTATIONS[n])]
)
def test_rules_do_what_the_guide_says(name: str) -> None:
    expect = EXPECTATIONS[name]
    mappings = TableMappings.from_json((CORPUS / name).read_text())
    for qualified, selected in expect.get("selects", {}).items():
        schema, table = qualified.split(".")
        assert mappings.is_selected(schema, table) is selected, (expect["about"], qualified)
    for qualified, target in expect.get("names", {}).items():
        schema, table = qualified.split(".")
        assert f"{mappings.target_schema(schema)}.{mappings.target_table(schema, table)}" == target, qualified
    for qualified, target in expect.get("columns", {}).items():
        schema, table, column = qualified.split(".")
        assert mappings.target_column(schema, table, column) == target, (expect["about"], qualified)
    for qualified, order in expect.get("load_order", {}).items():
        assert mappings.load_order(*qualified.split(".")) == order, qualified


def test_the_corpus_covers_every_rule_type_action_wildcard_and_operator() -> None:
    rule_types: set[str] = set()
    actions: set[str] = set()
    operators: set[str] = set()
    patterns: list[str] = []
    for name in FILES:
        if not name.startswith("valid_"):
            continue
        for rule in json.loads((CORPUS / name).read_text())["rules"]:
            rule_types.add(rule["rule-type"])
            if rule["rule-type"] == "transformation":
                actions.add(rule["rule-action"])
            locator = rule.get("object-locator", {})
            patterns += [str(locator.get("schema-name", "")), str(locator.get("table-name", ""))]
            for flt in rule.get("filters") or []:
                operators.update(c["filter-operator"] for c in flt["filter-conditions"])
    assert rule_types >= {"selection", "transformation", "table-settings"}
    every_action = {a for group in TRANSFORMATION_ACTIONS.values() for a in group}
    masking = {a for a in every_action if a.startswith("data-masking-")}
    assert every_action - masking <= actions, sorted(every_action - masking - actions)
    assert set(FILTER_OPERATORS) <= operators, sorted(set(FILTER_OPERATORS) - operators)
    forms = {"%": "%", "_": "_", "[_]": "[_]", "[ab]": "[sx]", "[a-d]": "[a-s]"}
    missing = [form for form, example in forms.items() if not any(example in p for p in patterns)]
    assert not missing, missing
