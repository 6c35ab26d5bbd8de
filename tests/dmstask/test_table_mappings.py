"""Table mappings: JSON round trip, every validation message by rule id and field, and the shared matcher."""

from __future__ import annotations

import json

import pytest

from dms_tui.dmstask.mappings import MappingsFormatError, TableMappings, default_mappings, like


def selection(rule_id, schema="demo_schema", table="%", action="include", **more):
    return {
        "rule-type": "selection",
        "rule-id": rule_id,
        "rule-name": str(rule_id),
        "object-locator": {"schema-name": schema, "table-name": table},
        "rule-action": action,
        **more,
    }


def transformation(rule_id, target, action, locator, **more):
    return {
        "rule-type": "transformation",
        "rule-id": rule_id,
        "rule-name": str(rule_id),
        "rule-target": target,
        "object-locator": locator,
        "rule-action": action,
        **more,
    }


SEED_STYLE = {
    "rules": [
        selection("1", filters=[]),
        transformation("2", "schema", "rename", {"schema-name": "demo_schema"}, value="migrated"),
        transformation(3, "column", "remove-column", {"schema-name": "%", "table-name": "%", "column-name": "secret%"}),
        {
            "rule-type": "table-settings",
            "rule-id": "4",
            "rule-name": "4",
            "object-locator": {"schema-name": "a", "table-name": "b"},
            "parallel-load": {"type": "partitions-auto"},
        },
        selection("5", "x", "y", "explicit", **{"load-order": 3, "object-locator-extra-key": True}),
    ],
    "x-comment": "kept",
}


def test_the_default_is_the_seeds_mapping():
    assert default_mappings().to_dict() == {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "1",
                "object-locator": {"schema-name": "demo_schema", "table-name": "%"},
                "rule-action": "include",
                "filters": [],
            }
        ]
    }
    assert default_mappings().validate() == []


def test_a_document_round_trips_exactly_including_rules_and_keys_it_does_not_model():
    mappings = TableMappings.from_json(json.dumps(SEED_STYLE))
    assert mappings.to_dict() == SEED_STYLE
    assert [r.rule_id for r in mappings.selection] == ["1", "5"]
    assert mappings.transformation[1].rule_id == "3"  # numeric ids are compared as text, written back as numbers
    assert TableMappings.from_json(mappings.to_json()).to_dict() == SEED_STYLE


@pytest.mark.parametrize(
    ("rules", "rule_id", "field", "words"),
    [
        ([selection("1"), selection("1", "other")], "1", "rule-id", "unique"),
        ([selection("1", action="copy"), selection("2")], "1", "rule-action", "include, exclude or explicit"),
        ([selection("1", schema="")], "1", "object-locator.schema-name", "missing value"),
        ([selection("1", table="")], "1", "object-locator.table-name", "missing value"),
        ([selection("1", "s", "t%", "explicit")], "1", "object-locator.table-name", "explicit"),
        (
            [selection("1"), transformation("2", "schema", "remove-column", {"schema-name": "s"})],
            "2",
            "rule-action",
            "does not apply to rule-target 'schema'",
        ),
        (
            [selection("1"), transformation("2", "view", "rename", {"schema-name": "s"}, value="v")],
            "2",
            "rule-target",
            "not a rule target",
        ),
        (
            [selection("1"), transformation("2", "table", "rename", {"schema-name": "s", "table-name": "t"})],
            "2",
            "value",
            "rename needs a value",
        ),
        (
            [selection("1"), transformation("2", "table", "rename", {"schema-name": "s"}, value="v")],
            "2",
            "object-locator.table-name",
            "missing value",
        ),
        (
            [
                selection("1"),
                transformation("2", "column", "convert-lowercase", {"schema-name": "s", "table-name": "t"}),
            ],
            "2",
            "object-locator.column-name",
            "missing value",
        ),
        (
            [
                selection("1"),
                transformation("2", "table", "replace-prefix", {"schema-name": "s", "table-name": "t"}, value="n"),
            ],
            "2",
            "old-value",
            "needs an old-value",
        ),
        ([selection("1", action="exclude")], None, "rules", "no selection rule includes"),
    ],
)
def test_each_validation_message_names_the_rule_and_field(rules, rule_id, field, words):
    [problem] = TableMappings.from_dict({"rules": rules}).validate()
    assert (problem.rule_id, problem.field) == (rule_id, field)
    assert words in problem.message
    assert (f"rule {rule_id}" if rule_id else "table mappings") in str(problem)


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"rules": {}}', '{"rules": [1]}', '{"rules": [{"rule-type": "selection", "object-locator": 5}]}'],
)
def test_documents_that_are_not_mappings_are_refused(text):
    with pytest.raises(MappingsFormatError):
        TableMappings.from_json(text)


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("%", "anything", True),
        ("demo%", "demo_accounts", True),
        ("%accounts", "demo_accounts", True),
        ("d%_a%s", "demo_accounts", True),
        ("demo_accounts", "demo_accounts", True),
        ("demo_accounts", "demoXaccounts", False),  # "_" is literal, unlike SQL LIKE
        ("demo.%", "demo_x", False),  # "." is literal, not a regex
        ("Demo%", "demo_accounts", False),
        ("%", "", True),
    ],
)
def test_object_locator_matching(pattern, name, matches):
    assert like(pattern, name) is matches


