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
    assert str(problem).startswith(problem.path + ": ")
    assert (f"(rule-id {rule_id})" in str(problem)) if rule_id else str(problem).startswith("rules: ")


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
        ("demo_accounts", "demoXaccounts", True),  # "_" is one character (DMS wildcard table)
        ("demo[_]accounts", "demoXaccounts", False),  # "[_]" is a literal underscore
        ("demo[_]accounts", "demo_accounts", True),
        ("load_econd", "loadsecond", True),
        ("load_econd", "loadecond", False),
        ("t[ab]", "ta", True),
        ("t[ab]", "tc", False),
        ("t[a-d]", "tc", True),
        ("t[a-d]", "te", False),
        ("t[a-d]%", "tdx", True),
        ("t[", "t[", True),  # an unclosed bracket is literal
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


def test_each_object_takes_one_action_and_rules_apply_to_source_names():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", "s", "%"),
                transformation("2", "table", "add-prefix", {"schema-name": "s", "table-name": "acc%"}, value="t_"),
                transformation(
                    "3",
                    "table",
                    "replace-suffix",
                    {"schema-name": "s", "table-name": "%_old"},
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
                    {"schema-name": "s", "table-name": "x_old", "column-name": "%"},
                    value="_c",
                ),
                transformation("6", "schema", "remove-prefix", {"schema-name": "%"}, value="nomatch"),
            ]
        }
    )
    assert mappings.validate() == []
    assert mappings.target_table("s", "accounts") == "t_accounts"
    assert mappings.target_table("s", "x_old") == "x_new"
    assert mappings.target_column("s", "accounts", "pw_hash") is None
    assert mappings.target_column("s", "x_old", "name_c") == "name"
    assert mappings.target_schema("s") == "s"  # remove-prefix leaves names without the prefix alone


def test_two_actions_on_one_object_are_rejected_and_never_chained():
    document = {
        "rules": [
            selection("1", "Test", "%"),
            transformation("2", "table", "rename", {"schema-name": "Test", "table-name": "Actor"}, value="Actor1"),
            transformation("3", "table", "add-prefix", {"schema-name": "Test", "table-name": "%"}, value="X_"),
        ]
    }
    mappings = TableMappings.from_dict(document)
    [problem] = mappings.validate()
    assert problem.path == "rules[2].object-locator" and "only one transformation action" in problem.message
    assert mappings.target_table("Test", "Actor") == "Actor1"  # the first rule alone, not X_Actor1
    assert mappings.target_table("Test", "Film") == "X_Film"


def test_data_masking_beside_a_type_change_on_one_column_is_allowed():
    col = {"schema-name": "s", "table-name": "t", "column-name": "ssn"}
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", "s", "t"),
                transformation("2", "column", "data-masking-digits-mask", col),
                transformation(
                    "3", "column", "change-data-type", col, **{"data-type": {"type": "string", "length": 20}}
                ),
            ]
        }
    )
    assert mappings.validate() == []
    assert [g.feature for g in mappings.sandbox_unsupported()] == ["data-masking-digits-mask"]


def test_aws_valid_add_column_and_before_image_rules_are_valid():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection("1", "s", "%"),
                transformation(
                    "2",
                    "column",
                    "add-column",
                    {"schema-name": "s", "table-name": "t"},
                    value="full_name",
                    expression="$first || ' ' || $last",
                    **{"data-type": {"type": "string", "length": 50}},
                ),
                transformation(
                    "3",
                    "column",
                    "add-before-image-columns",
                    {"schema-name": "%", "table-name": "%", "column-name": "%"},
                    **{"before-image-def": {"column-prefix": "BI_", "column-suffix": "", "column-filter": "pk-only"}},
                ),
            ]
        }
    )
    assert mappings.validate() == []
    gaps = mappings.sandbox_unsupported()
    assert [(g.rule_id, g.feature) for g in gaps] == [("3", "add-before-image-columns")]


def test_rules_dms_knows_but_the_sandbox_engine_cannot_run_are_listed_by_rule_and_feature():
    mappings = TableMappings.from_dict(
        {
            "rules": [
                selection(
                    "1", "s", "t", **{"object-locator": {"schema-name": "s", "table-name": "t", "table-type": "view"}}
                ),
                transformation(
                    "2",
                    "column",
                    "add-column",
                    {"schema-name": "%", "table-name": "%"},
                    value="c",
                    expression="$AR_H_OPERATION",
                    **{"data-type": {"type": "string", "length": 10}},
                ),
                transformation("3", "table-tablespace", "rename", {"schema-name": "%", "table-name": "%"}, value="x"),
                {
                    "rule-type": "table-settings",
                    "rule-id": "4",
                    "rule-name": "4",
                    "object-locator": {"schema-name": "s", "table-name": "t"},
                    "parallel-load": {"type": "subpartitions-auto"},  # ranges, partitions-auto and none are run
                },
            ]
        }
    )
    assert mappings.validate() == []
    gaps = [(g.rule_id, g.feature) for g in mappings.sandbox_unsupported()]
    assert gaps == [
        ("1", "table-type view"),
        ("2", "expression header $AR_H_OPERATION"),
        ("3", "rule-target table-tablespace"),
        ("4", "parallel-load subpartitions-auto"),
    ]
    assert "rule 2" in mappings.unsupported()[1]
    assert default_mappings().unsupported() == []