def test_exclude_wins_over_include_and_explicit_names_one_table():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", "s", "%"),
                selection("2", "s", "tmp%", "exclude"),
                selection("3", "other", "only_me", "explicit", **{"load-order": 9}),
            ]
        }
    )
    assert mappings.is_selected("s", "accounts") and not mappings.is_selected("s", "tmp_x")
    assert mappings.is_selected("other", "only_me") and not mappings.is_selected("other", "only_me2")
    assert mappings.load_order("other", "only_me") == 9 and mappings.load_order("s", "accounts") == 0


def test_transformations_apply_in_rule_id_order_to_source_names():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", "s", "%"),
                transformation("10", "table", "convert-uppercase", {"schema-name": "s", "table-name": "%"}),
                transformation("2", "table", "add-prefix", {"schema-name": "s", "table-name": "acc%"}, value="t_"),
                transformation(
                    "3",
                    "table",
                    "replace-suffix",
                    {"schema-name": "s", "table-name": "%"},
                    value="_new",
                    **{"old-value": "_old"},
                ),
                transformation(
                    "4", "column", "remove-column", {"schema-name": "s", "table-name": "accounts", "column-name": "pw%"}
                ),
                transformation(
                    "5",
                    "column",
                    "remove-suffix",
                    {"schema-name": "%", "table-name": "%", "column-name": "%"},
                    value="_c",
                ),
                transformation("6", "schema", "remove-prefix", {"schema-name": "%"}, value="nomatch"),
            ]
        }
    )
    assert mappings.target_table("s", "accounts") == "T_ACCOUNTS"  # add-prefix (2) before uppercase (10)
    assert mappings.target_table("s", "x_old") == "X_NEW"
    assert mappings.target_column("s", "accounts", "pw_hash") is None
    assert mappings.target_column("s", "accounts", "name_c") == "name"
    assert mappings.target_schema("s") == "s"  # remove-prefix leaves names without the prefix alone


def test_rules_dms_knows_but_the_sandbox_engine_cannot_run_are_listed():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", filters=[{"filter-type": "source", "column-name": "id"}]),
                transformation("2", "column", "add-column", {"schema-name": "%", "table-name": "%"}, value="c"),
                transformation("3", "table-tablespace", "rename", {"schema-name": "%", "table-name": "%"}, value="x"),
                {"rule-type": "table-settings", "rule-id": "4"},
            ]
        }
    )
    found = mappings.unsupported()
    assert len(found) == 4
    assert "rule 1" in found[0] and "filters" in found[0]
    assert "'add-column'" in found[1] and "'table-tablespace'" in found[2] and "table-settings" in found[3]
    assert default_mappings().unsupported() == []
